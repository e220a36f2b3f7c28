"""The broker's dropped-message count as increases, and when a gateway reports them (pure logic)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import CollectorRegistry

from gateway.broker_health import DropReport, DropReports
from core.broker_drops import BrokerDropWatch, DroppedCount, parse_count

T0 = datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def increases(values: list[int]) -> list[int]:
    count = DroppedCount()
    return [count.observe(v) for v in values]


def test_first_value_counts_in_full_then_only_increases() -> None:
    # The first value is everything the broker dropped before this process looked (a gateway outage).
    assert increases([40, 40, 55, 55, 70]) == [40, 0, 15, 0, 15]


def test_a_broker_restart_restarts_the_count_without_a_negative_increase() -> None:
    # 70 -> 0 (restarted, nothing dropped yet) -> 12: 12 new drops, never -70.
    assert increases([70, 0, 12, 5, 9]) == [70, 0, 12, 5, 4]


def test_a_zero_count_is_no_drop_and_negative_is_refused() -> None:
    assert increases([0, 0]) == [0, 0]
    with pytest.raises(ValueError):
        DroppedCount().observe(-1)


@pytest.mark.parametrize("payload", [b"", b"-3", b"1.5", b"12abc", b"1e9", b"9" * 30, b"\xff"])
def test_only_a_decimal_count_is_read(payload: bytes) -> None:
    with pytest.raises(ValueError):
        parse_count(payload)
    assert parse_count(b"80129") == 80129


def test_watch_exports_increases_and_the_raw_value_and_warns_without_spamming(caplog: pytest.LogCaptureFixture) -> None:
    registry = CollectorRegistry()
    watch = BrokerDropWatch("tepi_test", "site", registry, logging.getLogger("tepi.test.drops"))
    with caplog.at_level(logging.WARNING, logger="tepi.test.drops"):
        for payload in (b"10", b"25", b"garbage", b"3", b"3"):  # 3: the broker restarted
            watch.observe(payload)
    value = registry.get_sample_value
    assert value("tepi_test_broker_dropped_messages_total") == 10 + 15 + 3
    assert value("tepi_test_broker_dropped_count") == 3
    assert value("tepi_test_broker_dropped_unreadable_total") == 1
    moved = [r for r in caplog.records if r.getMessage().startswith("MQTT broker dropped messages")]
    assert len(moved) == 1, "one warning per minute while drops go on; the metric has every count"
    assert (moved[0].dropped, moved[0].broker_total, moved[0].since_broker_start) == (10, 10, True)


def test_first_drop_is_reported_at_once_then_at_most_once_a_minute() -> None:
    reports = DropReports(report_every_s=60, quiet_s=600)
    reports.observe(0, 0, True, at(0))
    assert reports.due(at(1)) is None
    reports.observe(40, 40, False, at(10))
    assert reports.due(at(10)) == DropReport(True, 40, 40, at(0), at(10))
    reports.observe(5, 45, False, at(20))
    reports.observe(7, 52, False, at(30))
    assert reports.due(at(30)) is None  # within the minute: kept
    assert reports.due(at(70)) == DropReport(True, 12, 52, at(10), at(70))
    assert reports.due(at(71)) is None


def test_drops_seen_at_start_are_since_the_broker_started() -> None:
    reports = DropReports()
    reports.observe(40, 40, True, at(5))
    assert reports.due(at(5)) == DropReport(True, 40, 40, None, at(5))


def test_drops_stopped_is_reported_once_after_a_quiet_period() -> None:
    reports = DropReports(report_every_s=60, quiet_s=600)
    reports.observe(3, 3, True, at(0))
    assert reports.due(at(0)) is not None
    reports.observe(2, 5, False, at(100))
    assert reports.due(at(650)) == DropReport(True, 2, 5, at(0), at(650))  # pending first, never lost
    assert reports.due(at(699)) is None  # 599 s since the last drop
    assert reports.due(at(700)) == DropReport(False, 0, 5, at(100), at(700))
    assert reports.due(at(2000)) is None
    reports.observe(1, 6, False, at(2100))  # drops again: a new report opens a new alert
    assert reports.due(at(2100)) == DropReport(True, 1, 6, at(100), at(2100))


def test_no_drops_no_reports() -> None:
    reports = DropReports()
    for i in range(5):
        reports.observe(0, 0, i == 0, at(i * 1000))
        assert reports.due(at(i * 1000)) is None


def test_a_new_run_says_once_that_no_drops_came_so_an_earlier_runs_alert_clears() -> None:
    reports = DropReports(report_every_s=60, quiet_s=600, started_at=at(0))
    reports.observe(0, 0, True, at(1))
    assert reports.due(at(599)) is None
    assert reports.due(at(600)) == DropReport(False, 0, 0, at(0), at(600))
    assert reports.due(at(5000)) is None
