"""Validation of upstream events before central applies them: what is accepted, and the reason
given for what is quarantined (docs/sync-protocol.md, "Upstream")."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from buying_fakes import IPHONE, STORE_NUMBER, Counter, FakeStore, line, purchase_of

from recommerce.fiscal.journal import JournalRecord
from recommerce.fiscal.vat import reverse, tax_line
from recommerce.inventory.model import VatRegime
from recommerce.money import Money
from recommerce.pos.sale import ticket_event
from recommerce.pos.tenders import Tender, TenderKind
from recommerce.pos.ticket import Ticket, TicketKind, TicketLine
from recommerce.sync.events import Event
from recommerce.sync.validation import event_error, parse_occurred_at, storable

AT = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


def wire(event: Event, seq: int = 1) -> dict[str, Any]:
    """The event as it travels: JSON, `occurred_at` in ISO 8601 with its offset."""
    return json.loads(
        json.dumps(
            {
                "seq": seq,
                "event_id": event.event_id,
                "type": event.type,
                "schema_version": event.schema_version,
                "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
                "payload": event.payload,
            }
        )
    )


@pytest.fixture
def purchase(counter: Counter, store: FakeStore) -> dict[str, Any]:
    counter.buy(purchase_of(line(IPHONE, 250), line(IPHONE, 180)))
    return wire(store.events[0])


def _ticket(kind: TicketKind, refers_to: str | None = None) -> dict[str, Any]:
    sign = 1 if kind is TicketKind.SALE else -1
    taxed = tax_line(VatRegime.MARGIN, Money(16_000), Money(10_000))
    ticket = Ticket(
        id="0193a5f0-0000-7000-8000-000000000001",
        store_number=STORE_NUMBER,
        till="T1",
        number=3,
        kind=kind,
        occurred_at=AT,
        staff_id="0193a5f0-0000-7000-8000-0000000000aa",
        lines=(
            TicketLine(
                item_id="0193a5f0-0000-7000-8000-0000000000b1",
                label_code="0420000000017",
                article_name="iPhone 12",
                unit_price=Money(sign * 16_000),
                discount=Money(0),
                taxed=taxed if sign > 0 else reverse(taxed),
            ),
        ),
        tenders=(Tender(TenderKind.CASH, Money(sign * 16_000)),),
        change=Money(0),
        refers_to=refers_to,
    )
    fields = ticket.journal_fields()
    record = JournalRecord(
        seq=12,
        kind="ticket",
        label=f"ticket {ticket.display_number}",
        occurred_at=AT,
        fields=fields,
        previous_hash="0" * 64,
        hash="a" * 64,
        signature="c2lnbmF0dXJl",
    )
    return wire(ticket_event(ticket, fields, record))


@pytest.fixture
def sale() -> dict[str, Any]:
    return _ticket(TicketKind.SALE)


def closing(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "seq": 13,
        "hash": "b" * 64,
        "staff_id": "0193a5f0-0000-7000-8000-0000000000aa",
        "period": "day",
        "label": "2026-11-20",
        "first_seq": 12,
        "last_seq": 12,
        "sales_count": 1,
        "returns_count": 0,
        "total_cents": 16_000,
        "vat": [],
        "tenders": [{"kind": "cash", "amount_cents": 16_000}],
        "change_cents": 0,
        "previous_grand_total_cents": 0,
        "grand_total_cents": 16_000,
    }
    payload.update(changes)
    return wire(Event(type="PeriodClosed", occurred_at=AT, payload=payload))


def status_change(**changes: Any) -> dict[str, Any]:
    payload = {
        "item_id": "0193a5f0-0000-7000-8000-0000000000b1",
        "label_code": "0420000000017",
        "from": "in_stock",
        "to": "to_repair",
        "reason": "écran fissuré",
        "staff_id": "0193a5f0-0000-7000-8000-0000000000aa",
    }
    payload.update(changes)
    return wire(Event(type="ItemStatusChanged", occurred_at=AT, payload=payload))


def till_closed(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "session_id": "0193a5f0-0000-7000-8000-0000000000c1",
        "till": "T1",
        "staff_id": "0193a5f0-0000-7000-8000-0000000000aa",
        "expected": {"cash": 15_000, "card": 4_000},
        "counted": {"cash": 14_800, "card": 4_000},
        "difference": {"cash": -200},
    }
    payload.update(changes)
    return wire(Event(type="TillSessionClosed", occurred_at=AT, payload=payload))


def correction(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "book": "general",
        "number": 3,
        "corrects": 1,
        "reason": "description incomplète",
        "staff_id": "0193a5f0-0000-7000-8000-0000000000aa",
    }
    payload.update(changes)
    return wire(Event(type="RegisterEntryCorrected", occurred_at=AT, payload=payload))


# --- what the stores write is accepted -----------------------------------------------------------


def test_the_events_the_stores_write_are_valid(purchase, sale):
    for event in (
        purchase,
        sale,
        _ticket(TicketKind.RETURN, refers_to="042-T1-000002"),
        closing(),
        closing(
            day_totals={
                "purchases": {"count": 2, "total_cents": 43_000},
                "sales": {"count": 1, "total_cents": 16_000},
                "returns": {"count": 0, "total_cents": 0},
            }
        ),
        closing(period="month", label="2026-11", first_seq=None, last_seq=None),
        status_change(),
        till_closed(),
        correction(),
    ):
        assert event_error(event, STORE_NUMBER) is None, event["type"]


def test_a_field_the_store_adds_later_does_not_quarantine_the_event(sale):
    sale["payload"]["loyalty_card"] = "F-1234"
    sale["extra"] = True
    assert event_error(sale, STORE_NUMBER) is None


# --- the envelope --------------------------------------------------------------------------------


def test_an_unknown_type_is_refused(sale):
    sale["type"] = "TicketPrinted"
    assert event_error(sale, STORE_NUMBER) == "unknown event type 'TicketPrinted'"


def test_an_unsupported_schema_version_is_refused(sale):
    sale["schema_version"] = 2
    assert event_error(sale, STORE_NUMBER) == (
        "TicketValidated schema version 2 is not supported (central reads [1])"
    )


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("event_id", None, "event.event_id is not a string"),
        ("event_id", "x" * 37, "event.event_id has 37 characters, expected 1 to 36"),
        ("schema_version", "1", "event.schema_version is not an integer"),
        ("schema_version", True, "event.schema_version is not an integer"),
        ("occurred_at", "2026-11-20 10:30", "event.occurred_at is not an ISO 8601 instant"),
        ("occurred_at", "yesterday", "event.occurred_at is not an ISO 8601 instant"),
        ("payload", [], "event.payload is not an object"),
    ],
)
def test_a_broken_envelope_says_which_field(sale, field, value, reason):
    sale[field] = value
    assert event_error(sale, STORE_NUMBER).startswith(reason)


def test_a_missing_envelope_field_is_named(sale):
    del sale["type"]
    assert event_error(sale, STORE_NUMBER) == "event.type is missing"
    assert event_error(["not", "an", "event"], STORE_NUMBER) == "the event is not an object"


def test_occurred_at_needs_its_offset():
    assert parse_occurred_at("2026-11-20T10:30:00Z") == AT
    assert parse_occurred_at("2026-11-20T11:30:00+01:00") == AT
    assert parse_occurred_at("2026-11-20T10:30:00") is None
    assert parse_occurred_at(1_763_634_600) is None


# --- payloads ------------------------------------------------------------------------------------


def test_a_purchase_missing_a_field_is_refused(purchase):
    del purchase["payload"]["items"][1]["asking_price_cents"]
    assert event_error(purchase, STORE_NUMBER) == ("payload.items[1].asking_price_cents is missing")


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (("total_cents",), "433.00", "payload.total_cents is not an integer"),
        (("total_cents",), -1, "payload.total_cents is -1"),
        (("payment_method",), "bitcoin", "payload.payment_method is 'bitcoin', expected one of"),
        (("items",), [], "payload.items has 0 entries, expected at least 1"),
        (("items", 0, "grade"), "Z", "payload.items[0].grade is 'Z'"),
        (("items", 0, "label_code"), "0" * 14, "payload.items[0].label_code has 14 characters"),
        (("register_entries", 0, "number"), 0, "payload.register_entries[0].number is 0"),
        (("register_entries", 0, "book"), "gold", "payload.register_entries[0].book is 'gold'"),
    ],
)
def test_a_purchase_of_the_wrong_shape_says_where(purchase, path, value, reason):
    target = purchase["payload"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert event_error(purchase, STORE_NUMBER).startswith(reason)


def test_an_event_naming_another_store_is_refused(purchase, sale):
    assert event_error(purchase, 7) == (
        f"payload.store_number is {STORE_NUMBER}, but store 7 sent the event"
    )
    assert event_error(sale, 7) is not None


def test_a_ticket_needs_its_journal_place_and_its_items(sale):
    broken = copy.deepcopy(sale)
    broken["payload"]["journal"] = {"seq": 12}
    assert event_error(broken, STORE_NUMBER) == "payload.journal.hash is missing"
    broken = copy.deepcopy(sale)
    broken["payload"]["items"] = [{"item_id": "x"}]
    assert event_error(broken, STORE_NUMBER) == "payload.items[0].label_code is missing"
    broken = copy.deepcopy(sale)
    broken["payload"]["kind"] = "refund"
    assert event_error(broken, STORE_NUMBER).startswith("payload.kind is 'refund'")


def test_a_return_names_the_sale_it_corrects():
    orphan = _ticket(TicketKind.RETURN, refers_to=None)
    assert event_error(orphan, STORE_NUMBER) == (
        "payload.refers_to is missing: a return names the sale it corrects"
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"period": "week"}, "payload.period is 'week'"),
        ({"label": "2026-13-01"}, "payload.label '2026-13-01' is not a day label"),
        ({"period": "month", "label": "2026-11-20"}, "payload.label '2026-11-20' is not a month"),
        ({"grand_total_cents": 1.5}, "payload.grand_total_cents is not an integer"),
        ({"day_totals": {"purchases": {"count": 1, "total_cents": 0}}}, "payload.day_totals.sales"),
        (
            {
                "day_totals": {
                    "purchases": {"count": -1, "total_cents": 0},
                    "sales": {"count": 0, "total_cents": 0},
                    "returns": {"count": 0, "total_cents": 0},
                }
            },
            "payload.day_totals.purchases.count is -1",
        ),
    ],
)
def test_a_closing_of_the_wrong_shape_is_refused(changes, reason):
    assert event_error(closing(**changes), STORE_NUMBER).startswith(reason)


def test_a_stock_move_names_known_statuses():
    assert event_error(status_change(to="lost"), STORE_NUMBER).startswith("payload.to is 'lost'")


def test_till_amounts_are_integer_cents_per_tender():
    assert event_error(till_closed(counted={"cash": "148.00"}), STORE_NUMBER) == (
        "payload.counted.cash is not an integer"
    )
    assert event_error(till_closed(expected=[15_000]), STORE_NUMBER) == (
        "payload.expected is not an object"
    )


def test_a_register_correction_names_the_entry_it_corrects():
    assert event_error(correction(corrects=None), STORE_NUMBER) == (
        "payload.corrects is not an integer"
    )


def test_every_type_the_stores_write_is_known():
    from recommerce.sync import events, reservations
    from recommerce.sync.validation import PAYLOAD_SCHEMAS

    written = {
        value for name, value in vars(events).items() if name.isupper() and isinstance(value, str)
    } | reservations.UPSTREAM_TYPES
    assert written == set(PAYLOAD_SCHEMAS)
    assert all(events.SCHEMA_VERSION in versions for versions in PAYLOAD_SCHEMAS.values())


def test_text_a_database_cannot_hold_is_refused(sale):
    assert storable("Réparé, écran neuf")
    assert not storable("T1\x00")
    assert not storable("\ud800")
    sale["payload"]["till"] = "T\x001"
    assert event_error(sale, STORE_NUMBER) == (
        "payload.till holds a NUL character or an unpaired surrogate"
    )
