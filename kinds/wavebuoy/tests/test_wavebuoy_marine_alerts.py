"""Marine alerts on the state store (SQLite and PostgreSQL): a forecast file replaced with a storm
opens an alert at the next check, a worse one escalates it, calm clears it (with a margin), a
stale forecast changes nothing, a buoy inside an alert area raises one too, and two workers
checking together make one alert."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from wavebuoy_marine_seas import INSIDE, forecast_doc, write_forecast

from central.alerts import acknowledge
from central.db import prepare_database, writer
from central.models import Alert, AlertEvent
from core.config import TepiConfig
from kinds.wavebuoy.marine import BuoyReading
from kinds.wavebuoy.marine_alerts import MarineWatch

NOW = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
CALM = {"selat-badung": (0.6, 8.0), "perairan-selatan-bali": (1.0, 12.0)}


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def engine(database_url: str, default_config: TepiConfig, state_templates: Any) -> Iterator[Engine]:
    """A prepared state store (a copy of one prepared once: `StateTemplates`)."""
    eng = state_templates.engine(database_url, ("prepared", default_config.model_dump_json()), lambda e: prepare_database(e, default_config))
    yield eng
    state_templates.release(eng)


@pytest.fixture
def badung(default_config: TepiConfig, tmp_path: Path) -> TepiConfig:
    """The default deployment with Badung's forecast file in the test's folder; Indramayu has none."""
    tenants = []
    for t in default_config.tenants:
        if t.sea is not None:
            path = tmp_path / f"{t.id}.geojson" if t.id == "kab-badung" else tmp_path / "missing.geojson"
            t = t.model_copy(update={"sea": t.sea.model_copy(update={"forecast_file": path})})
        tenants.append(t)
    return default_config.model_copy(update={"tenants": tenants})


def _poll(engine: Engine, watch: MarineWatch, at: datetime = NOW) -> dict[str, str]:
    with Session(writer(engine)) as s, s.begin():
        return watch.poll(s, at)


def _alerts(engine: Engine) -> list[Alert]:
    with Session(engine) as s:
        return list(s.scalars(sa.select(Alert).where(Alert.type == "marine").order_by(Alert.id)))


def test_a_storm_forecast_opens_escalates_and_calm_clears(engine: Engine, badung: TepiConfig, tmp_path: Path) -> None:
    clock = Clock()
    watch = MarineWatch.from_config(badung, clock=clock)
    path = tmp_path / "kab-badung.geojson"
    write_forecast(path, forecast_doc(NOW - timedelta(hours=2), 24, CALM))
    assert _poll(engine, watch) == {}
    # The deployment replaces the file with a storm south of Bali: the next check, within a minute, opens an alert.
    write_forecast(path, forecast_doc(NOW - timedelta(hours=1), 24, {**CALM, "perairan-selatan-bali": (1.8, 18.0)}))
    clock.t += 30
    assert _poll(engine, watch) == {}  # checked less than a minute ago
    clock.t += 30
    assert _poll(engine, watch) == {"kab-badung/perairan-selatan-bali": "opened"}
    [alert] = _alerts(engine)
    assert (alert.kind, alert.subject, alert.station_id, alert.severity, alert.status) == (
        "wavebuoy", "perairan-selatan-bali", None, "minor", "active"
    )
    clock.t += 60
    assert _poll(engine, watch) == {}  # the same danger: no new revision every minute
    with Session(writer(engine)) as s, s.begin():
        acknowledge(s, alert.id, "Petugas BPBD Badung", NOW)
    write_forecast(path, forecast_doc(NOW - timedelta(hours=1), 24, {**CALM, "perairan-selatan-bali": (4.5, 35.0)}))
    clock.t += 60
    assert _poll(engine, watch) == {"kab-badung/perairan-selatan-bali": "escalated"}
    [alert] = _alerts(engine)
    assert (alert.severity, alert.status, alert.revision) == ("critical", "active", 2)  # acknowledged a smaller danger
    # Down to just under the limit, within the margin: it stays; well below: it clears.
    write_forecast(path, forecast_doc(NOW - timedelta(hours=1), 24, {**CALM, "perairan-selatan-bali": (1.2, 14.0)}))
    clock.t += 60
    assert _poll(engine, watch) == {}
    write_forecast(path, forecast_doc(NOW - timedelta(hours=1), 24, CALM))
    clock.t += 60
    assert _poll(engine, watch) == {"kab-badung/perairan-selatan-bali": "cleared"}
    [alert] = _alerts(engine)
    assert (alert.status, alert.clear_reason, alert.cleared_by) == ("cleared", "conditions_eased", "system")
    with Session(engine) as s:
        details = [e.payload["detail"] for e in s.scalars(sa.select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.seq))]
    assert [d.get("category") for d in details] == ["sedang", None, "sangat_tinggi", "rendah"]  # the ack has no detail
    assert details[0]["polygon"][0] == details[0]["polygon"][-1] == [-9.4, 114.9]
    assert details[0]["timezone"] == "Asia/Makassar" and details[0]["source"] == "forecast"


def test_a_stale_or_broken_forecast_neither_opens_nor_clears(engine: Engine, badung: TepiConfig, tmp_path: Path) -> None:
    clock = Clock()
    watch = MarineWatch.from_config(badung, clock=clock)
    path = tmp_path / "kab-badung.geojson"
    write_forecast(path, forecast_doc(NOW - timedelta(hours=1), 24, {**CALM, "selat-badung": (2.0, 20.0)}))
    assert _poll(engine, watch) == {"kab-badung/selat-badung": "opened"}
    write_forecast(path, forecast_doc(NOW - timedelta(hours=30), 24, CALM))  # calm, but expired
    clock.t += 60
    assert _poll(engine, watch) == {}
    path.write_text("{broken")
    clock.t += 60
    assert _poll(engine, watch) == {}
    assert [a.status for a in _alerts(engine)] == ["active"]


def test_alert_areas_limit_what_is_watched(engine: Engine, badung: TepiConfig, tmp_path: Path) -> None:
    tenants = [
        t.model_copy(update={"sea": t.sea.model_copy(update={"alert_areas": ["selat-badung"]})}) if t.id == "kab-badung" else t
        for t in badung.tenants
    ]
    watch = MarineWatch.from_config(badung.model_copy(update={"tenants": tenants}))
    write_forecast(tmp_path / "kab-badung.geojson", forecast_doc(NOW, 24, {"selat-badung": (1.0, 20.0), "perairan-selatan-bali": (3.0, 25.0)}))
    assert _poll(engine, watch) == {"kab-badung/selat-badung": "opened"}  # wind alone; south of Bali is not watched
    assert _alerts(engine)[0].severity == "warning"


def test_a_buoy_above_the_limits_in_an_alert_area_raises_an_observed_alert(engine: Engine, badung: TepiConfig, tmp_path: Path) -> None:
    lat, lon = INSIDE["selat-badung"]
    readings = [BuoyReading("buoy-serangan", lat, lon, NOW - timedelta(minutes=20), 2.7, 21.0)]
    # A buoy in Indramayu's sea and a stale one are no reading of Badung's areas.
    readings += [
        BuoyReading("buoy-karangsong", *INSIDE["perairan-utara-indramayu"], NOW, 5.0, 30.0),
        BuoyReading("buoy-old", *INSIDE["perairan-selatan-bali"], NOW - timedelta(hours=3), 5.0, 30.0),
    ]
    watch = MarineWatch.from_config(badung, buoys=lambda s, tenant, box, age, now: readings if tenant == "kab-badung" else [])
    write_forecast(tmp_path / "kab-badung.geojson", forecast_doc(NOW, 24, CALM))
    assert _poll(engine, watch) == {"kab-badung/selat-badung": "opened"}
    with Session(engine) as s:
        detail = s.scalars(sa.select(AlertEvent.payload)).one()["detail"]
    assert (detail["source"], detail["buoy"], detail["category"]) == ("observed", "buoy-serangan", "tinggi")
    assert _alerts(engine)[0].severity == "major"


def test_two_workers_checking_together_make_one_alert(engine: Engine, badung: TepiConfig, tmp_path: Path) -> None:
    write_forecast(tmp_path / "kab-badung.geojson", forecast_doc(NOW, 24, {**CALM, "selat-badung": (3.0, 25.0)}))
    first, second = MarineWatch.from_config(badung), MarineWatch.from_config(badung)
    assert _poll(engine, first) == {"kab-badung/selat-badung": "opened"}
    assert _poll(engine, second) == {}
    assert len(_alerts(engine)) == 1


def test_the_ingest_worker_poll_opens_a_marine_alert_from_a_buoy_and_counts_it(
    engine: Engine, badung: TepiConfig, tmp_path: Path, database_url: str
) -> None:
    """Through ingest's own poll (`IngestWorker.poll_kinds`, the kind's `poll_alerts`): a buoy of
    the kind's state moored in the Badung Strait, its newest reading above the limits."""
    from prometheus_client import CollectorRegistry

    from core.config_model import IngestConfig
    from ingest.consumer import IngestWorker
    from kinds.wavebuoy.state import WaveBuoy

    lat, lon = INSIDE["selat-badung"]
    with Session(writer(engine)) as s, s.begin():
        s.add(WaveBuoy(id="buoy-selat-badung", tenant_id="kab-badung", name="Pelampung Selat Badung", lat=lat, lon=lon,
                       observed_at=NOW - timedelta(minutes=30), hs_m=1.9, tp_s=8.0, wind_kn=17.0))
    write_forecast(tmp_path / "kab-badung.geojson", forecast_doc(NOW - timedelta(hours=1), 24, CALM))
    registry = CollectorRegistry()
    worker = IngestWorker(
        IngestConfig(database_url=database_url), badung, registry=registry, engine=engine, prepare_schema=False, clock=lambda: NOW,
    )
    worker.poll_kinds()
    worker.poll_kinds()  # a second within the minute: not checked again
    [alert] = _alerts(engine)
    assert (alert.subject, alert.severity) == ("selat-badung", "minor")
    with Session(engine) as s:
        detail = s.scalars(sa.select(AlertEvent.payload)).one()["detail"]
    assert (detail["source"], detail["buoy"], detail["wave_m"], detail["wind_kn"]) == ("observed", "buoy-selat-badung", 1.9, 17.0)
    assert registry.get_sample_value("tepi_ingest_alert_transitions_total", {"transition": "opened"}) == 1.0


def test_two_workers_racing_make_one_alert(engine: Engine, badung: TepiConfig, tmp_path: Path) -> None:
    """Two workers' checks at the same moment, each in its own transaction: one opens the alert,
    the other finds it open (PostgreSQL: the event-log lock) or loses its write and retries
    later (SQLite: one writer); never two alerts, never two 'opened' events."""
    import threading

    from sqlalchemy.exc import OperationalError

    write_forecast(tmp_path / "kab-badung.geojson", forecast_doc(NOW, 24, {**CALM, "perairan-selatan-bali": (3.0, 25.0)}))
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def run() -> None:
        watch = MarineWatch.from_config(badung)
        barrier.wait()
        try:
            outcomes.append(_poll(engine, watch))
        except OperationalError:  # SQLite: the database was locked by the other writer
            outcomes.append("locked")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(outcomes) == 2 and {"kab-badung/perairan-selatan-bali": "opened"} in outcomes
    assert len(_alerts(engine)) == 1
    with Session(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AlertEvent).where(AlertEvent.kind == "opened")) == 1


def _check(engine: Engine, watch: MarineWatch, at: datetime = NOW) -> dict[str, str]:
    """One check at `at`, without the poll's once-a-minute rate."""
    with Session(writer(engine)) as s, s.begin():
        return watch.check(s, at)


def _with_sea(config: TepiConfig, tenant: str, **sea: object) -> TepiConfig:
    tenants = [t.model_copy(update={"sea": t.sea.model_copy(update=sea)}) if t.id == tenant else t for t in config.tenants]
    return config.model_copy(update={"tenants": tenants})


def test_two_tenants_watching_one_sea_area_each_have_their_own_alert(engine: Engine, badung: TepiConfig, tmp_path: Path) -> None:
    """Badung (BMKG's 1.25 m) and a neighbour with a 2 m limit both watch Selat Badung, each
    with its own copy of the forecast: each check touches only its own tenant's alert."""
    config = _with_sea(badung, "kab-badung", alert_areas=["selat-badung"])
    config = _with_sea(config, "kab-indramayu", alert_areas=["selat-badung"], small_boat_wave_m=2.0,
                       small_boat_wind_kn=25.0, forecast_file=tmp_path / "kab-indramayu.geojson")
    watch = MarineWatch.from_config(config)
    for tenant in ("kab-badung", "kab-indramayu"):
        write_forecast(tmp_path / f"{tenant}.geojson", forecast_doc(NOW, 24, {"selat-badung": (1.6, 12.0)}))
    assert _check(engine, watch) == {"kab-badung/selat-badung": "opened"}  # above 1.25 m, eased for 2 m
    for minutes in (1, 2, 3):
        assert _check(engine, watch, NOW + timedelta(minutes=minutes)) == {}  # the neighbour clears nothing
    for tenant in ("kab-badung", "kab-indramayu"):
        write_forecast(tmp_path / f"{tenant}.geojson", forecast_doc(NOW, 24, {"selat-badung": (2.6, 12.0)}))
    assert _check(engine, watch, NOW + timedelta(minutes=4)) == {
        "kab-badung/selat-badung": "escalated", "kab-indramayu/selat-badung": "opened",
    }
    alerts = _alerts(engine)
    assert [(a.tenant_id, a.subject, a.status, a.severity, a.revision) for a in alerts] == [
        ("kab-badung", "selat-badung", "active", "major", 2), ("kab-indramayu", "selat-badung", "active", "major", 1),
    ]
    with Session(engine) as s:
        events = s.execute(sa.select(AlertEvent.tenant_id, AlertEvent.kind).order_by(AlertEvent.seq)).all()
    assert [tuple(e) for e in events] == [("kab-badung", "opened"), ("kab-badung", "escalated"), ("kab-indramayu", "opened")]


def test_a_lower_category_is_published_only_once_it_holds_or_is_clearly_lower(engine: Engine, badung: TepiConfig, tmp_path: Path) -> None:
    """Waves hovering around 2.5 m (sedang/tinggi) make no Update at each wobble; the lower
    category is told once it held an hour over three checks, or at once when clearly lower."""
    path = tmp_path / "kab-badung.geojson"
    watch = MarineWatch.from_config(_with_sea(badung, "kab-badung", alert_areas=["selat-badung"]))

    def sea(wave: float) -> None:
        write_forecast(path, forecast_doc(NOW - timedelta(hours=1), 30, {"selat-badung": (wave, 12.0)}))

    sea(2.6)
    assert _check(engine, watch) == {"kab-badung/selat-badung": "opened"}
    t = NOW
    for wave in (2.4, 2.6, 2.4, 2.6, 2.4, 2.6):  # a wobble every 20 minutes for two hours
        t += timedelta(minutes=20)
        sea(wave)
        assert _check(engine, watch, t) == {}
    for _ in range(3):  # 2.4 m seen at 0, 20 and 40 minutes: not yet
        t += timedelta(minutes=20)
        sea(2.4)
        assert _check(engine, watch, t) == {}
    t += timedelta(minutes=20)  # an hour of it: sedang is told
    assert _check(engine, watch, t) == {"kab-badung/selat-badung": "updated"}
    assert [(a.severity, a.revision) for a in _alerts(engine)] == [("minor", 2)]
    sea(2.7)
    assert _check(engine, watch, t + timedelta(minutes=1)) == {"kab-badung/selat-badung": "escalated"}  # up: at once
    sea(1.9)  # sedang, well below tinggi's 2.5 m (under 2.25 m): at once
    assert _check(engine, watch, t + timedelta(minutes=2)) == {"kab-badung/selat-badung": "updated"}
    assert [(a.severity, a.revision) for a in _alerts(engine)] == [("minor", 4)]


def test_a_buoy_wobbling_at_the_limit_does_not_flip_the_alerts_source(engine: Engine, badung: TepiConfig, tmp_path: Path) -> None:
    """The forecast is above the limits (sedang) and a buoy reads 1.3, 1.2, 1.3 m: the alert
    keeps telling the buoy until the buoy has been below the limit for an hour."""
    lat, lon = INSIDE["selat-badung"]
    readings: list[BuoyReading] = []
    watch = MarineWatch.from_config(_with_sea(badung, "kab-badung", alert_areas=["selat-badung"]), buoys=lambda *_: readings)
    write_forecast(tmp_path / "kab-badung.geojson", forecast_doc(NOW - timedelta(hours=1), 30, {"selat-badung": (1.8, 12.0)}))
    t = NOW
    readings[:] = [BuoyReading("buoy-serangan", lat, lon, t, 1.3, 10.0)]
    assert _check(engine, watch, t) == {"kab-badung/selat-badung": "opened"}
    for wave in (1.2, 1.3, 1.2, 1.3, 1.2, 1.3):
        t += timedelta(minutes=10)
        readings[:] = [BuoyReading("buoy-serangan", lat, lon, t, wave, 10.0)]
        assert _check(engine, watch, t) == {}
    for _ in range(6):
        t += timedelta(minutes=10)
        readings[:] = [BuoyReading("buoy-serangan", lat, lon, t, 1.2, 10.0)]
        assert _check(engine, watch, t) == {}
    t += timedelta(minutes=10)
    readings[:] = [BuoyReading("buoy-serangan", lat, lon, t, 1.2, 10.0)]
    assert _check(engine, watch, t) == {"kab-badung/selat-badung": "updated"}
    with Session(engine) as s:
        sources = [p["detail"]["source"] for p in s.scalars(sa.select(AlertEvent.payload).order_by(AlertEvent.seq))]
    assert sources == ["observed", "forecast"]


def test_an_alert_of_an_area_no_longer_watched_clears_but_not_for_a_missing_forecast(
    engine: Engine, badung: TepiConfig, tmp_path: Path
) -> None:
    path = tmp_path / "kab-badung.geojson"
    write_forecast(path, forecast_doc(NOW, 24, {**CALM, "selat-badung": (2.0, 20.0)}))
    assert _check(engine, MarineWatch.from_config(badung)) == {"kab-badung/selat-badung": "opened"}
    # The forecast goes missing: nothing says the area is gone, nor that the sea is calm.
    path.unlink()
    watch = MarineWatch.from_config(_with_sea(badung, "kab-badung", alert_areas=["perairan-selatan-bali"]))
    assert _check(engine, watch, NOW + timedelta(minutes=1)) == {}
    assert _check(engine, watch, NOW + timedelta(minutes=2)) == {}
    assert [a.status for a in _alerts(engine)] == ["active"] and watch.unjudged["kab-badung"] == 2
    # A current forecast again, and the deployment watches only the south of Bali now.
    write_forecast(path, forecast_doc(NOW, 24, {**CALM, "selat-badung": (2.0, 20.0)}))
    assert _check(engine, watch, NOW + timedelta(minutes=3)) == {"kab-badung/selat-badung": "cleared"}
    [alert] = _alerts(engine)
    assert (alert.status, alert.clear_reason) == ("cleared", "area_unwatched")
    # An area the forecast no longer has clears the same way.
    write_forecast(path, forecast_doc(NOW, 24, {"selat-badung": (2.0, 20.0), "perairan-selatan-bali": (2.0, 20.0)}))
    every = MarineWatch.from_config(badung)
    assert _check(engine, every, NOW + timedelta(minutes=4)) == {
        "kab-badung/selat-badung": "opened", "kab-badung/perairan-selatan-bali": "opened",
    }
    write_forecast(path, forecast_doc(NOW, 24, {"selat-badung": (2.0, 20.0)}))
    assert _check(engine, every, NOW + timedelta(minutes=5)) == {"kab-badung/perairan-selatan-bali": "cleared"}


def test_the_forecast_is_read_and_judged_before_the_event_log_lock_is_taken(
    engine: Engine, badung: TepiConfig, tmp_path: Path, database_url: str
) -> None:
    """PostgreSQL: while the check reads its files and buoys, another transaction can still take
    the lock every alert writer waits for (SQLite has no such lock: one writer at a time)."""
    if database_url.startswith("sqlite"):
        pytest.skip("the event-log lock is PostgreSQL's (a no-op on SQLite)")
    from central.db import _EVENT_LOG_LOCK

    free: list[bool] = []

    def buoys(session: Session, *_: object) -> list[BuoyReading]:
        with engine.connect() as other, other.begin():
            free.append(bool(other.scalar(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _EVENT_LOG_LOCK})))
        return []

    write_forecast(tmp_path / "kab-badung.geojson", forecast_doc(NOW, 24, {**CALM, "selat-badung": (2.0, 20.0)}))
    assert _check(engine, MarineWatch.from_config(badung, buoys=buoys)) == {"kab-badung/selat-badung": "opened"}
    assert free == [True]
