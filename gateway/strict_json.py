"""JSON from devices, parsed strictly: a field named twice, or NaN / Infinity, is a counted
rejection (`duplicate_key`, `out_of_range`), never the last value silently kept (the standard
library's and pydantic-core's behaviour) nor a non-finite number stored as valid. Shared by the
kinds whose wire formats are JSON."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from gateway.errors import FrameRejected


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise FrameRejected("duplicate_key", f"field {key[:40]!r} appears more than once")
            seen.add(key)
    return obj


def _non_finite(name: str) -> NoReturn:
    raise FrameRejected("out_of_range", f"{name} is not a finite number")


def strict_json(payload: bytes) -> Any:
    """`payload` parsed; `FrameRejected` (`not_json`, `duplicate_key`, `out_of_range`) otherwise."""
    try:
        return json.loads(payload, object_pairs_hook=_unique_keys, parse_constant=_non_finite)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise FrameRejected("not_json", str(exc)[:200]) from exc
