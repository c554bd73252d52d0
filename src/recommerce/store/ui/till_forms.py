"""What the till screen posts back, and the basket it shows.

The server keeps no basket between two scans: the page holds it in its own form (each line's
label and the discount typed on it) and posts it back with every scan. Each answer looks the
items up again with the sale's own rule (`check_sellable`), so a line that can no longer be
sold (sold at another till meanwhile, reserved online) says why before the customer pays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from starlette.datastructures import FormData
from starlette.requests import Request

from recommerce.errors import DomainError, ErrorCode
from recommerce.money import Money
from recommerce.pos.returns import Refund
from recommerce.pos.sale import check_sellable
from recommerce.pos.tenders import TenderKind, TenderRequest
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db.repositories import SqlCatalog, SqlItems
from recommerce.store.db.till import SqlStoreCredits, SqlTickets
from recommerce.store.ui.pages import cents_or_none
from recommerce.web.i18n import gettext as _
from recommerce.web.i18n import moment

TILL_COOKIE = "recommerce_till"  # the till this screen stands at, remembered by the browser
DEFAULT_TILL = "T1"
MAX_LINES = 200  # as the sales API
_TILL = re.compile(r"^[A-Za-z0-9]{1,8}$")


def till_name(request: Request, given: str | None = None) -> str:
    """The till asked for, else the one this browser stands at, else the store's first."""
    if given is not None and given.strip():
        name = given.strip()
        if not _TILL.fullmatch(name):
            raise DomainError(
                f"a till is named with 1 to 8 letters or digits, not {name!r}", field="till"
            )
        return name
    remembered = request.cookies.get(TILL_COOKIE, "")
    return remembered if _TILL.fullmatch(remembered) else DEFAULT_TILL


def unsellable_reason(error: DomainError) -> str | None:
    """Why the till refuses an item, from the refusal's details: which online order holds it,
    which ticket sold it, until when its seller may withdraw (A.8). Called by the template
    while it renders, so that it is worded in the page's language."""
    extra = error.extra
    if extra.get("in_basket"):
        return _("It is in the basket already.")
    if extra.get("order"):
        return _("Reserved for online order %(order)s.") % {"order": extra["order"]}
    if extra.get("ticket"):
        return _("Already sold on ticket %(ticket)s.") % {"ticket": extra["ticket"]}
    if extra.get("until"):
        until = datetime.fromisoformat(str(extra["until"]))
        return _("The seller may still withdraw it: not on sale before %(until)s.") % {
            "until": moment(until)
        }
    return None


@dataclass(frozen=True, slots=True)
class SaleForm:
    """The till form as posted: the basket, the scanned label and the tenders as typed."""

    till: str = ""
    labels: tuple[str, ...] = ()
    discounts: tuple[str, ...] = ()  # as typed, one per line
    scan: str = ""
    remove: str = ""
    cash_given: str = ""
    card_amount: str = ""
    credit_code: str = ""
    credit_amount: str = ""
    non_resident_proof: str = ""
    approval_username: str = ""
    approval_password: str = ""

    @classmethod
    def of(cls, form: FormData) -> SaleForm:
        def one(name: str, limit: int = 40) -> str:
            value = form.get(name)
            return value.strip()[:limit] if isinstance(value, str) else ""

        labels = tuple(v.strip()[:20] for v in form.getlist("label") if isinstance(v, str))
        discounts = [v.strip()[:20] for v in form.getlist("discount") if isinstance(v, str)]
        discounts += [""] * (len(labels) - len(discounts))
        password = form.get("approval_password")
        return cls(
            till=one("till", 8),
            labels=labels[:MAX_LINES],
            discounts=tuple(discounts[: len(labels[:MAX_LINES])]),
            scan=one("scan", 20),
            remove=one("remove_line", 20),
            cash_given=one("cash_given"),
            card_amount=one("card_amount"),
            credit_code=one("credit_code", 20).upper(),
            credit_amount=one("credit_amount"),
            non_resident_proof=one("non_resident_proof", 200),
            approval_username=one("approval_username", 64),
            approval_password=password[:200] if isinstance(password, str) else "",
        )

    def discount_cents(self) -> list[int]:
        return [
            cents_or_none(text, f"lines[{i}].discount") or 0
            for i, text in enumerate(self.discounts)
        ]


@dataclass(frozen=True, slots=True)
class BasketLine:
    label: str
    discount_text: str
    article: str = ""
    grade: str = ""
    price: int = 0  # the label's asking price, cents
    discount: int = 0
    problem: DomainError | None = None  # why it cannot be sold (any more)

    @property
    def net(self) -> int:
        return self.price - self.discount

    @property
    def reason(self) -> str | None:
        return unsellable_reason(self.problem) if self.problem is not None else None


@dataclass(frozen=True, slots=True)
class Basket:
    lines: tuple[BasketLine, ...]

    @property
    def total(self) -> int:
        return sum(line.net for line in self.lines if line.problem is None)

    @property
    def sellable(self) -> bool:
        return bool(self.lines) and all(line.problem is None for line in self.lines)


def look_up(node: StoreNode, labels: list[str], discounts: list[str]) -> Basket:
    """Each label's item, article and price, checked as the sale will check it."""
    now = node.clock.now()
    lines = []
    with node.reading() as conn:
        items, catalog = SqlItems(conn), SqlCatalog(conn)
        for i, (label, typed) in enumerate(zip(labels, discounts, strict=True)):
            try:
                discount = cents_or_none(typed, f"lines[{i}].discount") or 0
            except DomainError:
                discount = 0
            item = items.get(label)
            if item is None:
                missing = DomainError(
                    f"no item with label {label} in this store",
                    code=ErrorCode.ITEM_NOT_FOUND,
                    field="scan",
                )
                lines.append(BasketLine(label, typed, problem=missing))
                continue
            article = catalog.article(item.article_id)
            problem: DomainError | None = None
            try:
                check_sellable(item, now, node.settings.zone, field="scan")
            except DomainError as exc:
                problem = exc
            lines.append(
                BasketLine(
                    label=item.label_code,
                    discount_text=typed,
                    article=article.name if article else item.article_id,
                    grade=item.grade.value,
                    price=item.asking_price.cents,
                    discount=discount,
                    problem=problem,
                )
            )
    return Basket(tuple(lines))


def tenders(node: StoreNode, form: SaleForm, total: int) -> tuple[TenderRequest, ...]:
    """The tenders as typed: cash handed over, card, a credit note or voucher (its whole
    balance up to what is left to pay when no amount is typed). Empty or zero fields are
    no tender; the sale itself checks that they pay the total (and the cash limit)."""
    cash = cents_or_none(form.cash_given, "cash_given")
    card = cents_or_none(form.card_amount, "card_amount")
    credit = cents_or_none(form.credit_amount, "credit_amount")
    out: list[TenderRequest] = []
    if cash:
        out.append(TenderRequest(TenderKind.CASH, Money(cash)))
    if card:
        out.append(TenderRequest(TenderKind.CARD, Money(card)))
    if form.credit_code:
        if credit is None:
            balance = credit_balance(node, form.credit_code)
            rest = max(total - (card or 0), 0)
            credit = min(balance, rest) if balance is not None and balance > 0 else rest
        if credit:
            out.append(
                TenderRequest(TenderKind.STORE_CREDIT, Money(credit), reference=form.credit_code)
            )
    return tuple(out)


def credit_balance(node: StoreNode, code: str) -> int | None:
    """What a credit note or voucher still holds (None: no such code)."""
    with node.reading() as conn:
        balance = SqlStoreCredits(conn).balance(code)
    return None if balance is None else balance.cents


@dataclass(frozen=True, slots=True)
class TillState:
    till: str
    session_open: bool
    day_closed: bool
    must_open: bool  # this store sells only on a till opened with its float


def till_state(node: StoreNode, till: str) -> TillState:
    today = node.clock.now().astimezone(node.settings.zone).date()
    with node.reading() as conn:
        session_id, day_closed = SqlTickets(conn).till_state(till, today)
    return TillState(
        till=till,
        session_open=session_id is not None,
        day_closed=day_closed,
        must_open=node.settings.till_requires_open_session,
    )


@dataclass(frozen=True, slots=True)
class ReturnForm:
    """The return form as posted: the sale, the labels taken back, those off to repair."""

    number: str = ""
    till: str = ""
    labels: tuple[str, ...] = ()
    repair: tuple[str, ...] = ()
    refund: str = ""

    @classmethod
    def of(cls, form: FormData) -> ReturnForm:
        def many(name: str) -> tuple[str, ...]:
            return tuple(v.strip()[:20] for v in form.getlist(name) if isinstance(v, str))[
                :MAX_LINES
            ]

        def one(name: str, limit: int) -> str:
            value = form.get(name)
            return value.strip()[:limit] if isinstance(value, str) else ""

        return cls(
            number=one("number", 40),
            till=one("till", 8),
            labels=many("return"),
            repair=many("repair"),
            refund=one("refund", 20) or Refund.ORIGINAL_TENDERS.value,
        )
