"""Binary record types of the uplink, registered by the kinds that own them.

Why a registry: the envelope (`contract.envelope`) joins stored records into uplink blocks and
ingest splits a payload back into blocks, and both need a record's kind, type and size, but
contract never imports a kind. A kind registers its record types when its record module is
imported (awlr: `kinds.awlr.summary_records`, mark b"\\x03"); a mark byte names the type of a
stored outbox body (JSON objects start with `{`, so a mark is never `{`, `[` or whitespace).

A stored record body is the mark, `size` bytes of record, then its pair as JSON (the series it
belongs to, for awlr `["station","device"]`): the envelope joins bodies without decoding them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RecordType:
    mark: bytes
    kind: str
    type: str
    size: int


_BY_MARK: dict[bytes, RecordType] = {}
_BY_NAME: dict[tuple[str, str], RecordType] = {}

#: Bytes a JSON text may start with: never a mark.
_JSON_STARTS = frozenset(b'{["tfn-0123456789 \t\r\n')


def register_record(mark: bytes, kind: str, type: str, size: int) -> RecordType:
    """Declare a record type; registering the same declaration again (a module reloaded) is a
    no-op, a conflicting one a `ValueError`."""
    if len(mark) != 1 or mark[0] in _JSON_STARTS or mark == b"\x00":
        raise ValueError(f"a record mark is one byte that starts no JSON text and is not NUL, not {mark!r}")
    if size <= 0:
        raise ValueError(f"a record has a positive size, not {size}")
    record = RecordType(mark, kind, type, size)
    known = _BY_MARK.get(mark) or _BY_NAME.get((kind, type))
    if known is not None and known != record:
        raise ValueError(f"record type {record} conflicts with {known}")
    _BY_MARK[mark] = _BY_NAME[(kind, type)] = record
    return record


def record_by_mark(mark: bytes) -> RecordType | None:
    """The record type a stored body's first byte names, if any."""
    return _BY_MARK.get(mark)


def record_type(kind: str, type: str) -> RecordType | None:
    """The record type of (kind, type), if a kind registered one."""
    return _BY_NAME.get((kind, type))


def is_record(body: bytes) -> bool:
    return body[:1] in _BY_MARK
