"""Request bodies hold JSON as RFC 8259 defines it: no `NaN`, no `Infinity`, no number that
overflows a float (`1e999999`), and each object names a field once.

Python's `json.loads`, which FastAPI parses bodies with, accepts all three as floats. A model
field of type `str` then refuses them with a validation error that echoes the value, and the
error response cannot be rendered (JSON has no NaN): the client got a 500 and a reset
connection. A field named twice (`{"lat": 1, "lat": 90}`) is one RFC 8259 leaves to the
parser ("SHOULD be unique"): Python keeps the last silently, a proxy or a log reader may keep the
first, so two readers of one request disagree; the gateway refuses such frames too
(`duplicate_key`). `StrictJsonMiddleware` refuses either body with a 422 before any route parses
it, for every route at once, in the same shape as FastAPI's own validation errors.

Every body of a request that may carry one is checked, whatever its `Content-Type` says. Which
of several `Content-Type` headers counts, and how one is parsed, is the framework's business
(Starlette reads the first, FastAPI parses it with `email.message`); a middleware guessing the
same would fail open wherever it guessed differently. A body that is not JSON costs one failed
parse at its first invalid byte; one that is, at most one parse of what `BodySizeLimitMiddleware`
lets through (64 KiB by default).
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.limits import replay, send_json

NON_FINITE_MESSAGE = "JSON numbers must be finite: NaN, Infinity and numbers beyond a float's range (1e999999) are refused"
DUPLICATE_KEY_MESSAGE = "a JSON object names a field more than once"


class NonFiniteNumber(ValueError):
    """A JSON text holds NaN, Infinity, or a number too large for a float."""


class DuplicateKey(ValueError):
    """A JSON object names the same field twice."""


def _constant(name: str) -> Any:
    raise NonFiniteNumber(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NonFiniteNumber(text[:40])
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise DuplicateKey()
    return out


def body_fault(body: bytes) -> str | None:
    """Why `body`, read as JSON, is refused (a non-finite number, a field named twice), or None;
    None too for anything that is not JSON at all (FastAPI answers that with its own
    `json_invalid` error)."""
    try:
        json.loads(body, parse_constant=_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys)
    except NonFiniteNumber:
        return NON_FINITE_MESSAGE
    except DuplicateKey:
        return DUPLICATE_KEY_MESSAGE
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError; nesting too deep
        return None
    return None


class StrictJsonMiddleware:
    """Pure ASGI: a request body that is JSON with a non-finite number or a field named twice
    is answered 422 (`code: invalid_request`), whatever its `Content-Type`; every other request
    passes unchanged (its body replayed). GET, HEAD and OPTIONS carry no body a route reads.

    Install it inside `BodySizeLimitMiddleware`, so what it buffers is already bounded.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in {"GET", "HEAD", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        chunks: list[bytes] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        fault = body_fault(body) if body else None
        if fault is not None:
            await _refuse(send, fault)
            return
        await self.app(scope, replay(messages, receive), send)


async def _refuse(send: Send, message: str) -> None:
    detail = [{"loc": ["body"], "msg": message, "type": "json_invalid"}]
    await send_json(send, 422, {"detail": detail, "code": "invalid_request"})
