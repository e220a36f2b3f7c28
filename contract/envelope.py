"""The uplink envelope: one MQTT message from a gateway to ingest, around stored outbox bodies.

It knows no device kind: bodies are stored by the gateway as they will travel.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from datetime import datetime

from contract.ids import MAX_MESSAGE_ID
from kinds.awlr.summary_records import encode_record, is_record, join_records


#: 3: level summaries travel as binary records after the JSON header (`kinds.awlr.summary_records`).
#: Ingest still takes schema 2, positional JSON rows in `summaries` (`kinds.awlr.summary_columns`), and
#: schema 1, summaries as objects among `items`: an older gateway, or an outbox written before.
SCHEMA_VERSION = 3


#: What a payload without summary records declares (events only): plain JSON, as schema 2.
JSON_SCHEMA_VERSION = 2


MAX_UPLINK_BYTES = 256 * 1024  # on the wire


MAX_INFLATED_BYTES = 1024 * 1024  # after decompression: a zip bomb stops here


COMPRESS_ABOVE_BYTES = 512


def encode_uplink(tenant: str, gateway: str, bodies: Sequence[bytes], sent_at: datetime, msg: int | None = None) -> bytes:
    """An uplink payload around stored outbox bodies, without decoding them again: records go
    after the header (schema 3), objects to `items`. Rows stored before the upgrade to schema
    3 are packed as records here; without any summary the payload is plain JSON. `msg` is the
    message's id, which ingest's `UplinkAck` names once it stored the message (None: a sender
    that waits for no acknowledgement, as gateways before it did)."""
    records = [b for b in bodies if is_record(b)]
    objects: list[bytes] = []
    if len(records) != len(bodies):
        if any(b[:1] == b"[" for b in bodies):  # rows stored before schema 3: packed, in their place
            bodies = [encode_record(json.loads(b)) if b[:1] == b"[" else b for b in bodies]
            records = [b for b in bodies if is_record(b)]
        objects = [b for b in bodies if not is_record(b)]
    if msg is not None and not 0 <= msg <= MAX_MESSAGE_ID:
        raise ValueError(f"uplink message id {msg} is outside 0..{MAX_MESSAGE_ID}")
    msg_field = "" if msg is None else f'"msg":{msg},'
    head = f'{{"tenant":"{tenant}","gateway":"{gateway}",{msg_field}"sent_at":"{sent_at.isoformat()}","items":['.encode()
    if not records:
        return b"".join((head, b",".join(objects), b'],"v":%d}' % JSON_SCHEMA_VERSION))
    pairs, block = join_records(records)
    return b"".join((
        head, b",".join(objects), b'],"v":%d,"n":%d,"pairs":[' % (SCHEMA_VERSION, len(records)),
        b",".join(pairs), b"]}\x00", block,
    ))


def compress_payload(json_bytes: bytes) -> bytes:
    """zlib for payloads worth it; cellular uplinks are paid by the byte. JSON starts with `{`,
    zlib with 0x78, so the receiver tells them apart without a header."""
    if len(json_bytes) <= COMPRESS_ABOVE_BYTES:
        return json_bytes
    return zlib.compress(json_bytes, 6)
