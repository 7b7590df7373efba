"""Developer tooling: not part of the shipped distribution."""
