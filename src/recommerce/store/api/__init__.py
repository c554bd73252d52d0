"""HTTP API of the store node."""
