"""One object for each repeated part of a loaded configuration.

A 500-station file states the same QC settings, alerting policy, sensor span and strings
(tenant, river, kind, transport) once per station, and YAML parsing plus validation give each
occurrence an object of its own: ~1.6 KB a station that a long-lived process (the gateway)
keeps for good. Validated models are frozen, so equal parts can be one object; pickling then
keeps them shared (its memo goes by identity), which is how `load_config_compact` hands the
configuration from the parsing child to the gateway.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel


def share_equal_parts(model: BaseModel) -> BaseModel:
    """`model`, with equal frozen sub-models, hashable tuples and strings replaced in place by
    one shared instance each. Only models that pydantic makes immutable (frozen) are shared,
    and only with one equal in value and in which fields were set explicitly, so nothing a
    caller can observe changes, except that there are fewer objects."""
    _share_fields(model, {})
    return model


def _share_fields(model: BaseModel, seen: dict[Any, Any]) -> None:
    fields = model.__dict__
    for name, value in fields.items():
        shared = _shared(value, seen)
        if shared is not value:
            fields[name] = shared  # an equal value: the model stays as validated


def _shared(value: Any, seen: dict[Any, Any]) -> Any:
    """The canonical instance equal to `value` (recursing into models and lists first)."""
    if isinstance(value, str):
        return sys.intern(value) if type(value) is str else value
    if isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = _shared(item, seen)
        return value
    if isinstance(value, tuple):
        return _canonical(value, tuple(_shared(v, seen) for v in value), seen)
    if isinstance(value, BaseModel):
        _share_fields(value, seen)
        if not value.model_config.get("frozen"):
            return value
        return _canonical(value, value, seen, frozenset(value.__pydantic_fields_set__))
    return value


def _canonical(original: Any, value: Any, seen: dict[Any, Any], extra: object = None) -> Any:
    """The first value seen equal to `value` (same type, same `extra`, same repr: equality
    alone would merge 0.0 with -0.0 and 1 with 1.0), else `value` itself; the original where
    `value` cannot be hashed (a part holds a list)."""
    try:
        return seen.setdefault((type(value), value, extra, repr(value)), value)
    except TypeError:
        return original
