"""The store node: the server in each store (API, staff screens, its own database)."""
