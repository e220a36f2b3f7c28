"""Limits that keep one client from hurting the others: body size, public rate, cached answers.

* `BodySizeLimitMiddleware`: a request body over the limit is answered 413 before any route
  reads it (by its Content-Length, or while buffering a chunked one up to the limit).
* `RateLimiter`: a token bucket per client IP for the public endpoints, in process (each API
  process limits on its own). Memory is bounded: the least recently seen clients are forgotten.
* `client_address`: who a request counts against. X-Forwarded-For is honoured only from the
  configured trusted proxies (none by default), here in the app rather than by the server
  (whose own proxy-header handling `tepi api` turns off: uvicorn trusts 127.0.0.1 by default).
* `TtlCache`: a computed public answer is reused for a few seconds, so a crowd refreshing a
  flood page costs one computation, not thousands.
* `etag` / `if_none_match`: strong validators for cacheable public answers (304).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

T = TypeVar("T")


class BodySizeLimitMiddleware:
    """Pure ASGI: 413 for bodies larger than `max_bytes` (JSON `{detail, code}` like every error)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_large = int(length) > self.max_bytes
            except ValueError:
                await _error(send, 400, "bad_request", "invalid Content-Length")
                return
            if too_large:
                await _error(send, 413, "body_too_large", f"request body larger than {self.max_bytes} bytes")
                return
            await self.app(scope, receive, send)
            return
        if b"chunked" not in headers.get(b"transfer-encoding", b"").lower():
            await self.app(scope, receive, send)
            return
        # A chunked body has no declared size: read it here, up to the limit, then replay it.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, replay([message], receive), send)
                return
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await _error(send, 413, "body_too_large", f"request body larger than {self.max_bytes} bytes")
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, replay([body], receive), send)


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that hands out `messages` (already read by a middleware) first, then reads on."""
    pending = list(messages)

    async def receive_again() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return receive_again


async def _error(send: Send, status: int, code: str, detail: str) -> None:
    await send_json(send, status, {"detail": detail, "code": code})


async def send_json(send: Send, status: int, content: object) -> None:
    """Answer from a pure ASGI middleware with a JSON body (the app's handlers never run)."""
    body = json.dumps(content).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted_proxies: Sequence[Network]) -> str:
    """The client a request counts against: the connecting address, or, when that is a trusted
    proxy, the right-most X-Forwarded-For address that is not a trusted proxy.

    Right-most, because each proxy appends the address it saw: everything left of the last
    untrusted hop was written by the client itself and may be anything.
    """
    if peer is None:
        return "unknown"
    if not _is_trusted(peer, trusted_proxies):
        return peer
    client = peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        client = hop[:64]  # a proxy may write an obfuscated identifier (RFC 7239): kept, but bounded
        if not _is_trusted(hop, trusted_proxies):
            break
    return client


def _is_trusted(address: str, trusted_proxies: Sequence[Network]) -> bool:
    if not trusted_proxies:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in trusted_proxies)


class RateLimiter:
    """Token buckets by key: `rate_per_s` refill, `burst` capacity. Thread-safe."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Seconds until `key` has a token, spending none: 0.0 when one is there now (the sign-in
        looks at several buckets before it spends from any)."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def take(self, key: str) -> float:
        """Spend a token of `key`: 0.0 if allowed, else the seconds until one is available."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)  # least recently seen
            return wait

    def refund(self, key: str) -> None:
        """Give back a token `take` spent (a sign-in that turned out right), up to `burst`."""
        now = self._clock()
        with self._lock:
            held = self._buckets.get(key)
            if held is None:
                return  # forgotten meanwhile: it is full again anyway
            tokens, at = held
            self._buckets[key] = (min(self.burst, tokens + (now - at) * self.rate + 1.0), now)


class TtlCache(Generic[T]):
    """Values by key for `ttl_s` seconds (0: no caching); at most `max_keys` keys."""

    def __init__(self, ttl_s: float, max_keys: int = 256, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self._clock = clock
        self._values: dict[object, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key: object, compute: Callable[[], T]) -> T:
        if self.ttl_s <= 0:
            return compute()
        now = self._clock()
        with self._lock:
            hit = self._values.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        value = compute()
        with self._lock:
            if len(self._values) >= self.max_keys:
                self._values.clear()
            self._values[key] = (now + self.ttl_s, value)
        return value


def etag(body: bytes) -> str:
    """A strong validator of a representation."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def if_none_match(header: str | None, tag: str) -> bool:
    """Whether an `If-None-Match` header matches `tag` (weak comparison, as RFC 9110 says for it)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = tag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == bare for t in header.split(","))


def retry_after(wait_s: float) -> int:
    return max(1, math.ceil(wait_s))
