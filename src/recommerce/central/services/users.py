"""Head-office users: accounts, log-in and bearer tokens (only a token's sha256 is stored)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from recommerce.central.db import tables as t
from recommerce.errors import Conflict, DomainError, ErrorCode
from recommerce.ids import new_id
from recommerce.staff.model import hash_password, verify_password


class UserRole(StrEnum):
    ADMIN = "admin"  # enrols stores, manages users and the catalogue
    BACKOFFICE = "backoffice"  # head-office staff: reads dashboards, sync health, catalogue


def create_user(
    conn: Connection, *, username: str, full_name: str, role: UserRole, password: str, at: datetime
) -> str:
    if len(password) < 8:
        raise DomainError("a password has at least 8 characters", field="password")
    user_id = new_id()
    try:
        with conn.begin_nested():
            conn.execute(
                insert(t.users).values(
                    id=user_id,
                    username=username,
                    full_name=full_name,
                    role=role.value,
                    password_hash=hash_password(password),
                    created_at=at,
                )
            )
    except IntegrityError as exc:
        raise Conflict(
            f"username {username!r} is taken", code=ErrorCode.USERNAME_TAKEN, field="username"
        ) from exc
    return user_id


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def log_in(conn: Connection, username: str, password: str, *, at: datetime, ttl: timedelta) -> str:
    """A new bearer token for a user whose password matches; the same error whether the user
    exists or not, and the same time spent (a dummy hash is verified for unknown users)."""
    row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
    if not verify_password(row.password_hash if row else _dummy_hash(), password) or row is None:
        raise DomainError("wrong username or password", code=ErrorCode.NOT_AUTHENTICATED)
    token = secrets.token_urlsafe(32)
    conn.execute(
        insert(t.user_tokens).values(
            token_hash=_digest(token), user_id=row.id, created_at=at, expires_at=at + ttl
        )
    )
    conn.execute(delete(t.user_tokens).where(t.user_tokens.c.expires_at < at))
    return token


def revoke_token(conn: Connection, token: str) -> None:
    """A token that logged out: refused from now on, wherever a copy of it is."""
    conn.execute(delete(t.user_tokens).where(t.user_tokens.c.token_hash == _digest(token)))


def user_for_token(conn: Connection, token: str, *, at: datetime) -> dict[str, str] | None:
    row = conn.execute(
        select(t.users.c.id, t.users.c.username, t.users.c.role)
        .join(t.user_tokens, t.user_tokens.c.user_id == t.users.c.id)
        .where(t.user_tokens.c.token_hash == _digest(token), t.user_tokens.c.expires_at > at)
    ).first()
    return None if row is None else {"id": row.id, "username": row.username, "role": row.role}
