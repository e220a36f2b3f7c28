"""A buoy's device is configured only under a gateway of the buoy's tenant, and on a declared buoy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from core.config import ConfigError, TepiConfig, parse_config
from tepi.cli import app

SAMPLE = Path(__file__).resolve().parents[1] / "sample.yaml"


def with_sample_buoy(default_config: TepiConfig) -> dict[str, Any]:
    """The default deployment (gateway gw-ciliwung, DKI Jakarta's) with kinds/wavebuoy/sample.yaml merged in."""
    data = default_config.model_dump(mode="json", exclude_defaults=True)
    sample = yaml.safe_load(SAMPLE.read_text())
    data["buoys"] = sample["buoys"]
    data["devices"] = [*data["devices"], *sample["devices"]]
    for t in data["tenants"]:
        t.pop("sea", None)  # no sea files to check here
    return data


def test_a_buoy_of_another_tenant_than_the_gateways_is_refused(default_config: TepiConfig) -> None:
    """wb-benoa is Badung's; gw-ciliwung serves DKI Jakarta: `tepi mqtt setup` would grant the
    buoy tepi/dki-jakarta/dev/wb-benoa-1/up and ingest would refuse every report as foreign_buoy."""
    data = with_sample_buoy(default_config)
    with pytest.raises(ConfigError, match=r"wb-benoa-1.*platform 'wb-benoa' belongs to tenant 'kab-badung'.*'dki-jakarta'"):
        parse_config(data)
    data["devices"] = [d for d in data["devices"] if d["kind"] == "wavebuoy"]
    data["gateway"] |= {"id": "gw-benoa", "tenant": "kab-badung"}
    config = parse_config(data)
    assert config.platform_tenant("wb-benoa") == "kab-badung"
    assert config.platform_tenant("katulampa") == "dki-jakarta"  # each kind answers for its own
    assert config.platform_tenant("km-sinar-laut") is None  # vessels are registered centrally


def test_config_check_refuses_a_device_on_an_undeclared_buoy(default_config: TepiConfig, tmp_path: Path) -> None:
    data = with_sample_buoy(default_config)
    data["devices"] = [d | {"platform": "wb-nope"} for d in data["devices"] if d["kind"] == "wavebuoy"]
    data["gateway"] |= {"id": "gw-benoa", "tenant": "kab-badung"}
    path = tmp_path / "tepi.yaml"
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert "error: device 'wb-benoa-1' (wavebuoy): platform 'wb-nope' is no configured buoy" in result.output
