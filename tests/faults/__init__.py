"""Fault tests: real processes, real services, and a fault injected into one of them."""
