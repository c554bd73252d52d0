"""Sync vocabulary shared by store and central: events, the outbox and the feed."""
