"""Prometheus metrics of an app: request counts and latency by route, served at /metrics."""

from __future__ import annotations

from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from recommerce.web.middleware import Metrics


def install_metrics(app: FastAPI) -> CollectorRegistry:
    """Request metrics and the /metrics route; returns the registry, for the app's own metrics."""
    registry = CollectorRegistry()
    requests = Counter(
        "recommerce_http_requests_total",
        "HTTP requests",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "recommerce_http_request_seconds",
        "HTTP request latency",
        ["method", "route"],
        registry=registry,
    )

    app.add_middleware(Metrics, requests=requests, latency=latency)

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return registry
