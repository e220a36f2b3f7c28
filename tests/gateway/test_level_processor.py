"""AWLR checks against configuration and the per-station processor (events and summaries)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gateway.devices.awlr import wire
from gateway.devices.awlr.kind import LevelProcessor, check_frame
from gateway.errors import FrameRejected
from gateway.model import Reading
from tepi.config import TepiConfig
from tepi.messages import LevelSummary, SiagaChange

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)


@pytest.fixture
def katulampa(default_config: TepiConfig):
    return default_config.station("katulampa")


def _device(cfg: TepiConfig, station: str):
    return next(d for d in cfg.devices if d.station == station)


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (wire.AwlrFrame("depok", 1, T0, 100.0, 12.0), "station_mismatch"),
        (wire.AwlrFrame("katulampa", 1, T0, -5.0, 12.0), "out_of_range"),
        (wire.AwlrFrame("katulampa", 1, T0, 401.0, 12.0), "out_of_range"),
        (wire.AwlrFrame("katulampa", 1, T0 + timedelta(hours=1), 100.0, 12.0), "future_timestamp"),
    ],
)
def test_configuration_checks(default_config: TepiConfig, katulampa, frame: wire.AwlrFrame, reason: str) -> None:
    with pytest.raises(FrameRejected) as err:
        check_frame(frame, _device(default_config, "katulampa"), katulampa, 300, now=T0)
    assert err.value.reason == reason


def test_accepts_a_plausible_frame(default_config: TepiConfig, katulampa) -> None:
    r = check_frame(wire.AwlrFrame("katulampa", 5, T0, 120.0, 12.4), _device(default_config, "katulampa"), katulampa, 300, now=T0)
    assert r == Reading("awlr-katulampa", "katulampa", 5, T0, 120.0, 12.4)


def _reading(seq: int, minutes: float, level: float) -> Reading:
    return Reading("awlr-katulampa", "katulampa", seq, T0 + timedelta(minutes=minutes), level, 12.5)


def test_emits_siaga_change_at_once_and_summary_when_window_closes(katulampa) -> None:
    p = LevelProcessor("gw", katulampa, "awlr-katulampa", window_s=600)
    first = p.accept(_reading(0, 0, 40))
    assert [type(i) for i in first] == [SiagaChange] and first[0].siaga_from is None and first[0].siaga_to == 4
    assert p.accept(_reading(1, 2, 60)) == []
    rise = p.accept(_reading(2, 4, 85))
    assert len(rise) == 1 and (rise[0].siaga_from, rise[0].siaga_to, rise[0].level_cm) == (4, 3, 85)
    assert p.accept(_reading(3, 6, 90)) == []
    closed = p.accept(_reading(4, 10, 155))  # first reading of the next window
    summaries = [i for i in closed if isinstance(i, LevelSummary)]
    events = [i for i in closed if isinstance(i, SiagaChange)]
    assert len(summaries) == 1 and len(events) == 1 and events[0].siaga_to == 2
    s = summaries[0]
    assert (s.count, s.min_cm, s.max_cm, s.last_cm, s.first_seq, s.last_seq, s.siaga) == (4, 40, 90, 90, 0, 3, 3)
    assert s.mean_cm == pytest.approx((40 + 60 + 85 + 90) / 4)
    assert s.window_start == T0 and s.window_end == T0 + timedelta(minutes=10)


def test_due_closes_window_and_late_readings_are_rejected(katulampa) -> None:
    p = LevelProcessor("gw", katulampa, "awlr-katulampa", window_s=600)
    p.accept(_reading(0, 1, 40))
    assert p.due(T0 + timedelta(minutes=9)) == []
    [summary] = p.due(T0 + timedelta(minutes=10))
    assert summary.count == 1
    with pytest.raises(FrameRejected) as err:
        p.accept(_reading(1, 0.5, 41))
    assert err.value.reason == "out_of_order"
    p2 = LevelProcessor("gw", katulampa, "awlr-katulampa", window_s=600)
    p2.accept(_reading(0, 1, 40))
    p2.due(T0 + timedelta(minutes=11))
    with pytest.raises(FrameRejected) as err:
        p2.accept(Reading("awlr-katulampa", "katulampa", 9, T0 + timedelta(minutes=2), 40, 12.5))
    assert err.value.reason == "late"


def test_duplicate_reading_is_rejected(katulampa) -> None:
    p = LevelProcessor("gw", katulampa, "awlr-katulampa", window_s=600)
    p.accept(_reading(7, 1, 40))
    with pytest.raises(FrameRejected) as err:
        p.accept(_reading(7, 1, 40))
    assert err.value.reason == "duplicate"


def test_summary_ids_are_deterministic(katulampa) -> None:
    def run() -> list[str]:
        p = LevelProcessor("gw", katulampa, "awlr-katulampa", window_s=600)
        out = []
        for i in range(30):
            out += p.accept(_reading(i, i, 40 + i))
        return [i.id for i in out]

    ids = run()
    assert ids == run()
    assert len(ids) == len(set(ids))
