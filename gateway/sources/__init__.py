"""Transports that only move bytes: each yields `RawFrame`s to a callback.

Lifecycle of a source: construct, `start(on_frame)` (returns at once; work happens on the
source's own thread), `stop()` (idempotent, joins the thread). A source never parses.
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
