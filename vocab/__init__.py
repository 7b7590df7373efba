"""Vocabulary every side of the shop shares (write side, projector, search, edge)."""
