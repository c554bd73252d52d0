"""Catalogue: articles, categories and the grade scale, owned by central."""
