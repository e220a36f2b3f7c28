"""Summary windows across cadence switches: a river crossing Siaga III back and forth makes the
gateway switch between one-minute windows (alert) and ten-minute windows (normal), and a
restart rebuilds the open window from the journal. Whatever happens, no two windows of a
device overlap or share a start (a time series store keeps one point per series and time, so
a shared start loses readings there), and every accepted reading is in exactly one summary."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from kinds.awlr.edge.processor import LevelProcessor
from gateway.errors import FrameRejected
from kinds.awlr.edge.reading import LevelReading as Reading
from core.config import TepiConfig
from kinds.awlr.config import StationConfig
from kinds.awlr.items import LevelSummary, SiagaChange

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
END_OF_TIME = datetime.max.replace(tzinfo=timezone.utc)
DEVICE = "awlr-katulampa"


def crossing_levels(n: int, interval_s: float, period_min: float, siaga3_cm: float, clear_margin_cm: float) -> Iterator[tuple[int, float, float]]:
    """(seq, seconds after the start, level) of a river rising above Siaga III and falling back
    below its clearing level every `period_min` minutes, with sensor noise, a spike now and then
    (QC flags it) and a lost reading now and then (a gap in the sequence numbers)."""
    middle = siaga3_cm - clear_margin_cm / 2
    swing = clear_margin_cm / 2 + 6.0  # past the bound and past the clearing level by 6 cm
    seq = 0
    for i in range(n):
        t = i * interval_s
        level = middle + swing * math.sin(2 * math.pi * t / (period_min * 60)) + 0.3 * ((i * 7) % 5 - 2)
        if i % 97 == 50:
            level += 45.0  # a spike
        if i % 61 == 30:
            seq += 1  # a reading lost on the way
        yield seq, t, round(level, 1)
        seq += 1


def crossing_readings(station: StationConfig, start: datetime, n: int, interval_s: float, period_min: float, device: str = DEVICE) -> list[Reading]:
    a = station.alerting
    return [
        Reading(device, seq, start + timedelta(seconds=t), level, 12.4)
        for seq, t, level in crossing_levels(n, interval_s, period_min, station.thresholds.siaga3, a.clear_margin_cm)
    ]


@dataclass
class GatewayModel:
    """A processor with the gateway's durable state as the runtime keeps it in the outbox: the
    journal (accepted readings whose window is not summarised yet) and, per device, where its
    summarised windows end. `restart()` starts a new processor from that state, as
    `EdgeGateway` does after a kill."""

    station: StationConfig
    processor: LevelProcessor = field(init=False)
    journal: list[Reading] = field(default_factory=list)
    summarised_until: datetime | None = None
    summaries: list[LevelSummary] = field(default_factory=list)
    changes: list[SiagaChange] = field(default_factory=list)
    accepted: int = 0

    def __post_init__(self) -> None:
        self.processor = LevelProcessor("gw", self.station, DEVICE)

    def feed(self, readings: list[Reading], batch: int) -> None:
        for i in range(0, len(readings), batch):
            part = readings[i : i + batch]
            for r in part:
                self.processor.accept(r)
            self.accepted += len(part)
            self.journal += part
            self._commit(self.processor.process())

    def close(self) -> None:
        self._commit(self.processor.due(END_OF_TIME))

    def restart(self) -> None:
        self.processor = LevelProcessor("gw", self.station, DEVICE)
        if self.summarised_until is not None:
            self.processor.resume(self.summarised_until)
        for r in self.journal:
            self.processor.accept(r)
        self._commit(self.processor.process())

    def _commit(self, items: list) -> None:
        for item in items:
            if isinstance(item, LevelSummary):
                self.summaries.append(item)
                end = item.window_end
                self.journal = [r for r in self.journal if r.ts >= end]
                self.summarised_until = end if self.summarised_until is None else max(self.summarised_until, end)
            elif isinstance(item, SiagaChange) and item.id not in {c.id for c in self.changes}:
                self.changes.append(item)


def assert_windows_never_collide(summaries: list[LevelSummary], readings: int, cadences: tuple[int, int]) -> None:
    alert_s, normal_s = cadences
    starts = [s.window_start for s in summaries]
    assert starts == sorted(set(starts)), "window starts strictly increase: no two points share a timestamp"
    for before, after in zip(summaries, summaries[1:]):
        assert before.window_end <= after.window_start, f"{before.window_start}-{before.window_end} overlaps {after.window_start}"
    for s in summaries:
        assert s.window_start <= s.last_ts < s.window_end
        start_s, end_s = s.window_start.timestamp(), s.window_end.timestamp()
        assert start_s % alert_s == 0 and end_s % alert_s == 0, "windows start and end on whole minutes"
        assert start_s // normal_s == (end_s - 1) // normal_s, "no window crosses a ten-minute boundary"
    assert sum(s.qc.good + s.qc.suspect + s.qc.fail for s in summaries) == readings, "every reading in exactly one summary"


def switches(changes: list[SiagaChange]) -> tuple[int, int]:
    return sum(c.siaga_to == 3 for c in changes), sum(c.siaga_to == 4 for c in changes)


def _katulampa(cfg: TepiConfig, **alerting: object) -> StationConfig:
    s = cfg.station("katulampa")
    return s.model_copy(update={"alerting": s.alerting.model_copy(update=alerting)})


@pytest.mark.parametrize(
    ("interval_s", "period_min", "batch"),
    [(60, 47, 1), (60, 47, 9), (30, 23, 1), (20, 71, 64), (10, 31, 5)],
)
def test_windows_never_overlap_across_repeated_siaga_3_4_switches(
    default_config: TepiConfig, interval_s: float, period_min: float, batch: int
) -> None:
    station = _katulampa(default_config)
    a = station.alerting
    readings = crossing_readings(station, T0, 1500, interval_s, period_min)
    model = GatewayModel(station)
    model.feed(readings, batch)
    model.close()

    up, down = switches(model.changes)
    assert up >= 4 and down >= 4, "the river crossed Siaga III and cleared again, repeatedly"
    lengths = {int((s.window_end - s.window_start).total_seconds()) for s in model.summaries}
    assert a.summary_every_s_alert in lengths and a.summary_every_s in lengths, "both cadences were used"
    assert_windows_never_collide(model.summaries, len(readings), (a.summary_every_s_alert, a.summary_every_s))


@pytest.mark.parametrize("restart_every", [37, 113, 250])
def test_windows_never_overlap_across_restarts_rebuilt_from_the_journal(default_config: TepiConfig, restart_every: int) -> None:
    """A restart forgets the Siaga level (the rebuilt processor starts at Siaga IV, so its window
    is a ten-minute one) but not where the summarised windows end."""
    station = _katulampa(default_config)
    a = station.alerting
    readings = crossing_readings(station, T0, 1500, 30, 23)
    model = GatewayModel(station)
    for i in range(0, len(readings), restart_every):
        model.feed(readings[i : i + restart_every], batch=7)
        model.restart()
    model.close()

    up, down = switches(model.changes)
    assert up >= 4 and down >= 4
    assert_windows_never_collide(model.summaries, len(readings), (a.summary_every_s_alert, a.summary_every_s))


def test_a_reading_before_the_summarised_windows_is_late_after_a_restart(default_config: TepiConfig) -> None:
    """Where summarised windows end survives a restart: a reading sent again from before it
    (a device replaying its buffer) is refused as late instead of being counted twice."""
    station = _katulampa(default_config)
    readings = crossing_readings(station, T0, 60, 60, 47)
    model = GatewayModel(station)
    model.feed(readings, batch=1)
    model.close()  # the device fell silent: its last window was closed, the journal is empty
    model.restart()
    assert model.summarised_until is not None and not model.journal
    with pytest.raises(FrameRejected) as err:
        model.processor.accept(readings[3])
    assert err.value.reason == "late"


def test_the_open_window_shows_how_long_a_silent_device_waits(default_config: TepiConfig) -> None:
    """At Siaga IV a window is ten minutes long, at Siaga III and worse one minute: the gateway
    closes a silent device's window after that long, so its last reading goes out within one
    reporting interval."""
    station = _katulampa(default_config)
    p = LevelProcessor("gw", station, DEVICE)
    assert p.open_window_s is None
    for i, level in enumerate([70.0, 75.0, 80.5, 84.0, 86.0, 88.0, 90.0, 91.0]):
        p.accept(Reading(DEVICE, i, T0 + timedelta(seconds=20 * i), level, 12.4))
        p.process()
        if i == 0:
            assert p.open_window_s == station.alerting.summary_every_s
    assert p.siaga == 3
    assert p.open_window_s == station.alerting.summary_every_s_alert
