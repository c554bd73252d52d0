"""Recreating the chain on one machine: benchmarks now, the simulator later."""
