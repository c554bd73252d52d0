"""The marketplace: listings, search, online orders."""
