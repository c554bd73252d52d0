"""How article names are compared in searches, the same in a store and at head office."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case, accents removed, single spaces: how names are compared in searches."""
    stripped = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(stripped.lower().split())


def search_text(*parts: str) -> str:
    """The folded words of an article, padded so that a search can match word starts."""
    return " " + fold(" ".join(parts)) + " "


def search_words(query: str) -> list[str]:
    """The folded words of a query; each must start a word of an article's search text."""
    return [" " + word for word in fold(query).split()]
