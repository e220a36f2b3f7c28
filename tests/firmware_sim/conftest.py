"""Fixtures for the simulator tests: scenario variants built from the shipped configuration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.config import TepiConfig


def with_simulation(config: TepiConfig, devices: list[str] | None = None, **changes: Any) -> TepiConfig:
    """A copy of ``config`` whose simulation section has ``changes``, optionally fewer devices."""
    assert config.simulation is not None
    update: dict[str, Any] = {"simulation": config.simulation.model_copy(update=changes)}
    if devices is not None:
        update["devices"] = [d for d in config.devices if d.id in devices]
    return config.model_copy(update=update)


@pytest.fixture
def quiet_config(default_config: TepiConfig) -> TepiConfig:
    """The default Ciliwung scenario without random faults, so counts are exact."""
    return with_simulation(
        default_config, spike_probability=0.0, dropout_probability=0.0, garbage_probability=0.0
    )


ScenarioFactory = Callable[..., TepiConfig]


@pytest.fixture
def scenario(quiet_config: TepiConfig) -> ScenarioFactory:
    """``scenario(devices=[...], **simulation_changes)``: a variant of the quiet scenario."""

    def make(devices: list[str] | None = None, **changes: Any) -> TepiConfig:
        return with_simulation(quiet_config, devices, **changes)

    return make
