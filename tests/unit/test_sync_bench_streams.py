"""The benchmark's event streams: a stream rewritten for another store, or copied after
itself, is what that store would have sent (its own ids, labels, tickets and numbers)."""

from __future__ import annotations

from typing import Any

from recommerce.inventory.labels import parse_label_code
from recommerce.sim.sync_bench import Shift, queued_stream, rewrite_for_store


def _purchase(seq: int, label: str, number: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "event_id": f"00000000-0000-7000-8000-{seq:012d}",
        "type": "PurchaseRecorded",
        "schema_version": 1,
        "occurred_at": "2026-11-20T10:30:00Z",
        "payload": {
            "purchase_id": f"10000000-0000-7000-8000-{seq:012d}",
            "store_number": 1,
            "register_entries": [{"book": "general", "number": number, "labels": [label]}],
            "items": [
                {
                    "item_id": f"20000000-0000-7000-8000-{seq:012d}",
                    "label_code": label,
                    "register_number": number,
                }
            ],
        },
    }


def _sale(seq: int, label: str, ticket: int, journal: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "event_id": f"00000000-0000-7000-8000-{seq:012d}",
        "type": "TicketValidated",
        "schema_version": 1,
        "occurred_at": "2026-11-20T10:31:00Z",
        "payload": {
            "ticket_id": f"30000000-0000-7000-8000-{seq:012d}",
            "number": f"001-T1-{ticket:06d}",
            "store_number": 1,
            "journal": {"seq": journal, "hash": "ab" * 32},
            "items": [{"item_id": f"20000000-0000-7000-8000-{seq - 1:012d}", "label_code": label}],
        },
    }


STREAM = [
    _purchase(1, "2001000000012", 1),
    _sale(2, "2001000000012", 1, 1),
    _purchase(3, "2001000000029", 2),
    _sale(4, "2001000000029", 2, 2),
]


def test_a_stream_rewritten_for_another_store_carries_that_store_everywhere() -> None:
    events = rewrite_for_store(STREAM, 42)
    first, sale = events[0]["payload"], events[1]["payload"]
    assert first["store_number"] == sale["store_number"] == 42
    assert parse_label_code(first["items"][0]["label_code"]) == (42, 1)
    assert sale["number"] == "042-T1-000001"
    # the sale still names the item its purchase brought in, under the item's new id
    assert sale["items"][0]["item_id"] == first["items"][0]["item_id"]
    assert first["items"][0]["item_id"] != STREAM[0]["payload"]["items"][0]["item_id"]
    assert len({e["event_id"] for e in events + STREAM}) == 8


def test_copies_of_a_stream_follow_one_another_without_sharing_a_number() -> None:
    events = queued_stream(STREAM, 7, 10)
    assert [e["seq"] for e in events] == list(range(1, 11))
    labels = [
        e["payload"]["items"][0]["label_code"] for e in events if e["type"] == "PurchaseRecorded"
    ]
    tickets = [e["payload"]["number"] for e in events if e["type"] == "TicketValidated"]
    journal = [e["payload"]["journal"]["seq"] for e in events if e["type"] == "TicketValidated"]
    registers = [
        e["payload"]["register_entries"][0]["number"]
        for e in events
        if e["type"] == "PurchaseRecorded"
    ]
    assert len(set(labels)) == len(labels) == 5
    assert tickets == [f"007-T1-{n:06d}" for n in range(1, 6)]
    assert journal == [1, 2, 3, 4, 5]
    assert registers == [1, 2, 3, 4, 5]


def test_the_shift_past_a_stream_is_its_highest_numbers() -> None:
    assert Shift.past(STREAM) == Shift(labels=2, register=2, tickets=2, journal=2)
