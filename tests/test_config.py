"""The deployment file refuses what would silently switch a check off."""

from __future__ import annotations

import pytest
import yaml

from core.config import DEFAULT_CONFIG_PATH, ConfigError, parse_config


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("alerting", "rate_of_rise_cm_per_h"), ("alerting", "rate_of_rise_window_s"), ("alerting", "rate_of_rise_short_cm_per_h"),
        ("alerting", "rate_of_rise_short_window_s"), ("qc", "spike_suspect_cm"),
    ],
)
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_non_finite_numbers_in_the_deployment_file_are_refused(section: str, field: str, value: float) -> None:
    """`.inf` is a valid YAML float; as a rate-of-rise threshold it would mean "never alarm"."""
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    data["stations"][0][section] = {field: value}
    with pytest.raises(ConfigError, match=rf"stations\.0\.{section}\.{field}: Input should be a finite number"):
        parse_config(data)


def test_ingest_without_shared_subscription_is_refused_with_several_workers() -> None:
    """Without a share group every worker would receive every uplink: each would store it and
    raise the same alert."""
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    data["ingest"].update({"shared_subscription": False, "workers": 2})
    with pytest.raises(ConfigError, match="ingest: .*shared_subscription false needs workers 1, not 2"):
        parse_config(data)
    data["ingest"]["workers"] = 1
    assert parse_config(data).ingest.uplink_share_group is None
