"""`tepi config check` finds what the processes would refuse at start, and a device is never
configured under a gateway of another tenant than its platform's."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from core.config import DEFAULT_CONFIG_PATH, ConfigError, TepiConfig, load_config, parse_config
from core.sea_forecast import parse_sea_forecast
from tepi.cli import app

SAMPLE_FORECAST = DEFAULT_CONFIG_PATH.parent / "sea-forecast.sample.geojson"


def write_config(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "tepi.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def deployment(default_config: TepiConfig, **sea: Any) -> dict[str, Any]:
    """The default deployment, Badung's sea section with `sea` (paths), Indramayu's without files."""
    data = default_config.model_dump(mode="json", exclude_defaults=True)
    for t in data["tenants"]:
        if "sea" in t:
            t["sea"] = {"region": t["sea"]["region"]} | (sea if t["id"] == "kab-badung" else {})
    return data


def check(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path)], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def forecast(valid_from: datetime, hours: int = 6) -> str:
    """The sample forecast moved to start at `valid_from`."""
    data = json.loads(SAMPLE_FORECAST.read_text())
    shift = valid_from - datetime.fromisoformat(data["valid_from"])
    for key in ("issued", "valid_from", "valid_until"):
        data[key] = (datetime.fromisoformat(data[key]) + shift).isoformat()
    for feature in data["features"]:
        for hour in feature["properties"]["hours"]:
            hour["time"] = (datetime.fromisoformat(hour["time"]) + shift).isoformat()
    return json.dumps(data)


def test_the_shipped_sample_forecast_is_valid_with_two_areas_in_badungs_region(default_config: TepiConfig) -> None:
    f = parse_sea_forecast(SAMPLE_FORECAST.read_bytes())
    region = next(t.sea.region for t in default_config.tenants if t.id == "kab-badung" and t.sea)
    assert len(f.areas) == 2 and all(len(a.hours()) >= 3 for a in f.areas)
    assert len(f.areas_meeting(region.south, region.north, region.west, region.east)) == 2
    assert "sea-forecast.sample.geojson" in DEFAULT_CONFIG_PATH.read_text()


def test_a_river_gauge_of_another_tenant_than_the_gateways_is_refused(default_config: TepiConfig) -> None:
    """tukad-mati-kuta is Badung's; gw-ciliwung serves DKI Jakarta: `tepi mqtt setup` would grant
    the device Jakarta's topic, and ingest would refuse its levels."""
    data = default_config.model_dump(mode="json")
    data["devices"].append({"id": "awlr-kuta", "kind": "awlr", "platform": "tukad-mati-kuta", "transport": "mqtt"})
    with pytest.raises(ConfigError, match=r"awlr-kuta.*tukad-mati-kuta.*'kab-badung'.*gw-ciliwung.*'dki-jakarta'"):
        parse_config(data)
    data["devices"] = data["devices"][-1:]
    data["gateway"] |= {"id": "gw-kuta", "tenant": "kab-badung"}
    assert parse_config(data).devices[0].platform == "tukad-mati-kuta"


def test_the_shipped_deployment_checks_ok_with_only_warnings_for_forecasts_not_written_yet(tmp_path: Path) -> None:
    text = DEFAULT_CONFIG_PATH.read_text().replace("../var/sea/", f"{tmp_path}/")
    code, out = check(write_config(tmp_path, yaml.safe_load(text)))
    assert code == 0, out
    assert out.count("warning: ") == 2 and "no current forecast until the deployment writes it" in out
    assert "ok: 3 tenants" in out and "error" not in out


def test_a_current_forecast_and_a_valid_hazards_file_check_ok(default_config: TepiConfig, tmp_path: Path) -> None:
    (tmp_path / "f.geojson").write_text(forecast(datetime.now(timezone.utc) - timedelta(hours=1)))
    hazards = Path(__file__).resolve().parents[1] / "kinds" / "fishfinder" / "sample-hazards.geojson"
    code, out = check(write_config(tmp_path, deployment(default_config, forecast_file="f.geojson", hazards_file=str(hazards))))
    assert (code, out.startswith("ok: ")) == (0, True), out


def test_an_expired_forecast_is_a_warning(default_config: TepiConfig, tmp_path: Path) -> None:
    (tmp_path / "f.geojson").write_text(forecast(datetime(2020, 1, 1, tzinfo=timezone.utc)))
    code, out = check(write_config(tmp_path, deployment(default_config, forecast_file="f.geojson")))
    assert code == 0, out
    assert "warning: tenant kab-badung: forecast file" in out and "expired at 2020-01-01 06:00 UTC" in out


@pytest.mark.parametrize(
    ("what", "text", "says"),
    [
        ("forecast_file", "{not json", "is invalid, so there is no forecast: not JSON"),
        ("forecast_file", '{"type": "FeatureCollection", "features": []}', "is invalid, so there is no forecast: issued"),
        ("hazards_file", '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
         '{"type": "Point", "coordinates": [115.2, -8.8]}}]}', "hazards file"),
        ("hazards_file", "[]", "not a GeoJSON FeatureCollection"),
    ],
)  # fmt: skip
def test_an_invalid_sea_file_is_an_error(default_config: TepiConfig, tmp_path: Path, what: str, text: str, says: str) -> None:
    (tmp_path / "sea.geojson").write_text(text)
    code, out = check(write_config(tmp_path, deployment(default_config, **{what: "sea.geojson"})))
    assert code == 2, out
    assert "error: tenant kab-badung: " in out and says in out and "ok:" not in out


def test_a_missing_hazards_file_is_an_error(default_config: TepiConfig, tmp_path: Path) -> None:
    code, out = check(write_config(tmp_path, deployment(default_config, hazards_file="nowhere.geojson")))
    assert code == 2 and "nowhere.geojson: cannot read it" in out, out


@pytest.mark.parametrize(
    ("device", "says"),
    [
        ({"kind": "awlr", "platform": "nowhere"}, "device 'awlr-x' (awlr): platform 'nowhere' is no configured station"),
        ({"kind": "sonar", "platform": "katulampa"}, "device 'awlr-x': unknown device kind 'sonar'"),
    ],
)
def test_a_device_the_gateway_cannot_bind_is_an_error(default_config: TepiConfig, tmp_path: Path, device: dict[str, str], says: str) -> None:
    data = deployment(default_config)
    data["devices"].append({"id": "awlr-x", "transport": "mqtt"} | device)
    code, out = check(write_config(tmp_path, data))
    assert code == 2, out
    assert f"error: {says}" in out


def test_the_gateway_refuses_an_unbound_device_with_a_message_not_a_traceback(default_config: TepiConfig, tmp_path: Path) -> None:
    data = deployment(default_config)
    data["devices"].append({"id": "awlr-x", "kind": "awlr", "platform": "nowhere", "transport": "mqtt"})
    data["gateway"]["outbox"] = {"path": str(tmp_path / "outbox.db")}
    path = write_config(tmp_path, data)
    result = CliRunner().invoke(app, ["gateway", "--config", str(path), "--text-logs"], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert "configuration error: device 'awlr-x' (awlr): platform 'nowhere' is no configured station" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert load_config(path).devices[-1].platform == "nowhere"  # the file itself is valid YAML and model


def test_an_attendance_only_deployment_needs_no_stations_and_its_offices_are_counted(tmp_path: Path) -> None:
    """A regency's BKPSDM runs badges and no river: no `stations:` section, its offices in the ok line."""
    code, out = check(write_config(tmp_path, {
        "tenants": [{"id": "kab-indramayu", "name": "Pemerintah Kabupaten Indramayu"}], "devices": [],
        "gateway": {"id": "gw-bkpsdm", "tenant": "kab-indramayu"},
        "offices": [{"id": "bkpsdm", "tenant": "kab-indramayu", "name": "BKPSDM Kabupaten Indramayu", "lat": -6.3273, "lon": 108.3235}],
    }))  # fmt: skip
    assert code == 0, out
    assert "ok: 1 tenants, 0 stations, 1 offices, 0 devices, gateway gw-bkpsdm" in out, out
