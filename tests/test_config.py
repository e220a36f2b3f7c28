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


def test_a_device_names_its_platform_or_its_station_but_not_both(default_config) -> None:
    from core.config import parse_config

    data = default_config.model_dump(mode="json")
    device = data["devices"][0]
    platform = device["platform"]
    assert parse_config(data).devices[0].station == platform
    data["devices"][0] = {k: v for k, v in device.items() if k != "platform"} | {"station": platform}
    assert parse_config(data).devices[0].platform == platform
    data["devices"][0]["platform"] = platform
    with pytest.raises(ConfigError, match="station"):
        parse_config(data)


def test_a_river_gauge_on_no_configured_station_stops_the_gateway_at_start(default_config, tmp_path) -> None:
    from gateway.runtime import EdgeGateway

    device = default_config.devices[0].model_copy(update={"platform": "nowhere"})
    config = default_config.model_copy(update={"devices": [device]})
    with pytest.raises(ConfigError, match="nowhere.*no configured station"):
        EdgeGateway(config, outbox_path=tmp_path / "o.db", with_uplink=False, local_alarms=False)


def test_a_device_payload_limit_follows_its_kind_unless_the_file_sets_one() -> None:
    """A BLE scanner's batch (hundreds of kB) is taken by default; a river recorder's line still
    stops at 4 kB; the file's `max_payload_bytes` wins over both."""
    from core.config_model import GatewayConfig

    gw = GatewayConfig(id="gw-x", tenant="t")
    assert gw.payload_limit(82) == 4096
    assert gw.payload_limit(400_000) == 400_000
    assert gw.payload_limit(5_000_000) == 1_048_576
    assert GatewayConfig(id="gw-x", tenant="t", max_payload_bytes=2048).payload_limit(400_000) == 2048


def test_a_tenant_has_one_zone_and_its_sea_is_told_in_it() -> None:
    """Badung is WITA: said once, on the tenant, its sea (marine alerts, routes) is WITA too; a sea
    section naming another zone than its tenant's is refused, not silently half WIB."""
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    badung = next(t for t in parse_config(data).tenants if t.id == "kab-badung")
    assert (badung.timezone, badung.sea.timezone) == ("Asia/Makassar", "Asia/Makassar")
    indramayu = next(t for t in parse_config(data).tenants if t.id == "kab-indramayu")
    assert (indramayu.timezone, indramayu.sea.timezone) == ("Asia/Jakarta", "Asia/Jakarta")
    tenant = next(t for t in data["tenants"] if t["id"] == "kab-badung")
    tenant["sea"]["timezone"] = "Asia/Makassar"  # the same zone said twice is fine
    assert parse_config(data)
    tenant["sea"]["timezone"] = "Asia/Jakarta"
    with pytest.raises(ConfigError, match="kab-badung.*sea.timezone Asia/Jakarta differs from the tenant's timezone Asia/Makassar"):
        parse_config(data)
