"""The process frame every role shares: configuration (read once per process), JSON logging and
small Redis helpers. It imports nothing else of the shop; the commands live in entrypoints/."""
