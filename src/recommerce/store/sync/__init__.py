"""The store node's side of the sync protocol: enrolment, the upstream push, the feed and status."""
