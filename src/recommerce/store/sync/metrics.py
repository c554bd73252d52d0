"""The store's sync metrics: the queue and lag read from the database at each scrape (so a
worker in another process is seen too), and the push errors of this process's worker."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from recommerce.store.bootstrap import StoreNode
from recommerce.store.sync.status import sync_status

log = logging.getLogger("recommerce.sync")


class SyncCollector(Collector):
    def __init__(self, node: StoreNode) -> None:
        self._node = node

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            status = sync_status(self._node)
        except Exception:  # a scrape never fails on the database: the figures are left out
            log.exception("sync metrics cannot be read")
            return
        yield GaugeMetricFamily(
            "recommerce_sync_queue_events",
            "Outbox events central has not acknowledged yet",
            value=status.queue_events,
        )
        yield GaugeMetricFamily(
            "recommerce_sync_lag_seconds",
            "Age of the oldest outbox event central has not acknowledged (0 when none)",
            value=status.lag_seconds,
        )
        yield GaugeMetricFamily(
            "recommerce_sync_last_ack_timestamp_seconds",
            "When central last acknowledged a batch (Unix time; 0 never)",
            value=status.last_ack_at.timestamp() if status.last_ack_at else 0.0,
        )


def install_sync_metrics(registry: CollectorRegistry, node: StoreNode) -> Counter:
    """Register the sync gauges; returns the push errors counter the worker increments."""
    registry.register(SyncCollector(node))
    return Counter(
        "recommerce_sync_push_errors",
        "Upstream pushes that were not acknowledged, by outcome",
        ["outcome"],
        registry=registry,
    )
