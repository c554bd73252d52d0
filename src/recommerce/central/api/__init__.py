"""Central's HTTP API: routers wired to the services."""
