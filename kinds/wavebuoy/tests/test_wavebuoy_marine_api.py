"""`GET /marine-conditions` and the CAP messages of `marine` alerts, through the real app.

Badung's forecast file is the test's: the Badung Strait and the sea south of Bali (both in
Badung's region), plus the Java Sea off Indramayu (outside it). DKI Jakarta has no sea section.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from api_people import BADUNG_TENANT, app_settings
from cap_schema import CAP, text, validate_cap
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from wavebuoy_marine_seas import forecast_doc, write_forecast

from api.testing import bearer
from central.db import writer
from core.config import TepiConfig
from kinds.wavebuoy.marine_alerts import MarineWatch

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

API = "/api/v1/marine-conditions"
NOW = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
BADUNG_OFFICER = (BADUNG_TENANT, "Petugas BPBD Badung")
SEAS = {"selat-badung": (0.8, 10.0), "perairan-selatan-bali": (2.8, 22.0), "perairan-utara-indramayu": (1.5, 16.0)}


@pytest.fixture
def sea_config(default_config: TepiConfig, tmp_path: Path) -> TepiConfig:
    tenants = [
        t.model_copy(update={"sea": t.sea.model_copy(update={"forecast_file": tmp_path / f"{t.id}.geojson"})}) if t.sea else t
        for t in default_config.tenants
    ]
    return default_config.model_copy(update={"tenants": tenants})


@pytest.fixture
def forecast_path(tmp_path: Path) -> Path:
    return write_forecast(tmp_path / "kab-badung.geojson", forecast_doc(NOW - timedelta(hours=2), 24, SEAS))


@pytest.fixture
def sea_client(database_url: str, sea_config: TepiConfig, engine: Engine, keys: dict, forecast_path: Path) -> Iterator[TestClient]:
    from api.main import create_app

    app = create_app(sea_config, app_settings(database_url, level_store="sql"), registry=CollectorRegistry())
    with TestClient(app, headers=bearer(keys[BADUNG_OFFICER])) as c:
        yield c


def _features(body: dict) -> dict[str, dict]:
    return {f["id"]: f for f in body["features"]}


def test_fresh_forecast_labels_each_area_of_the_region(sea_client: TestClient) -> None:
    r = sea_client.get(API)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["forecast"]["current"] is True
    assert body["bbox"] == [114.4, -9.2, 115.8, -8.0]  # Badung's sea region by default
    assert body["small_boat_limits"] == {"wave_m": 1.25, "wind_kn": 15.0}
    areas = _features(body)
    assert set(areas) == {"area:selat-badung", "area:perairan-selatan-bali"}  # Indramayu is not in the box
    strait = areas["area:selat-badung"]["properties"]
    assert (strait["wave_m"], strait["category"]["code"], strait["above_small_boat_limits"], strait["reasons"]) == (0.8, "rendah", False, [])
    south = areas["area:perairan-selatan-bali"]
    assert south["geometry"]["type"] == "Polygon"
    props = south["properties"]
    assert props["category"] == {"code": "tinggi", "label_id": "Tinggi", "label_en": "Rough"}
    assert props["above_small_boat_limits"] is True and len(props["reasons"]) == 2
    # Without `at`, the hour now (the suite may run past the hour NOW was taken in).
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    assert props["hour_start"] in {hour.strftime("%Y-%m-%dT%H:%M:%SZ"), (hour - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}


def test_a_bbox_keeps_the_areas_it_meets(sea_client: TestClient) -> None:
    strait = sea_client.get(API, params={"bbox": "115.40,-8.75,115.50,-8.65"}).json()
    assert list(_features(strait)) == ["area:selat-badung"]
    java_sea = sea_client.get(API, params={"bbox": "108.0,-6.5,108.8,-5.5"}).json()
    assert list(_features(java_sea)) == ["area:perairan-utara-indramayu"]
    assert java_sea["features"][0]["properties"]["category"]["code"] == "sedang"


def test_a_stale_or_missing_forecast_says_so_and_shows_no_area(sea_client: TestClient, forecast_path: Path) -> None:
    later = (NOW + timedelta(days=2)).isoformat()
    body = sea_client.get(API, params={"at": later}).json()
    assert body["features"] == []
    assert body["forecast"]["current"] is False and body["forecast"]["problem"].startswith("no current forecast")
    assert body["forecast"]["problem_code"] == "not_current"  # for a client to word in its reader's language
    forecast_path.unlink()
    body = sea_client.get(API).json()
    assert body["features"] == [] and body["forecast"] == {
        "current": False, "problem": "no current forecast: the forecast file is missing", "problem_code": "file_missing",
        "issued": None, "valid_from": None, "valid_until": None, "source": None,
    }


def test_a_tenant_without_a_sea_section_is_told_so(make_client) -> None:
    body = make_client(level_store="sql").get(API).json()  # DKI Jakarta's duty officer
    assert body["features"] == [] and body["forecast"]["current"] is False
    assert "no sea section" in body["forecast"]["problem"] and body["small_boat_limits"] is None
    assert body["forecast"]["problem_code"] == "no_sea_section"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # refused before any query: one database is enough
@pytest.mark.parametrize(
    "bbox",
    ["115,-9,116", "a,b,c,d", "116,-9,115,-8", "115,-8,116,-9", "100,-9,115,-8", "115,-95,116,-8", "nan,-9,116,-8", "1e999,-9,116,-8"],
)
def test_a_bad_or_huge_bbox_is_422(sea_client: TestClient, bbox: str) -> None:
    r = sea_client.get(API, params={"bbox": bbox})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_query" and "bbox" in r.json()["detail"][0]["msg"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # refused before any query: one database is enough
@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "2026-12-07T00:00:00"])
def test_a_bad_time_is_422(sea_client: TestClient, at: str) -> None:
    assert sea_client.get(API, params={"at": at}).status_code == 422


def _cap(client: TestClient, alert_id: int, revision: int) -> bytes:
    r = client.get(f"/api/v1/alerts/{alert_id}/cap", params={"revision": revision})
    assert r.status_code == 200, r.text
    return r.content


def test_a_marine_alert_comes_with_cap_naming_the_sea_area_polygon(
    sea_client: TestClient, engine: Engine, sea_config: TepiConfig, forecast_path: Path
) -> None:
    watch = MarineWatch.from_config(sea_config, every_s=0)
    storm = {**SEAS, "perairan-selatan-bali": (1.8, 18.0)}
    for values in (storm, {**storm, "perairan-selatan-bali": (4.5, 35.0)}, {**SEAS, "perairan-selatan-bali": (0.9, 10.0)}):
        write_forecast(forecast_path, forecast_doc(NOW - timedelta(hours=1), 24, values))
        with Session(writer(engine)) as s, s.begin():
            watch.poll(s, NOW)
    [alert] = [a for a in sea_client.get("/api/v1/alerts", params={"limit": 100}).json()["data"] if a["type"] == "marine"]
    assert (alert["kind"], alert["subject"], alert["station"], alert["status"], alert["revision"]) == (
        "wavebuoy", "perairan-selatan-bali", None, "cleared", 3
    )
    docs = [validate_cap(_cap(sea_client, alert["id"], n)) for n in (1, 2, 3)]
    assert [text(d, "msgType") for d in docs] == ["Alert", "Update", "Cancel"]
    first = docs[0]
    assert text(first, "sent").endswith("+08:00")  # Bali's waters: WITA
    assert (text(first, "info/category"), text(first, "info/event"), text(first, "info/certainty")) == ("Met", "Gelombang Tinggi", "Likely")
    assert (text(first, "info/urgency"), text(first, "info/severity"), text(first, "info/responseType")) == ("Expected", "Moderate", "Avoid")
    assert text(first, "info/area/areaDesc") == "Perairan Selatan Bali"
    polygon = text(first, "info/area/polygon").split(" ")
    assert polygon[0] == polygon[-1] == "-9.40000,114.90000" and len(polygon) == 5
    assert first.find(f"{CAP}info/{CAP}area/{CAP}circle") is None
    infos = first.findall(f"{CAP}info")
    assert [i.findtext(f"{CAP}language") for i in infos] == ["id-ID", "en-US"]
    assert infos[1].findtext(f"{CAP}event") == "High waves"
    assert all(i.find(f"{CAP}web") is None for i in infos), "no link to the river stations' public page"
    params = {p.findtext(f"{CAP}valueName"): p.findtext(f"{CAP}value") for p in infos[0].findall(f"{CAP}parameter")}
    assert params == {
        "TEPI_ALERT_TYPE": "marine", "SEA_AREA": "perairan-selatan-bali", "SOURCE": "forecast",
        "WAVE_HEIGHT_M": "1.8", "WIND_SPEED_KN": "18.0", "BMKG_WAVE_CATEGORY": "sedang",
    }
    assert "1.8 m (Sedang)" in text(first, "info/headline")
    assert text(docs[1], "info/severity") == "Extreme" and "Sangat Tinggi" in text(docs[1], "info/headline")
    assert (text(docs[2], "info/urgency"), text(docs[2], "info/responseType")) == ("Past", "AllClear")
    # The Atom index lists it, pointing at its current message.
    feed = sea_client.get("/api/v1/alerts/cap", params={"tenant": BADUNG_TENANT})
    assert feed.status_code == 200 and f"/alerts/{alert['id']}/cap" in feed.text


def test_buoys_in_the_box_come_with_their_newest_reading(sea_client: TestClient, engine: Engine) -> None:
    from kinds.wavebuoy.state import WaveBuoy

    with Session(writer(engine)) as s, s.begin():
        s.add(WaveBuoy(id="buoy-selat-badung", tenant_id=BADUNG_TENANT, name="Pelampung Selat Badung", lat=-8.72, lon=115.42,
                       observed_at=NOW - timedelta(minutes=30), hs_m=2.6, tp_s=9.0, wind_kn=14.0))
        s.add(WaveBuoy(id="buoy-karangsong", tenant_id="kab-indramayu", name="Pelampung Karangsong", lat=-6.05, lon=108.35,
                       observed_at=NOW - timedelta(minutes=30), hs_m=0.4, tp_s=5.0, wind_kn=6.0))
    body = sea_client.get(API, params={"at": NOW.isoformat()}).json()
    buoy = _features(body)["buoy:buoy-selat-badung"]
    assert buoy["geometry"] == {"type": "Point", "coordinates": [115.42, -8.72]}
    props = buoy["properties"]
    assert (props["name"], props["wave_m"], props["category"]["code"], props["above_small_boat_limits"], props["fresh"]) == (
        "Pelampung Selat Badung", 2.6, "tinggi", True, True
    )
    assert props["observed_at"] == (NOW - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "buoy:buoy-karangsong" not in _features(body)  # another tenant's buoy, even in a box holding it
    assert "buoy:buoy-karangsong" not in _features(sea_client.get(API, params={"bbox": "108.0,-6.5,108.8,-5.5"}).json())
    outside = sea_client.get(API, params={"bbox": "115.0,-9.4,115.3,-9.0"}).json()
    assert "buoy:buoy-selat-badung" not in _features(outside)


def test_cap_gives_every_part_of_a_multipolygon_area_to_five_decimals_and_says_when_an_area_is_no_longer_watched(
    sea_client: TestClient, engine: Engine, sea_config: TepiConfig, forecast_path: Path
) -> None:
    """South of Bali as two parts (off the Bukit and off Nusa Penida), corners not on round
    degrees: one `<polygon>` per part, each corner as the forecast gave it (5 decimals, ~1 m)."""
    bukit = [[115.12345, -9.40321], [115.80987, -9.40321], [115.80987, -8.90111], [115.12345, -8.90111], [115.12345, -9.40321]]
    west = [[114.90123, -9.30456], [115.05678, -9.30456], [115.05678, -9.10789], [114.90123, -9.10789], [114.90123, -9.30456]]
    doc = forecast_doc(NOW - timedelta(hours=1), 24, {**SEAS, "perairan-selatan-bali": (3.1, 24.0)})
    [south] = [f for f in doc["features"] if f["id"] == "perairan-selatan-bali"]
    south["geometry"] = {"type": "MultiPolygon", "coordinates": [[west], [bukit]]}
    write_forecast(forecast_path, doc)
    watch = MarineWatch.from_config(sea_config, every_s=0)
    with Session(writer(engine)) as s, s.begin():
        watch.poll(s, NOW)
    [alert] = [a for a in sea_client.get("/api/v1/alerts", params={"limit": 100}).json()["data"] if a["type"] == "marine"]
    first = validate_cap(_cap(sea_client, alert["id"], 1))
    for info in first.findall(f"{CAP}info"):
        polygons = [p.text for p in info.findall(f"{CAP}area/{CAP}polygon")]
        assert polygons == [
            " ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in ring) for ring in (bukit, west)  # largest first
        ]
        assert "-9.40321,115.12345" in polygons[0] and "-9.30456,114.90123" in polygons[1]
    # The deployment drops the area from its forecast: the alert ends, and says why.
    write_forecast(forecast_path, forecast_doc(NOW - timedelta(hours=1), 24, {"selat-badung": (0.8, 10.0)}))
    with Session(writer(engine)) as s, s.begin():
        watch.poll(s, NOW + timedelta(minutes=1))
    cancel = validate_cap(_cap(sea_client, alert["id"], 2))
    assert text(cancel, "msgType") == "Cancel" and "area_unwatched" in text(cancel, "note")
    assert text(cancel, "info/headline") == "Berakhir: Perairan Selatan Bali tidak lagi dipantau"
    assert len(cancel.findall(f"{CAP}info/{CAP}area/{CAP}polygon")) == 4  # both parts, in both languages
