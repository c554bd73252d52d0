"""Sync health: is every store sending its events, and does central accept them?

Per store: when it was last seen (its last push or feed poll), how many of its events central
has not applied yet, how late its newest event arrived (from when it happened at the store to
when central received it), how many events came in today, and how many central parked in
quarantine (acked, never applied: someone must look at them). A badge sums it up:

- bad: an enrolled store never seen, or silent for more than STALE;
- warn: not enrolled yet, silent longer than the marketplace tolerates (its items show as
  "availability being confirmed"), events waiting or arriving late, or events in quarantine;
- ok otherwise.

The cursor figures are the JSON API's (`GET /api/v1/sync/overview`), read the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from math import ceil
from typing import Annotated, Any

from babel.support import LazyProxy
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, func, select

from recommerce.central.api.deps import CentralDep
from recommerce.central.api.store_sync import SyncStatusOut, sync_statuses
from recommerce.central.db import sync_tables as s
from recommerce.central.db import tables as t
from recommerce.central.services.stores import store_row
from recommerce.central.web.backoffice import exports
from recommerce.central.web.backoffice.exports import Column, Kind, Sheet
from recommerce.central.web.backoffice.pages import (
    PREFIX,
    ZONE,
    Pages,
    PageUser,
    not_found,
    page,
)
from recommerce.errors import NotFound
from recommerce.web.i18n import gettext as _
from recommerce.web.i18n import lazy_gettext

router = APIRouter(include_in_schema=False)

STALE = timedelta(hours=1)  # silent this long: the store is down or cut off
PER_PAGE = 50  # quarantined events on a page
SHOWN_EVENT_CHARS = 4000  # of a quarantined event's JSON on the page (the export has it all)


class Health(StrEnum):
    OK = "ok"
    WARN = "warn"
    BAD = "bad"


HEALTH_LABELS: dict[Health, LazyProxy] = {
    Health.OK: lazy_gettext("OK"),
    Health.WARN: lazy_gettext("Watch"),
    Health.BAD: lazy_gettext("Down"),
}


def judge(
    *,
    now: datetime,
    enrolled: bool,
    last_seen: datetime | None,
    waiting: int,
    delay: timedelta | None,
    quarantined: int,
    silence: timedelta,
) -> tuple[Health, list[str]]:
    """A store's badge and why (see the module's docstring)."""
    if not enrolled and last_seen is None:
        return Health.WARN, [_("Not enrolled yet.")]
    if last_seen is None:
        return Health.BAD, [_("Never seen since its enrolment.")]
    reasons: list[tuple[Health, str]] = []
    silent = now - last_seen
    if silent > STALE:
        reasons.append((Health.BAD, _("Silent for more than an hour.")))
    elif silent > silence:
        reasons.append((Health.WARN, _("Silent for longer than the marketplace allows.")))
    if waiting:
        reasons.append((Health.WARN, _("Events sent but not applied yet.")))
    if delay is not None and delay > silence:
        reasons.append((Health.WARN, _("Its newest event arrived late.")))
    if quarantined:
        reasons.append((Health.WARN, _("Events in quarantine.")))
    if not reasons:
        return Health.OK, []
    worst = Health.BAD if any(h is Health.BAD for h, _r in reasons) else Health.WARN
    return worst, [reason for _h, reason in reasons]


@dataclass(frozen=True, slots=True)
class StoreHealth:
    status: SyncStatusOut
    newest_occurred_at: datetime | None
    newest_received_at: datetime | None
    received_today: int
    health: Health
    reasons: list[str]

    @property
    def delay(self) -> timedelta | None:
        """How long the store's newest event took to reach central."""
        if self.newest_occurred_at is None or self.newest_received_at is None:
            return None
        return max(timedelta(0), self.newest_received_at - self.newest_occurred_at)


def newest_events(
    conn: Connection, number: int | None = None
) -> dict[int, tuple[datetime, datetime]]:
    """Each store's newest event (or store `number`'s): when it happened and when central
    received it. Read store by store down the events' key, never by a scan of all of them."""
    e = s.events

    def newest(column: Any) -> Any:
        return (
            select(column)
            .where(e.c.store_number == t.stores.c.number)
            .order_by(e.c.seq.desc())
            .limit(1)
            .scalar_subquery()
        )

    query = select(t.stores.c.number, newest(e.c.occurred_at), newest(e.c.received_at))
    if number is not None:
        query = query.where(t.stores.c.number == number)
    return {
        store: (occurred, received)
        for store, occurred, received in conn.execute(query)
        if occurred is not None
    }


def received_since(conn: Connection, since: datetime, number: int | None = None) -> dict[int, int]:
    e = s.events
    query = select(e.c.store_number, func.count()).where(e.c.received_at >= since)
    if number is not None:
        query = query.where(e.c.store_number == number)
    rows = conn.execute(query.group_by(e.c.store_number))
    return {store: n for store, n in rows}


def start_of_today(now: datetime) -> datetime:
    local = now.astimezone(ZONE)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def health_of_stores(
    conn: Connection, *, now: datetime, silence: timedelta, number: int | None = None
) -> list[StoreHealth]:
    newest = newest_events(conn, number)
    today = received_since(conn, start_of_today(now), number)
    out = []
    for status in sync_statuses(conn, now, number):
        occurred, received = newest.get(status.store_number, (None, None))
        delay = received - occurred if occurred and received else None
        health, reasons = judge(
            now=now,
            enrolled=status.enrolled_at is not None,
            last_seen=status.last_seen_at,
            waiting=status.lag_events,
            delay=delay,
            quarantined=status.quarantined,
            silence=silence,
        )
        out.append(
            StoreHealth(
                status, occurred, received, today.get(status.store_number, 0), health, reasons
            )
        )
    return out


def overview_sheet(stores: list[StoreHealth]) -> Sheet:
    return Sheet(
        name="sync-health",
        title=_("Sync health"),
        columns=[
            Column(_("Store")),
            Column(_("Name")),
            Column(_("Health")),
            Column(_("Last seen"), Kind.MOMENT),
            Column(_("Last batch"), Kind.MOMENT),
            Column(_("Events applied up to"), Kind.INTEGER),
            Column(_("Store's newest event"), Kind.INTEGER),
            Column(_("Events waiting"), Kind.INTEGER),
            Column(_("Newest event happened"), Kind.MOMENT),
            Column(_("Newest event received"), Kind.MOMENT),
            Column(_("Delay (seconds)"), Kind.INTEGER),
            Column(_("Events received today"), Kind.INTEGER),
            Column(_("In quarantine"), Kind.INTEGER),
        ],
        rows=[
            [
                f"{h.status.store_number:03d}",
                h.status.name,
                str(HEALTH_LABELS[h.health]),
                h.status.last_seen_at,
                h.status.last_batch_at,
                h.status.last_applied_seq,
                h.status.store_head_seq,
                h.status.lag_events,
                h.newest_occurred_at,
                h.newest_received_at,
                ceil(h.delay.total_seconds()) if h.delay is not None else None,
                h.received_today,
                h.status.quarantined,
            ]
            for h in stores
        ],
    )


@router.get(f"{PREFIX}/sync", response_class=HTMLResponse)
def sync_overview(request: Request, central: CentralDep, user: PageUser) -> Response:
    now = central.clock.now()
    silence = timedelta(seconds=central.settings.store_silence_s)
    with central.reading() as conn:
        stores = health_of_stores(conn, now=now, silence=silence)
    fmt = exports.wanted_format(request)
    if fmt is not None:
        name = exports.file_name("sync-health", now.astimezone(ZONE).date().isoformat())
        return exports.download(fmt, [overview_sheet(stores)], name)
    return page(request, user, "sync.html", {"stores": stores, "labels": HEALTH_LABELS, "now": now})


def quarantine_sheet(number: int, rows: Sequence[Any]) -> Sheet:
    return Sheet(
        name="quarantine",
        title=f"{_('Quarantine')} {number:03d}",
        columns=[
            Column(_("Seq"), Kind.INTEGER),
            Column(_("Event type")),
            Column(_("Event id")),
            Column(_("Reason")),
            Column(_("Quarantined at"), Kind.MOMENT),
            Column(_("Event")),
        ],
        rows=[
            [
                row.seq,
                row.type or "",
                row.event_id or "",
                row.reason,
                row.quarantined_at,
                json.dumps(row.event, ensure_ascii=False, sort_keys=True),
            ]
            for row in rows
        ],
    )


@router.get(f"{PREFIX}/sync/{{number}}", response_class=HTMLResponse)
def store_sync(
    request: Request,
    number: Annotated[int, Path(ge=0, le=999)],
    central: CentralDep,
    user: PageUser,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    now = central.clock.now()
    silence = timedelta(seconds=central.settings.store_silence_s)
    fmt = exports.wanted_format(request)
    q = s.quarantine
    with central.reading() as conn:
        try:
            store = store_row(conn, number)
        except NotFound as exc:
            return not_found(request, user, exc)
        (health,) = health_of_stores(conn, now=now, silence=silence, number=number)
        listed = select(q).where(q.c.store_number == number).order_by(q.c.seq.desc(), q.c.id.desc())
        if fmt is not None:
            rows = conn.execute(listed.limit(exports.MAX_EXPORT_ROWS)).all()
            name = exports.file_name("quarantine", f"store-{number:03d}")
            return exports.download(fmt, [quarantine_sheet(number, rows)], name)
        total = health.status.quarantined
        rows = conn.execute(listed.offset((page_number - 1) * PER_PAGE).limit(PER_PAGE)).all()
    events = [
        (
            row,
            json.dumps(row.event, ensure_ascii=False, indent=2, sort_keys=True)[:SHOWN_EVENT_CHARS],
        )
        for row in rows
    ]
    return page(
        request,
        user,
        "sync_store.html",
        {
            "store": store,
            "health": health,
            "labels": HEALTH_LABELS,
            "events": events,
            "pages": Pages.of(page_number, total, PER_PAGE),
        },
    )
