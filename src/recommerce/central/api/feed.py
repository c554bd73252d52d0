"""The stores' side of the downstream feed (docs/sync-protocol.md, "Downstream"): read the feed
after a cursor, waiting for new rows (long poll), or load the snapshot to start over.

Every call is authenticated by the store's own credential for the store named in the URL
(`StoreDep`) and carries the protocol version (`ProtocolDep`)."""

from __future__ import annotations

from time import monotonic
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from recommerce.central.api.catalog_schemas import FeedEventOut, FeedOut, SnapshotOut
from recommerce.central.api.deps import CentralDep, ProtocolDep, StoreDep
from recommerce.central.bootstrap import CentralNode
from recommerce.central.services import feed as service
from recommerce.central.services.feed_notifier import notifier_for
from recommerce.central.services.stores import CONTACT_GRAIN, record_contact

router = APIRouter(prefix="/api/v1/sync/stores", tags=["sync"])

# A held request looks at the database at least this often: rows written by another process
# (the command line, another replica of central) wake no notifier of this one.
RECHECK_S = 1.0


def _read(central: CentralNode, store: int, after: int, limit: int) -> service.FeedPage:
    with central.reading() as conn:
        return service.read_feed(conn, store, after, limit)


# When each store last had its contact recorded by this process: a poll every few seconds
# writes at most once per CONTACT_GRAIN.
_contacts: dict[tuple[int, int], float] = {}


def _contact(central: CentralNode, store: int) -> None:
    now, key = monotonic(), (id(central), store)
    if now - _contacts.get(key, -1e9) < CONTACT_GRAIN.total_seconds():
        return
    _contacts[key] = now
    with central.writing() as conn:
        record_contact(conn, store, central.clock.now())


@router.get(
    "/{store_number}/feed",
    response_model=FeedOut,
    summary="The store's feed after a cursor; waits up to `wait` seconds for a row (long poll)",
    responses={
        410: {"description": "`feed_cursor_too_old`: load the snapshot, then read after its seq"}
    },
)
async def read_feed(
    request: Request,
    store: StoreDep,
    _protocol: ProtocolDep,
    central: CentralDep,
    after: Annotated[int, Query(ge=0, description="The last seq the store has applied")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    wait: Annotated[
        float, Query(ge=0, le=300, description="Seconds to hold the request (at most 30)")
    ] = 0,
) -> Response:
    deadline = monotonic() + min(wait, central.settings.feed_wait_max_s)
    await run_in_threadpool(_contact, central, store)
    # Listen before the first read: a row committed between the read and the wait still wakes.
    with notifier_for(central.engine).listening(store) as listener:
        while True:
            page = await run_in_threadpool(_read, central, store, after, limit)
            remaining = deadline - monotonic()
            if page.events or remaining <= 0 or await request.is_disconnected():
                break
            await listener.wait(min(RECHECK_S, remaining))
    body = FeedOut(
        events=[FeedEventOut.model_validate(event) for event in page.events], head=page.head
    )
    return Response(body.model_dump_json(), media_type="application/json")


def _snapshot(central: CentralNode, store: int) -> SnapshotOut:
    with central.reading() as conn:
        return SnapshotOut.model_validate(service.snapshot(conn, store, now=central.clock.now()))


@router.get(
    "/{store_number}/snapshot",
    response_model=SnapshotOut,
    summary="The catalogue and settings as of one feed seq: start over from here",
)
async def snapshot(store: StoreDep, _protocol: ProtocolDep, central: CentralDep) -> Response:
    body = await run_in_threadpool(_snapshot, central, store)
    return Response(body.model_dump_json(), media_type="application/json")
