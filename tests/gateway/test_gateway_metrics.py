"""The gateway's readings counter per station, as Prometheus scrapes it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from gateway.runtime import GatewayMetrics


def test_every_configured_station_is_counted_from_zero() -> None:
    registry = CollectorRegistry()
    metrics = GatewayMetrics(registry, ["katulampa", "depok"])
    assert registry.get_sample_value("tepi_gateway_readings_total", {"platform": "depok"}) == 0
    metrics.readings.inc("katulampa", 3)
    metrics.readings.inc("katulampa")
    assert registry.get_sample_value("tepi_gateway_readings_total", {"platform": "katulampa"}) == 4
    assert registry.get_sample_value("tepi_gateway_readings_total", {"platform": "depok"}) == 0
    text = generate_latest(registry).decode()
    assert "# TYPE tepi_gateway_readings_total counter" in text
    assert 'tepi_gateway_readings_total{platform="katulampa"} 4.0' in text


def test_a_station_not_in_the_configuration_is_counted_too() -> None:
    registry = CollectorRegistry()
    metrics = GatewayMetrics(registry, ["katulampa"])
    metrics.readings.inc("manggarai", 2)
    assert registry.get_sample_value("tepi_gateway_readings_total", {"platform": "manggarai"}) == 2
