"""The stores' side of the upstream sync: push a batch of outbox events, read back a day's
figures as central computed them (docs/sync-protocol.md, "Upstream" and "Reconciliation").

Every call is authenticated by the store's own credential for the store named in the URL
(`StoreDep`) and carries the protocol version (`ProtocolDep`)."""

from __future__ import annotations

from datetime import date
from time import perf_counter
from typing import Any

from fastapi import APIRouter, Request
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import BaseModel, ConfigDict, Field

from recommerce.central.api.deps import CentralDep, ProtocolDep, StoreDep
from recommerce.central.services.ingest import BatchResult, apply_batch, refuse_damaged
from recommerce.central.services.reconcile import day_figures
from recommerce.errors import DomainError, ErrorCode

router = APIRouter(prefix="/api/v1/sync", tags=["sync"])

MAX_SEQ = 2**62  # a seq fits a BIGINT


class EventBatchIn(BaseModel):
    """A batch of the store's outbox, contiguous from `first_seq` (protocol 1 has no checksum)."""

    model_config = ConfigDict(extra="ignore")  # a newer store may say more

    first_seq: int = Field(ge=1, le=MAX_SEQ)
    head_seq: int = Field(
        ge=0, le=MAX_SEQ, description="The store's newest outbox seq: its lag in events"
    )
    checksum: str | None = Field(
        default=None, description="Protocol 2: sha256 of `events` as canonical JSON"
    )
    events: list[dict[str, Any]] = Field(
        description="`seq`, `event_id`, `type`, `schema_version`, `occurred_at`, `payload`"
    )


class BatchAck(BaseModel):
    acked_seq: int = Field(description="Every event up to this seq is safely at central")
    applied: int
    duplicates: int = Field(description="Events central already had: a success")
    quarantined: int = Field(description="Events that failed validation: kept aside, acked")


class Totals(BaseModel):
    count: int
    total_cents: int


class DayFiguresOut(BaseModel):
    store_number: int
    day: date
    purchases: Totals
    sales: Totals
    returns: Totals = Field(description="Return tickets; their total is negative")
    closing: dict[str, Any] | None = Field(
        description="The daily closing central received (grand total included), if any"
    )
    last_applied_seq: int = Field(description="The figures include the events up to this seq")


class SyncMetrics:
    """Central's sync metrics, on the app's registry (`/metrics`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["store", "type"]
        self.applied = Counter(
            "recommerce_sync_events_applied_total",
            "Upstream events applied to central's event log and read models",
            labels,
            registry=registry,
        )
        self.duplicates = Counter(
            "recommerce_sync_events_duplicate_total",
            "Upstream events received again (at or below the store's cursor) and acknowledged",
            labels,
            registry=registry,
        )
        self.quarantined = Counter(
            "recommerce_sync_events_quarantined_total",
            "Upstream events that failed validation, parked in quarantine and acknowledged",
            labels,
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "recommerce_sync_batch_apply_seconds",
            "Time to apply one upstream batch (one transaction)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=registry,
        )

    def record(self, store_number: int, result: BatchResult, seconds: float) -> None:
        store = f"{store_number:03d}"
        for counter, counts in (
            (self.applied, result.applied_types),
            (self.duplicates, result.duplicate_types),
            (self.quarantined, result.quarantined_types),
        ):
            for kind, count in counts.items():
                counter.labels(store, kind).inc(count)
        self.batch_seconds.observe(seconds)


@router.post(
    "/stores/{store_number}/events",
    response_model=BatchAck,
    summary="Push a batch of the store's outbox; applied exactly once",
    responses={
        409: {"description": "`seq_gap`: resend from `expected_seq`"},
        422: {"description": "`batch_invalid`: damaged (checksum), not contiguous, too big"},
        426: {"description": "`protocol_too_old`: upgrade the store"},
    },
)
def push_events(
    body: EventBatchIn,
    store: StoreDep,
    protocol: ProtocolDep,
    central: CentralDep,
    request: Request,
) -> BatchAck:
    limit = central.settings.max_batch_events
    if len(body.events) > limit:
        raise DomainError(
            f"a batch holds at most {limit} events, not {len(body.events)}",
            code=ErrorCode.BATCH_INVALID,
            field="events",
            max_events=limit,
        )
    refuse_damaged(body.events, body.checksum, protocol=protocol)
    batch = {"first_seq": body.first_seq, "head_seq": body.head_seq, "events": body.events}
    started = perf_counter()
    with central.writing() as conn:
        result = apply_batch(conn, store, batch, now=central.clock.now())
    metrics: SyncMetrics = request.app.state.sync_metrics
    metrics.record(store, result, perf_counter() - started)
    # Committed: the search index follows (pages re-read their hits in the database).
    request.app.state.indexer.touched(result.marketplace_items)
    request.app.state.order_processor.wake()  # a store's answer: capture, void, messages
    return BatchAck(**result.answer())


@router.get(
    "/stores/{store_number}/days/{day}",
    response_model=DayFiguresOut,
    summary="The store's business day as central computed it from the events",
)
def get_day_figures(
    day: date, store: StoreDep, _protocol: ProtocolDep, central: CentralDep
) -> DayFiguresOut:
    with central.reading() as conn:
        figures = day_figures(conn, store, day)
    return DayFiguresOut.model_validate(figures.as_dict())
