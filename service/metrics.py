"""Prometheus metrics: requests, latencies, errors by status, files scanned, queue depth.

Each app has its own :class:`~prometheus_client.CollectorRegistry` (several apps in one process do not
collide). Requests are labelled by route template (``/v1/jobs/{job_id}``), never by raw path, so a
caller cannot blow up the number of series; paths that match no route count as ``unmatched``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scanner.data import ScanResult

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    """The service's metrics; ``queue_depth`` is read at scrape time from ``depth()``."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, depth: Callable[[], float] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("midian_http_requests", "HTTP requests answered", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("midian_http_request_duration_seconds", "time to answer an HTTP request",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.errors = Counter("midian_http_errors", "HTTP answers with a 4xx or 5xx status", ["status"],
                              registry=self.registry)
        self.files = Counter("midian_files_scanned", "files scanned, by result status and verdict",
                             ["source", "status", "verdict"], registry=self.registry)
        self.scan_seconds = Histogram("midian_file_scan_seconds", "scan time of one file in its worker",
                                      ["source"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.queue = Gauge("midian_queue_depth", "files of batch jobs waiting for a worker", registry=self.registry)
        self.pending = Gauge("midian_sync_scans_in_flight", "synchronous scans submitted and not yet answered",
                             registry=self.registry)
        if depth is not None:
            self.queue.set_function(depth)

    def scanned(self, source: str, result: ScanResult) -> None:
        self.files.labels(source, result.status, result.verdict).inc()
        self.scan_seconds.labels(source).observe(result.elapsed_ms / 1000.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request (pure ASGI: no buffering of bodies)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
            if status >= 400:
                self.metrics.errors.labels(str(status)).inc()
