"""The store registry: stores, one-time enrolment codes and each store's own sync credential.

Only sha256 digests of codes and credentials are stored. A store enrols once with its code; a
new code (after a disk was replaced, say) enrols it again and revokes the old credential."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from recommerce.central.db import sync_tables as s
from recommerce.central.db import tables as t
from recommerce.db.upsert import insert_missing
from recommerce.errors import Conflict, DomainError, ErrorCode, NotFound

# Unambiguous letters and digits (no 0/O, 1/I/L), typed by a person from a sheet of paper.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def register_store(
    conn: Connection,
    *,
    number: int,
    name: str,
    city: str,
    timezone: str,
    at: datetime,
    location: tuple[float, float] | None = None,
) -> None:
    """Register a store; `location` (latitude, longitude) lets the marketplace offer a
    customer the nearest stores."""
    if not 0 <= number <= 999:
        raise DomainError("a store number is between 0 and 999", field="number")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DomainError(f"unknown time zone {timezone!r}", field="timezone") from exc
    try:
        with conn.begin_nested():
            conn.execute(
                insert(t.stores).values(
                    number=number,
                    name=name,
                    city=city,
                    timezone=timezone,
                    created_at=at,
                    latitude=location[0] if location else None,
                    longitude=location[1] if location else None,
                )
            )
    except IntegrityError as exc:
        raise Conflict(f"store {number} is already registered", field="number") from exc


def store_row(conn: Connection, number: int) -> Any:
    row = conn.execute(select(t.stores).where(t.stores.c.number == number)).first()
    if row is None:
        raise NotFound(f"no store {number}", code=ErrorCode.STORE_NOT_FOUND, field="store_number")
    return row


def new_enrolment_code(conn: Connection, number: int, *, at: datetime, ttl: timedelta) -> str:
    """A one-time code for the store's installer, shown once: three groups of four letters
    and digits, e.g. `K7QM-3HZP-W9TD`."""
    store_row(conn, number)
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    code = "-".join(raw[i : i + 4] for i in range(0, 12, 4))
    conn.execute(
        insert(t.enrolment_codes).values(
            code_hash=digest(_normalise_code(code)),
            store_number=number,
            created_at=at,
            expires_at=at + ttl,
        )
    )
    return code


def _normalise_code(code: str) -> str:
    return code.replace("-", "").replace(" ", "").upper()


def enrol(conn: Connection, number: int, code: str, *, at: datetime) -> str:
    """Exchange a valid, unused, unexpired code of this store for a new credential."""
    refused = DomainError(
        "this enrolment code is unknown, used, expired or for another store",
        code=ErrorCode.ENROLMENT_CODE_INVALID,
        field="code",
    )
    row = conn.execute(
        select(t.enrolment_codes)
        .where(t.enrolment_codes.c.code_hash == digest(_normalise_code(code)))
        .with_for_update()
    ).first()
    if row is None or row.store_number != number or row.used_at is not None:
        raise refused
    if row.expires_at <= at:
        raise refused
    credential = f"rcs_{number:03d}_{secrets.token_urlsafe(32)}"
    used = conn.execute(
        update(t.enrolment_codes)
        .where(
            t.enrolment_codes.c.code_hash == row.code_hash, t.enrolment_codes.c.used_at.is_(None)
        )
        .values(used_at=at)
    )
    if used.rowcount != 1:  # another request used it first
        raise refused
    conn.execute(
        update(t.stores)
        .where(t.stores.c.number == number)
        .values(credential_hash=digest(credential), enrolled_at=at)
    )
    return credential


def store_for_credential(conn: Connection, credential: str) -> int | None:
    """The number of the store holding this credential, or None."""
    number: int | None = conn.execute(
        select(t.stores.c.number).where(t.stores.c.credential_hash == digest(credential))
    ).scalar()
    return number


CONTACT_GRAIN = timedelta(seconds=30)  # a store's feed poll refreshes its last contact this often


def record_contact(conn: Connection, store_number: int, at: datetime) -> None:
    """The store was heard from (a feed poll): the marketplace confirms its items' availability
    from its last contact. Written at most every CONTACT_GRAIN, not on every poll."""
    insert_missing(
        conn,
        s.sync_cursors,
        [{"store_number": store_number, "last_applied_seq": 0, "store_head_seq": 0}],
    )
    conn.execute(
        update(s.sync_cursors)
        .where(
            s.sync_cursors.c.store_number == store_number,
            (s.sync_cursors.c.last_seen_at.is_(None))
            | (s.sync_cursors.c.last_seen_at < at - CONTACT_GRAIN),
        )
        .values(last_seen_at=at)
    )
