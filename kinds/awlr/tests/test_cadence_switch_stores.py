"""Readings counted end to end across repeated Siaga III <-> IV switches and a gateway restart:
device (MQTT) -> Mosquitto -> gateway -> outbox -> Mosquitto -> ingest -> every store, nothing
mocked. Each reading is counted once in VictoriaMetrics (as the API reads it), in the embedded
store, and in InfluxDB, whose keeping of one point per series and time is emulated here over
the line protocol ingest writes (only VictoriaMetrics runs in the tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session
from test_cadence_windows import crossing_readings

from kinds.awlr.api.levels import BucketPlan, PromLevelStore, SqlLevelStore
from kinds.awlr import wire
from gateway.runtime import EdgeGateway
from ingest.consumer import IngestWorker
from central.db import LevelPoint, create_engine
from kinds.awlr.ingest.points import InfluxPointSink, SqlPointSink, summary_bodies
from kinds.awlr.ingest.summaries import SummaryPoints
from core.config import TepiConfig, TsdbConfig, with_local_services
from contract.topics import device_topic
from core.processes import Mosquitto, VictoriaMetrics
from core.testing import wait_until

pytestmark = pytest.mark.integration
STATION, DEVICE = "depok", "awlr-depok"


class EveryStore:
    """The point sink of one ingest transaction, writing each batch to every store: the embedded
    one (in the transaction), VictoriaMetrics, and the line protocol an InfluxDB would be sent."""

    def __init__(self, session: Session, vm: InfluxPointSink, influx_lines: list[str]) -> None:
        self._sql = SqlPointSink(session)
        self._vm = vm
        self._influx_lines = influx_lines

    def write(self, points: Sequence[SummaryPoints]) -> None:
        self._sql.write(points)
        self._vm.write(points)
        self._influx_lines.extend(line for body, _n in summary_bodies(points) for line in body.decode().splitlines())


def as_influxdb_keeps_them(lines: list[str]) -> dict[tuple[str, int], dict[str, str]]:
    """Points as InfluxDB stores line protocol: a point is its measurement, tag set and time; a
    point written again at the same ones merges its fields into the stored one, the new values
    winning ("Handle duplicate data points", docs.influxdata.com/influxdb/v2/write-data/best-practices/duplicate-points/)."""
    stored: dict[tuple[str, int], dict[str, str]] = {}
    for line in lines:
        head, ts = line.rsplit(" ", 1)
        series, fields = head.split(" ", 1)  # no escaped spaces in these names
        stored.setdefault((series, int(ts)), {}).update(f.split("=", 1) for f in fields.split(","))  # type: ignore[misc]
    return stored


def readings_in(point: dict[str, str]) -> int:
    return sum(int(point.get(f, "0i").rstrip("i")) for f in ("count", "qc_suspect", "qc_fail"))


@pytest.fixture
def vm(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    """Its own: the API's query sums a station's series of every gateway."""
    v = VictoriaMetrics(workdir=tmp_path / "vm").start()
    yield v
    v.close()


def test_readings_across_siaga_3_4_switches_and_a_restart_are_counted_once_in_every_store(
    default_config: TepiConfig, mosquitto: Mosquitto, vm: VictoriaMetrics, database_url: str, tmp_path: Path
) -> None:
    cfg = with_local_services(default_config, mosquitto.port, tmp_path, database_url=database_url, device_rate_per_s=1e6)
    station = cfg.station(STATION)
    start = (datetime.now(timezone.utc) - timedelta(hours=15)).replace(minute=0, second=0, microsecond=0)
    readings = crossing_readings(station, start, 1500, 30, 23, device=DEVICE)  # 12.5 hours
    closing = readings[-1].ts + timedelta(hours=1)  # a reading after them closes their last window

    engine = create_engine(database_url)
    vm_sink = InfluxPointSink(TsdbConfig(url=vm.url))
    influx_lines: list[str] = []
    sinks: Callable[[Session], EveryStore] = lambda session: EveryStore(session, vm_sink, influx_lines)  # noqa: E731
    ingest_cfg = cfg.ingest.model_copy(update={"batch_wait_ms": 5})
    ingest = IngestWorker(ingest_cfg, cfg, registry=CollectorRegistry(), engine=engine, point_sinks=sinks)
    ingest.start()
    assert ingest.wait_subscribed(10)
    device = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=DEVICE, clean_session=False)
    device.connect("127.0.0.1", mosquitto.port)
    device.loop_start()

    def publish(part: Sequence[tuple[int, datetime, float]]) -> None:
        for seq, ts, level in part:
            frame = wire.AwlrFrame(STATION, seq, ts, level, 12.4)
            device.publish(device_topic(cfg.gateway.tenant, DEVICE), wire.encode_json(frame), qos=1).wait_for_publish(5)

    def sql_readings() -> int:
        with engine.connect() as c:
            return int(c.execute(sa.text(
                "SELECT coalesce(sum(count + qc_suspect + qc_fail), 0) FROM level_points WHERE station_id = :s"
            ), {"s": STATION}).scalar_one())

    gateways: list[EdgeGateway] = []
    try:
        first = EdgeGateway(cfg)
        gateways.append(first)
        first.start()
        assert first.wait_ready()
        rows = [(r.seq, r.ts, r.level_cm) for r in readings]
        publish(rows[:700])
        first.stop()  # open windows stay open: the journal has them
        publish(rows[700:850])  # queued by the broker for the gateway's session
        second = EdgeGateway(cfg)
        gateways.append(second)
        second.start()
        assert second.wait_ready()
        publish(rows[850:])
        publish([(rows[-1][0] + 1, closing, rows[-1][2])])
        wait_until(lambda: sql_readings() >= len(readings), timeout=60, what="every reading in the embedded store")
        vm.flush()

        accepted = sum(g.registry.get_sample_value("tepi_gateway_readings_total", {"platform": STATION}) or 0 for g in gateways)
        assert accepted == len(readings) + 1, "every reading accepted once (the closing one included)"
        replayed = [g.registry.get_sample_value("tepi_gateway_recovered_readings_total") for g in gateways]
        assert replayed[0] == 0 and (replayed[1] or 0) > 0, "the restart replayed the journal"

        with engine.connect() as c:
            p = LevelPoint
            windows = c.execute(sa.select(p.window_start, p.window_end).where(p.station_id == STATION).order_by(p.window_start)).all()
        lengths = [(end - begin).total_seconds() for begin, end in windows]
        slowed_down = sum(1 for a, b in zip(lengths, lengths[1:]) if a == 60 and b > 60)
        assert slowed_down >= 10, "reporting went from one-minute windows back to longer ones, again and again"

        plan = BucketPlan(start=start, every=timedelta(hours=1), n=16)
        sql_store = SqlLevelStore(lambda: Session(engine))
        prom_store = PromLevelStore(vm.url)
        try:
            counted = {
                name: sum(b.count + b.qc_suspect + b.qc_fail for b in store.levels(cfg.gateway.tenant, STATION, plan))
                for name, store in (("embedded", sql_store), ("victoriametrics", prom_store))
            }
        finally:
            prom_store.close()
        influxdb = as_influxdb_keeps_them(influx_lines)
        counted["influxdb"] = sum(readings_in(p) for (series, _ts), p in influxdb.items() if f"station={STATION}" in series)
        overlapping = ingest.registry.get_sample_value("tepi_ingest_overlapping_summaries_total", {"gateway": cfg.gateway.id})
        shared_starts = len(windows) - len({w[0] for w in windows})
        print(f"readings sent {len(readings)} (+1 closing), windows {len(windows)}, sharing a start {shared_starts}, "
              f"counted {counted}, overlaps seen by ingest {overlapping}")
        assert counted == {"embedded": len(readings), "victoriametrics": len(readings), "influxdb": len(readings)}
        assert shared_starts == 0 and overlapping is None
    finally:
        for g in gateways:
            if g.outbox_depth_at_stop is None:
                g.stop()
        device.loop_stop()
        device.disconnect()
        ingest.stop()
        vm_sink.close()
        engine.dispose()
