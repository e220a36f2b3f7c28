"""Structured logging: one JSON object per line (or key=value for people), and a rate limiter.

Never log secrets, and never personal data (positions, names, attendance) at INFO or above.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

# uvicorn adds `color_message`, the message with terminal colour codes: never for a log file.
_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in record.__dict__.items():
            if k not in _RESERVED and not k.startswith("_"):
                out[k if k not in out else f"x_{k}"] = v  # never let a field hide the record's own
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{k}={v}" for k, v in record.__dict__.items() if k not in _RESERVED and not k.startswith("_")
        )
        ts = datetime.fromtimestamp(record.created, timezone.utc).strftime("%H:%M:%S")
        line = f"{ts} {record.levelname:<7} {record.name}: {record.getMessage()}"
        return f"{line} {extras}" if extras else line


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("amqtt", "transitions", "urllib3", "influxdb_client", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class RateLimitedLog:
    """Logs at most one line per `key` every `interval_s`, and says how many were suppressed.

    A device spewing garbage must not fill the disk of a gateway with log lines; the exact
    counts live in metrics, the log only says that it happens. It remembers every key it was
    given, so keys must come from a bounded set (reasons, configured names), never from input.
    """

    def __init__(self, logger: logging.Logger, interval_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._logger = logger
        self._interval = interval_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many keys it remembers."""
        return len(self._last)

    def warning(self, key: str, msg: str, **fields: Any) -> None:
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return
            self._last[key] = now
            suppressed = self._suppressed.pop(key, 0)
        self._logger.warning(msg, extra={**fields, "suppressed": suppressed})
