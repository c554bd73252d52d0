"""Staff accounts, login and tokens. Tokens are random; only their SHA-256 is stored."""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError

from recommerce.errors import DomainError, ErrorCode
from recommerce.ids import new_id
from recommerce.staff.model import Role, StaffMember, hash_password, verify_password
from recommerce.store.db import tables as t


def member_from_row(row: object) -> StaffMember:
    m = row._mapping  # type: ignore[attr-defined]
    return StaffMember(
        id=m["id"],
        username=m["username"],
        full_name=m["full_name"],
        role=Role(m["role"]),
        active=m["active"],
    )


def create_staff(
    conn: Connection,
    *,
    username: str,
    full_name: str,
    role: Role,
    password: str,
    at: datetime,
    created_by: str | None,
) -> StaffMember:
    username = username.strip().lower()
    if not username or not username.replace(".", "").replace("-", "").isalnum():
        raise DomainError("a username is letters, digits, dots and dashes", field="username")
    member = StaffMember(id=new_id(), username=username, full_name=full_name.strip(), role=role)
    try:
        with conn.begin_nested():
            conn.execute(
                insert(t.staff).values(
                    id=member.id,
                    username=member.username,
                    full_name=member.full_name,
                    role=role.value,
                    password_hash=hash_password(password),
                    active=True,
                    created_at=at,
                    created_by=created_by,
                )
            )
    except IntegrityError as exc:
        raise DomainError(
            f"username {username!r} is taken", code=ErrorCode.USERNAME_TAKEN, field="username"
        ) from exc
    return member


def list_staff(conn: Connection) -> list[StaffMember]:
    return [member_from_row(r) for r in conn.execute(select(t.staff).order_by(t.staff.c.username))]


def authenticate(conn: Connection, username: str, password: str) -> StaffMember:
    row = conn.execute(
        select(t.staff).where(t.staff.c.username == username.strip().lower())
    ).first()
    # Verify against a dummy hash when the user is unknown, so timing does not reveal names.
    stored = row.password_hash if row else _dummy_hash()
    if not verify_password(stored, password) or row is None or not row.active:
        raise DomainError("unknown username or wrong password", code=ErrorCode.NOT_AUTHENTICATED)
    return member_from_row(row)


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password-at-all")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    conn: Connection, member: StaffMember, *, kind: str, at: datetime, ttl: timedelta
) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires = at + ttl
    conn.execute(
        insert(t.api_tokens).values(
            token_hash=_digest(token),
            staff_id=member.id,
            kind=kind,
            created_at=at,
            expires_at=expires,
        )
    )
    return token, expires


def log_in(
    conn: Connection, username: str, password: str, *, kind: str, at: datetime, ttl: timedelta
) -> tuple[StaffMember, str, datetime]:
    """Check the password and open a session (browser) or a bearer token (API)."""
    member = authenticate(conn, username, password)
    token, expires = issue_token(conn, member, kind=kind, at=at, ttl=ttl)
    return member, token, expires


_STAFF_FOR_TOKEN = (
    select(t.staff, t.api_tokens.c.expires_at)
    .join(t.api_tokens, t.api_tokens.c.staff_id == t.staff.c.id)
    .where(
        t.api_tokens.c.token_hash == bindparam("digest"),
        t.api_tokens.c.expires_at > bindparam("at"),
    )
)


def staff_for_token(
    conn: Connection, token: str, *, at: datetime
) -> tuple[StaffMember, datetime] | None:
    """The staff member a token belongs to, and when the token expires."""
    row = conn.execute(_STAFF_FOR_TOKEN, {"digest": _digest(token), "at": at}).first()
    if row is None or not row.active:
        return None
    return member_from_row(row), row.expires_at


class TokenCache:
    """Recently checked tokens, so that a till does not read the staff table on every scan.
    An entry lives `ttl` at most (a disabled account stops working within it) and never past
    its token's expiry; logging out forgets it at once."""

    def __init__(self, ttl: timedelta = timedelta(seconds=30)) -> None:
        self._ttl = ttl
        self._entries: dict[str, tuple[StaffMember, datetime]] = {}
        self._lock = threading.Lock()

    def get(self, token: str, now: datetime) -> StaffMember | None:
        entry = self._entries.get(_digest(token))
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    def put(self, token: str, member: StaffMember, *, now: datetime, expires: datetime) -> None:
        with self._lock:
            if len(self._entries) > 10_000:  # a store has a few dozen staff: drop the old
                self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
            self._entries[_digest(token)] = (member, min(expires, now + self._ttl))

    def forget(self, token: str) -> None:
        with self._lock:
            self._entries.pop(_digest(token), None)


def revoke_token(conn: Connection, token: str) -> None:
    conn.execute(delete(t.api_tokens).where(t.api_tokens.c.token_hash == _digest(token)))
