"""The argus: the price guide learned from the chain's sales."""
