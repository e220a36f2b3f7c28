"""The boat's items through ingest's real service (`ingest.service.apply_batch`), on SQLite and
PostgreSQL: positions, sightings, sea points, SOS incidents and their answers, rejections."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.alerts import acknowledge
from central.db import prepare_database, writer
from central.models import Alert, AlertEvent
from contract.envelope import encode_uplink
from contract.uplink_batch import decode_batch
from core.config import TepiConfig
from ingest.service import apply_batch
from kinds.fishfinder.items import (
    DistressCall, SchoolSighting, SeaSummary, SosStatus, Track, distress_id, school_id, sea_summary_id, track_id,
)
from kinds.fishfinder.state import SchoolSighting as SightingRow
from kinds.fishfinder.state import SosCall, Vessel, VesselPosition, register_vessel

T0 = datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc)
TENANT, OTHER, GW = "dki-jakarta", "kab-badung", "gw-kapal-1"


class Points:
    def __init__(self) -> None:
        self.written: list[Any] = []

    def write(self, points: Any) -> None:
        self.written.extend(points)


@pytest.fixture
def engine(database_url: str, default_config: TepiConfig, state_templates: Any) -> Iterator[Engine]:
    """A prepared state store with two vessels (a copy of one built once: `StateTemplates`)."""

    def build(eng: Engine) -> None:
        prepare_database(eng, default_config)
        with Session(writer(eng)) as s, s.begin():
            register_vessel(s, vessel_id="km-bahari", tenant=TENANT, name="KM Bahari", home_port="Muara Angke", gateway_id=GW, now=T0)
            register_vessel(s, vessel_id="km-badung", tenant=OTHER, name="KM Badung", home_port="Benoa", gateway_id="gw-b", now=T0)

    eng = state_templates.engine(database_url, ("fishfinder ingest", default_config.model_dump_json()), build)
    yield eng
    state_templates.release(eng)


def _apply(engine: Engine, *items: Any, now: datetime = T0, gateway: str = GW) -> tuple[Any, Points]:
    payload = encode_uplink(TENANT, gateway, [i.model_dump_json().encode() for i in items], T0, msg=1)
    points = Points()
    with Session(writer(engine)) as s, s.begin():
        result = apply_batch(s, decode_batch(payload), points, now=now)
    return result, points


def _sos(press: int, repeat: int, *, active: bool = True, vessel: str = "km-bahari", trip: int = 0) -> DistressCall:
    """A call of press `press` of trip `trip` (a trip numbers its presses from 1 again)."""
    pressed = T0 + timedelta(days=trip, seconds=press * 100)
    ts = pressed + timedelta(seconds=repeat)
    return DistressCall(id=distress_id(GW, vessel, press, pressed, repeat), vessel=vessel, device="ff1", ts=ts, press=press,
                        pressed_at=pressed,
                        repeat=repeat, active=active, lat=-5.9, lon=106.8, nature="sinking")


def _statuses(result: Any) -> list[SosStatus]:
    return [SosStatus.model_validate(json.loads(d.payload)) for d in result.downlinks]


def test_track_sighting_and_sea_summary_are_stored_once(engine: Engine) -> None:
    us = int(T0.timestamp() * 1_000_000)
    track = Track(id=track_id(GW, "km-bahari", us), vessel="km-bahari", device="ff1",
                  points=[(us, -5.90, 106.80, 4.5, 90.0), (us + 60_000_000, -5.91, 106.81, None, None)])
    school = SchoolSighting(id=school_id(GW, "km-bahari", T0, 12.0), vessel="km-bahari", device="ff1", start=T0,
                            end=T0 + timedelta(seconds=20), lat=-5.9, lon=106.8, top_m=12.0, bottom_m=18.0, mean_sv_db=-55.0, pings=40)
    sea = SeaSummary(id=sea_summary_id(GW, "km-bahari", T0), vessel="km-bahari", device="ff1", window_start=T0,
                     window_end=T0 + timedelta(minutes=5), depth_count=300, depth_min_m=20.0, depth_max_m=24.5, depth_mean_m=22.0,
                     temp_count=0, temp_min_c=None, temp_max_c=None, temp_mean_c=None)
    result, points = _apply(engine, track, school, sea)
    assert result.stored == 3 and not result.rejected
    again, _ = _apply(engine, track, school, sea)
    assert again.duplicates == 3 and again.stored == 0
    with Session(engine) as s:
        fixes = s.scalars(sa.select(VesselPosition).order_by(VesselPosition.ts)).all()
        assert [(f.lat, f.lon, f.sog) for f in fixes] == [(-5.90, 106.80, 4.5), (-5.91, 106.81, None)]
        vessel = s.get(Vessel, "km-bahari")
        assert vessel is not None and vessel.last_fix_at == T0 + timedelta(minutes=1) and vessel.last_lat == -5.91
        assert s.scalars(sa.select(SightingRow.top_m)).all() == [12.0]
    line = points.written[0][0].to_line_protocol()
    assert line.startswith("fishfinder_sea,tenant=dki-jakarta,vessel=km-bahari ") and "depth_mean_m=22" in line
    assert "temp_mean_c" not in line


def test_unknown_and_foreign_vessels_are_counted_rejections(engine: Engine) -> None:
    result, _ = _apply(engine, _sos(1, 0, vessel="km-nobody"), _sos(1, 0, vessel="km-badung"), _sos(1, 0))
    assert result.rejected == {"unknown_vessel": 1, "foreign_vessel": 1}
    assert result.stored == 1
    with Session(engine) as s:
        assert s.scalars(sa.select(Alert.subject)).all() == ["km-bahari"]


def test_repeats_of_a_press_make_one_incident_answered_received_then_acknowledged(engine: Engine) -> None:
    first, _ = _apply(engine, _sos(1, 0), _sos(1, 1))
    assert [s.status for s in _statuses(first)] == ["received", "received"]
    assert first.alerts == {"opened": 1}
    with Session(engine) as s:
        alert = s.scalars(sa.select(Alert)).one()
        assert (alert.kind, alert.type, alert.subject, alert.station_id, alert.severity, alert.status) == (
            "fishfinder", "sos", "km-bahari", None, "critical", "active")
        incident = alert.id
    assert {s.incident for s in _statuses(first)} == {incident}
    with Session(writer(engine)) as s, s.begin():
        acknowledge(s, incident, "Petugas Basarnas", T0 + timedelta(minutes=2), note="KN SAR on its way")
    later, _ = _apply(engine, _sos(1, 2), now=T0 + timedelta(minutes=3))
    assert [(s.status, s.incident, s.press) for s in _statuses(later)] == [("acknowledged", incident, 1)]
    with Session(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Alert)) == 1
        assert s.scalars(sa.select(SosCall.repeat).order_by(SosCall.repeat)).all() == [0, 1, 2]


def test_a_cancel_on_board_resolves_the_incident_by_the_device(engine: Engine) -> None:
    _apply(engine, _sos(3, 0))
    result, _ = _apply(engine, _sos(3, 1, active=False), now=T0 + timedelta(minutes=1))
    assert [s.status for s in _statuses(result)] == ["resolved"]
    with Session(engine) as s:
        alert = s.scalars(sa.select(Alert)).one()
        assert (alert.status, alert.closed_by, alert.cleared_by) == ("closed", "device", "device")
        kinds = s.scalars(sa.select(AlertEvent.kind).order_by(AlertEvent.seq)).all()
        assert kinds == ["opened", "cleared", "closed"]
        assert set(s.scalars(sa.select(AlertEvent.alert_kind))) == {"fishfinder"}


def test_an_acknowledgement_through_the_api_is_polled_once_to_the_boat(engine: Engine) -> None:
    from kinds.fishfinder.ingest import HANDLER

    _apply(engine, _sos(5, 0))
    with Session(writer(engine)) as s, s.begin():
        assert HANDLER.poll(s, None, T0) == []
        incident = s.scalars(sa.select(Alert.id)).one()
        acknowledge(s, incident, "Petugas", T0 + timedelta(seconds=30))
    with Session(writer(engine)) as s, s.begin():
        sent = HANDLER.poll(s, None, T0 + timedelta(seconds=31))
    assert [(d.tenant, d.gateway, json.loads(d.payload)["status"]) for d in sent] == [(TENANT, GW, "acknowledged")]
    with Session(writer(engine)) as s, s.begin():
        assert HANDLER.poll(s, None, T0 + timedelta(seconds=32)) == []


def test_a_new_trips_press_with_a_reused_number_is_a_new_incident(engine: Engine) -> None:
    _apply(engine, _sos(1, 0))
    _apply(engine, _sos(1, 1, active=False), now=T0 + timedelta(minutes=5))  # last trip's press 1, cancelled
    result, _ = _apply(engine, _sos(1, 0, trip=1), now=T0 + timedelta(days=1))
    assert [s.status for s in _statuses(result)] == ["received"], "the boat keeps repeating until help answers"
    assert result.alerts == {"opened": 1}
    with Session(engine) as s:
        assert s.scalars(sa.select(Alert.status).order_by(Alert.id)).all() == ["closed", "active"]


def test_a_redelivered_call_is_answered_with_the_incidents_current_status(engine: Engine) -> None:
    call = _sos(2, 0)
    _apply(engine, call)
    with Session(writer(engine)) as s, s.begin():
        incident = s.scalars(sa.select(Alert.id)).one()
        acknowledge(s, incident, "Petugas", T0 + timedelta(minutes=1))
    again, _ = _apply(engine, call, now=T0 + timedelta(minutes=2))  # the gateway never got its PUBACK
    assert again.duplicates == 1
    assert [(s.status, s.incident, s.press, s.pressed_at) for s in _statuses(again)] == [
        ("acknowledged", incident, 2, call.pressed_at)]


def test_a_late_cancel_resolves_its_own_press_not_a_newer_open_one(engine: Engine) -> None:
    from central.incidents import resolve

    _apply(engine, _sos(1, 0))
    with Session(writer(engine)) as s, s.begin():
        first = s.scalars(sa.select(Alert.id)).one()
        resolve(s, first, "Petugas", T0 + timedelta(minutes=30))
    _apply(engine, _sos(2, 0), now=T0 + timedelta(hours=1))
    late, _ = _apply(engine, _sos(1, 3, active=False), now=T0 + timedelta(hours=1, minutes=1))
    assert [s.incident for s in _statuses(late)] == [first]
    with Session(engine) as s:
        assert s.scalars(sa.select(Alert.status).order_by(Alert.id)).all() == ["closed", "active"]


def test_a_late_cancel_of_a_press_that_joined_an_open_incident_never_closes_a_press_still_held(engine: Engine) -> None:
    """Calls can arrive out of order: what a restarted central broker takes before ingest has
    subscribed again is dropped, and the gateway sends it again only after its ack timeout. A
    false alarm's press arriving after a real press opened its incident joins that incident; its
    cancel must not close the incident of the press still held (whose next repeat would then be
    answered `resolved`, ending the SOS on board). Once every press in it is cancelled, it closes."""
    _apply(engine, _sos(2, 0))  # the real SOS: held
    _apply(engine, _sos(1, 0), now=T0 + timedelta(minutes=1))  # an earlier press, delivered late
    late, _ = _apply(engine, _sos(1, 1, active=False), now=T0 + timedelta(minutes=2))  # and its cancel
    assert [s.status for s in _statuses(late)] == ["received"]
    repeat, _ = _apply(engine, _sos(2, 60), now=T0 + timedelta(minutes=3))
    assert [s.status for s in _statuses(repeat)] == ["received"], "the boat keeps calling until help answers"
    with Session(engine) as s:
        assert s.scalars(sa.select(Alert.status)).all() == ["active"]
    done, _ = _apply(engine, _sos(2, 61, active=False), now=T0 + timedelta(minutes=4))
    assert [s.status for s in _statuses(done)] == ["resolved"]
    with Session(engine) as s:
        assert s.scalars(sa.select(Alert.status)).all() == ["closed"]


def test_a_cancel_on_board_never_ends_an_sos_also_raised_from_the_app(engine: Engine) -> None:
    """A crew member raises man overboard from the phone; the skipper presses the button, then
    cancels it as a mistake. The app's call still stands: only an operator resolves it."""
    from central.alerts import APP
    from central.incidents import raise_subject_alert

    with Session(writer(engine)) as s, s.begin():
        raise_subject_alert(
            s, tenant=TENANT, kind="fishfinder", subject="km-bahari", alert_type="sos", severity="critical",
            at=T0, who=APP, detail={"source": "app", "nature": "mob"},
        )
    _apply(engine, _sos(1, 0), now=T0 + timedelta(minutes=1))
    cancel, _ = _apply(engine, _sos(1, 1, active=False), now=T0 + timedelta(minutes=2))
    assert [s.status for s in _statuses(cancel)] == ["received"], "the boat keeps its SOS: help has not answered"
    with Session(engine) as s:
        assert s.scalars(sa.select(Alert.status)).all() == ["active"]
