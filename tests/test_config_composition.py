"""The configuration model is composed of the generic sections and the registered kinds' own
(`core.config.compose_config_model`, `kinds.config_models`): a kind's sections are validated by
its model, its hooks answer for them, and a build without the kind refuses them by name."""

from __future__ import annotations

from pathlib import Path
from typing import Self

import pytest
import yaml
from pydantic import ValidationError, model_validator

from core.config import (
    DEFAULT_CONFIG_PATH,
    ConfigSection,
    CoreConfig,
    RegistryStation,
    TepiConfig,
    compose_config_model,
    with_local_services,
)
from kinds.awlr.config import RiverConfig


def _deployment() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())


class Buoy(ConfigSection):
    id: str
    tenant: str


class BuoyConfig(CoreConfig):
    """A second kind with a station-like section of its own, as a test of composition."""

    buoys: list[Buoy] = []

    @model_validator(mode="after")
    def _buoy_tenants(self) -> Self:
        for b in self.buoys:
            if b.tenant not in {t.id for t in self.tenants}:
                raise ValueError(f"buoy {b.id!r}: unknown tenant {b.tenant!r}")
        return self

    def registry_stations(self) -> list[RegistryStation]:
        mine = [RegistryStation(b.id, b.tenant, b.id, "sea", 0.0, 0.0, (1.0, 2.0, 3.0), "test") for b in self.buoys]
        return [*super().registry_stations(), *mine]

    def platform_timezone(self, platform: str) -> str | None:
        return "Asia/Makassar" if any(b.id == platform for b in self.buoys) else super().platform_timezone(platform)


def test_the_registered_model_is_the_rivers_with_the_generic_sections() -> None:
    assert issubclass(TepiConfig, RiverConfig) and issubclass(TepiConfig, CoreConfig)
    assert {"tenants", "devices", "gateway", "stations", "simulation"} <= set(TepiConfig.model_fields)
    assert not {"stations", "simulation"} & set(CoreConfig.model_fields)


def test_two_kinds_compose_each_validating_and_answering_for_its_own_sections() -> None:
    model = compose_config_model([RiverConfig, BuoyConfig])
    tenant = _deployment()["tenants"][0]["id"]
    config = model.model_validate({**_deployment(), "buoys": [{"id": "b1", "tenant": tenant}]})
    stations = [s.id for s in config.registry_stations()]
    assert sorted(stations) == sorted([*(s.id for s in config.stations), "b1"])  # each kind adds its own
    assert config.platform_timezone("b1") == "Asia/Makassar"
    assert config.platform_timezone(config.stations[0].id) == config.stations[0].timezone
    assert config.platform_timezone("nowhere") is None
    with pytest.raises(ValidationError, match="buoy 'b1': unknown tenant 'nobody'"):
        model.model_validate({**_deployment(), "buoys": [{"id": "b1", "tenant": "nobody"}]})
    with pytest.raises(ValidationError, match="station 'katulampa': unknown tenant 'nobody'"):
        data = _deployment()
        data["stations"][0]["tenant"] = "nobody"
        model.model_validate({**data, "buoys": []})


def test_a_build_without_the_river_kind_refuses_its_sections_by_name() -> None:
    model = compose_config_model([])
    with pytest.raises(ValidationError) as refused:
        model.model_validate(_deployment())
    assert {e["loc"] for e in refused.value.errors()} == {("stations",), ("simulation",)}
    data = {k: v for k, v in _deployment().items() if k not in ("stations", "simulation")}
    assert model.model_validate(data).registry_stations() == []


def test_a_kind_model_that_is_not_a_core_config_is_refused() -> None:
    with pytest.raises(TypeError, match="must subclass core.config_model.CoreConfig"):
        compose_config_model([Buoy])  # type: ignore[list-item]


def test_local_services_shorten_every_kinds_summary_cadence(default_config: TepiConfig, tmp_path: Path) -> None:
    local = with_local_services(default_config, 1883, tmp_path, summary_every_s=30)
    assert type(local) is type(default_config)
    assert [s.alerting.summary_every_s for s in local.stations] == [30] * len(default_config.stations)
    assert all(s.alerting.summary_every_s_alert <= 30 for s in local.stations)
    assert with_local_services(default_config, 1883, tmp_path).stations == default_config.stations
