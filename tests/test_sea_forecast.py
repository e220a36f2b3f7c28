"""The sea-area forecast file: BMKG's categories, lookups by time, validation, and a file that
changes, disappears or expires while the API runs."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from core.config import TepiConfig
from core.sea_forecast import SeaForecastError, SeaForecastFile, parse_sea_forecast, wave_category

T0 = datetime(2026, 12, 7, 0, tzinfo=timezone.utc)
SQUARE = {"type": "Polygon", "coordinates": [[[115.0, -9.0], [115.5, -9.0], [115.5, -8.5], [115.0, -8.5], [115.0, -9.0]]]}


def forecast(hours: list[tuple[float, float]] | None = None, **overrides: object) -> dict:
    hours = hours if hours is not None else [(0.8, 10.0), (1.6, 18.0), (3.0, 25.0)]
    doc = {
        "type": "FeatureCollection",
        "issued": T0.isoformat(),
        "valid_from": T0.isoformat(),
        "valid_until": (T0 + timedelta(hours=len(hours))).isoformat(),
        "source": "test",
        "features": [
            {
                "type": "Feature",
                "id": "selat-badung",
                "geometry": SQUARE,
                "properties": {
                    "name": "Selat Badung",
                    "hours": [
                        {"time": (T0 + timedelta(hours=k)).isoformat(), "wave_m": w, "wind_kn": v} for k, (w, v) in enumerate(hours)
                    ],
                },
            }
        ],
    }
    doc.update(overrides)
    return doc


@pytest.mark.parametrize(
    ("height", "code"),
    [(0.0, "tenang"), (0.49, "tenang"), (0.5, "rendah"), (1.24, "rendah"), (1.25, "sedang"), (2.5, "tinggi"),
     (4.0, "sangat_tinggi"), (6.0, "ekstrem"), (8.99, "ekstrem"), (9.0, "sangat_ekstrem"), (14.0, "fenomenal")],
)
def test_bmkg_categories_put_a_bound_in_the_higher_category(height: float, code: str) -> None:
    assert wave_category(height).code == code


@pytest.mark.parametrize("height", [-0.1, float("nan"), float("inf")])
def test_an_impossible_wave_height_has_no_category(height: float) -> None:
    with pytest.raises(ValueError):
        wave_category(height)


def test_each_hour_holds_for_one_hour_and_nothing_outside_the_hours() -> None:
    fc = parse_sea_forecast(json.dumps(forecast()))
    area = fc.area("selat-badung")
    assert area is not None and area.name == "Selat Badung"
    hour = area.hour_at(T0 + timedelta(minutes=90))
    assert hour is not None and (hour.wave_m, hour.wind_kn, hour.category.code) == (1.6, 18.0, "sedang")
    assert area.hour_at(T0 - timedelta(seconds=1)) is None
    assert area.hour_at(T0 + timedelta(hours=3)) is None
    t = np.array([T0.timestamp() - 1, T0.timestamp(), T0.timestamp() + 2.5 * 3600, T0.timestamp() + 3 * 3600])
    wave, wind = area.values_at(t)
    assert np.isnan(wave[0]) and wave[1] == 0.8 and wave[2] == 3.0 and np.isnan(wave[3])
    assert wind[2] == 25.0


def test_a_gap_between_hours_is_no_forecast() -> None:
    doc = forecast([(0.8, 10.0), (1.0, 12.0)])
    doc["features"][0]["properties"]["hours"][1]["time"] = (T0 + timedelta(hours=3)).isoformat()
    doc["valid_until"] = (T0 + timedelta(hours=4)).isoformat()
    area = parse_sea_forecast(json.dumps(doc)).areas[0]
    assert area.hour_at(T0 + timedelta(hours=2)) is None
    assert area.hour_at(T0 + timedelta(hours=3, minutes=5)) is not None


def test_areas_meeting_a_box() -> None:
    fc = parse_sea_forecast(json.dumps(forecast()))
    assert [a.id for a in fc.areas_meeting(-8.8, -8.6, 115.2, 115.3)] == ["selat-badung"]
    assert fc.areas_meeting(-7.0, -6.0, 108.0, 109.0) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(type="Feature"), "FeatureCollection"),
        (lambda d: d.update(valid_until=T0.isoformat()), "valid_until must be after"),
        (lambda d: d.update(issued="2026-12-07T00:00:00"), "no UTC offset"),
        (lambda d: d["features"][0]["properties"]["hours"][0].update(wave_m=-1), "outside 0..30"),
        (lambda d: d["features"][0]["properties"]["hours"][0].update(wave_m=True), "expected a number"),
        (lambda d: d["features"][0]["properties"]["hours"][0].update(wind_kn="12"), "expected a number"),
        (lambda d: d["features"][0]["properties"]["hours"].reverse(), "time order"),
        (lambda d: d["features"][0].update(geometry={"type": "Point", "coordinates": [115, -9]}), "Polygon or MultiPolygon"),
        (lambda d: d["features"][0].update(geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}), "invalid"),
        (lambda d: d["features"][0].update(geometry={"type": "Polygon", "coordinates": "x"}), "not valid GeoJSON"),
        (lambda d: d["features"][0].update(id="a b"), "id must be"),
        (lambda d: d["features"].append(d["features"][0]), "appears twice"),
        (lambda d: d["features"][0]["properties"].update(hours=[]), "non-empty list"),
    ],
)
def test_a_bad_forecast_is_refused_saying_where(change, message: str) -> None:
    doc = forecast()
    change(doc)
    with pytest.raises(SeaForecastError, match=message):
        parse_sea_forecast(json.dumps(doc))


def test_the_file_is_read_again_when_it_changes_and_a_broken_or_missing_one_gives_no_forecast(tmp_path: Path) -> None:
    path = tmp_path / "forecast.geojson"
    file = SeaForecastFile(path)
    assert file.read().forecast is None and "missing" in (file.read().problem or "")
    path.write_text(json.dumps(forecast()))
    first = file.read().forecast
    assert first is not None and first.areas[0].hour_at(T0) is not None
    assert file.read().forecast is first  # unchanged file: not parsed again
    path.write_text(json.dumps(forecast([(5.0, 40.0)])))
    os.utime(path, ns=(1, 1))  # a replacement in the same clock tick still differs in mtime or size
    second = file.read().forecast
    assert second is not None and second.areas[0].hour_at(T0).wave_m == 5.0
    path.write_text("{not json")
    broken = file.read()
    assert broken.forecast is None and "invalid" in (broken.problem or "")
    assert SeaForecastFile(None).read().problem.startswith("no current forecast")


def test_an_expired_forecast_says_so_instead_of_answering(tmp_path: Path) -> None:
    path = tmp_path / "forecast.geojson"
    path.write_text(json.dumps(forecast()))
    read = SeaForecastFile(path).read()
    fc, problem = read.usable_at(T0 + timedelta(hours=1))
    assert fc is not None and problem is None
    fc, problem = read.usable_at(T0 + timedelta(hours=5))
    assert fc is None and problem is not None and "no current forecast" in problem and "2026-12-07 03:00" in problem


def _config(sea: dict) -> dict:
    return {
        "tenants": [{"id": "kab-badung", "name": "Badung", "sea": sea}, {"id": "kab-tabanan", "name": "Tabanan"}],
        "devices": [],
        "stations": [],
        "gateway": {"id": "gw", "tenant": "kab-badung"},
    }


def test_a_tenant_sea_is_checked_where_it_is_configured() -> None:
    region = {"south": -9.2, "north": -8.0, "west": 114.4, "east": 115.8}
    config = TepiConfig.model_validate(_config({"region": region, "share_grounds_with": ["kab-tabanan"]}))
    sea = config.tenants[0].sea
    assert sea is not None and (sea.small_boat_wave_m, sea.small_boat_wind_kn) == (1.25, 15.0)
    for bad, message in [
        ({"region": {**region, "south": -7.0}}, "south must be below north"),
        ({"region": {**region, "east": 130.0}}, "at most 10 degrees"),
        ({"region": region, "share_grounds_with": ["kab-nowhere"]}, "not another tenant"),
        ({"region": region, "share_grounds_with": ["kab-badung"]}, "not another tenant"),
    ]:
        with pytest.raises(ValueError, match=message):
            TepiConfig.model_validate(_config(bad))


def test_relative_sea_files_are_read_from_the_configuration_files_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import load_config

    folder = tmp_path / "deployment"
    folder.mkdir()
    (folder / "tepi.yaml").write_text(
        "tenants:\n  - id: kab-badung\n    name: Badung\n    sea:\n"
        "      region: {south: -9.2, north: -8.0, west: 114.4, east: 115.8}\n"
        "      forecast_file: sea/forecast.geojson\n      hazards_file: /srv/hazards.geojson\n"
        "devices: []\nstations: []\ngateway: {id: gw, tenant: kab-badung}\n"
    )
    monkeypatch.chdir(tmp_path)  # started from elsewhere: the paths still point beside the file
    sea = load_config(folder / "tepi.yaml").tenants[0].sea
    assert sea is not None
    assert sea.forecast_file == folder.resolve() / "sea" / "forecast.geojson"
    assert sea.hazards_file == Path("/srv/hazards.geojson")
