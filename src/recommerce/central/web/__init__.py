"""Central's HTML pages: the marketplace's storefront that customers browse."""
