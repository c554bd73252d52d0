"""The upstream batch as it travels: its body is JSON whose checksum is that of its events."""

from __future__ import annotations

import json

from recommerce.sync.protocol import batch_body, batch_checksum, contiguity_error

EVENTS = [
    {"seq": 7, "event_id": "e7", "type": "PurchaseRecorded", "payload": {"nom": "Élodie", "b": 1}},
    {"seq": 8, "event_id": "e8", "type": "TicketValidated", "payload": {"lignes": ["café ☕"]}},
]


def test_a_protocol_2_body_carries_the_checksum_of_its_events() -> None:
    body = json.loads(batch_body(7, 12, EVENTS, protocol=2))
    assert body == {
        "first_seq": 7,
        "head_seq": 12,
        "checksum": batch_checksum(EVENTS),
        "events": EVENTS,
    }


def test_a_protocol_1_body_has_no_checksum() -> None:
    assert json.loads(batch_body(7, 8, EVENTS, protocol=1)) == {
        "first_seq": 7,
        "head_seq": 8,
        "events": EVENTS,
    }


def test_the_checksum_does_not_depend_on_the_order_of_keys() -> None:
    shuffled = [dict(reversed(list(event.items()))) for event in EVENTS]
    assert batch_checksum(shuffled) == batch_checksum(EVENTS)
    assert batch_checksum(EVENTS[:1]) != batch_checksum(EVENTS)


def test_a_batch_must_be_contiguous_from_its_first_seq() -> None:
    assert contiguity_error(7, EVENTS) is None
    assert contiguity_error(6, EVENTS) is not None
    assert contiguity_error(0, []) is not None
