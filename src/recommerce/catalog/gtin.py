"""GTIN/EAN checks for articles (business-rules A.7: check digits with python-stdnum)."""

from __future__ import annotations

from stdnum import ean
from stdnum.exceptions import ValidationError

from recommerce.errors import DomainError, ErrorCode

# GS1 restricted-circulation prefixes: codes a store prints for itself, never a real GTIN.
RESTRICTED_CIRCULATION_PREFIXES = tuple(str(p) for p in range(20, 30))


def normalise_gtin(value: str, *, field: str = "gtin") -> str:
    """Validate a scanned GTIN-8/12/13/14 and return it as a 13- or 14-digit string.

    A code in the restricted-circulation range (our own item labels) is refused: it
    identifies one item in one store, not an article.
    """
    try:
        code = ean.validate(value)
    except ValidationError as exc:
        raise DomainError(
            f"{value!r} is not a valid GTIN/EAN: {exc}",
            code=ErrorCode.INVALID_GTIN,
            field=field,
        ) from exc
    if len(code) in (8, 12):
        code = code.zfill(13)
    gtin13 = code[-13:] if len(code) == 14 and code.startswith("0") else code
    if len(gtin13) == 13 and gtin13.startswith(RESTRICTED_CIRCULATION_PREFIXES):
        raise DomainError(
            f"{value!r} is an in-store code (prefix {gtin13[:2]}), not an article GTIN",
            code=ErrorCode.INVALID_GTIN,
            field=field,
        )
    return gtin13
