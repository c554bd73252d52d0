"""Validation of an upstream event before central applies it (docs/sync-protocol.md, "Upstream").

An event that fails is quarantined with the reason this module gives and acknowledged, so one
bad event never blocks a store. The rules are the shape each builder writes (the purchase, the
ticket, the register correction, the closing, the till session, the stock move), kept as data:
one table of checks per event type and schema version. Only what central relies on is required;
extra keys are allowed, since a store may add fields a newer central will read.

String limits are those of central's columns, so that a valid event always fits its row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from recommerce.buyback.payment import PaymentMethod
from recommerce.catalog.model import Grade
from recommerce.fiscal.closings import Period
from recommerce.inventory.model import ItemStatus, VatRegime
from recommerce.pos.ticket import TicketKind
from recommerce.registers.police import RegisterBook
from recommerce.sync import events as ev
from recommerce.sync import reservations as rs
from recommerce.sync.reservations import Answer

ID_MAX = 36  # ids (UUIDs)
LABEL_CODE_MAX = 13  # an item's label code
SHORT_MAX = 20  # tills, statuses, books, periods, labels of periods
NAME_MAX = 64  # ticket numbers, hashes, event types
_INT_LIMIT = 2**53  # integers stay exact in JSON and fit a BIGINT

# A check takes a value and returns None, or where in the value the fault is (".items[2].grade",
# "" for the value itself) and what is wrong. Paths are only built for a fault: the check of
# a valid event builds no string.
Fault = tuple[str, str]
Check = Callable[[Any], Fault | None]


def storable(text: str) -> bool:
    """Whether a database text column takes the string: PostgreSQL refuses NUL characters, and
    UTF-8 has no unpaired surrogates (which JSON's \\ud800 escapes can carry)."""
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            return False
    return "\x00" not in text


def _string(max_len: int, *, min_len: int = 1) -> Check:
    def check(value: Any) -> Fault | None:
        if type(value) is not str:
            return "", "is not a string"
        if not min_len <= len(value) <= max_len:
            return "", f"has {len(value)} characters, expected {min_len} to {max_len}"
        if not storable(value):
            return "", "holds a NUL character or an unpaired surrogate"
        return None

    return check


def _integer(minimum: int = -_INT_LIMIT, maximum: int = _INT_LIMIT) -> Check:
    def check(value: Any) -> Fault | None:
        if type(value) is not int:  # bool is not an integer here
            return "", "is not an integer"
        if not minimum <= value <= maximum:
            return "", f"is {value}, expected {minimum} to {maximum}"
        return None

    return check


def _one_of(values: type[Any] | frozenset[str]) -> Check:
    allowed = frozenset(str(v) for v in values)

    def check(value: Any) -> Fault | None:
        if type(value) is not str or value not in allowed:
            return "", f"is {value!r}, expected one of {sorted(allowed)}"
        return None

    return check


def _optional(inner: Check) -> Check:
    def check(value: Any) -> Fault | None:
        return None if value is None else inner(value)

    return check


class _MayBeAbsent:
    """A key a store may leave out (older stores did not send it); checked when present."""

    def __init__(self, inner: Check) -> None:
        self.inner = inner

    def __call__(self, value: Any) -> Fault | None:
        return self.inner(value)


def _obj(fields: Mapping[str, Check]) -> Check:
    def check(value: Any) -> Fault | None:
        if type(value) is not dict:
            return "", "is not an object"
        return _fields(value, fields)

    return check


def _list(inner: Check, *, min_len: int = 0) -> Check:
    def check(value: Any) -> Fault | None:
        if type(value) is not list:
            return "", "is not a list"
        if len(value) < min_len:
            return "", f"has {len(value)} entries, expected at least {min_len}"
        for index, entry in enumerate(value):
            fault = inner(entry)
            if fault is not None:
                return f"[{index}]{fault[0]}", fault[1]
        return None

    return check


def _cents_by_key(value: Any) -> Fault | None:
    """A map of tender kind (or another short key) to integer cents."""
    if type(value) is not dict:
        return "", "is not an object"
    for key, cents in value.items():
        fault = _SHORT(key)
        if fault is not None:
            return f" key {key!r}", fault[1]
        fault = _CENTS(cents)
        if fault is not None:
            return f".{key}", fault[1]
    return None


def _fields(value: Mapping[str, Any], fields: Mapping[str, Check]) -> Fault | None:
    for name, check in fields.items():
        if name not in value:
            if isinstance(check, _MayBeAbsent):
                continue
            return f".{name}", "is missing"
        fault = check(value[name])
        if fault is not None:
            return f".{name}{fault[0]}", fault[1]
    return None


def _reason(root: str, fault: Fault) -> str:
    return f"{root}{fault[0]} {fault[1]}"


_ID = _string(ID_MAX)
_SHORT = _string(SHORT_MAX)
_NAME = _string(NAME_MAX)
_TEXT = _string(10_000, min_len=0)
_CENTS = _integer()
_COUNT = _integer(0)
_SEQ = _integer(1)
_STORE = _integer(0, 999)

_TOTALS = _obj({"count": _COUNT, "total_cents": _CENTS})

PURCHASE_RECORDED_V1: dict[str, Check] = {
    "purchase_id": _ID,
    "store_number": _STORE,
    "staff_id": _NAME,
    "payment_method": _one_of(PaymentMethod),
    "total_cents": _integer(0),
    "register_entries": _list(
        _obj(
            {
                "book": _one_of(RegisterBook),
                "number": _SEQ,
                "labels": _list(_string(LABEL_CODE_MAX), min_len=1),
            }
        ),
        min_len=1,
    ),
    "items": _list(
        _obj(
            {
                "item_id": _ID,
                "label_code": _string(LABEL_CODE_MAX),
                "article_id": _ID,
                "grade": _one_of(Grade),
                "purchase_price_cents": _integer(0),
                "asking_price_cents": _integer(0),
                "vat_regime": _one_of(VatRegime),
            }
        ),
        min_len=1,
    ),
}

TICKET_VALIDATED_V1: dict[str, Check] = {
    "ticket_id": _ID,
    "number": _NAME,
    "till": _SHORT,
    "kind": _one_of(TicketKind),
    "staff_id": _NAME,
    "store_number": _STORE,
    "lines": _list(_obj({"label_code": _string(LABEL_CODE_MAX), "price_cents": _CENTS}), min_len=1),
    "tenders": _list(_obj({"kind": _SHORT, "amount_cents": _CENTS})),
    "change_cents": _CENTS,
    "total_cents": _CENTS,
    "vat": _list(_obj({"regime": _SHORT, "total_cents": _CENTS, "vat_cents": _CENTS})),
    "refers_to": _optional(_NAME),
    "journal": _obj({"seq": _SEQ, "hash": _NAME}),
    "items": _list(
        _obj(
            {
                "item_id": _ID,
                "label_code": _string(LABEL_CODE_MAX),
                # the item's status after the ticket: a return sends it back to stock or to repair
                "status": _MayBeAbsent(_one_of(ItemStatus)),
            }
        ),
        min_len=1,
    ),
}

REGISTER_ENTRY_CORRECTED_V1: dict[str, Check] = {
    "book": _one_of(RegisterBook),
    "number": _SEQ,
    "corrects": _SEQ,
    "reason": _TEXT,
    "staff_id": _NAME,
}

ITEM_STATUS_CHANGED_V1: dict[str, Check] = {
    "item_id": _ID,
    "label_code": _string(LABEL_CODE_MAX),
    "from": _one_of(ItemStatus),
    "to": _one_of(ItemStatus),
    "reason": _TEXT,
    "staff_id": _NAME,
}

_HEX = frozenset("0123456789abcdef")


def _sha256(value: Any) -> Fault | None:
    """A sha256 in lower-case hex: the content address of a photo."""
    if type(value) is not str or len(value) != 64 or not _HEX.issuperset(value):
        return "", "is not a sha256 in lower-case hex"
    return None


def _boolean(value: Any) -> Fault | None:
    return None if type(value) is bool else ("", "is not a boolean")


ITEM_LISTING_CHANGED_V1: dict[str, Check] = {
    "item_id": _ID,
    "label_code": _string(LABEL_CODE_MAX),
    "published": _boolean,
    "article_id": _ID,
    "grade": _one_of(Grade),
    "asking_price_cents": _integer(0),
    "description": _TEXT,
    "photos": _list(
        _obj(
            {
                "full_sha256": _sha256,
                "thumb_sha256": _sha256,
                "width": _integer(1, 100_000),
                "height": _integer(1, 100_000),
            }
        )
    ),
    "staff_id": _NAME,
}

ITEM_PRICE_CHANGED_V1: dict[str, Check] = {
    "item_id": _ID,
    "label_code": _string(LABEL_CODE_MAX),
    "from_cents": _integer(0),
    "to_cents": _integer(0),
    "reason": _TEXT,
    "staff_id": _NAME,
}

_ORDER_ITEMS = _list(_obj({"item_id": _ID, "label_code": _string(LABEL_CODE_MAX)}))


def _instant(value: Any) -> Fault | None:
    if parse_occurred_at(value) is None:
        return "", "is not an ISO 8601 instant with its offset"
    return None


# An item as a transfer carries it: everything the receiving store needs to hold it
# (recommerce.sync.feed_events.transferred_item).
_TRANSFERRED_ITEM = _obj(
    {
        "item_id": _ID,
        "label_code": _string(LABEL_CODE_MAX),
        "store_number": _STORE,  # the acquiring store, whose police register holds the entry
        "article_id": _ID,
        "grade": _one_of(Grade),
        "purchase_id": _ID,
        "purchased_at": _instant,
        "purchase_price_cents": _integer(0),
        "asking_price_cents": _integer(0),
        "vat_regime": _one_of(VatRegime),
        "register_book": _one_of(RegisterBook),
        "register_number": _SEQ,
        "serials": _list(_NAME),
        "accessories": _list(_TEXT),
        "description": _TEXT,
        "resale_blocked_until": _optional(_instant),
        "weight_grams": _optional(_SHORT),
        "fineness": _optional(_integer(0, 1000)),
    }
)

ITEMS_TRANSFERRED_V1: dict[str, Check] = {
    "transfer_id": _ID,
    "number": _SHORT,
    "from_store": _STORE,
    "to_store": _STORE,
    "note": _TEXT,
    "staff_id": _NAME,
    "items": _list(_TRANSFERRED_ITEM, min_len=1),
}

TRANSFER_RECEIVED_V1: dict[str, Check] = {
    "transfer_id": _ID,
    "number": _SHORT,
    "from_store": _STORE,
    "to_store": _STORE,
    "staff_id": _NAME,
    "received": _ORDER_ITEMS,  # the items the receiving store now holds
    "missing": _ORDER_ITEMS,  # not there on reception: still in transit
}

RESERVATION_ANSWERED_V1: dict[str, Check] = {
    "order_id": _ID,
    "answer": _one_of(Answer),
    "items": _ORDER_ITEMS,  # reserved: every item of the order
    # rejected: why, item by item ("sold on ticket ...", "not in this store")
    "reasons": _list(_obj({"item_id": _ID, "reason": _TEXT})),
}

RESERVATION_RELEASED_V1: dict[str, Check] = {
    "order_id": _ID,
    "items": _ORDER_ITEMS,
}

ONLINE_ORDER_UPDATED_V1: dict[str, Check] = {
    "order_id": _ID,
    "status": _one_of(frozenset({"ready_for_collection", "shipped", "collected"})),
    "tracking_number": _optional(_string(NAME_MAX)),
    "ticket_number": _optional(_NAME),
    "staff_id": _NAME,
}

PERIOD_CLOSED_V1: dict[str, Check] = {
    "seq": _SEQ,
    "hash": _NAME,
    "staff_id": _NAME,
    "period": _one_of(Period),
    "label": _SHORT,
    "sales_count": _COUNT,
    "returns_count": _COUNT,
    "total_cents": _CENTS,
    "previous_grand_total_cents": _CENTS,
    "grand_total_cents": _CENTS,
    # A daily closing declares the store's day for reconciliation; other closings do not.
    "day_totals": _MayBeAbsent(
        _optional(_obj({"purchases": _TOTALS, "sales": _TOTALS, "returns": _TOTALS}))
    ),
}

TILL_SESSION_CLOSED_V1: dict[str, Check] = {
    "session_id": _ID,
    "till": _SHORT,
    "staff_id": _NAME,
    "expected": _cents_by_key,
    "counted": _cents_by_key,
    "difference": _cents_by_key,
}

# type -> schema version -> the payload's checks. A type missing here is unknown to central;
# a version missing is one central does not read (yet).
PAYLOAD_SCHEMAS: dict[str, dict[int, dict[str, Check]]] = {
    ev.PURCHASE_RECORDED: {1: PURCHASE_RECORDED_V1},
    ev.TICKET_VALIDATED: {1: TICKET_VALIDATED_V1},
    ev.REGISTER_ENTRY_CORRECTED: {1: REGISTER_ENTRY_CORRECTED_V1},
    ev.ITEM_STATUS_CHANGED: {1: ITEM_STATUS_CHANGED_V1},
    ev.ITEM_LISTING_CHANGED: {1: ITEM_LISTING_CHANGED_V1},
    ev.ITEM_PRICE_CHANGED: {1: ITEM_PRICE_CHANGED_V1},
    rs.RESERVATION_ANSWERED: {1: RESERVATION_ANSWERED_V1},
    rs.RESERVATION_RELEASED: {1: RESERVATION_RELEASED_V1},
    rs.ONLINE_ORDER_UPDATED: {1: ONLINE_ORDER_UPDATED_V1},
    ev.PERIOD_CLOSED: {1: PERIOD_CLOSED_V1},
    ev.TILL_SESSION_CLOSED: {1: TILL_SESSION_CLOSED_V1},
    ev.ITEMS_TRANSFERRED: {1: ITEMS_TRANSFERRED_V1},
    ev.TRANSFER_RECEIVED: {1: TRANSFER_RECEIVED_V1},
}

_ENVELOPE: dict[str, Check] = {
    "seq": _SEQ,
    "event_id": _ID,
    "type": _NAME,
    "schema_version": _integer(1, 1_000),
}


def parse_occurred_at(value: Any) -> datetime | None:
    """An ISO 8601 instant with its offset ("2026-11-20T10:30:00Z"), or None if it is not one."""
    if type(value) is not str or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None and moment.utcoffset() is not None else None


def event_error(event: Any, store_number: int) -> str | None:
    """Why central cannot apply this upstream event of store `store_number`, or None."""
    if type(event) is not dict:
        return "the event is not an object"
    fault = _fields(event, _ENVELOPE)
    if fault is not None:
        return _reason("event", fault)
    versions = PAYLOAD_SCHEMAS.get(event["type"])
    if versions is None:
        return f"unknown event type {event['type']!r}"
    schema = versions.get(event["schema_version"])
    if schema is None:
        return (
            f"{event['type']} schema version {event['schema_version']} is not supported "
            f"(central reads {sorted(versions)})"
        )
    if "occurred_at" not in event:
        return "event.occurred_at is missing"
    if parse_occurred_at(event["occurred_at"]) is None:
        return "event.occurred_at is not an ISO 8601 instant with its offset"
    payload = event.get("payload")
    if type(payload) is not dict:
        return "event.payload is not an object"
    fault = _fields(payload, schema)
    if fault is not None:
        return _reason("payload", fault)
    return _rules(event["type"], payload, store_number)


def _rules(event_type: str, payload: dict[str, Any], store_number: int) -> str | None:
    """What the shapes alone do not say: the store is the sender, a return names its sale."""
    declared = payload.get("store_number", store_number)
    if declared != store_number:
        return f"payload.store_number is {declared!r}, but store {store_number} sent the event"
    if (
        event_type == ev.TICKET_VALIDATED
        and payload["kind"] == TicketKind.RETURN
        and payload["refers_to"] is None
    ):
        return "payload.refers_to is missing: a return names the sale it corrects"
    if event_type == ev.PERIOD_CLOSED and not _period_label_ok(payload["period"], payload["label"]):
        return f"payload.label {payload['label']!r} is not a {payload['period']} label"
    if event_type in (ev.ITEMS_TRANSFERRED, ev.TRANSFER_RECEIVED):
        return _transfer_rules(event_type, payload, store_number)
    return None


def _transfer_rules(event_type: str, payload: dict[str, Any], store_number: int) -> str | None:
    """The sender of a transfer is the store it leaves, its receiver the store it reaches;
    each item is named once."""
    if payload["from_store"] == payload["to_store"]:
        return "payload.to_store is the store the items leave: a transfer goes to another store"
    if event_type == ev.ITEMS_TRANSFERRED:
        if payload["from_store"] != store_number:
            return (
                f"payload.from_store is {payload['from_store']}, but store {store_number} sent it"
            )
        named = [item["item_id"] for item in payload["items"]]
    else:
        if payload["to_store"] != store_number:
            return f"payload.to_store is {payload['to_store']}, but store {store_number} sent it"
        named = [item["item_id"] for item in payload["received"] + payload["missing"]]
        if not named:
            return "payload names no item: a reception says which items came and which did not"
    if len(set(named)) != len(named):
        return "payload names an item twice"
    return None


def _period_label_ok(period: str, label: str) -> bool:
    """2026-11-20 for a day, 2026-11 for a month, 2026 for a year, and a real date."""
    template = {Period.DAY: "%Y-%m-%d", Period.MONTH: "%Y-%m", Period.YEAR: "%Y"}[Period(period)]
    try:
        return datetime.strptime(label, template).strftime(template) == label
    except ValueError:
        return False
