"""Waiting for real processes in tests and tools: poll a condition with a deadline and say
what did not happen, instead of sleeping a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(cond: Callable[[], bool], timeout: float = 15.0, what: str = "condition", every_s: float = 0.05) -> None:
    """Return as soon as `cond()` is true; `AssertionError` naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
