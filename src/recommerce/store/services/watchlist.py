"""Importing the stolen-goods watchlist and handling the alerts it raises (rule A.7)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from recommerce.buyback.watchlist import parse_watchlist_csv
from recommerce.errors import ErrorCode, NotFound
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t


def import_watchlist(node: StoreNode, staff: StaffMember, csv_text: str, *, source: str) -> int:
    """Add (or refresh) every serial of the CSV; the whole file or nothing."""
    staff.require(Permission.MANAGE_WATCHLIST)
    entries = {e.serial: e for e in parse_watchlist_csv(csv_text, default_source=source)}
    now = node.clock.now()
    with node.uow() as uow:
        known = set(
            uow.conn.execute(
                select(t.watchlist.c.serial).where(t.watchlist.c.serial.in_(list(entries)))
            ).scalars()
        )
        for serial, e in entries.items():
            values = {
                "reported_on": e.reported_on,
                "source": e.source,
                "reference": e.reference,
                "imported_at": now,
                "imported_by": staff.id,
            }
            if serial in known:
                uow.conn.execute(
                    update(t.watchlist).where(t.watchlist.c.serial == serial).values(**values)
                )
            else:
                uow.conn.execute(insert(t.watchlist).values(serial=serial, **values))
        uow.commit()
    return len(entries)


def list_alerts(node: StoreNode, staff: StaffMember, *, open_only: bool) -> list[dict[str, Any]]:
    staff.require(Permission.MANAGE_WATCHLIST)
    query = select(t.watchlist_alerts).order_by(t.watchlist_alerts.c.at.desc())
    if open_only:
        query = query.where(t.watchlist_alerts.c.acknowledged_at.is_(None))
    with node.uow() as uow:
        return [dict(r._mapping) for r in uow.conn.execute(query)]


def acknowledge_alert(node: StoreNode, staff: StaffMember, alert_id: str) -> None:
    staff.require(Permission.MANAGE_WATCHLIST)
    with node.uow() as uow:
        done = uow.conn.execute(
            update(t.watchlist_alerts)
            .where(
                t.watchlist_alerts.c.id == alert_id, t.watchlist_alerts.c.acknowledged_at.is_(None)
            )
            .values(acknowledged_at=node.clock.now(), acknowledged_by=staff.id)
        ).rowcount
        if not done:
            raise NotFound(f"no open alert {alert_id!r}", code=ErrorCode.NOT_FOUND, field="id")
        uow.commit()
