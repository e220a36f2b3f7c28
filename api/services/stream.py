"""The live alert stream: Server-Sent Events fed from the `alert_events` table.

Ingest and the API are separate processes that share only the database, so the API polls the
event log: one poller per API process (not one per client), a cheap indexed query on `seq`
every `poll_s` (50 ms by default: the device-to-screen budget is 250 ms at p99, and ingest plus
the poll took a median 52 ms at 100 ms, 20 ms at 50 ms on the 2-core test machine), fanned out
to every connected client through a bounded queue. The poller runs from the first subscriber on.

Resuming: the SSE `id` is the event's `seq`. A client that reconnects with `Last-Event-ID`
(browsers do so by themselves) first gets everything after that id from the table, then the
live events, without a gap or a duplicate: it joins the fan-out *before* reading the backlog, up
to the position the poller had reached when it joined. A client too slow to keep up is ended
rather than buffered without bound; it resumes from its last id like any reconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.models import AlertEventPublic
from api.services.alerts import event_public, event_without_actors
from central.models import AlertEvent
from core.logs import RateLimitedLog

log = logging.getLogger(__name__)
_errors = RateLimitedLog(log, interval_s=30.0)

#: Events read per query, for the poller and for a resuming client's backlog.
READ_BATCH = 500


def read_after(
    sessions: Callable[[], Session], after: int, limit: int, until: int | None = None
) -> list[AlertEventPublic]:
    """Events with `after < seq (<= until)`, oldest first."""
    stmt = sa.select(AlertEvent).where(AlertEvent.seq > after).order_by(AlertEvent.seq).limit(limit)
    if until is not None:
        stmt = stmt.where(AlertEvent.seq <= until)
    with sessions() as session:
        return [event_public(e) for e in session.scalars(stmt)]


def latest_seq(sessions: Callable[[], Session]) -> int:
    with sessions() as session:
        return int(session.scalar(sa.select(sa.func.max(AlertEvent.seq))) or 0)


@dataclass(frozen=True, slots=True)
class StreamFilter:
    """Which events a client wants; empty fields match everything."""

    station: str | None = None
    alert_type: str | None = None
    tenant: str | None = None

    def matches(self, event: AlertEventPublic) -> bool:
        a = event.alert
        return (
            (self.station is None or a.station == self.station)
            and (self.alert_type is None or a.type == self.alert_type)
            and (self.tenant is None or a.tenant == self.tenant)
        )


@dataclass(eq=False)
class Subscription:
    """One client's place in the fan-out: `joined_at` is the last seq the poller had handed out."""

    joined_at: int
    queue: asyncio.Queue[AlertEventPublic]
    overflowed: bool = field(default=False)


class EventHub:
    """Polls the event log while the app runs and hands new events to every subscription."""

    def __init__(self, sessions: Callable[[], Session], poll_s: float = 0.05, queue_max: int = 10_000) -> None:
        self._sessions = sessions
        self._poll_s = poll_s
        self._queue_max = queue_max
        self._subs: set[Subscription] = set()
        self._cursor = 0
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def subscription(self) -> AsyncIterator[Subscription]:
        async with self._lock:
            if self._task is None or self._task.done():
                self._cursor = await anyio.to_thread.run_sync(latest_seq, self._sessions)
                self._task = asyncio.create_task(self._poll(), name="alert-event-poller")
            # No await between reading the cursor and joining: the poller cannot hand out
            # anything in between, so what follows `joined_at` reaches this queue.
            sub = Subscription(self._cursor, asyncio.Queue(self._queue_max))
            self._subs.add(sub)
        try:
            yield sub
        finally:
            self._subs.discard(sub)

    async def backlog(self, after: int, until: int) -> list[AlertEventPublic]:
        return await anyio.to_thread.run_sync(read_after, self._sessions, after, READ_BATCH, until)

    async def _poll(self) -> None:
        while True:
            try:
                events = await anyio.to_thread.run_sync(read_after, self._sessions, self._cursor, READ_BATCH)
            except Exception as exc:  # noqa: BLE001 - the database may be down for a while
                _errors.warning("poll", "cannot read alert events; retrying", error=type(exc).__name__)
                await asyncio.sleep(max(self._poll_s, 1.0))
                continue
            for event in events:
                for sub in list(self._subs):
                    try:
                        sub.queue.put_nowait(event)
                    except asyncio.QueueFull:
                        sub.overflowed = True
                        self._subs.discard(sub)
            if events:
                self._cursor = events[-1].seq
            if len(events) < READ_BATCH:
                await asyncio.sleep(self._poll_s)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


def sse_message(event: AlertEventPublic) -> str:
    """One SSE message: `id` for resuming, `data` the event as JSON (one line)."""
    return f"id: {event.seq}\ndata: {event.model_dump_json()}\n\n"


async def sse_stream(
    hub: EventHub,
    after: int | None,
    wanted: StreamFilter,
    heartbeat_s: float,
    max_s: float | None = None,
    retry_ms: int = 1000,
    show_actors: bool = True,
) -> AsyncIterator[str]:
    """The text of one client's stream: backlog after `after` (if given), then live events.

    Heartbeats are SSE comments, so proxies keep the connection and clients notice a dead one.
    `max_s` ends the stream after a while (the client resumes): an open stream would otherwise
    hold up a graceful server shutdown indefinitely. Without `show_actors`, people's names and
    notes are left out (viewers).
    """

    def message(event: AlertEventPublic) -> str:
        return sse_message(event if show_actors else event_without_actors(event))

    loop = asyncio.get_running_loop()
    deadline = None if not max_s else loop.time() + max_s
    async with hub.subscription() as sub:
        # Sent once subscribed: a client that has read this line misses nothing after it.
        yield f"retry: {retry_ms}\n\n"
        # A client ahead of the log (the database was replaced) starts from the present.
        last = sub.joined_at if after is None or after > sub.joined_at else after
        while last < sub.joined_at:
            chunk = await hub.backlog(last, sub.joined_at)
            if not chunk:
                break
            for event in chunk:
                if wanted.matches(event):
                    yield message(event)
            last = chunk[-1].seq
        while deadline is None or loop.time() < deadline:
            if sub.overflowed and sub.queue.empty():
                return
            wait = heartbeat_s if deadline is None else min(heartbeat_s, max(deadline - loop.time(), 0.0))
            try:
                event = await asyncio.wait_for(sub.queue.get(), wait)
            except asyncio.TimeoutError:
                yield ": keepalive\n\n"
                continue
            if event.seq <= last:
                continue
            last = event.seq
            if wanted.matches(event):
                yield message(event)
