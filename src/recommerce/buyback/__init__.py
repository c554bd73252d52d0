"""Buying from the public: seller checks, quotes, payment rules and the purchase itself."""
