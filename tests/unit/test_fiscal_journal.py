"""The fiscal journal is chained and signed: any change to a past ticket or closing is
detected and the first record that fails is named (rules D.16, D.17, D.20; invariant 3)."""

from __future__ import annotations

import copy
import dataclasses
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from recommerce.fiscal.closings import Period, closing_fields, closing_record_label
from recommerce.fiscal.journal import (
    GENESIS_HASH,
    FiscalKey,
    JournalRecord,
    canonical_bytes,
    chain_hash,
    seal,
    verify,
)

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def ticket_fields(n: int, *, total_cents: int = 12_000, kind: str = "sale") -> dict[str, Any]:
    sign = -1 if kind == "return" else 1
    amount = sign * abs(total_cents)
    return {
        "ticket_id": f"t-{n}",
        "number": f"042-T1-{n:06d}",
        "till": "T1",
        "kind": kind,
        "staff_id": "staff-1",
        "lines": [
            {
                "label_code": f"L{n}",
                "article": "iPhone 12 – 64 Go",
                "quantity": 1,
                "unit_price_cents": amount,
                "discount_cents": 0,
                "price_cents": amount,
                "vat_regime": "margin",
                "vat_rate": "20",
                "vat_cents": sign * 1000,
            }
        ],
        "tenders": [{"kind": "card", "amount_cents": amount}],
        "change_cents": 0,
        "total_cents": amount,
        "vat": [
            {"regime": "margin", "rate": "20", "total_cents": amount, "vat_cents": sign * 1000}
        ],
        "refers_to": f"t-{n - 1}" if kind == "return" else None,
    }


def build_journal(key: FiscalKey, count: int = 6) -> list[JournalRecord]:
    records: list[JournalRecord] = []
    for n in range(1, count + 1):
        records.append(
            seal(
                records[-1] if records else None,
                seq=n,
                kind="ticket",
                label=f"ticket 042-T1-{n:06d}",
                occurred_at=START + timedelta(minutes=n),
                fields=ticket_fields(n),
                key=key,
            )
        )
    return records


@pytest.fixture
def key(tmp_path: Path) -> FiscalKey:
    return FiscalKey.generate(tmp_path / "keys" / "fiscal.pem")


def test_a_sealed_journal_verifies(key: FiscalKey) -> None:
    records = build_journal(key)

    result = verify(records, key.public_key)

    assert result.ok
    assert result.checked == 6
    assert result.message == "journal verified: 6 records"
    assert records[0].previous_hash == GENESIS_HASH
    assert all(b.previous_hash == a.hash for a, b in pairwise(records))


def test_the_public_key_can_be_given_as_pem(key: FiscalKey) -> None:
    assert verify(build_journal(key), key.public_pem()).ok


def test_each_hash_covers_the_previous_hash_and_the_canonical_fields(key: FiscalKey) -> None:
    first, second = build_journal(key, 2)
    canonical = canonical_bytes(
        seq=2,
        kind="ticket",
        label=second.label,
        occurred_at=second.occurred_at,
        fields=second.fields,
        previous_hash=first.hash,
    )
    assert second.hash == chain_hash(first.hash, canonical)


def _replace_fields(
    record: JournalRecord, change: Callable[[dict[str, Any]], None]
) -> JournalRecord:
    fields: dict[str, Any] = copy.deepcopy(dict(record.fields))
    change(fields)
    return dataclasses.replace(record, fields=fields)


TAMPERINGS: dict[str, Callable[[JournalRecord], JournalRecord]] = {
    "total": lambda r: _replace_fields(r, lambda f: f.update(total_cents=1)),
    "line price": lambda r: _replace_fields(r, lambda f: f["lines"][0].update(price_cents=1)),
    "tender": lambda r: _replace_fields(r, lambda f: f["tenders"][0].update(kind="cash")),
    "vat": lambda r: _replace_fields(r, lambda f: f["vat"][0].update(vat_cents=0)),
    "staff": lambda r: _replace_fields(r, lambda f: f.update(staff_id="staff-2")),
    "extra field": lambda r: _replace_fields(r, lambda f: f.update(note="")),
    "removed field": lambda r: _replace_fields(r, lambda f: f.pop("refers_to")),
    "label": lambda r: dataclasses.replace(r, label="ticket 042-T1-999999"),
    "kind": lambda r: dataclasses.replace(r, kind="closing"),
    "time": lambda r: dataclasses.replace(r, occurred_at=r.occurred_at + timedelta(microseconds=1)),
}


@pytest.mark.parametrize("tampering", TAMPERINGS, ids=list(TAMPERINGS))
def test_changing_any_field_of_a_past_ticket_is_detected_and_named(
    key: FiscalKey, tampering: str
) -> None:
    records = build_journal(key)
    original = records[2]
    records[2] = TAMPERINGS[tampering](original)

    result = verify(records, key.public_key)

    assert not result.ok
    assert result.failure is not None
    assert result.failure.seq == 3
    assert result.checked == 2
    assert "a field was changed" in result.failure.reason
    assert result.message.startswith(f"record seq 3 ({records[2].label}) fails:")


def test_changing_a_previous_hash_is_detected(key: FiscalKey) -> None:
    records = build_journal(key)
    records[3] = dataclasses.replace(records[3], previous_hash=GENESIS_HASH)

    result = verify(records, key.public_key)

    assert result.failure is not None
    assert result.failure.seq == 4
    assert "previous hash" in result.failure.reason


@pytest.mark.parametrize("deleted", [0, 2, 4])
def test_deleting_a_record_is_detected(key: FiscalKey, deleted: int) -> None:
    records = build_journal(key)
    seen_next = records[deleted + 1]
    del records[deleted]

    result = verify(records, key.public_key)

    assert result.failure is not None
    assert result.failure.seq == seen_next.seq
    assert result.failure.label == seen_next.label
    assert result.failure.reason == (
        f"seq {deleted + 1} expected: a record is missing or was inserted"
    )


def test_inserting_a_record_is_detected(key: FiscalKey) -> None:
    records = build_journal(key)
    records.insert(3, dataclasses.replace(records[2]))

    result = verify(records, key.public_key)

    assert result.failure is not None
    assert result.failure.reason == "seq 4 expected: a record is missing or was inserted"


def test_rechaining_without_the_key_is_detected(key: FiscalKey) -> None:
    """Whoever can write to the database changes a ticket and recomputes every hash after
    it; without the store's key, they can only sign with another one."""
    records = build_journal(key)
    forger = FiscalKey(Ed25519PrivateKey.generate())
    rebuilt = records[:2]
    for record in records[2:]:
        fields = dict(record.fields)
        if record.seq == 3:
            fields["total_cents"] = 100
        rebuilt.append(
            seal(
                rebuilt[-1],
                seq=record.seq,
                kind=record.kind,
                label=record.label,
                occurred_at=record.occurred_at,
                fields=fields,
                key=forger,
            )
        )
    # the rebuilt part is consistent with itself...
    assert verify(rebuilt[2:], forger.public_key, after_seq=2, after_hash=rebuilt[1].hash).ok

    result = verify(rebuilt, key.public_key)  # ...but not signed by the store

    assert result.failure is not None
    assert result.failure.seq == 3
    assert "rebuilt without the key" in result.failure.reason


def test_a_garbled_signature_is_detected(key: FiscalKey) -> None:
    records = build_journal(key)
    records[1] = dataclasses.replace(records[1], signature="not base64!")

    result = verify(records, key.public_key)

    assert result.failure is not None
    assert result.failure.seq == 2


def test_changing_a_closing_is_detected(key: FiscalKey) -> None:
    records = build_journal(key, 4)
    fields = closing_fields(
        period=Period.DAY,
        label="2026-11-20",
        records=records,
        previous_grand_total_cents=1_000_000,
    )
    label = closing_record_label(Period.DAY, "2026-11-20")
    records.append(
        seal(
            records[-1],
            seq=5,
            kind="closing",
            label=label,
            occurred_at=START + timedelta(hours=12),
            fields=fields,
            key=key,
        )
    )
    assert verify(records, key.public_key).ok

    records[4] = _replace_fields(records[4], lambda f: f.update(grand_total_cents=0))
    result = verify(records, key.public_key)

    assert result.failure is not None
    assert result.failure.seq == 5
    assert result.message.startswith("record seq 5 (daily closing 2026-11-20) fails:")


@pytest.mark.parametrize(
    "fields",
    [
        {"total_cents": 12.5},
        {"total_cents": 1200.0},
        {"lines": [{"price_cents": 0.1}]},
        {"tenders": ({"amount_cents": float("nan")},)},
        {"nested": {"deep": [1, 2, {"x": 3.0}]}},
    ],
)
def test_a_float_amount_can_never_enter_the_journal(key: FiscalKey, fields: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match="float"):
        seal(
            None, seq=1, kind="ticket", label="ticket x", occurred_at=START, fields=fields, key=key
        )
    with pytest.raises(TypeError, match="float"):
        canonical_bytes(
            seq=1, kind="ticket", label="x", occurred_at=START, fields=fields, previous_hash=""
        )


def test_a_float_slipped_into_a_stored_record_fails_verification(key: FiscalKey) -> None:
    records = build_journal(key, 3)
    records[1] = _replace_fields(records[1], lambda f: f.update(total_cents=12000.0))

    result = verify(records, key.public_key)

    assert result.failure is not None
    assert result.failure.seq == 2
    assert "float" in result.failure.reason


@pytest.mark.parametrize(
    "value", [Decimal("1.5"), datetime(2026, 1, 1, tzinfo=UTC), {1: "a"}, b"x"]
)
def test_only_json_values_enter_the_journal(key: FiscalKey, value: object) -> None:
    with pytest.raises(TypeError):
        seal(None, seq=1, kind="ticket", label="t", occurred_at=START, fields={"v": value}, key=key)


def test_canonical_bytes_are_sorted_compact_utf8_with_a_utc_instant() -> None:
    paris = timezone(timedelta(hours=1))
    canonical = canonical_bytes(
        seq=7,
        kind="ticket",
        label="ticket é",
        occurred_at=datetime(2026, 11, 20, 11, 30, tzinfo=paris),
        fields={"b": [1, None, True], "a": "€"},
        previous_hash="ab" * 32,
    )
    assert (
        canonical
        == (
            '{"fields":{"a":"€","b":[1,null,true]},"kind":"ticket","label":"ticket é",'
            '"occurred_at":"2026-11-20T10:30:00.000000Z","previous_hash":"'
            + "ab" * 32
            + '","seq":7}'
        ).encode()
    )


def test_a_naive_time_is_refused(key: FiscalKey) -> None:
    with pytest.raises(ValueError, match="aware"):
        seal(
            None,
            seq=1,
            kind="ticket",
            label="t",
            occurred_at=datetime(2026, 1, 1),
            fields={},
            key=key,
        )


def test_seal_keeps_the_sequence(key: FiscalKey) -> None:
    first = seal(None, seq=1, kind="ticket", label="t1", occurred_at=START, fields={}, key=key)
    with pytest.raises(ValueError, match="seq 1"):
        seal(None, seq=2, kind="ticket", label="t", occurred_at=START, fields={}, key=key)
    with pytest.raises(ValueError, match="seq 2"):
        seal(first, seq=3, kind="ticket", label="t", occurred_at=START, fields={}, key=key)


def test_a_sealed_record_does_not_change_with_the_callers_dict(key: FiscalKey) -> None:
    fields = ticket_fields(1)
    record = seal(None, seq=1, kind="ticket", label="t", occurred_at=START, fields=fields, key=key)
    fields["total_cents"] = 0
    fields["lines"][0]["price_cents"] = 0

    assert verify([record], key.public_key).ok


def test_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "fiscal.pem"
    key = FiscalKey.generate(path)
    pem = path.read_bytes()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    with pytest.raises(FileExistsError, match="never overwritten"):
        FiscalKey.generate(path)
    assert path.read_bytes() == pem

    loaded = FiscalKey.load(path)
    assert loaded.public_pem() == key.public_pem()
    assert loaded.fingerprint == key.fingerprint
    assert verify(build_journal(loaded, 2), key.public_key).ok
    assert "PRIVATE" not in repr(loaded)


def test_a_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no fiscal key at"):
        FiscalKey.load(tmp_path / "absent.pem")


def test_a_key_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.pem"
    path.write_bytes(b"not a key")
    with pytest.raises(ValueError, match="not a readable PEM"):
        FiscalKey.load(path)


_KEY = FiscalKey(Ed25519PrivateKey.generate())
_JOURNAL = build_journal(_KEY, 5)


@settings(max_examples=60, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=4),
    amount=st.integers(min_value=-(10**9), max_value=10**9),
)
def test_any_changed_amount_is_detected_at_its_record(index: int, amount: int) -> None:
    records = list(_JOURNAL)
    original = records[index].fields["total_cents"]
    records[index] = _replace_fields(records[index], lambda f: f.update(total_cents=amount))

    result = verify(records, _KEY.public_key)

    if amount == original:
        assert result.ok
    else:
        assert result.failure is not None
        assert result.failure.seq == index + 1
