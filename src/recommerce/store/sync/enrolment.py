"""Enrolling the store with central: its one-time code for its own credential, then the
catalogue from central's snapshot."""

from __future__ import annotations

import httpx

from recommerce.store.bootstrap import StoreNode
from recommerce.store.sync import state
from recommerce.store.sync.client import CentralClient, Enrolled, refusal_error
from recommerce.store.sync.feed import FeedPuller, PullResult


def enrol(node: StoreNode, http: httpx.Client, *, central_url: str, code: str) -> PullResult:
    """Exchange the code for the store's credential and keep it (encrypted), then load
    central's snapshot. If the snapshot cannot be loaded now, the worker loads it first."""
    settings = node.settings
    anonymous = CentralClient(
        http, store_number=settings.store_number, protocol=settings.sync_protocol_version
    )
    answer = anonymous.enrol(code)
    if not isinstance(answer, Enrolled):
        raise refusal_error(answer, f"enrol store {settings.store_number}")
    with state.transaction(node) as conn:
        state.save_enrolment(
            conn,
            node.vault,
            central_url=central_url,
            credential=answer.credential,
            at=node.clock.now(),
        )
    client = CentralClient(
        http,
        store_number=settings.store_number,
        credential=answer.credential,
        protocol=settings.sync_protocol_version,
    )
    return FeedPuller(node, client).load_snapshot()
