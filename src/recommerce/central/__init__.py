"""Central: head office's services (store registry, sync endpoint, catalogue master, read models)."""
