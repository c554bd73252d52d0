"""The buying counter's forms: what the page holds between requests, and the API's bodies.

The server keeps nothing between two requests: the lines of the purchase being built travel
in the page as hidden inputs (`line.article_id`, `line.grade`... once per line, in order), and
the seller's and payment's fields carry the names of the JSON API's fields
(`seller.document.number`, `payment.iban`...), so that a refusal's `field` names the input at
fault. Recording turns the form into the API's own `PurchaseIn` and hands it to the same
handler as `POST /api/v1/purchases`: one set of rules, whichever way a purchase comes in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from recommerce.buyback.offer import check_agreed_price
from recommerce.buyback.payment import CASH_LIMIT
from recommerce.buyback.watchlist import validate_imei
from recommerce.catalog.model import Article, Category, Grade
from recommerce.errors import DomainError, ErrorCode
from recommerce.money import Money
from recommerce.staff.model import StaffMember
from recommerce.store.api.schemas import PurchaseIn, PurchaseLineIn
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db.repositories import SqlCatalog
from recommerce.store.ui.pages import typed_cents

# The line's fields as the page carries them (hidden `line.<name>` inputs, and the new line's
# `new.<name>` inputs), named as the API's `PurchaseLineIn`.
LINE_FIELDS = (
    "article_id",
    "grade",
    "agreed_price_cents",
    "override_reason",
    "serial_number",
    "imei",
    "description",
    "weight_grams",
    "fineness",
)
# The inputs of the seller's identity and of the payment, named as the API's fields.
SELLER_INPUTS = (
    "seller.surname",
    "seller.first_names",
    "seller.birth_date",
    "seller.address",
    "seller.document.type",
    "seller.document.number",
    "seller.document.issued_on",
    "seller.document.issuing_authority",
    "seller.document.expires_on",
)
PAYMENT_INPUTS = ("payment.method", "payment.account_holder", "payment.iban", "payment.crossed")
# The new line's price is typed in euros (`new.agreed_price`), the lines keep it in cents.
NEW_LINE_INPUTS = tuple(
    f"new.{name}" if name != "agreed_price_cents" else "new.agreed_price" for name in LINE_FIELDS
)
MAX_LINES = 200  # as many as the API takes in one purchase
_LINE_INDEX = re.compile(r"^lines\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class Line:
    """One object of the purchase being built, as its hidden inputs hold it."""

    article_id: str
    grade: str
    agreed_price_cents: int
    override_reason: str = ""
    serial_number: str = ""
    imei: str = ""
    description: str = ""
    weight_grams: str = ""
    fineness: str = ""

    def body(self) -> dict[str, Any]:
        """The line as the API's `PurchaseLineIn` reads it (empty fields left out)."""
        body: dict[str, Any] = {
            "article_id": self.article_id,
            "grade": self.grade,
            "agreed_price_cents": self.agreed_price_cents,
        }
        for name in ("override_reason", "serial_number", "imei", "description", "weight_grams"):
            value = getattr(self, name).strip()
            if value:
                body[name] = value
        if self.fineness.strip():
            body["fineness"] = self.fineness.strip()
        return body


@dataclass(frozen=True, slots=True)
class LineView:
    """A line as the page shows it: with its article and the argus' offer for it."""

    index: int
    line: Line
    article_name: str
    precious_metal: bool
    offer_cents: int | None


def field_path(loc: Iterable[int | str]) -> str:
    """`("lines", 0, "imei")` -> `lines[0].imei`: a pydantic location as a refusal's field."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def refusal_of(exc: ValidationError, *, prefix: str = "") -> DomainError:
    """The first complaint of the API's schema, as the refusal the page shows."""
    first = exc.errors()[0]
    where = field_path(first["loc"])
    where = f"{prefix}.{where}" if prefix and where else prefix or where
    return DomainError(
        f"{where}: {first['msg']}", code=ErrorCode.INVALID_INPUT, field=where or None
    )


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def values_of(form: Mapping[str, Any]) -> dict[str, str]:
    """The seller's and payment's inputs as typed, to show them again."""
    return {name: _text(form, name) for name in (*SELLER_INPUTS, *PAYMENT_INPUTS)}


def new_line_values(form: Mapping[str, Any]) -> dict[str, str]:
    """The new line's inputs as typed, to show them again with a refusal."""
    return {name: _text(form, name) for name in NEW_LINE_INPUTS}


def lines_of(form: Any) -> list[Line]:
    """The purchase's lines from their hidden inputs (a multi-valued form)."""
    columns = {name: [str(v) for v in form.getlist(f"line.{name}")] for name in LINE_FIELDS}
    count = len(columns["article_id"])
    if any(len(values) != count for values in columns.values()) or count > MAX_LINES:
        raise DomainError("the purchase's lines are garbled: start again", field="lines")
    lines = []
    for i in range(count):
        row = {name: values[i].strip() for name, values in columns.items()}
        try:
            cents = int(row.pop("agreed_price_cents"))
        except ValueError:
            raise DomainError(
                f"line {i + 1}: the agreed price is not an amount",
                code=ErrorCode.INVALID_AMOUNT,
                field=f"lines[{i}].agreed_price",
            ) from None
        lines.append(Line(agreed_price_cents=cents, **row))
    return lines


def line_index(field: str | None) -> int | None:
    """The line a refusal is about (`lines[2].imei` -> 2), if any."""
    found = _LINE_INDEX.match(field or "")
    return int(found.group(1)) if found else None


def article_and_category(conn: Connection, article_id: str) -> tuple[Article, Category]:
    catalog = SqlCatalog(conn)
    article = catalog.article(article_id)
    category = catalog.category(article.category_code) if article else None
    if article is None or category is None:
        raise DomainError(
            f"no article {article_id!r} in the catalogue",
            code=ErrorCode.ARTICLE_NOT_FOUND,
            field="new.article_id",
        )
    return article, category


def grade_of(text: str, *, field: str) -> Grade:
    try:
        return Grade(text)
    except ValueError:
        raise DomainError("choose the object's grade", field=field) from None


def checked_new_line(node: StoreNode, staff: StaffMember, form: Mapping[str, Any]) -> Line:
    """The line the buyer adds, checked now as the purchase will check it.

    The agreed price goes through the override rule of `buyback.offer` (above the argus'
    offer: a reason, within the role's bound) and an IMEI through its Luhn check, so the buyer
    hears of a problem while the object is in hand, not when the seller is waiting to be paid.
    """
    typed = new_line_values(form)
    grade = grade_of(typed["new.grade"], field="new.grade")
    cents = typed_cents(typed["new.agreed_price"], "new.agreed_price")
    line = Line(
        article_id=typed["new.article_id"],
        grade=grade.value,
        agreed_price_cents=cents,
        override_reason=typed["new.override_reason"],
        serial_number=typed["new.serial_number"],
        imei=typed["new.imei"],
        description=typed["new.description"],
        weight_grams=typed["new.weight_grams"],
        fineness=typed["new.fineness"],
    )
    try:
        checked = PurchaseLineIn.model_validate(line.body())
    except ValidationError as exc:
        raise _new_line_refusal(exc) from None
    with node.reading() as conn:
        article, _category = article_and_category(conn, line.article_id)
    if line.imei:
        validate_imei(line.imei, field="new.imei")
    quote = node.argus.quote(article, grade, on=node.clock.now().date())
    check_agreed_price(
        checked.to_domain(),
        quote,
        role=staff.role,
        bounds=node.policy.override_bounds,
        where="new",
        what=f"{article.name}, grade {grade.value}",
    )
    # A reason given for a price at or below the offer means nothing: it is not kept.
    if line.agreed_price_cents <= quote.buy_offer.cents:
        line = replace(line, override_reason="")
    return line


def _new_line_refusal(exc: ValidationError) -> DomainError:
    refusal = refusal_of(exc, prefix="new")
    if refusal.field == "new.agreed_price_cents":
        refusal.field = "new.agreed_price"
    return refusal


def line_views(node: StoreNode, lines: list[Line]) -> list[LineView]:
    """The lines with their articles' names and the argus' current offers."""
    views = []
    today = node.clock.now().date()
    with node.reading() as conn:
        catalog = SqlCatalog(conn)
        for i, line in enumerate(lines):
            article = catalog.article(line.article_id)
            category = catalog.category(article.category_code) if article else None
            offer = None
            if article is not None and line.grade in Grade.__members__:
                offer = node.argus.quote(article, Grade(line.grade), on=today).buy_offer.cents
            views.append(
                LineView(
                    index=i,
                    line=line,
                    article_name=article.name if article else line.article_id,
                    precious_metal=bool(category and category.precious_metal),
                    offer_cents=offer,
                )
            )
    return views


def payment_context(views: list[LineView], values: Mapping[str, str]) -> dict[str, Any]:
    """What the payment choice shows for this total: which ways of paying the law allows.

    A hint only: the purchase's handler decides (`buyback.payment.check_payment`), including
    the cash already paid to the same seller, which is known once the seller is.
    """
    total = sum(v.line.agreed_price_cents for v in views)
    precious = any(v.precious_metal for v in views)
    return {
        "total_cents": total,
        "precious": precious,
        # CMF L112-6: at most 1,000 EUR in cash to an individual; never for precious metals.
        "cash_allowed": bool(views) and not precious and Money(total) <= CASH_LIMIT,
        "cash_limit_cents": CASH_LIMIT.cents,
        "values": values,
    }


def purchase_in(lines: list[Line], values: Mapping[str, str]) -> PurchaseIn:
    """The form as the API's purchase body, checked by the API's own schema."""
    if not lines:
        raise DomainError("a purchase needs at least one object: add a line", field="lines")

    def given(body: dict[str, Any], key: str, name: str) -> None:
        if values.get(name):
            body[key] = values[name]

    document: dict[str, Any] = {
        "number": values.get("seller.document.number", ""),
        "issuing_authority": values.get("seller.document.issuing_authority", ""),
    }
    given(document, "type", "seller.document.type")
    given(document, "issued_on", "seller.document.issued_on")
    given(document, "expires_on", "seller.document.expires_on")
    seller: dict[str, Any] = {
        "surname": values.get("seller.surname", ""),
        "first_names": values.get("seller.first_names", ""),
        "address": values.get("seller.address", ""),
        "document": document,
    }
    given(seller, "birth_date", "seller.birth_date")
    payment: dict[str, Any] = {"crossed": bool(values.get("payment.crossed"))}
    given(payment, "method", "payment.method")
    given(payment, "account_holder", "payment.account_holder")
    given(payment, "iban", "payment.iban")
    if "method" not in payment:
        raise DomainError(
            "choose how the seller is paid",
            code=ErrorCode.PAYMENT_DETAILS_MISSING,
            field="payment.method",
        )
    body = {"seller": seller, "payment": payment, "lines": [line.body() for line in lines]}
    try:
        return PurchaseIn.model_validate(body)
    except ValidationError as exc:
        raise refusal_of(exc) from None
