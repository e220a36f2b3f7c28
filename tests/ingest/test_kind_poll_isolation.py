"""Kinds' periodic polls are apart (`IngestWorker.poll_kinds`), on SQLite and PostgreSQL: a
marine check failing on the database never takes the boats' SOS answers with it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.alerts import acknowledge
from central.db import writer
from central.models import Alert
from contract.envelope import encode_uplink
from contract.uplink_batch import decode_batch
from core.config import TepiConfig
from core.config_model import IngestConfig
from ingest.consumer import IngestWorker
from ingest.service import apply_batch
from kinds.fishfinder.items import DistressCall, distress_id
from kinds.fishfinder.state import SosCall, register_vessel
from kinds.wavebuoy.marine_alerts import MarineWatch

NOW = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
TENANT, GW = "kab-badung", "gw-km-segara"
#: BMKG's Badung Strait area, stormy (a forecast the marine check reads before it fails).
STRAIT = [[115.28, -8.78], [115.45, -8.62], [115.55, -8.66], [115.42, -8.82], [115.28, -8.78]]


class _NoPoints:
    def write(self, points: object) -> None:
        pass


def _forecast(path: Path) -> Path:
    hours = [{"time": (NOW + timedelta(hours=k)).isoformat(), "wave_m": 3.0, "wind_kn": 25.0} for k in range(6)]
    path.write_text(json.dumps({
        "type": "FeatureCollection", "issued": NOW.isoformat(), "valid_from": NOW.isoformat(),
        "valid_until": (NOW + timedelta(hours=6)).isoformat(), "source": "BMKG Maritim (test)",
        "features": [{"type": "Feature", "id": "selat-badung", "geometry": {"type": "Polygon", "coordinates": [STRAIT]},
                      "properties": {"name": "Selat Badung", "hours": hours}}],
    }))
    return path


def _buoys_on_a_broken_table(session: Session, *_: object) -> list[object]:
    session.execute(sa.text("SELECT hs_m FROM wave_buoys_gone"))  # a real database error, mid-check
    return []


def test_a_failing_marine_check_never_loses_the_sos_answer_of_the_same_turn(
    engine: Engine, default_config: TepiConfig, database_url: str, tmp_path: Path
) -> None:
    with Session(writer(engine)) as s, s.begin():
        register_vessel(s, vessel_id="km-segara", tenant=TENANT, name="KM Segara", home_port="Benoa", gateway_id=GW, now=NOW)
    pressed = NOW + timedelta(minutes=1)
    call = DistressCall(id=distress_id(GW, "km-segara", 1, pressed, 0), vessel="km-segara", device="ff1", ts=pressed, press=1,
                        pressed_at=pressed, repeat=0, active=True, lat=-8.75, lon=115.35, nature="sinking")
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, decode_batch(encode_uplink(TENANT, GW, [call.model_dump_json().encode()], pressed, msg=1)), _NoPoints(), now=pressed)
    with Session(writer(engine)) as s, s.begin():
        acknowledge(s, s.scalars(sa.select(Alert.id)).one(), "Petugas Basarnas", NOW + timedelta(minutes=2))

    registry = CollectorRegistry()
    worker = IngestWorker(
        IngestConfig(database_url=database_url), default_config, registry=registry, engine=engine, prepare_schema=False,
        clock=lambda: NOW + timedelta(minutes=3),
    )
    sea = next(t.sea for t in default_config.tenants if t.id == TENANT)
    assert sea is not None
    worker.runtimes["wavebuoy"] = MarineWatch(
        {TENANT: sea.model_copy(update={"forecast_file": _forecast(tmp_path / "forecast.geojson")})}, buoys=_buoys_on_a_broken_table,
    )

    sent = worker.poll_kinds()

    assert [(d.tenant, d.gateway, json.loads(d.payload)["status"]) for d in sent] == [(TENANT, GW, "acknowledged")]
    with Session(engine) as s:
        assert s.scalars(sa.select(SosCall.status_sent)).one() == "acknowledged"  # told, and remembered so
        assert s.scalars(sa.select(Alert.type)).all() == ["sos"]  # the marine check wrote nothing
    assert registry.get_sample_value("tepi_ingest_store_errors_total") == 1.0
