"""The fish-finder API over a real state store (SQLite and PostgreSQL): catches, the market,
anonymised aggregates, vessels and tracks, and SOS incidents, each as the roles see them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from api_people import DKI, OFFICER, BADUNG_TENANT, ClientFactory
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.testing import TEST_PEPPER, issue_keys
from central.db import writer
from central.models import User
from contract.clock import utcnow
from kinds.fishfinder.state import VesselPosition, register_vessel

FISHERS = ("Nelayan Satu", "Nelayan Dua", "Nelayan Tiga")
OFFICE = "Dinas Perikanan DKI"
BADUNG_FISHER = "Nelayan Badung"
#: Off Pelabuhan Ratu-ish waters; the SOS boat and two others at known offsets.
HOME = (-6.10, 106.80)


@pytest.fixture
def sea(engine: Engine, keys: dict[tuple[str, str], str]) -> dict[str, Any]:
    """Fishers with keys and vessels: each of FISHERS owns `boat-<n>`; Badung's fisher owns `badung-boat`."""
    people = [(DKI, "fisher", n) for n in FISHERS] + [(DKI, "fisheries_office", OFFICE), (BADUNG_TENANT, "fisher", BADUNG_FISHER)]
    keys.update(issue_keys(engine, TEST_PEPPER, people))  # the clients' key ring
    now = utcnow()
    with Session(writer(engine)) as s, s.begin():
        ids = {name: s.query(User.id).filter(User.name == name).scalar() for _t, _r, name in people}
        spots = [HOME, (HOME[0] + 0.1, HOME[1]), (HOME[0], HOME[1] + 0.5)]
        for i, name in enumerate(FISHERS):
            v = register_vessel(s, vessel_id=f"boat-{i + 1}", tenant=DKI, name=f"KM Bahari {i + 1}", home_port="Muara Angke",
                                gateway_id=f"gw-boat-{i + 1}", now=now, owner_user=ids[name])
            lat, lon = spots[i]
            s.add(VesselPosition(tenant_id=DKI, vessel_id=v.id, ts=now - timedelta(minutes=5), lat=lat, lon=lon))
            v.last_lat, v.last_lon, v.last_fix_at = lat, lon, now - timedelta(minutes=5)
        register_vessel(s, vessel_id="badung-boat", tenant=BADUNG_TENANT, name="KM Tukad", home_port="Benoa",
                        gateway_id="gw-badung-boat", now=now, owner_user=ids[BADUNG_FISHER])
    return {"keys": keys, "ids": ids}


def _as(make_client: ClientFactory, name: str, tenant: str = DKI) -> Any:
    return make_client(as_user=(tenant, name), level_store="sql")


def _catch(**over: Any) -> dict[str, Any]:
    body = {"species": "tongkol", "weight_kg": 40.5, "lat": -6.05, "lon": 106.72,
            "caught_at": (utcnow() - timedelta(hours=3)).isoformat(), "port": "Muara Angke", "price_idr_per_kg": 28_000}
    return {**body, **over}


def test_a_fisher_reads_back_only_their_own_catches(sea: dict[str, Any], make_client: ClientFactory) -> None:
    one, two = _as(make_client, FISHERS[0]), _as(make_client, FISHERS[1])
    created = one.post("/api/v1/catches", json=_catch(vessel="boat-1"))
    assert created.status_code == 201, created.text
    catch = created.json()
    assert catch["vessel"] == "boat-1" and catch["weight_kg"] == 40.5
    assert [c["id"] for c in one.get("/api/v1/catches").json()["data"]] == [catch["id"]]
    assert two.get("/api/v1/catches").json() == {"data": [], "count": 0, "limit": 50, "offset": 0}
    assert one.get(f"/api/v1/catches/{catch['id']}").status_code == 200
    other = two.get(f"/api/v1/catches/{catch['id']}")
    missing = two.get("/api/v1/catches/999999")
    assert (other.status_code, other.json()["code"]) == (missing.status_code, missing.json()["code"]) == (404, "not_found")
    # Another fisher's vessel is no vessel of the caller's.
    assert two.post("/api/v1/catches", json=_catch(vessel="boat-1")).status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # refused before any query: one database is enough
@pytest.mark.parametrize(
    "change",
    [
        {"species": "paus"},
        {"weight_kg": 0},
        {"weight_kg": 1e6},
        {"price_idr_per_kg": -5},
        {"caught_at": "2025-01-20T10:00:00"},  # no offset
        {"lat": 91},
        {"port": ""},
        {"fisher": 3},  # unknown field: the fisher is the caller, never the body
        # JSON's own types only: no boolean or string for a number, no number for a boolean.
        {"weight_kg": True},
        {"weight_kg": "12"},
        {"lat": True},
        {"price_idr_per_kg": "28000"},
        {"price_idr_per_kg": True},
        {"price_idr_per_kg": 28000.5},
        {"for_sale": 1},
        {"for_sale": "true"},
        {"port": 5},
        # Beyond Python's datetimes once converted to UTC (a 500), or past the documented bounds.
        {"caught_at": "0001-01-01T00:00:00+14:00"},
        {"caught_at": "9999-12-31T23:59:59-14:00"},
    ],
)
def test_bad_catches_are_refused(sea: dict[str, Any], make_client: ClientFactory, change: dict[str, Any]) -> None:
    response = _as(make_client, FISHERS[0]).post("/api/v1/catches", json=_catch(**change))
    assert response.status_code == 422, response.text


def test_a_json_integer_is_a_number_and_an_iso_time_a_time(sea: dict[str, Any], make_client: ClientFactory) -> None:
    at = (utcnow() - timedelta(hours=2)).astimezone().isoformat()
    created = _as(make_client, FISHERS[0]).post("/api/v1/catches", json=_catch(weight_kg=40, lat=-6, lon=107, caught_at=at))
    assert created.status_code == 201, created.text
    assert (created.json()["weight_kg"], created.json()["lat"], created.json()["caught_at"][-1]) == (40.0, -6.0, "Z")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # refused before any query: one database is enough
@pytest.mark.parametrize(
    "body",
    [
        {"vessel": "boat-1", "lat": True, "lon": 106.8},
        {"vessel": "boat-1", "lat": -6.1, "lon": "106.8"},
        {"vessel": "boat-1", "lat": -6.1, "lon": 106.8, "nature": 1},
    ],
)
def test_an_sos_with_a_wrong_type_is_refused_and_opens_nothing(
    sea: dict[str, Any], make_client: ClientFactory, body: dict[str, Any]
) -> None:
    r = _as(make_client, FISHERS[0]).post("/api/v1/sos", json=body)
    assert r.status_code == 422, r.text
    assert make_client(level_store="sql").get("/api/v1/sos").json()["count"] == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # refused before any query: one database is enough
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_times_beyond_the_bounds_are_422_on_every_sea_route(
    sea: dict[str, Any], make_client: ClientFactory, value: str
) -> None:
    """Each used to be a 500 (OverflowError converting to UTC, or adding a week)."""
    one = _as(make_client, FISHERS[0])
    departure = one.post("/api/v1/vessels/boat-1/departure", json={"expected_return_at": value})
    track = one.get("/api/v1/vessels/boat-1/track", params={"since": value})
    office = _as(make_client, OFFICE)
    since = office.get("/api/v1/catches/aggregates", params={"since": value, "until": "2025-01-20T00:00:00Z"})
    until = office.get("/api/v1/catches/aggregates", params={"since": "2025-01-20T00:00:00Z", "until": value})
    for r, field in ((departure, "expected_return_at"), (track, "since"), (since, "since"), (until, "until")):
        assert r.status_code == 422, r.text
        [error] = r.json()["detail"]
        assert error["loc"][-1] == field and "between 1970-01-02 and 2200-01-01" in error["msg"], r.text
    wide = office.get("/api/v1/catches/aggregates", params={"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T00:00:00Z"})
    assert wide.status_code == 422, wide.text


def test_catch_times_in_the_future_are_refused(sea: dict[str, Any], make_client: ClientFactory) -> None:
    one = _as(make_client, FISHERS[0])
    ahead = (utcnow() + timedelta(hours=1)).isoformat()
    response = one.post("/api/v1/catches", json=_catch(caught_at=ahead))
    assert response.status_code == 422 and "future" in response.text


def test_aggregates_suppress_groups_of_fewer_than_three_fishers(sea: dict[str, Any], make_client: ClientFactory) -> None:
    clients = [_as(make_client, n) for n in FISHERS]
    at = (utcnow() - timedelta(days=1)).isoformat()
    for c in clients[:2]:
        assert c.post("/api/v1/catches", json=_catch(caught_at=at, species="cakalang")).status_code == 201
    office = _as(make_client, OFFICE)
    window = {"since": (utcnow() - timedelta(days=8)).isoformat(), "until": utcnow().isoformat()}
    two = office.get("/api/v1/catches/aggregates", params=window)
    assert two.status_code == 200, two.text
    assert two.json()["data"] == [] and two.json()["suppressed_groups"] == 1
    assert clients[2].post("/api/v1/catches", json=_catch(caught_at=at, species="cakalang", weight_kg=9.5)).status_code == 201
    three = office.get("/api/v1/catches/aggregates", params=window).json()
    [group] = three["data"]
    assert (group["species"], group["catches"], group["total_kg"], group["mean_price_idr_per_kg"]) == ("cakalang", 3, 90.5, 28000)
    assert (group["cell_lat"], group["cell_lon"]) == (-6.1, 106.7)
    assert set(group) == {"cell_lat", "cell_lon", "species", "week", "catches", "total_kg", "mean_price_idr_per_kg"}
    # A fisher has no business with the statistics of others; nor a viewer.
    assert clients[0].get("/api/v1/catches/aggregates", params=window).status_code == 403
    assert _as(make_client, "Viewer DKI").get("/api/v1/catches/aggregates", params=window).status_code == 403


def test_the_market_shows_what_is_for_sale_and_never_who_or_where(sea: dict[str, Any], make_client: ClientFactory) -> None:
    one = _as(make_client, FISHERS[0])
    sale = one.post("/api/v1/catches", json=_catch(for_sale=True, species="kerapu", vessel="boat-1")).json()
    one.post("/api/v1/catches", json=_catch(for_sale=False))
    viewer = _as(make_client, "Viewer DKI")
    market = viewer.get("/api/v1/market")
    assert market.status_code == 200
    [offer] = market.json()["data"]
    assert offer["id"] == sale["id"]
    assert set(offer) == {"id", "species", "weight_kg", "price_idr_per_kg", "port", "caught_at"}
    assert FISHERS[0] not in market.text and "boat-1" not in market.text and "106.72" not in market.text
    badung = _as(make_client, "Admin Badung", BADUNG_TENANT)
    assert badung.get("/api/v1/market").json()["data"] == []
    assert badung.post(f"/api/v1/market/{sale['id']}/contact", json={"message": "halo"}).status_code == 404


def test_a_buyer_s_message_reaches_only_the_fisher(sea: dict[str, Any], make_client: ClientFactory) -> None:
    one = _as(make_client, FISHERS[0])
    sale = one.post("/api/v1/catches", json=_catch(for_sale=True)).json()
    kept = one.post("/api/v1/catches", json=_catch(for_sale=False)).json()
    viewer = _as(make_client, "Viewer DKI")
    sent = viewer.post(f"/api/v1/market/{sale['id']}/contact", json={"message": "Saya mau 20 kg, WA 0812..."})
    assert sent.status_code == 201, sent.text
    assert viewer.post(f"/api/v1/market/{kept['id']}/contact", json={"message": "x"}).status_code == 404
    [msg] = one.get("/api/v1/catches/contacts").json()["data"]
    assert (msg["catch_id"], msg["from_name"], msg["message"]) == (sale["id"], "Viewer DKI", "Saya mau 20 kg, WA 0812...")
    assert _as(make_client, FISHERS[1]).get("/api/v1/catches/contacts").json()["data"] == []
    for _ in range(4):
        assert viewer.post(f"/api/v1/market/{sale['id']}/contact", json={"message": "lagi"}).status_code == 201
    assert viewer.post(f"/api/v1/market/{sale['id']}/contact", json={"message": "lagi"}).status_code == 429


def test_vessels_a_fisher_their_own_the_office_all_a_viewer_none(sea: dict[str, Any], make_client: ClientFactory) -> None:
    mine = _as(make_client, FISHERS[0]).get("/api/v1/vessels").json()["data"]
    assert [v["id"] for v in mine] == ["boat-1"]
    assert mine[0]["last_lat"] == HOME[0] and mine[0]["last_seen_at"] is not None
    assert (mine[0]["home_lat"], mine[0]["home_lon"]) == (None, None), "Muara Angke's quay is not documented (home_ports.py)"
    [tukad] = _as(make_client, BADUNG_FISHER, BADUNG_TENANT).get("/api/v1/vessels").json()["data"]
    assert (tukad["home_lat"], tukad["home_lon"]) == (-8.7394, 115.2083), "Benoa's is: the map shows the port"
    officer = make_client(level_store="sql")
    assert [v["id"] for v in officer.get("/api/v1/vessels").json()["data"]] == ["boat-1", "boat-2", "boat-3"]
    assert _as(make_client, "Viewer DKI").get("/api/v1/vessels").status_code == 403
    two = _as(make_client, FISHERS[1])
    assert two.get("/api/v1/vessels/boat-1/track").status_code == 404
    track = _as(make_client, FISHERS[0]).get("/api/v1/vessels/boat-1/track").json()
    assert [(f["lat"], f["lon"]) for f in track["data"]] == [HOME]


def test_an_sos_from_the_app_is_an_incident_the_office_takes_on(sea: dict[str, Any], make_client: ClientFactory) -> None:
    one = _as(make_client, FISHERS[0])
    assert one.post("/api/v1/sos", json={"vessel": "boat-2", "lat": -6.1, "lon": 106.8}).status_code == 404
    raised = one.post("/api/v1/sos", json={"vessel": "boat-1", "lat": -6.11, "lon": 106.8, "nature": "sinking"})
    assert raised.status_code == 201, raised.text
    incident = raised.json()
    assert (incident["status"], incident["nature"], incident["vessel"]) == ("open", "sinking", "boat-1")
    again = one.post("/api/v1/sos", json={"vessel": "boat-1", "lat": -6.12, "lon": 106.8, "nature": "sinking"}).json()
    assert again["id"] == incident["id"]  # one incident, as for a device's repeated call

    officer = make_client(level_store="sql")
    detail = officer.get(f"/api/v1/sos/{incident['id']}").json()
    assert [(f["lat"], f["distress"]) for f in detail["track"]] == [(-6.11, True), (-6.12, True)]
    nearest = detail["nearest"]
    assert [n["id"] for n in nearest] == ["boat-2", "boat-3"]  # 0.12° north (~13 km) before 0.5° east (~55 km)
    # From the newest fix (-6.12) due north to -6.0: 0.12° of a meridian, 111.19 km per degree.
    assert nearest[0]["distance_km"] == pytest.approx(0.12 * 111.19, abs=0.02)
    assert nearest[0]["distance_nm"] == pytest.approx(nearest[0]["distance_km"] / 1.852, abs=0.01)
    assert nearest[0]["bearing_from_casualty_deg"] == pytest.approx(0.0, abs=0.1)
    assert nearest[0]["bearing_to_casualty_deg"] == pytest.approx(180.0, abs=0.1)

    acked = officer.post(f"/api/v1/sos/{incident['id']}/acknowledge", json={"note": "Basarnas dihubungi"}).json()
    assert (acked["status"], acked["acknowledged_by"]) == ("acknowledged", OFFICER)
    resolved = officer.post(f"/api/v1/sos/{incident['id']}/resolve", json={"note": "ditarik ke darat"}).json()
    assert (resolved["status"], resolved["resolved_by"]) == ("resolved", OFFICER)
    assert officer.get("/api/v1/sos", params={"open": True}).json()["data"] == []
    events = officer.get(f"/api/v1/alerts/{incident['id']}/events").json()["data"]
    assert [e["kind"] for e in events][-2:] == ["cleared", "closed"]
    # Another tenant's incident does not exist for Badung.
    badung = _as(make_client, "Admin Badung", BADUNG_TENANT)
    assert badung.get(f"/api/v1/sos/{incident['id']}").status_code == 404
    assert badung.post(f"/api/v1/sos/{incident['id']}/acknowledge").status_code == 404


def test_a_fisher_follows_their_own_incident_and_no_one_else_s(sea: dict[str, Any], make_client: ClientFactory) -> None:
    """The fisher who called sees whether help is coming, but not who took it on (the operator's
    personal data) nor where the other boats are; another fisher's incident does not exist."""
    one, two = _as(make_client, FISHERS[0]), _as(make_client, FISHERS[1])
    incident = one.post("/api/v1/sos", json={"vessel": "boat-1", "lat": -6.11, "lon": 106.8, "nature": "fire"}).json()
    path = f"/api/v1/sos/{incident['id']}"
    mine = one.get(path)
    assert mine.status_code == 200, mine.text
    shown = mine.json()
    assert (shown["id"], shown["vessel"], shown["status"], shown["nature"]) == (incident["id"], "boat-1", "open", "fire")
    assert shown["nearest"] is None and [(f["lat"], f["distress"]) for f in shown["track"]] == [(-6.11, True)]
    assert "boat-2" not in mine.text and "KM Bahari 2" not in mine.text and "107.3" not in mine.text
    officer = make_client(level_store="sql")
    assert [n["id"] for n in officer.get(path).json()["nearest"]] == ["boat-2", "boat-3"]
    assert officer.post(f"{path}/acknowledge").status_code == 200
    acked = one.get(path)
    assert acked.json()["status"] == "acknowledged" and acked.json()["acknowledged_at"] is not None
    assert acked.json()["acknowledged_by"] is None and OFFICER not in acked.text
    assert officer.post(f"{path}/resolve").status_code == 200
    resolved = one.get(path).json()
    assert (resolved["status"], resolved["resolved_by"]) == ("resolved", None) and resolved["resolved_at"] is not None
    other, missing = two.get(path), two.get("/api/v1/sos/999999")
    assert (other.status_code, other.json()["code"]) == (missing.status_code, missing.json()["code"]) == (404, "not_found")
    # Reading is all: the list and the lifecycle stay the rescue's.
    assert one.get("/api/v1/sos").status_code == 403
    assert one.post(f"{path}/acknowledge").status_code == 403


def test_an_sos_alert_has_no_siaga_level(sea: dict[str, Any], make_client: ClientFactory) -> None:
    """Siaga levels are a river station's: a vessel's alert showed `siaga: 4`, "level 4"."""
    incident = _as(make_client, FISHERS[0]).post("/api/v1/sos", json={"vessel": "boat-1", "lat": -6.11, "lon": 106.8}).json()
    for reader in (make_client(level_store="sql"), _as(make_client, "Viewer DKI")):
        listed = reader.get("/api/v1/alerts", params={"type": "sos"})
        [alert] = listed.json()["data"]
        one = reader.get(f"/api/v1/alerts/{incident['id']}")
        events = reader.get(f"/api/v1/alerts/{incident['id']}/events")
        for shown in (alert, one.json(), *(e["alert"] for e in events.json()["data"])):
            assert (shown["kind"], shown["station"]) == ("fishfinder", None)
            assert (shown["siaga"], shown["siaga_label"], shown["peak_siaga"]) == (None, None, None)
        assert "level 4" not in listed.text + one.text + events.text


def test_viewers_see_an_sos_alert_without_vessel_or_position(sea: dict[str, Any], make_client: ClientFactory) -> None:
    one = _as(make_client, FISHERS[0])
    incident = one.post("/api/v1/sos", json={"vessel": "boat-1", "lat": -6.11, "lon": 106.8}).json()
    viewer = _as(make_client, "Viewer DKI")
    shown = viewer.get(f"/api/v1/alerts/{incident['id']}")
    assert shown.status_code == 200
    events = viewer.get(f"/api/v1/alerts/{incident['id']}/events")
    for text in (shown.text, events.text, viewer.get("/api/v1/alerts").text):
        assert "boat-1" not in text and "KM Bahari" not in text and "-6.11" not in text
    officer = make_client(level_store="sql")
    assert "-6.11" in officer.get(f"/api/v1/alerts/{incident['id']}/events").text


def test_the_live_stream_gives_a_viewer_an_sos_without_vessel_or_position(
    sea: dict[str, Any], engine: Engine, make_client: ClientFactory
) -> None:
    """The stream's own path (`read_after`, then the viewer's redaction in `sse_stream`)."""
    from sqlalchemy.orm import sessionmaker

    from api.services.alerts import event_without_actors
    from api.services.stream import read_after, sse_message

    _as(make_client, FISHERS[0]).post("/api/v1/sos", json={"vessel": "boat-1", "lat": -6.11, "lon": 106.8, "nature": "fire"})
    events = [e for e in read_after(sessionmaker(bind=engine), 0, 500) if e.alert.type == "sos"]
    assert events and all(e.alert.subject == "boat-1" and e.detail["lat"] == -6.11 for e in events)
    for event in events:
        shown = sse_message(event_without_actors(event))
        assert "boat-1" not in shown and "-6.11" not in shown and "fire" not in shown and "gateway:" not in shown


def test_no_operator_name_reaches_a_viewer_or_the_fisher(
    sea: dict[str, Any], engine: Engine, make_client: ClientFactory
) -> None:
    """Who took on and resolved an SOS is the operator's personal data: the responders see it,
    the fisher answered by POST /sos and viewers (list, alert, events, stream) do not."""
    from sqlalchemy.orm import sessionmaker

    from api.services.alerts import event_without_actors
    from api.services.stream import read_after, sse_message

    one, officer, viewer = _as(make_client, FISHERS[0]), make_client(level_store="sql"), _as(make_client, "Viewer DKI")
    incident = one.post("/api/v1/sos", json={"vessel": "boat-1", "lat": -6.11, "lon": 106.8}).json()
    assert officer.post(f"/api/v1/sos/{incident['id']}/acknowledge").json()["acknowledged_by"] == OFFICER
    again = one.post("/api/v1/sos", json={"vessel": "boat-1", "lat": -6.12, "lon": 106.8})
    assert again.status_code == 201 and again.json()["status"] == "acknowledged"
    assert OFFICER not in again.text and again.json()["acknowledged_by"] is None
    assert officer.post(f"/api/v1/sos/{incident['id']}/resolve").json()["resolved_by"] == OFFICER
    shown = officer.get(f"/api/v1/alerts/{incident['id']}").json()
    assert shown["cleared_by"] == OFFICER  # responders see who did it
    for path in (f"/api/v1/alerts/{incident['id']}", f"/api/v1/alerts/{incident['id']}/events", "/api/v1/alerts"):
        answer = viewer.get(path)
        assert answer.status_code == 200 and OFFICER not in answer.text, path
    events = [e for e in read_after(sessionmaker(bind=engine), 0, 500) if e.alert_id == incident["id"]]
    assert any(e.alert.cleared_by == OFFICER for e in events)
    assert all(OFFICER not in sse_message(event_without_actors(e)) for e in events)
