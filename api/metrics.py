"""Request metrics of the API, labelled by endpoint name (never by raw path: ids are unbounded).

The endpoint name (`read_levels`) is used rather than the route template because FastAPI
versions differ in whether the matched route knows the prefixes of the routers it is in.
"""

from __future__ import annotations

import threading
import time
import weakref

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, ApiMetrics] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class ApiMetrics:
    """The API's collectors in one registry; use `for_registry`, since a name registers once."""

    @classmethod
    def for_registry(cls, registry: CollectorRegistry) -> ApiMetrics:
        """The collectors already registered in `registry`, or new ones: apps built twice in one
        process (tests, a reloading server) share the default registry without a clash."""
        with _lock:
            metrics = _by_registry.get(registry)
            if metrics is None:
                metrics = _by_registry[registry] = cls(registry)
            return metrics

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "tepi_api_requests", "HTTP requests answered.", ["method", "endpoint", "status"], registry=registry
        )
        self.seconds = Histogram(
            "tepi_api_request_seconds",
            "Time to answer an HTTP request.",
            ["endpoint"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=registry,
        )


class RequestMetricsMiddleware:
    """Pure ASGI middleware: counts every HTTP response by method, endpoint and status."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            endpoint = getattr(scope.get("route"), "name", None) or "unmatched"
            self.metrics.requests.labels(method=scope["method"], endpoint=endpoint, status=str(status)).inc()
            self.metrics.seconds.labels(endpoint=endpoint).observe(time.perf_counter() - started)
