"""The sync protocol's versions and the shape of an upstream batch (architecture.md section 4).

Every sync request carries two headers: the protocol version (the shape of requests and
answers) and the highest event schema version the store writes. Central serves the current
protocol and the one before (N and N-1) and answers older ones with 426 Upgrade Required; the
store keeps selling and queueing meanwhile.

Version history:
- 1: a batch is `{"first_seq", "head_seq", "events"}`.
- 2: a batch also carries `checksum`, the sha256 of its events in canonical JSON, checked by
  central before anything is applied (a batch damaged on the way is refused whole).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

PROTOCOL_VERSION = 2
SUPPORTED_PROTOCOLS = frozenset({PROTOCOL_VERSION, PROTOCOL_VERSION - 1})
PROTOCOL_HEADER = "Recommerce-Protocol"
SCHEMA_HEADER = "Recommerce-Schema"

EVENT_FIELDS = ("seq", "event_id", "type", "schema_version", "occurred_at", "payload")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces, UTF-8 characters as they are: one text per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def batch_checksum(events: Sequence[Mapping[str, Any]]) -> str:
    """sha256 of the events as canonical JSON (sorted keys, no spaces, UTF-8)."""
    return _sha256(canonical_json(list(events)))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def batch_body(
    first_seq: int, head_seq: int, events: Sequence[Mapping[str, Any]], *, protocol: int
) -> bytes:
    """The upstream request's JSON body. The events are serialised once, for the body and
    the checksum alike (a batch holds up to a thousand events)."""
    events_json = canonical_json(list(events))
    checksum = f',"checksum":"{_sha256(events_json)}"' if protocol >= 2 else ""
    return (
        f'{{"first_seq":{int(first_seq)},"head_seq":{int(head_seq)}{checksum},'
        f'"events":{events_json}}}'
    ).encode()


def contiguity_error(first_seq: int, events: Sequence[Mapping[str, Any]]) -> str | None:
    """Why a batch's sequence numbers are not `first_seq, first_seq + 1, ...`, or None."""
    if first_seq < 1:
        return "first_seq starts at 1"
    for offset, event in enumerate(events):
        if event.get("seq") != first_seq + offset:
            return f"event {offset} has seq {event.get('seq')!r}, expected {first_seq + offset}"
    return None
