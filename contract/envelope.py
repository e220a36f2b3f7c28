"""The uplink envelope: one MQTT message from a gateway to ingest, around stored outbox bodies.

Uplink schema 4, the one schema a gateway sends: a JSON header
`{"tenant","gateway","msg"?,"sent_at","items":[objects],"v":4}` and, when binary records
travel, `"blocks":[{"kind","type","n","pairs"}]` in the header, then one NUL byte (JSON text
never holds one), then per block in order its `n` pair numbers (uint32, little-endian) and its
`n` fixed-size records. Record types come from the registry kinds fill in (`contract.records`):
this module knows no device kind. Bodies are stored by the gateway as they travel and joined
here without being decoded again (a replay of a day's backlog runs through this function).
Older schemas (1 to 3) are read by ingest only, converted at its door (`contract.legacy_uplink`).
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Sequence
from datetime import datetime

from contract.ids import MAX_MESSAGE_ID
from contract.records import RecordType, record_by_mark

SCHEMA_VERSION = 4

MAX_UPLINK_BYTES = 256 * 1024  # on the wire


MAX_INFLATED_BYTES = 1024 * 1024  # after decompression: a zip bomb stops here


COMPRESS_ABOVE_BYTES = 512

#: The pair numbers before a block's records: uint32, little-endian.
CODE_SIZE = 4

_OBJECT = b"{"


def encode_uplink(tenant: str, gateway: str, bodies: Sequence[bytes], sent_at: datetime, msg: int | None = None) -> bytes:
    """An uplink payload around stored outbox bodies, without decoding them: JSON objects go to
    `items`, records (a registered mark first) to one block per record type, in the order their
    types first appear. `msg` is the message's id, which ingest's `UplinkAck` names once it
    stored the message (None: a sender that waits for no acknowledgement). `ValueError` for a
    body that is neither an object nor a registered record (an outbox not yet upgraded)."""
    if msg is not None and not 0 <= msg <= MAX_MESSAGE_ID:
        raise ValueError(f"uplink message id {msg} is outside 0..{MAX_MESSAGE_ID}")
    objects = [b for b in bodies if b[:1] == _OBJECT]
    msg_field = "" if msg is None else f'"msg":{msg},'
    head = f'{{"tenant":"{tenant}","gateway":"{gateway}",{msg_field}"sent_at":"{sent_at.isoformat()}","items":['.encode()
    if len(objects) == len(bodies):
        return b"".join((head, b",".join(objects), b'],"v":%d}' % SCHEMA_VERSION))
    by_mark: dict[bytes, list[bytes]] = {}
    for b in bodies:
        mark = b[:1]
        if mark != _OBJECT:
            by_mark.setdefault(mark, []).append(b)
    headers: list[bytes] = []
    parts: list[bytes] = []
    for mark, records in by_mark.items():
        record = record_by_mark(mark)
        if record is None:
            raise ValueError(f"an outbox body starts with {mark!r}: neither a JSON object nor a registered record")
        pairs, block = join_records(record, records)
        headers.append(
            b'{"kind":%s,"type":%s,"n":%d,"pairs":[%s]}'
            % (json.dumps(record.kind).encode(), json.dumps(record.type).encode(), len(records), b",".join(pairs))
        )
        parts.append(block)
    return b"".join((
        head, b",".join(objects), b'],"v":%d,"blocks":[' % SCHEMA_VERSION, b",".join(headers), b"]}\x00", *parts,
    ))


def join_records(record: RecordType, bodies: Sequence[bytes]) -> tuple[list[bytes], bytes]:
    """Stored records of one type as an uplink block: the distinct pairs (JSON, in the order of
    their numbers) and the block's bytes (pair numbers, then records)."""
    end = 1 + record.size
    pairs: dict[bytes, int] = {}
    codes = [pairs.setdefault(b[end:], len(pairs)) for b in bodies]
    block = b"".join((struct.pack(f"<{len(codes)}I", *codes), *(b[1:end] for b in bodies)))
    return list(pairs), block


def compress_payload(json_bytes: bytes) -> bytes:
    """zlib for payloads worth it; cellular uplinks are paid by the byte. JSON starts with `{`,
    zlib with 0x78, so the receiver tells them apart without a header."""
    if len(json_bytes) <= COMPRESS_ABOVE_BYTES:
        return json_bytes
    return zlib.compress(json_bytes, 6)
