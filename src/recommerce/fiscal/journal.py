"""The fiscal journal: tickets and closings, chained and signed (business-rules D.16, D.17, D.20).

CGI art. 286 I 3° bis asks a till for inalterability, security, keeping and archiving. Here:

- every record's hash is SHA-256 over the previous record's hash followed by a canonical
  serialisation of the record (rule D.17), so changing, deleting or inserting a past record
  breaks the chain from that record on;
- every hash is signed with an Ed25519 key kept in a file outside the database, so that
  someone who can write to the database cannot rebuild a consistent chain after tampering;
- `verify` walks the chain and names the first record that does not verify (rule D.20).

Amounts are integer cents: a float anywhere in a record is refused, so money can never be
rounded by a serialiser (architecture.md invariant 7).

Plain Python on `cryptography`: no web or database imports. The store app stores each record
as it is (every attribute of `JournalRecord`) and hands the key to `seal`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

GENESIS_HASH = "0" * 64
"""The previous hash of the first record of a journal."""

TICKET = "ticket"  # a sale or a return (a return is a counter-ticket, rule D.16)
CLOSING = "closing"  # a daily, monthly or yearly closing (rule D.19)


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """One sealed record of the journal, exactly as stored and archived."""

    seq: int
    kind: str
    label: str  # a human name: "ticket 042-T1-000123", "daily closing 2026-11-20"
    occurred_at: datetime  # aware, UTC
    fields: Mapping[str, Any]  # JSON-able; amounts are integer cents, never floats
    previous_hash: str
    hash: str
    signature: str  # base64 of the Ed25519 signature of the hash's 32 raw bytes


# --------------------------------------------------------------------------------------
# Canonical serialisation and the chain hash
# --------------------------------------------------------------------------------------


def _plain(value: Any, where: str) -> Any:
    """A deep copy made only of JSON types; a float (or anything else) is refused."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)  # a StrEnum or str subclass becomes a plain str
    if isinstance(value, int):
        return int(value)  # an IntEnum or int subclass becomes a plain int
    if isinstance(value, float):
        raise TypeError(f"{where} is a float ({value!r}): amounts are integer cents")
    if isinstance(value, Mapping):
        plain: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}")
            plain[key] = _plain(item, f"{where}.{key}")
        return plain
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{index}]") for index, item in enumerate(value)]
    raise TypeError(f"{where} is a {type(value).__name__}, not a JSON value")


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_instant(at: datetime) -> str:
    """ISO 8601 in UTC with microseconds and "Z": "2026-11-20T10:30:00.000000Z"."""
    if not isinstance(at, datetime):
        raise TypeError(f"the time of a journal record must be a datetime, not {at!r}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"the time of a journal record must be aware, not naive: {at!r}")
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def canonical_fields(fields: Mapping[str, Any]) -> str:
    """The record's fields as canonical JSON text (sorted keys, no spaces, no floats)."""
    return _dumps(_plain(fields, "fields"))


def canonical_bytes(
    *,
    seq: int,
    kind: str,
    label: str,
    occurred_at: datetime,
    fields: Mapping[str, Any],
    previous_hash: str,
) -> bytes:
    """The bytes a record's hash covers: one JSON object with sorted keys, no spaces, UTF-8.

    {"fields":{...},"kind":"ticket","label":"...","occurred_at":"...Z","previous_hash":"...",
    "seq":1}. A float anywhere raises TypeError.
    """
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise TypeError(f"seq must be an int, not {type(seq).__name__}")
    document = {
        "seq": seq,
        "kind": _plain(kind, "kind"),
        "label": _plain(label, "label"),
        "occurred_at": format_instant(occurred_at),
        "fields": _plain(fields, "fields"),
        "previous_hash": _plain(previous_hash, "previous_hash"),
    }
    return _dumps(document).encode("utf-8")


def chain_hash(previous_hash: str, canonical: bytes) -> str:
    """SHA-256 hex of the previous hash (64 ASCII hex digits) followed by the canonical bytes."""
    return hashlib.sha256(previous_hash.encode("ascii") + canonical).hexdigest()


# --------------------------------------------------------------------------------------
# The signing key
# --------------------------------------------------------------------------------------


class FiscalKey:
    """The store's Ed25519 signing key, read from a file the database does not hold."""

    __slots__ = ("_private",)

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key

    @classmethod
    def generate(cls, path: Path) -> FiscalKey:
        """Create a new key in a new file (PKCS8 PEM, mode 0600); an existing file is kept."""
        private_key = Ed25519PrivateKey.generate()
        pem = private_key.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: replacing the key would orphan every signature made with it
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise FileExistsError(
                f"a fiscal key already exists at {path}; it is never overwritten"
            ) from None
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        return cls(private_key)

    @classmethod
    def load(cls, path: Path) -> FiscalKey:
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(
                f"no fiscal key at {path}: the till cannot sign tickets without it "
                "(generate one once with FiscalKey.generate, and keep a backup)"
            ) from None
        try:
            private_key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path} is not a readable PEM private key: {exc}") from None
        if not isinstance(private_key, Ed25519PrivateKey):
            raise ValueError(f"{path} holds a {type(private_key).__name__}, not an Ed25519 key")
        return cls(private_key)

    def sign_raw(self, data: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature."""
        return self._private.sign(data)

    def sign(self, data: bytes) -> str:
        """The Ed25519 signature, base64."""
        return base64.b64encode(self.sign_raw(data)).decode("ascii")

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._private.public_key()

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PublicFormat.SubjectPublicKeyInfo,
        )

    @property
    def fingerprint(self) -> str:
        """SHA-256 hex of the raw public key: a short name to compare keys by."""
        return public_key_fingerprint(self.public_key)

    def __repr__(self) -> str:
        return f"FiscalKey(fingerprint={self.fingerprint[:16]}...)"


def public_key_fingerprint(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()


def load_public_key(public_key: Ed25519PublicKey | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key, given as itself or as PEM bytes."""
    if isinstance(public_key, Ed25519PublicKey):
        return public_key
    loaded = serialization.load_pem_public_key(public_key)
    if not isinstance(loaded, Ed25519PublicKey):
        raise TypeError(f"the fiscal public key must be Ed25519, not {type(loaded).__name__}")
    return loaded


# --------------------------------------------------------------------------------------
# Sealing a record
# --------------------------------------------------------------------------------------


class ChainLink(Protocol):
    """What a new record needs of the one before it: its seq and its hash."""

    @property
    def seq(self) -> int: ...
    @property
    def hash(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Head:
    """The last link of a chain, read without the rest of its record."""

    seq: int
    hash: str


def seal(
    previous: ChainLink | None,
    *,
    seq: int,
    kind: str,
    label: str,
    occurred_at: datetime,
    fields: Mapping[str, Any],
    key: FiscalKey,
) -> JournalRecord:
    """Chain a new record after `previous` (None for the first record) and sign it."""
    if previous is None:
        previous_hash = GENESIS_HASH
        if seq != 1:
            raise ValueError(f"the first record of a journal has seq 1, not {seq}")
    else:
        previous_hash = previous.hash
        if seq != previous.seq + 1:
            raise ValueError(
                f"the record after seq {previous.seq} has seq {previous.seq + 1}, not {seq}"
            )
    if not kind or not label:
        raise ValueError("a journal record needs a kind and a label")
    plain_fields = _plain(fields, "fields")  # a copy: later changes to `fields` do not leak in
    canonical = canonical_bytes(
        seq=seq,
        kind=kind,
        label=label,
        occurred_at=occurred_at,
        fields=plain_fields,
        previous_hash=previous_hash,
    )
    digest = chain_hash(previous_hash, canonical)
    return JournalRecord(
        seq=seq,
        kind=kind,
        label=label,
        occurred_at=occurred_at.astimezone(UTC),
        fields=plain_fields,
        previous_hash=previous_hash,
        hash=digest,
        signature=key.sign(bytes.fromhex(digest)),
    )


class JournalStore(Protocol):
    """Where a store keeps its journal. `next_seq` takes the next number and holds the
    journal until the transaction ends, so records are chained one at a time."""

    def next_seq(self) -> int: ...
    def head(self, seq: int) -> Head | None: ...
    def append(self, record: JournalRecord) -> None: ...


def append_sealed(
    journal: JournalStore,
    seq: int,
    *,
    kind: str,
    label: str,
    occurred_at: datetime,
    fields: Mapping[str, Any],
    key: FiscalKey,
) -> JournalRecord:
    """Seal record `seq` (taken with `next_seq`) after its predecessor and append it."""
    record = seal(
        journal.head(seq - 1) if seq > 1 else None,
        seq=seq,
        kind=kind,
        label=label,
        occurred_at=occurred_at,
        fields=fields,
        key=key,
    )
    journal.append(record)
    return record


# --------------------------------------------------------------------------------------
# Verifying a chain (rule D.20)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """The first record that does not verify, and why."""

    seq: int
    label: str
    reason: str


@dataclass(frozen=True)
class Verification:
    checked: int  # records that verified before the failure, or all of them
    failure: Failure | None

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def message(self) -> str:
        if self.failure is None:
            return f"journal verified: {self.checked} records"
        return f"record seq {self.failure.seq} ({self.failure.label}) fails: {self.failure.reason}"


def _signature_is_valid(public_key: Ed25519PublicKey, record: JournalRecord) -> bool:
    try:
        signature = base64.b64decode(record.signature, validate=True)
        public_key.verify(signature, bytes.fromhex(record.hash))
    except (InvalidSignature, binascii.Error, ValueError, TypeError):
        return False
    return True


def _first_fault(record: JournalRecord, expected_seq: int, expected_previous: str) -> str | None:
    if record.seq != expected_seq:
        return f"seq {expected_seq} expected: a record is missing or was inserted"
    if record.previous_hash != expected_previous:
        return "previous hash does not match the previous record's hash"
    try:
        canonical = canonical_bytes(
            seq=record.seq,
            kind=record.kind,
            label=record.label,
            occurred_at=record.occurred_at,
            fields=record.fields,
            previous_hash=record.previous_hash,
        )
    except (TypeError, ValueError) as exc:
        return f"its contents cannot be serialised canonically: {exc}"
    if record.hash != chain_hash(record.previous_hash, canonical):
        return "hash does not match its contents: a field was changed"
    return None


def verify(
    records: Iterable[JournalRecord],
    public_key: Ed25519PublicKey | bytes,
    *,
    after_seq: int = 0,
    after_hash: str = GENESIS_HASH,
) -> Verification:
    """Walk the records in the order given (by seq) and stop at the first that fails.

    A journal is checked from its start (seq 1 after the genesis hash); a part of one (a
    yearly archive) is checked from the record `after_seq` whose hash is `after_hash`.
    Records missing from the end of the journal cannot be seen here: compare the last seq
    with the one the caller expects (the store's counter, the last closing's last_seq).
    """
    key = load_public_key(public_key)
    expected_seq = after_seq + 1
    expected_previous = after_hash
    checked = 0
    for record in records:
        reason = _first_fault(record, expected_seq, expected_previous)
        if reason is None and not _signature_is_valid(key, record):
            reason = "signature is not valid for its hash: the chain was rebuilt without the key"
        if reason is not None:
            return Verification(checked, Failure(record.seq, record.label, reason))
        checked += 1
        expected_seq = record.seq + 1
        expected_previous = record.hash
    return Verification(checked, None)
