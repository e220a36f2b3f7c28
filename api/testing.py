"""Helpers for tests, demos and benchmarks of the API: a real server in a thread, an SSE reader.

The alert stream never ends, so it cannot be tested through an in-process client that waits
for the whole response; these run uvicorn on a loopback port and read the stream as a browser's
EventSource would.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI

from core.processes import free_port


@contextmanager
def serve(app: FastAPI, port: int | None = None, timeout_s: float = 15.0) -> Iterator[str]:
    """Run `app` (lifespan included) on 127.0.0.1 in a thread; yields its base URL."""
    port = port or free_port()
    # As `tepi api` runs it: forwarded headers are the app's business (TEPI_TRUSTED_PROXIES), not uvicorn's.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2, proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"API did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout_s)


@dataclass
class SseMessage:
    """One Server-Sent Event as a client sees it."""

    id: str | None = None
    event: str | None = None
    data_lines: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    retry: int | None = None

    @property
    def data(self) -> str:
        return "\n".join(self.data_lines)

    def json(self) -> Any:
        return json.loads(self.data)


def parse_sse(lines: Iterable[str]) -> Iterator[SseMessage]:
    """Messages of an SSE stream, per the HTML spec's parsing rules (comments kept, for heartbeats)."""
    msg = SseMessage()
    for line in lines:
        if line == "":
            if msg.data_lines or msg.comments or msg.id is not None or msg.retry is not None:
                yield msg
            msg = SseMessage()
            continue
        if line.startswith(":"):
            msg.comments.append(line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id":
            msg.id = value
        elif name == "event":
            msg.event = value
        elif name == "data":
            msg.data_lines.append(value)
        elif name == "retry" and value.isdigit():
            msg.retry = int(value)


#: The key-hash pepper of test apps (tests only; never a deployment's).
TEST_PEPPER = "tepi-test-pepper-for-unit-tests-only-0123456789"
#: The public base URL of test apps in production mode (links start with it, whatever the Host).
TEST_PUBLIC_BASE_URL = "https://banjir.example.go.id"


def issue_keys(engine: Any, pepper: str, people: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str], str]:
    """Users and one key each, for tests: `people` are (tenant, role, name); returns {(tenant, name): key}."""
    from sqlalchemy.orm import Session

    from central.accounts import create_key, create_user
    from central.db import writer

    out: dict[tuple[str, str], str] = {}
    with Session(writer(engine)) as session, session.begin():
        for tenant, role, name in people:
            user = create_user(session, tenant, name, role)
            _row, key = create_key(session, pepper.encode(), user.id)
            out[(tenant, name)] = key
    return out


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
