"""Transfers central announces down the receiving store's feed (`TransferIncoming`), applied in
the transaction that also moves the feed cursor: the transfer is expected here, with each
item as the sending store described it, until a manager receives it
(recommerce.store.services.transfers). Hearing of a transfer again changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select

from recommerce.store.db import tables as t
from recommerce.store.services.transfers import EXPECTED, IN_TRANSIT, INCOMING
from recommerce.sync.feed_events import incoming_transfer_from_payload

log = logging.getLogger("recommerce.sync.transfers")


def apply_transfer_incoming(conn: Connection, payload: Mapping[str, Any]) -> None:
    transfer = incoming_transfer_from_payload(payload)  # PayloadError: the row is skipped
    known = conn.execute(
        select(t.transfers.c.id).where(t.transfers.c.id == transfer.transfer_id)
    ).first()
    if known is not None:
        return  # heard again (a feed read twice): already expected, or received
    conn.execute(
        insert(t.transfers).values(
            id=transfer.transfer_id,
            number=transfer.number,
            direction=INCOMING,
            from_store=transfer.from_store,
            to_store=transfer.to_store,
            status=EXPECTED,
            note=transfer.note,
            sent_at=transfer.sent_at,
            sent_by=None,  # the sending store's staff are not known here
        )
    )
    conn.execute(
        insert(t.transfer_items),
        [
            {
                "transfer_id": transfer.transfer_id,
                "item_id": item.item_id,
                "label_code": item.label_code,
                "status": IN_TRANSIT,
                "item": dict(raw),
            }
            for item, raw in zip(transfer.items, payload["items"], strict=True)
        ],
    )
    log.info(
        "transfer %s from store %03d expected: %s items",
        transfer.number,
        transfer.from_store,
        len(transfer.items),
    )
