"""Process-level wiring shared by every role: configuration, logging, the `snipshop` CLI."""
