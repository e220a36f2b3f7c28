"""Payloads of the old uplink schemas (1: summaries as objects, 2: as positional rows, 3: as
records after the header) are converted at ingest's door (`contract.legacy_uplink`): an old
gateway in the field stores exactly what the same items in schema 4 store, and an unknown
schema is refused as malformed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import Alert, LevelPoint, Station, create_engine, prepare_database, writer
from contract.envelope import encode_uplink
from contract.legacy_uplink import to_v4
from contract.uplink_batch import MessageError, decode_batch
from core.config import TepiConfig
from ingest.service import ApplyResult, apply_batch
from ingest.testing import siaga_change, summary
from kinds.awlr.ingest.points import SqlPointSink
from kinds.awlr.items import outbox_body, summary_values
from kinds.awlr.summary_columns import encode_row

T0 = datetime(2025, 1, 20, 0, 0, tzinfo=timezone.utc)
GW = "gw-ciliwung"
TENANT = "dki-jakarta"


def _items() -> list:
    return [
        summary("katulampa", T0, 70.0, first_seq=0),
        summary("katulampa", T0 + timedelta(minutes=10), 86.0, first_seq=10, siaga=3),
        summary("depok", T0, None, first_seq=0),
        siaga_change("katulampa", T0 + timedelta(minutes=15), 3, 86.0, siaga_from=4),
    ]


def _head(v: int, items: list[bytes], rest: str = "") -> bytes:
    return f'{{"tenant":"{TENANT}","gateway":"{GW}","sent_at":"{T0.isoformat()}","items":['.encode() + b",".join(items) + f'],"v":{v}{rest}}}'.encode()


def payloads() -> dict[int, bytes]:
    items = _items()
    summaries = [i for i in items if i.type == "summary"]
    events = [i.model_dump_json().encode() for i in items if i.type != "summary"]
    v4 = encode_uplink(TENANT, GW, [outbox_body(i, GW) for i in items], T0)
    head, _, after = v4.partition(b"\x00")
    (block,) = json.loads(head)["blocks"]
    v3 = _head(3, events, f',"n":{block["n"]},"pairs":{json.dumps(block["pairs"], separators=(",", ":"))}') + b"\x00" + after
    rows = b",".join(encode_row(summary_values(s)) for s in summaries).decode()
    return {
        1: _head(1, [i.model_dump_json().encode() for i in items]),
        2: _head(2, events, f',"summaries":[{rows}]'),
        3: v3,
        4: v4,
    }


def stored(engine: Engine, payload: bytes) -> tuple[ApplyResult, list[tuple], list[tuple], list[tuple]]:
    with Session(writer(engine)) as s, s.begin():
        result = apply_batch(s, decode_batch(payload), SqlPointSink(s))
    with Session(engine) as s:
        points = [tuple(r) for r in s.execute(sa.select(LevelPoint.item_id, LevelPoint.station_id, LevelPoint.window_start, LevelPoint.mean_cm,
                                                         LevelPoint.last_cm, LevelPoint.count, LevelPoint.qc_suspect).order_by(LevelPoint.item_id))]
        stations = [tuple(r) for r in s.execute(sa.select(Station.id, Station.last_seen_at, Station.last_level_cm, Station.last_siaga, Station.first_seen_at).order_by(Station.id))]
        alerts = [tuple(r) for r in s.execute(sa.select(Alert.station_id, Alert.type, Alert.status, Alert.siaga).order_by(Alert.id))]
    return result, points, stations, alerts


@pytest.mark.parametrize("old", [1, 2, 3])
def test_an_old_schema_stores_what_schema_4_stores(tmp_path: Path, default_config: TepiConfig, old: int) -> None:
    outcomes = {}
    for v in (old, 4):  # each into a store of its own
        engine = create_engine(f"sqlite:///{tmp_path / f'v{v}.db'}")
        prepare_database(engine, default_config)
        try:
            result, points, stations, alerts = stored(engine, payloads()[v])
            outcomes[v] = (dict(result.stored_by_type), result.rejected_total, points, stations, alerts)
        finally:
            engine.dispose()
    assert outcomes[old] == outcomes[4]
    by_type, rejected, points, _stations, alerts = outcomes[4]
    assert by_type == {"summary": 3, "siaga_change": 1} and rejected == 0 and len(points) == 3 and len(alerts) == 1


def test_the_converter_gives_items_their_kind_and_keeps_schema_4_as_it_is() -> None:
    header = json.loads(payloads()[2])
    v4, after = to_v4(header, None)
    assert after is None and v4["v"] == 4 and "summaries" not in v4
    assert [(i["kind"], i["type"]) for i in v4["items"]] == [("awlr", "siaga_change"), *[("awlr", "summary")] * 3]
    head, _, rest = payloads()[4].partition(b"\x00")
    assert to_v4(json.loads(head), rest) == (json.loads(head), rest)


@pytest.mark.parametrize("v", [0, 5, "4", None, 3.0])
def test_an_unknown_schema_is_refused(v: object) -> None:
    header = json.loads(payloads()[1])
    header["v"] = v
    with pytest.raises(MessageError, match="schema|invalid"):
        decode_batch(json.dumps(header).encode())
