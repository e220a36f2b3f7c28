"""Overdue vessels end to end over a real state store (SQLite and PostgreSQL): the owner declares
a departure through the API, ingest's real service (`apply_batch`) takes the vessel's tracks and
says whether it is at sea, and the overdue check raises and clears the 'overdue' alert."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from api_people import BADUNG_TENANT, DKI, ClientFactory
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.testing import TEST_PEPPER, issue_keys
from central.db import writer
from central.models import Alert, AlertEvent, User
from contract.clock import utcnow
from contract.envelope import encode_uplink
from contract.uplink_batch import decode_batch
from ingest.service import apply_batch
from kinds.fishfinder.home_ports import HOME_PORTS, home_port_position
from kinds.fishfinder.ingest.overdue import HOME_RADIUS_KM, PAST_RETURN, SILENT, check_overdue, home_positions, in_port
from kinds.fishfinder.items import Track, track_id
from kinds.fishfinder.state import Vessel, register_vessel

OWNER, OTHER_FISHER = "Nelayan Benoa", "Nelayan Lain"
GW = "gw-km-benoa"
QUAY = HOME_PORTS["benoa"].position
#: About 13 km south-east of the quay, in the Badung Strait.
OFFSHORE = (QUAY[0] - 0.11, QUAY[1] + 0.05)
SILENT_LIMIT_S = 3600


class Points:
    def write(self, points: Any) -> None:
        return None


@pytest.fixture
def boat(engine: Engine, keys: dict[tuple[str, str], str]) -> str:
    """`km-benoa` of OWNER, home port Benoa (by its harbour-table key), one hour's silence limit."""
    people = [(DKI, "fisher", OWNER), (DKI, "fisher", OTHER_FISHER)]
    keys.update(issue_keys(engine, TEST_PEPPER, people))
    with Session(writer(engine)) as s, s.begin():
        owner = s.scalar(sa.select(User.id).where(User.name == OWNER))
        register_vessel(s, vessel_id="km-benoa", tenant=DKI, name="KM Benoa", home_port="benoa", gateway_id=GW,
                        now=utcnow(), owner_user=owner, silent_limit_s=SILENT_LIMIT_S)
    return "km-benoa"


def _track(engine: Engine, at: datetime, *fixes: tuple[float, float], msg: int) -> None:
    us = int(at.timestamp() * 1_000_000)
    points = [(us + i * 60_000_000, lat, lon, 5.0, 180.0) for i, (lat, lon) in enumerate(fixes)]
    item = Track(id=track_id(GW, "km-benoa", us), vessel="km-benoa", device="ff1", points=points)
    payload = encode_uplink(DKI, GW, [item.model_dump_json().encode()], at, msg=msg)
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, decode_batch(payload), Points(), now=at)


def _vessel(engine: Engine) -> Vessel:
    with Session(engine) as s:
        vessel = s.get(Vessel, "km-benoa")
        assert vessel is not None
        s.expunge(vessel)
        return vessel


def _check(engine: Engine, now: datetime, since: datetime) -> tuple[list[str], list[tuple[str, str | None, Any]]]:
    """(vessels newly overdue, every overdue alert's (status, clear reason, reason it opened))."""
    with Session(writer(engine)) as s, s.begin():
        opened = check_overdue(s, now, since)
    with Session(engine) as s:
        alerts = s.scalars(sa.select(Alert).where(Alert.type == "overdue", Alert.subject == "km-benoa").order_by(Alert.id)).all()
        return opened, [(a.status, a.clear_reason, a.kind) for a in alerts]


def _opened_because(engine: Engine) -> object:
    with Session(engine) as s:
        opening = s.scalars(sa.select(AlertEvent).where(AlertEvent.alert_type == "overdue").order_by(AlertEvent.seq)).first()
        assert opening is not None
        return opening.payload["detail"]["reason"]


def test_the_home_port_radius_separates_the_quay_from_the_sea(boat: str, engine: Engine) -> None:
    assert home_port_position("Pelabuhan Benoa (fishing port, west side)") == home_port_position(" BENOA ") == QUAY
    assert home_port_position("Muara Angke") is None
    home = home_positions(_vessel(engine))
    assert home == (QUAY,), "registered by the port's key: its documented position"
    assert in_port(home, QUAY[0] + 0.005, QUAY[1])  # ~0.55 km north of the quay
    assert not in_port(home, *OFFSHORE)
    assert not in_port(home, QUAY[0] + 0.01, QUAY[1], radius_km=HOME_RADIUS_KM)  # ~1.1 km


def test_the_registered_home_position_decides_where_the_boat_is_in_port(engine: Engine) -> None:
    """A port not in the table: at sea only as declared, unless its registration gives the position."""
    angke = (-6.1030, 106.7750)  # any position: what is registered is what counts
    with Session(writer(engine)) as s, s.begin():
        unknown = register_vessel(s, vessel_id="km-angke", tenant=DKI, name="KM Angke", home_port="Muara Angke",
                                  gateway_id="gw-km-angke", now=utcnow())
        given = register_vessel(s, vessel_id="km-angke-2", tenant=DKI, name="KM Angke 2", home_port="Muara Angke",
                                gateway_id="gw-km-angke-2", now=utcnow(), home=angke)
        assert home_positions(unknown) == ()
        assert (given.home_lat, given.home_lon) == angke and home_positions(given) == (angke,)
        with pytest.raises(ValueError, match="not a position"):
            register_vessel(s, vessel_id="km-x", tenant=DKI, name="KM X", home_port="Muara Angke", gateway_id="gw-x",
                            now=utcnow(), home=(106.775, -6.103))


def test_a_declared_trip_past_its_return_is_overdue_until_the_boat_is_back(
    boat: str, engine: Engine, make_client: ClientFactory
) -> None:
    owner = make_client(as_user=(DKI, OWNER), level_store="sql")
    due = utcnow() + timedelta(hours=2)
    declared = owner.post(f"/api/v1/vessels/{boat}/departure", json={"expected_return_at": due.isoformat()})
    assert declared.status_code == 200, declared.text
    assert declared.json()["at_sea"] is True
    start = utcnow()
    _track(engine, start, QUAY, msg=1)  # still at the quay: not yet away, the declared return stays
    assert (_vessel(engine).at_sea, _vessel(engine).expected_return_at) == (False, due)
    _track(engine, due - timedelta(minutes=30), (QUAY[0] - 0.02, QUAY[1]), OFFSHORE, msg=2)  # sailed
    assert _vessel(engine).at_sea is True

    assert _check(engine, due - timedelta(minutes=1), start) == ([], [])
    opened, alerts = _check(engine, due + timedelta(minutes=1), start)
    assert opened == [boat] and alerts == [("active", None, "fishfinder")]
    assert _opened_because(engine) == PAST_RETURN

    _track(engine, due + timedelta(minutes=30), OFFSHORE, QUAY, msg=3)  # back in its home port
    vessel = _vessel(engine)
    assert (vessel.at_sea, vessel.expected_return_at) == (False, None)
    assert _check(engine, due + timedelta(minutes=31), start) == ([], [("cleared", "back_in_port", "fishfinder")])


def test_a_boat_seen_at_sea_and_then_silent_is_overdue_until_it_reports(boat: str, engine: Engine) -> None:
    start = utcnow()
    _track(engine, start, OFFSHORE, msg=1)  # no declaration: the track alone says it is at sea
    assert _vessel(engine).at_sea is True
    last_fix = _vessel(engine).last_fix_at
    assert last_fix is not None
    assert _check(engine, last_fix + timedelta(seconds=SILENT_LIMIT_S - 60), start)[0] == []
    opened, alerts = _check(engine, last_fix + timedelta(seconds=SILENT_LIMIT_S + 60), start)
    assert opened == [boat] and alerts == [("active", None, "fishfinder")]
    assert _opened_because(engine) == SILENT
    later = last_fix + timedelta(seconds=SILENT_LIMIT_S + 120)
    _track(engine, later, (OFFSHORE[0] - 0.01, OFFSHORE[1]), msg=2)
    assert _check(engine, later + timedelta(seconds=30), start)[1] == [("cleared", "reported", "fishfinder")]


def test_only_the_owner_or_the_admin_declares_a_departure(boat: str, make_client: ClientFactory) -> None:
    body = {"expected_return_at": (utcnow() + timedelta(hours=6)).isoformat()}
    path = f"/api/v1/vessels/{boat}/departure"
    assert make_client(as_user=(DKI, "Admin DKI"), level_store="sql").post(path, json=body).status_code == 200
    other = make_client(as_user=(DKI, OTHER_FISHER), level_store="sql").post(path, json=body)
    missing = make_client(as_user=(DKI, OTHER_FISHER), level_store="sql").post("/api/v1/vessels/no-such/departure", json=body)
    assert other.status_code == missing.status_code == 404
    assert make_client(as_user=(BADUNG_TENANT, "Admin Badung"), level_store="sql").post(path, json=body).status_code == 404
    assert make_client(as_user=(DKI, "Viewer DKI"), level_store="sql").post(path, json=body).status_code == 403
    assert make_client(level_store="sql").post(path, json=body).status_code == 403  # the disaster office
    owner = make_client(as_user=(DKI, OWNER), level_store="sql")
    for when in (utcnow() - timedelta(minutes=1), utcnow() + timedelta(days=31)):
        assert owner.post(path, json={"expected_return_at": when.isoformat()}).status_code == 422
    assert owner.post(path, json={"expected_return_at": "2030-01-01T10:00:00"}).status_code == 422  # no offset
