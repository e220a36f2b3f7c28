"""Transports that only move bytes: each yields `RawFrame`s to a callback.

Lifecycle of a source: construct, `start(on_frame)` (returns at once; work happens on the
source's own thread), `stop()` (idempotent, joins the thread). A source never parses.

A `LoopSource` has no thread: the gateway loop waits on its `fileno()` and calls `service()`,
so its frames and their acknowledgements never cross threads (`mqtt_devices`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from gateway.model import RawFrame

FrameSink = Callable[[RawFrame], None]


class Source(Protocol):
    name: str

    def start(self, on_frame: FrameSink) -> None: ...

    def stop(self) -> None: ...


class LoopSource(Source, Protocol):
    def fileno(self) -> int | None:
        """The socket to wait on, None while disconnected."""
        ...

    def has_buffered(self) -> bool: ...

    def wants_write(self) -> bool: ...

    def service(self, readable: bool, room: int) -> int:
        """Do the pending network work, deliver at most `room` frames; returns how many."""
        ...
