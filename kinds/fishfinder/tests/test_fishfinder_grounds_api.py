"""`/api/v1/fishing-grounds` over a real state store (SQLite and PostgreSQL): the three-boat rule,
decay, the species filter, GeoJSON a GIS reads, no identities, and tenants kept apart unless the
deployment shares grounds. Boats of Badung fish south of the Bukit; Indramayu's off Karangsong,
and one of them (an andon boat, as Java's fishers follow the fish east) south of the Bukit too."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import shapely
from api_people import BADUNG_TENANT, app_settings
from prometheus_client import CollectorRegistry
from shapely.geometry import Point, shape
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.testing import TEST_PEPPER, bearer, issue_keys
from central.db import writer
from contract.clock import utcnow
from core.config import TepiConfig
from kinds.fishfinder.api.grounds_service import ground_position
from kinds.fishfinder.catches import Catch
from kinds.fishfinder.grounds import ground_id_at
from kinds.fishfinder.state import SchoolSighting, register_vessel

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

INDRAMAYU = "kab-indramayu"
#: Open water south of the Bukit's cliffs, off Nusa Dua further east, and in the Java Sea off
#: Karangsong (all sea on global-land-mask: test_fishfinder_grounds checks).
#: Cell centres, so that a sighting's few tens of metres of spread stay in the cell.
BUKIT = (-8.905, 115.155)
NUSA_DUA = (-8.905, 115.305)
KARANGSONG = (-6.205, 108.425)
#: A spot seen by two Badung boats only, and one seen three times by one boat.
TWO_BOATS = (-8.955, 115.205)
ONE_BOAT = (-8.985, 115.105)
BADUNG_FISHERS = ("Nelayan Jimbaran 1", "Nelayan Jimbaran 2", "Nelayan Jimbaran 3")
OFFICE = "Dinas Perikanan Badung"
PEOPLE = [
    *((BADUNG_TENANT, "fisher", n) for n in BADUNG_FISHERS),
    (BADUNG_TENANT, "fisheries_office", OFFICE),
    (BADUNG_TENANT, "viewer", "Viewer Badung"),
    (INDRAMAYU, "fisheries_office", "Dinas Perikanan Indramayu"),
]


class Sea:
    """Writes boats and what they saw, and serves apps over the store with a chosen config."""

    def __init__(self, engine: Engine, database_url: str, config: TepiConfig, keys: dict[tuple[str, str], str]) -> None:
        self.engine, self.database_url, self.config, self.keys = engine, database_url, config, keys
        self.now = utcnow()
        self.users: dict[str, int] = {}
        self.clients: list[TestClient] = []
        self._n = 0

    def boat(self, vessel_id: str, tenant: str = BADUNG_TENANT, owner: str | None = None) -> str:
        with Session(writer(self.engine)) as s, s.begin():
            owner_id = self._user(s, owner) if owner else None
            register_vessel(s, vessel_id=vessel_id, tenant=tenant, name=f"KM {vessel_id.title()}", home_port="Benoa",
                            gateway_id=f"gw-{vessel_id}", now=self.now, owner_user=owner_id)
        return vessel_id

    def _user(self, s: Session, name: str) -> int:
        from central.models import User

        return int(s.query(User.id).filter(User.name == name).scalar())

    def sighting(self, vessel_id: str, spot: tuple[float, float], hours_ago: float = 1.0, tenant: str = BADUNG_TENANT,
                 sv: float = -55.0, depth: tuple[float, float] = (15.0, 35.0)) -> None:
        self._n += 1
        at = self.now - timedelta(hours=hours_ago)
        d = 0.0004 * (self._n % 5)  # a few tens of metres apart
        with Session(writer(self.engine)) as s, s.begin():
            s.add(SchoolSighting(item_id=f"school-{self._n}", tenant_id=tenant, vessel_id=vessel_id, gateway=f"gw-{vessel_id}",
                                 start=at - timedelta(minutes=2), end=at, lat=spot[0] + d, lon=spot[1] - d,
                                 top_m=depth[0], bottom_m=depth[1], mean_sv_db=sv, pings=40))

    def catch(self, fisher: str, spot: tuple[float, float] | None, species: str = "tongkol", hours_ago: float = 2.0,
              tenant: str = BADUNG_TENANT, vessel_id: str | None = None) -> None:
        with Session(writer(self.engine)) as s, s.begin():
            s.add(Catch(tenant_id=tenant, fisher_id=self._user(s, fisher), vessel_id=vessel_id, species=species, weight_kg=35.0,
                        lat=spot[0] if spot else None, lon=spot[1] if spot else None,
                        caught_at=self.now - timedelta(hours=hours_ago), price_idr_per_kg=None, port="Jimbaran",
                        for_sale=False, created_at=self.now))

    def client(self, user: str, tenant: str = BADUNG_TENANT, config: TepiConfig | None = None) -> TestClient:
        from api.main import create_app

        app = create_app(config or self.config, app_settings(self.database_url, level_store="sql"), registry=CollectorRegistry())
        c = TestClient(app, headers=bearer(self.keys[(tenant, user)]))
        c.__enter__()
        self.clients.append(c)
        return c


@pytest.fixture
def sea(engine: Engine, database_url: str, default_config: TepiConfig, keys: dict[tuple[str, str], str]) -> Iterator[Sea]:
    """Badung's fishers, fisheries office and viewer, Indramayu's office, and every API test's people."""
    world = Sea(engine, database_url, default_config, {**keys, **issue_keys(engine, TEST_PEPPER, PEOPLE)})
    yield world
    for c in world.clients:
        c.__exit__(None, None, None)


def sharing(config: TepiConfig, tenant: str, with_tenant: str) -> TepiConfig:
    """`config` where `tenant`'s boats also inform `with_tenant`'s grounds."""
    tenants = []
    for t in config.tenants:
        if t.id == tenant:
            assert t.sea is not None
            t = t.model_copy(update={"sea": t.sea.model_copy(update={"share_grounds_with": [with_tenant]})})
        tenants.append(t)
    return config.model_copy(update={"tenants": tenants})


def _grounds(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get("/api/v1/fishing-grounds", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    return r.json()


def test_three_boats_make_a_ground_two_boats_or_one_boat_thrice_do_not(sea: Sea) -> None:
    for v in ("jukung-1", "jukung-2", "jukung-3"):
        sea.sighting(sea.boat(v), BUKIT)
    for v in ("jukung-1", "jukung-2"):
        sea.sighting(v, TWO_BOATS)
    for _ in range(3):
        sea.sighting("jukung-3", ONE_BOAT)
    office = sea.client(OFFICE)
    body = _grounds(office)
    assert body["type"] == "FeatureCollection"
    [feature] = body["features"]
    props = feature["properties"]
    assert feature["type"] == "Feature" and feature["id"] == props["ground_id"] == ground_id_at(*BUKIT)
    assert props["vessels"] == 3 and props["score"] == 1.0
    assert (props["depth_min_m"], props["depth_max_m"], props["species"]) == (15.0, 35.0, [])
    assert abs(props["centre_lat"] - BUKIT[0]) < 0.002 and abs(props["centre_lon"] - BUKIT[1]) < 0.002
    one = office.get(f"/api/v1/fishing-grounds/{feature['id']}")
    assert one.status_code == 200 and one.headers["content-type"] == "application/geo+json"
    assert one.json() == feature
    # Places of fewer than three boats are no ground, by list or by id: 404 as for nowhere.
    for spot in (TWO_BOATS, ONE_BOAT, KARANGSONG):
        r = office.get(f"/api/v1/fishing-grounds/{ground_id_at(*spot)}")
        assert (r.status_code, r.json()["code"]) == (404, "not_found"), r.text
    assert office.get("/api/v1/fishing-grounds/benoa").status_code == 422


def test_geojson_a_gis_reads(sea: Sea) -> None:
    for v in ("jukung-1", "jukung-2", "jukung-3", "jukung-4"):
        sea.sighting(sea.boat(v), KARANGSONG)
        sea.sighting(v, BUKIT, hours_ago=3)
    for feature in _grounds(sea.client(OFFICE))["features"]:
        geometry = feature["geometry"]
        assert geometry["type"] == "Polygon" and len(geometry["coordinates"]) == 1
        ring = geometry["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) >= 4 and all(len(p) == 2 for p in ring)
        polygon = shape(geometry)
        assert polygon.is_valid and polygon.exterior.is_ccw  # RFC 7946 §3.1.6: the right-hand rule
        props = feature["properties"]
        assert polygon.contains(Point(props["centre_lon"], props["centre_lat"]))  # [lon, lat] order
        assert -180 <= ring[0][0] <= 180 and -90 <= ring[0][1] <= 90 and ring[0][0] > 100
        assert shapely.area(polygon) < 0.001  # a few km², not a continent: coordinates not swapped


def test_no_vessel_owner_or_fisher_is_named(sea: Sea) -> None:
    for i, fisher in enumerate(BADUNG_FISHERS):
        sea.sighting(sea.boat(f"sinar-laut-{i}", owner=fisher), BUKIT)
        sea.catch(fisher, BUKIT)
    fisher = sea.client(BADUNG_FISHERS[0])
    texts = [fisher.get("/api/v1/fishing-grounds").text]
    [feature] = _grounds(fisher)["features"]
    texts.append(fisher.get(f"/api/v1/fishing-grounds/{feature['id']}").text)
    assert feature["properties"]["species"] == ["tongkol"]
    assert set(feature["properties"]) == {"ground_id", "centre_lat", "centre_lon", "score", "vessels", "last_seen",
                                          "depth_min_m", "depth_max_m", "species"}
    for text in texts:
        for name in ("sinar-laut", "Sinar-Laut", "gw-", "Nelayan", "Jimbaran", "owner", "fisher", "vessel_id", "user"):
            assert name not in text, (name, text[:300])


def test_a_fisher_with_two_boats_counts_once(sea: Sea) -> None:
    sea.sighting(sea.boat("perahu-a", owner=BADUNG_FISHERS[0]), BUKIT)
    sea.sighting(sea.boat("perahu-b", owner=BADUNG_FISHERS[0]), BUKIT)
    sea.catch(BADUNG_FISHERS[0], BUKIT)  # and their own catch there
    sea.sighting(sea.boat("perahu-c", owner=BADUNG_FISHERS[1]), BUKIT)
    office = sea.client(OFFICE)
    assert _grounds(office)["features"] == []
    sea.catch(BADUNG_FISHERS[2], BUKIT)
    [feature] = _grounds(office)["features"]
    assert feature["properties"]["vessels"] == 3


def test_an_ownerless_boat_and_its_crews_catch_from_it_count_once(sea: Sea) -> None:
    """Boat A has no registered owner; its crew (a fisher) logs a catch from it. Boat B is
    another fisher's. Two boats: no ground. Linked through the catch's vessel, A's sighting,
    the crew's catch and any other catch of theirs are one contributor."""
    sea.sighting(sea.boat("jukung-a"), BUKIT)
    sea.sighting(sea.boat("jukung-b", owner=BADUNG_FISHERS[0]), BUKIT)
    sea.catch(BADUNG_FISHERS[1], BUKIT, vessel_id="jukung-a")
    sea.catch(BADUNG_FISHERS[1], BUKIT, hours_ago=3.0)  # the same crew, no vessel named
    office = sea.client(OFFICE)
    assert _grounds(office)["features"] == [], "two boats, whatever their people log"
    sea.catch(BADUNG_FISHERS[2], BUKIT)
    [feature] = _grounds(office)["features"]
    assert feature["properties"]["vessels"] == 3


def test_the_outline_is_cells_and_last_seen_the_hour(sea: Sea) -> None:
    for v in ("jukung-1", "jukung-2", "jukung-3"):
        sea.sighting(sea.boat(v), BUKIT, hours_ago=1.3)
    [feature] = _grounds(sea.client(OFFICE))["features"]
    ring = feature["geometry"]["coordinates"][0]
    # BUKIT's one cell, 55 m wider each way: four corners, nothing of where the boats were.
    lat, lon = BUKIT[0] - 0.005, BUKIT[1] - 0.005  # its south-west corner
    assert sorted(map(tuple, ring[:-1])) == sorted(
        (round(x, 5), round(y, 5)) for x in (lon - 0.0005, lon + 0.0105) for y in (lat - 0.0005, lat + 0.0105))
    last = datetime.fromisoformat(feature["properties"]["last_seen"])
    assert (last.minute, last.second, last.microsecond) == (0, 0, 0)
    assert sea.now - timedelta(hours=2.3) < last <= sea.now - timedelta(hours=1.3)


def test_an_old_hotspot_scores_below_a_fresh_one_and_beyond_the_window_is_gone(sea: Sea) -> None:
    boats = [sea.boat(v) for v in ("jukung-1", "jukung-2", "jukung-3")]
    for v in boats:
        sea.sighting(v, BUKIT, hours_ago=0.5)
        sea.sighting(v, NUSA_DUA, hours_ago=18)
        sea.sighting(v, ONE_BOAT, hours_ago=30)
    office = sea.client(OFFICE)
    fresh, old = _grounds(office)["features"]
    assert fresh["id"] == ground_id_at(*BUKIT) and old["id"] == ground_id_at(*NUSA_DUA)
    assert fresh["properties"]["score"] == 1.0 > 0.2 > old["properties"]["score"] > 0.05  # 2^(-17.5/6) = 0.13
    assert office.get(f"/api/v1/fishing-grounds/{ground_id_at(*ONE_BOAT)}").status_code == 404
    since = (sea.now - timedelta(days=2)).isoformat()
    wider = _grounds(office, since=since)
    assert [f["id"] for f in wider["features"]] == [fresh["id"], old["id"], ground_id_at(*ONE_BOAT)]
    assert office.get(f"/api/v1/fishing-grounds/{ground_id_at(*ONE_BOAT)}", params={"since": since}).status_code == 200
    assert datetime.fromisoformat(wider["since"]) == datetime.fromisoformat(since)
    for bad in (sea.now - timedelta(days=15), sea.now + timedelta(hours=1)):
        r = office.get("/api/v1/fishing-grounds", params={"since": bad.isoformat()})
        assert r.status_code == 422, r.text
    assert office.get("/api/v1/fishing-grounds", params={"since": "2026-03-01T00:00:00"}).status_code == 422  # no offset


def test_the_species_filter(sea: Sea) -> None:
    for i, fisher in enumerate(BADUNG_FISHERS):
        sea.sighting(sea.boat(f"jukung-{i}"), NUSA_DUA)
        sea.catch(fisher, BUKIT, species="tongkol")
        sea.catch(fisher, None, species="cakalang")  # its position erased: skipped, no error
    sea.catch(BADUNG_FISHERS[0], BUKIT, species="kerapu")
    office = sea.client(OFFICE)
    assert len(_grounds(office)["features"]) == 2
    [tongkol] = _grounds(office, species="tongkol")["features"]
    assert tongkol["id"] == ground_id_at(*BUKIT) and tongkol["properties"]["species"] == ["tongkol"]
    assert _grounds(office, species="kerapu")["features"] == []  # one fisher's kerapu is not told
    assert _grounds(office, species="cakalang")["features"] == []
    assert office.get("/api/v1/fishing-grounds", params={"species": "paus"}).status_code == 422


def test_other_tenants_boats_count_only_where_the_deployment_shares(sea: Sea, default_config: TepiConfig) -> None:
    for v in ("jukung-1", "jukung-2"):
        sea.sighting(sea.boat(v), BUKIT)
    andon = sea.boat("andon-karangsong", tenant=INDRAMAYU)  # an Indramayu boat fishing off Bali
    sea.sighting(andon, BUKIT, tenant=INDRAMAYU)
    for v in ("kapal-1", "kapal-2", "kapal-3"):
        sea.sighting(sea.boat(v, tenant=INDRAMAYU), KARANGSONG, tenant=INDRAMAYU)
    ground = ground_id_at(*BUKIT)

    office = sea.client(OFFICE)
    assert _grounds(office)["features"] == [], "two own boats; Indramayu's do not count"
    assert office.get(f"/api/v1/fishing-grounds/{ground_id_at(*KARANGSONG)}").status_code == 404  # another tenant's ground
    indramayu = sea.client("Dinas Perikanan Indramayu", tenant=INDRAMAYU)
    assert [f["id"] for f in _grounds(indramayu)["features"]] == [ground_id_at(*KARANGSONG)]

    shared = sharing(default_config, INDRAMAYU, BADUNG_TENANT)
    office = sea.client(OFFICE, config=shared)
    features = {f["id"]: f["properties"] for f in _grounds(office)["features"]}
    assert set(features) == {ground, ground_id_at(*KARANGSONG)}, "Indramayu's boats now count for Badung"
    assert features[ground]["vessels"] == 3
    assert "andon" not in office.get("/api/v1/fishing-grounds").text
    # Sharing is one way: Badung did not share, so Indramayu's answer is as before.
    indramayu = sea.client("Dinas Perikanan Indramayu", tenant=INDRAMAYU, config=shared)
    assert [f["id"] for f in _grounds(indramayu)["features"]] == [ground_id_at(*KARANGSONG)]

    with Session(sea.engine) as s:
        assert ground_position(s, default_config, BADUNG_TENANT, ground, sea.now) is None
        assert ground_position(s, default_config, BADUNG_TENANT, ground_id_at(*KARANGSONG), sea.now) is None
        lat, lon = ground_position(s, shared, BADUNG_TENANT, ground, sea.now) or (0.0, 0.0)
        assert abs(lat - BUKIT[0]) < 0.002 and abs(lon - BUKIT[1]) < 0.002
        assert ground_position(s, shared, INDRAMAYU, ground_id_at(*KARANGSONG), sea.now) is not None


def test_who_may_read_grounds(sea: Sea) -> None:
    for v in ("jukung-1", "jukung-2", "jukung-3"):
        sea.sighting(sea.boat(v), BUKIT)
    for user in (BADUNG_FISHERS[0], OFFICE, "Admin Badung"):
        assert sea.client(user).get("/api/v1/fishing-grounds").status_code == 200
    for user in ("Viewer Badung", "Petugas BPBD Badung"):
        r = sea.client(user).get(f"/api/v1/fishing-grounds/{ground_id_at(*BUKIT)}")
        assert r.status_code == 403, r.text
