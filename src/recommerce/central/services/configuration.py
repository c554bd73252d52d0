"""Chain-wide settings that head office decides and every store applies (`ConfigurationChanged`
on the feed; the whole set in the snapshot). A value is any JSON value."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from recommerce.central.db import catalog_tables as c
from recommerce.central.services.feed import append_to_feeds
from recommerce.errors import DomainError
from recommerce.sync.feed_events import (
    CONFIGURATION_CHANGED,
    DEFAULT_FEED_RETENTION,
    configuration_changed,
)

KEY = re.compile(r"[a-z][a-z0-9_.]{0,63}")
MAX_VALUE_BYTES = 16_384


def set_configuration(
    conn: Connection,
    key: str,
    value: Any,
    *,
    now: datetime,
    retention: int = DEFAULT_FEED_RETENTION,
) -> bool:
    """Set one setting; returns whether it changed (only a change reaches the stores)."""
    if not KEY.fullmatch(key):
        raise DomainError(
            "a setting's key is 1 to 64 lower-case letters, digits, _ or ., starting with a letter",
            field="key",
        )
    try:
        size = len(json.dumps(value, allow_nan=False).encode())
    except (TypeError, ValueError) as exc:
        raise DomainError(f"the value is not JSON: {exc}", field="value") from exc
    if size > MAX_VALUE_BYTES:
        raise DomainError(f"the value is {MAX_VALUE_BYTES} bytes of JSON at most", field="value")
    row = conn.execute(
        select(c.configuration.c.value).where(c.configuration.c.key == key).with_for_update()
    ).first()
    if row is not None and _canonical(row.value) == _canonical(value):
        return False
    if row is None:
        conn.execute(insert(c.configuration).values(key=key, value=value, updated_at=now))
    else:
        conn.execute(
            update(c.configuration)
            .where(c.configuration.c.key == key)
            .values(value=value, updated_at=now)
        )
    append_to_feeds(
        conn, CONFIGURATION_CHANGED, configuration_changed(key, value), now=now, retention=retention
    )
    return True


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
