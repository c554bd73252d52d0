"""Central's services: plain functions over a connection, called by the API and the CLI."""
