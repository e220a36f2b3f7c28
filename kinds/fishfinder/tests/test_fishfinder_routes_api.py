"""`GET /api/v1/routes` on the real coast (global-land-mask cropped to Badung's region), over a
real state store (SQLite and PostgreSQL), with forecast and hazards files as a deployment keeps
them: around Bukit, around a hazard, around a storm cell or no-go, never "go" without a current
forecast, 422s that say why, and who may plan for which vessel."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from api_people import BADUNG_TENANT, DKI, ClientFactory
from shapely.geometry import Polygon
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.testing import TEST_PEPPER, issue_keys
from central.db import writer
from central.models import User
from core.config import TepiConfig, load_config
from kinds.fishfinder.api.sea_regions import cropped
from kinds.fishfinder.sea_mask import Box
from kinds.fishfinder.sea_weather import sample_line
from kinds.fishfinder.state import register_vessel

BENOA = (-8.7394, 115.2083)
SOUTH_OF_BUKIT = (-8.95, 115.12)
FISHER, OTHER_FISHER = "Nelayan Benoa", "Nelayan Lain"
#: A restricted zone across the lane off Bukit's south coast (lon, lat).
ZONE = Polygon([(115.15, -8.93), (115.20, -8.93), (115.20, -8.86), (115.15, -8.86)])
#: A storm cell east and south of Bukit's tip, across the way from Benoa to the ground.
STORM = Polygon([(115.17, -8.92), (115.32, -8.92), (115.32, -8.84), (115.17, -8.84)])
DEPART = datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)


def _box(w: float, s: float, e: float, n: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def forecast(path: Path, areas: list[tuple[str, dict[str, Any], float, float]], start: datetime = DEPART - timedelta(hours=1),
             hours: int = 24) -> None:  # fmt: skip
    """A forecast file of `areas` (id, geometry, wave m, wind kn), the same every hour from `start`."""
    features = [
        {"type": "Feature", "id": area_id, "geometry": geometry, "properties": {"name": area_id.replace("-", " ").title(), "hours": [
            {"time": (start + timedelta(hours=h)).isoformat(), "wave_m": wave, "wind_kn": wind} for h in range(hours)]}}
        for area_id, geometry, wave, wind in areas
    ]  # fmt: skip
    path.write_text(json.dumps({
        "type": "FeatureCollection", "issued": start.isoformat(), "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(hours=hours)).isoformat(), "source": "test", "features": features,
    }))  # fmt: skip


CALM = ("selat-badung", _box(114.4, -9.2, 115.8, -8.0), 0.4, 8.0)


@pytest.fixture(scope="module")
def sea_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of Badung's forecast and hazards files: one for the module, so that every test
    has the same configuration, and with it a copy of the same state store (`StateTemplates`)."""
    return tmp_path_factory.mktemp("badung-sea")


@pytest.fixture(autouse=True)
def _fresh_sea_files(sea_files: Path) -> None:
    """Each test starts with the hazards file of `ZONE` and no forecast, as in a folder of its own."""
    (sea_files / "hazards.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "test zone"}, "geometry": shapely.geometry.mapping(ZONE)}]}))  # fmt: skip
    (sea_files / "forecast.geojson").unlink(missing_ok=True)


@pytest.fixture
def default_config(sea_files: Path) -> TepiConfig:
    """The shipped configuration, Badung's forecast and hazards in `sea_files`."""
    cfg = load_config()
    tenants = [
        t.model_copy(update={"sea": t.sea.model_copy(update={"forecast_file": sea_files / "forecast.geojson",
                                                              "hazards_file": sea_files / "hazards.geojson"})})
        if t.id == BADUNG_TENANT and t.sea is not None else t
        for t in cfg.tenants
    ]  # fmt: skip
    return cfg.model_copy(update={"tenants": tenants})


@pytest.fixture
def boats(engine: Engine, keys: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """Badung's fisher owns `km-benoa` (6 kn, 4 l/h, waves 2 m, wind 20 kn); another fisher owns `km-lain`."""
    people = [(BADUNG_TENANT, "fisher", FISHER), (BADUNG_TENANT, "fisher", OTHER_FISHER), (DKI, "fisher", "Nelayan DKI")]
    keys.update(issue_keys(engine, TEST_PEPPER, people))
    with Session(writer(engine)) as s, s.begin():
        ids = {name: s.query(User.id).filter(User.name == name).scalar() for _t, _r, name in people}
        now = datetime.now(timezone.utc)
        register_vessel(s, vessel_id="km-benoa", tenant=BADUNG_TENANT, name="KM Benoa", home_port="Benoa", gateway_id="gw-km-benoa",
                        now=now, speed_kn=6.0, fuel_l_per_h=4.0, wave_limit_m=2.0, wind_limit_kn=20.0, owner_user=ids[FISHER])
        register_vessel(s, vessel_id="km-lain", tenant=BADUNG_TENANT, name="KM Lain", home_port="Benoa", gateway_id="gw-km-lain",
                        now=now, speed_kn=5.0, owner_user=ids[OTHER_FISHER])
        register_vessel(s, vessel_id="km-dki", tenant=DKI, name="KM DKI", home_port="Muara Angke", gateway_id="gw-km-dki",
                        now=now, speed_kn=5.0, owner_user=ids["Nelayan DKI"], home=(-6.10, 106.77))  # fmt: skip
    return keys


def _route(client: Any, to: tuple[float, float] | str = SOUTH_OF_BUKIT, vessel: str = "km-benoa", start: tuple[float, float] = BENOA) -> Any:
    target = to if isinstance(to, str) else f"{to[0]},{to[1]}"
    return client.get("/api/v1/routes", params={"from": f"{start[0]},{start[1]}", "to": target, "vessel": vessel,
                                                "depart": DEPART.isoformat()})  # fmt: skip


def _line(answer: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    lonlat = np.array(answer["geometry"]["coordinates"])
    return lonlat[:, 1], lonlat[:, 0]


def _at_100_m(answer: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    lat, lon = _line(answer)
    la, lo, _ = sample_line(list(zip(lat, lon)), 100.0)
    return la, lo


def _badung(make_client: ClientFactory, name: str = FISHER) -> Any:
    return make_client(as_user=(BADUNG_TENANT, name), level_store="sql")


def test_benoa_to_south_of_bukit_goes_around_bukit_and_avoids_the_zone(
    boats: dict[tuple[str, str], str], make_client: ClientFactory, default_config: TepiConfig
) -> None:
    forecast(default_config.tenants[1].sea.forecast_file, [CALM])  # type: ignore[union-attr]
    answer = _route(_badung(make_client))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["type"] == "Feature" and body["geometry"]["type"] == "LineString"
    lat, lon = _line(body)
    assert (lat[0], lon[0]) == BENOA and (lat[-1], lon[-1]) == SOUTH_OF_BUKIT, "[lon, lat] order, the given ends"
    assert (lon > 115.22).any() and (lat < -8.85).any(), "around Bukit's east cape and south of its cliffs"
    la, lo = _at_100_m(body)
    assert not cropped(Box(-9.2, -8.0, 114.4, 115.8)).is_land(la, lo).any(), "0 land crossings every 100 m"
    assert not shapely.intersects_xy(ZONE, lo, la).any(), "the hazard polygon is avoided"
    p = body["properties"]
    assert (p["verdict"], p["reasons"]) == ("go", [])
    assert p["forecast"]["valid_until"].startswith("2026-12-08T00:00:00")
    assert p["distance_nm"] == pytest.approx(p["distance_km"] / 1.852, abs=1e-3)
    assert p["duration_h"] == pytest.approx(p["distance_nm"] / 6.0, rel=1e-3)
    eta = datetime.fromisoformat(p["eta"])
    assert eta - DEPART == pytest.approx(timedelta(hours=p["duration_h"]), abs=timedelta(seconds=10))
    assert p["fuel_l_without_reserve"] == pytest.approx(4.0 * p["duration_h"], abs=0.1)
    assert p["fuel_l"] == pytest.approx(1.5 * 4.0 * p["duration_h"], abs=0.1)
    assert p["start_snapped"] is None and p["limits"] == {"wave_m": 2.0, "wind_kn": 20.0}


def test_a_storm_cell_across_the_way_is_gone_around_or_the_verdict_is_no_go(
    boats: dict[tuple[str, str], str], make_client: ClientFactory, default_config: TepiConfig
) -> None:
    path = default_config.tenants[1].sea.forecast_file  # type: ignore[union-attr]
    client = _badung(make_client)
    forecast(path, [CALM])
    calm = _route(client).json()
    lat, lon = _line(calm)
    la, lo, _ = sample_line(list(zip(lat, lon)), 100.0)
    assert shapely.intersects_xy(STORM, lo, la).any(), "the storm cell lies across the calm day's route"

    forecast(path, [CALM, ("badai", shapely.geometry.mapping(STORM), 3.5, 30.0)])
    around = _route(client).json()
    la, lo = _at_100_m(around)
    assert not shapely.intersects_xy(STORM, lo, la).any(), "around the storm cell"
    assert not cropped(Box(-9.2, -8.0, 114.4, 115.8)).is_land(la, lo).any()
    p = around["properties"]
    assert p["verdict"] == "caution" and [r["code"] for r in p["reasons"]] == ["detour_around_weather"]
    assert p["distance_km"] > calm["properties"]["distance_km"]

    # The storm over the ground itself: no way avoids it; the plain route, no-go, naming the area and hours.
    over_ground = ("badai", _box(115.05, -9.0, 115.32, -8.84), 3.5, 30.0)
    forecast(path, [CALM, over_ground])
    p = _route(client).json()["properties"]
    assert p["verdict"] == "no-go"
    codes = [r["code"] for r in p["reasons"]]
    assert codes[:2] == ["no_weather_free_route", "above_vessel_limits"] or set(codes) >= {"no_weather_free_route", "above_vessel_limits"}
    text = next(r["text"] for r in p["reasons"] if r["code"] == "above_vessel_limits")
    # Times as a fisher in Bali reads them (WITA, UTC+8); the answer's own times stay UTC.
    assert re.search(r"Badai 2026-12-07 (09|1\d):00-(1\d):00 WITA, waves up to 3.5 m, wind up to 30 kn", text), text
    assert "UTC" not in text and p["depart"].endswith(("Z", "+00:00"))


def test_no_current_forecast_is_never_go(
    boats: dict[tuple[str, str], str], make_client: ClientFactory, default_config: TepiConfig
) -> None:
    path = default_config.tenants[1].sea.forecast_file  # type: ignore[union-attr]
    client = _badung(make_client)
    p = _route(client).json()["properties"]  # no file at all
    assert (p["verdict"], p["forecast"]) == ("caution", None)
    assert p["reasons"][0]["code"] == "no_forecast" and "no current forecast" in p["reasons"][0]["text"]
    forecast(path, [CALM], start=DEPART - timedelta(days=2))  # stale: over a day before departure
    p = _route(client).json()["properties"]
    assert p["verdict"] == "caution" and "no current forecast" in p["reasons"][0]["text"]
    forecast(path, [CALM], start=DEPART - timedelta(minutes=30), hours=1)  # ends before the boat arrives
    p = _route(client).json()["properties"]
    assert p["verdict"] == "caution" and p["reasons"][0]["code"] == "no_forecast" and p["forecast"] is not None
    forecast(path, [("bukit-timur", _box(115.15, -9.0, 115.35, -8.70), 0.4, 8.0)])  # covers only part of the way
    p = _route(client).json()["properties"]
    assert p["verdict"] == "caution" and p["reasons"][0]["code"] == "no_forecast"
    forecast(path, [("selat-badung", CALM[1], 1.6, 12.0)])  # above BMKG's 1.25 m, within the boat's 2 m
    p = _route(client).json()["properties"]
    assert p["verdict"] == "caution" and [r["code"] for r in p["reasons"]] == ["above_small_boat_limits"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no way by sea whatever the database: one is enough
@pytest.mark.parametrize(
    ("to", "start", "why", "code"),
    [
        ((-8.30, 115.16), BENOA, "on land, more than 3 cells", "on_land"),  # Bali's highlands (Bedugul)
        ((-8.7458, 115.1958), SOUTH_OF_BUKIT, "no way by sea", "no_sea_way"),  # Benoa's inner bay, cut off by the clearance
        ((-8.90, 115.175), BENOA, "destination -8.9000, 115.1750 is in a hazard zone", "in_hazard"),  # inside the restricted zone
        ((-10.0, 115.0), BENOA, "outside the mask's box", "outside_region"),
        ("-8.9,nowhere", BENOA, "not a position", "not_a_position"),
        ("123,115", BENOA, "lat -90..90", "not_a_position"),  # a comma: a position, or a 422 saying why, never a ground id
        ("-8.9,115,2", BENOA, "not a position", "not_a_position"),
        ("nan,115", BENOA, "not a position", "not_a_position"),
        ("1e-3,115", BENOA, "outside the mask's box", "outside_region"),  # a number all the same: on the equator
        ("+8.95,115.12", BENOA, "outside the mask's box", "outside_region"),  # north of the equator, not Bali's south
    ],
    ids=["inland", "land-locked-water", "in-a-hazard", "outside-the-region", "malformed", "three-digit-lat", "three-parts",
         "nan", "exponent", "plus-sign"],
)
def test_no_sea_route_is_a_422_that_says_why(
    boats: dict[tuple[str, str], str], make_client: ClientFactory, to: Any, start: tuple[float, float], why: str, code: str
) -> None:
    """Why in words (`msg`) and as a stable `code` the console words in its reader's language."""
    answer = _route(_badung(make_client), to=to, start=start)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == code and why in answer.json()["detail"][0]["msg"]


def test_a_plus_sign_is_a_position_and_a_name_without_a_comma_a_ground(
    boats: dict[tuple[str, str], str], make_client: ClientFactory
) -> None:
    client = _badung(make_client)
    answer = _route(client, to="-8.95,+115.12")
    assert answer.status_code == 200, answer.text
    assert answer.json()["geometry"]["coordinates"][-1] == [115.12, -8.95]
    answer = _route(client, to="fg-s0895-e11512")
    assert answer.status_code == 404 and "fishing ground" in answer.json()["detail"]


def _storm_over_the_ground_from(path: Path, start_utc: datetime) -> None:
    """CALM everywhere; over the ground south of the Bukit, calm until `start_utc`, then 3.5 m and 30 kn."""
    forecast(path, [CALM])
    body = json.loads(path.read_text())
    hours = [datetime.fromisoformat(h["time"]) for h in body["features"][0]["properties"]["hours"]]
    body["features"].append({"type": "Feature", "id": "badai", "geometry": _box(115.05, -9.0, 115.16, -8.92), "properties": {
        "name": "Badai", "hours": [{"time": h.isoformat(), "wave_m": 3.5 if h >= start_utc else 0.4,
                                    "wind_kn": 30.0 if h >= start_utc else 8.0} for h in hours]}})  # fmt: skip
    path.write_text(json.dumps(body))


def test_a_storm_reaching_the_ground_after_arrival_is_no_go_within_the_stay(
    boats: dict[tuple[str, str], str], make_client: ClientFactory, default_config: TepiConfig
) -> None:
    path = default_config.tenants[1].sea.forecast_file  # type: ignore[union-attr]
    client = _badung(make_client)
    forecast(path, [CALM])
    calm = _route(client).json()["properties"]
    eta = datetime.fromisoformat(calm["eta"])
    assert (calm["verdict"], calm["stay_h"]) == ("go", 3.0)
    storm = (eta + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)  # 1-2 h after arrival
    _storm_over_the_ground_from(path, storm)
    p = _route(client).json()["properties"]
    assert p["verdict"] == "no-go" and [r["code"] for r in p["reasons"]] == ["above_vessel_limits"], p["reasons"]
    assert p["eta"] == calm["eta"] and p["distance_km"] == calm["distance_km"], "the way itself is calm: the same route"
    local = storm.astimezone(timezone(timedelta(hours=8)))
    assert f"at the destination from {local:%H:%M}, within the 3 h stay: Badai {local:%Y-%m-%d %H:%M}-" in p["reasons"][0]["text"]
    # Leaving the ground before the storm: go.
    params = {"from": f"{BENOA[0]},{BENOA[1]}", "to": f"{SOUTH_OF_BUKIT[0]},{SOUTH_OF_BUKIT[1]}", "vessel": "km-benoa",
              "depart": DEPART.isoformat()}
    short = client.get("/api/v1/routes", params={**params, "stay_h": 0.5}).json()["properties"]
    assert (short["verdict"], short["stay_h"]) == ("go", 0.5)
    for bad in ("-1", "25", "lama"):
        assert client.get("/api/v1/routes", params={**params, "stay_h": bad}).status_code == 422


def test_a_vessel_without_registered_limits_gets_the_tenant_s_small_boat_limits(
    boats: dict[tuple[str, str], str], database_url: str, default_config: TepiConfig
) -> None:
    """`km-lain` has no wave or wind limit registered (0): both are the tenant's small-boat
    limits, BMKG's 1.25 m and 15 kn by default, or what the tenant's sea section says."""
    from prometheus_client import CollectorRegistry

    from api.main import create_app
    from api.testing import bearer
    from api_people import app_settings
    from fastapi.testclient import TestClient

    forecast(default_config.tenants[1].sea.forecast_file, [("selat-badung", CALM[1], 0.4, 13.0)])  # type: ignore[union-attr]
    strict = default_config.model_copy(update={"tenants": [
        t.model_copy(update={"sea": t.sea.model_copy(update={"small_boat_wave_m": 1.0, "small_boat_wind_kn": 12.0})})
        if t.id == BADUNG_TENANT and t.sea is not None else t for t in default_config.tenants]})  # fmt: skip
    limits = []
    for config in (default_config, strict):
        app = create_app(config, app_settings(database_url, level_store="sql"), registry=CollectorRegistry())
        with TestClient(app, headers=bearer(boats[(BADUNG_TENANT, "Admin Badung")])) as admin:
            p = _route(admin, vessel="km-lain").json()["properties"]
        limits.append((p["limits"], p["verdict"]))
    assert limits == [({"wave_m": 1.25, "wind_kn": 15.0}, "go"), ({"wave_m": 1.0, "wind_kn": 12.0}, "no-go")], \
        "13 kn: within BMKG's 15, above the tenant's own 12"


def test_vessels_and_tenants_that_cannot_be_routed(boats: dict[tuple[str, str], str], make_client: ClientFactory) -> None:
    fisher = _badung(make_client)
    lain = _route(fisher, vessel="km-lain")
    missing = _route(fisher, vessel="km-nowhere")
    foreign = _route(fisher, vessel="km-dki")
    assert lain.status_code == missing.status_code == foreign.status_code == 404, "another fisher's, none, another tenant's"
    assert lain.json()["detail"].replace("km-lain", "x") == missing.json()["detail"].replace("km-nowhere", "x")
    admin = make_client(as_user=(BADUNG_TENANT, "Admin Badung"), level_store="sql")
    assert _route(admin, vessel="km-lain").status_code == 200, "the admin plans for any of the tenant's vessels"
    dki = make_client(as_user=(DKI, "Nelayan DKI"), level_store="sql")
    answer = _route(dki, vessel="km-dki", start=(-6.05, 106.77), to=(-5.9, 106.8))
    assert answer.status_code == 422 and "no sea section" in answer.json()["detail"][0]["msg"]
    assert answer.json()["code"] == "no_sea_section"
    viewer = make_client(as_user=(DKI, "Viewer DKI"), level_store="sql")
    assert _route(viewer, vessel="km-dki").status_code == 403


@pytest.mark.parametrize("content", ["{not json", '{"type": "FeatureCollection", "features": [{"type": "Feature", '
                                     '"geometry": {"type": "Point", "coordinates": [115.2, -8.9]}}]}'], ids=["not-json", "a-point"])  # fmt: skip
def test_an_invalid_hazards_file_stops_the_start_naming_the_file(
    database_url: str, engine: Engine, default_config: TepiConfig, content: str
) -> None:
    from prometheus_client import CollectorRegistry

    from api.errors import StartupError
    from api.main import create_app
    from api_people import app_settings
    from fastapi.testclient import TestClient

    hazards = default_config.tenants[1].sea.hazards_file  # type: ignore[union-attr]
    hazards.write_text(content)
    app = create_app(default_config, app_settings(database_url), registry=CollectorRegistry())
    with pytest.raises(StartupError, match=rf"tenant kab-badung: hazards file {re.escape(str(hazards))}"):
        with TestClient(app):
            pass


def test_the_sample_hazards_file_loads_and_cites_its_source() -> None:
    from kinds.fishfinder.api.sea_regions import load_hazards

    path = Path(__file__).resolve().parents[1] / "sample-hazards.geojson"
    zones = load_hazards(path)
    assert zones and all(z.is_valid for z in zones)
    features = json.loads(path.read_text())["features"]
    assert all("source" in f["properties"] and "http" in f["properties"]["source"] for f in features)


def test_a_role_that_may_not_read_grounds_cannot_route_to_one(boats: dict[tuple[str, str], str], make_client: ClientFactory) -> None:
    """The disaster office plans routes (a rescue) but does not know where the fish are: naming a
    ground, published or not, is a 403 that says to give a position, never the ground's place."""
    bpbd = make_client(as_user=(BADUNG_TENANT, "Petugas BPBD Badung"), level_store="sql")
    for ground in ("fg-s0895-e11512", "fg-n0000-e00000"):
        answer = _route(bpbd, to=ground)
        assert answer.status_code == 403 and "give the destination as lat,lon" in answer.json()["detail"], answer.text
    assert _route(bpbd).status_code == 200, "a position is fine"
