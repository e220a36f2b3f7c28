"""AWLR checks against configuration and the per-station processor (events and summaries)."""

from __future__ import annotations

import os

from datetime import datetime, timedelta, timezone

import pytest

from kinds.awlr import wire
from kinds.awlr.edge.kind import check_frame
from kinds.awlr.edge.processor import LevelProcessor
from gateway.errors import FrameRejected
from kinds.awlr.edge.reading import LevelReading as Reading
from core.config import TepiConfig
from kinds.awlr.items import LevelSummary, RateOfRise, SiagaChange

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
    assert r == Reading("awlr-katulampa", 5, T0, 120.0, 12.4)


def _reading(seq: int, minutes: float, level: float) -> Reading:
    return Reading("awlr-katulampa", seq, T0 + timedelta(minutes=minutes), level, 12.5)


def _feed(p: LevelProcessor, readings: list[Reading], batch: int = 1) -> list:
    out = []
    for i in range(0, len(readings), batch):
        for r in readings[i : i + batch]:
            p.accept(r)
        out += p.process()
    return out


def _station(station, **alerting):
    return station.model_copy(update={"alerting": station.alerting.model_copy(update=alerting)})


@pytest.mark.parametrize("batch", [1, 7])
def test_rise_raises_siaga_after_consecutive_good_readings_and_shortens_windows(katulampa, batch: int) -> None:
    p = LevelProcessor("gw", _station(katulampa, raise_after=2), "awlr-katulampa")
    levels = [40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 52, 54, 60, 70, 79, 82, 85, 88, 90, 92, 93, 94, 95, 96]
    out = _feed(p, [_reading(i, i, v) for i, v in enumerate(levels)], batch)
    changes = [i for i in out if isinstance(i, SiagaChange)]
    assert [(c.siaga_from, c.siaga_to, c.level_cm) for c in changes] == [(4, 3, 85)], "raised on the 2nd good reading >= 80"
    summaries = [i for i in out if isinstance(i, LevelSummary)]
    assert summaries[0].window_start == T0 and summaries[0].window_end == T0 + timedelta(minutes=10)
    assert summaries[0].count == 10 and summaries[0].siaga == 4
    # At Siaga 3 the open window is cut at the next minute and windows become one minute long.
    assert summaries[1].window_end == T0 + timedelta(minutes=18)
    assert all(s.window_end - s.window_start == timedelta(minutes=1) for s in summaries[2:])
    assert summaries[-1].siaga == 3


def test_spike_is_flagged_not_alarmed_and_stays_visible(katulampa) -> None:
    p = LevelProcessor("gw", _station(katulampa, raise_after=1), "awlr-katulampa")
    levels = [40.0] * 5 + [290.0] + [40.5] * 5
    levels = [v + 0.1 * i for i, v in enumerate(levels)]  # not a flat line
    out = _feed(p, [_reading(i, i, v) for i, v in enumerate(levels)])  # the 11th closes the window
    assert not [i for i in out if isinstance(i, SiagaChange)]
    [s] = [i for i in out if isinstance(i, LevelSummary)]
    assert s.max_cm is not None and s.max_cm < 45, "the spike is not in the good statistics"
    assert s.qc.fail >= 1 and s.qc.good + s.qc.suspect + s.qc.fail == 10
    assert s.count == s.qc.good


def test_fast_rise_alarms_before_siaga_3(default_config: TepiConfig) -> None:
    """Depok: 130 -> 305 cm in one hour (published); the rise alarm precedes Siaga 3 (200 cm)."""
    depok = default_config.station("depok")
    p = LevelProcessor("gw", depok, "awlr-depok")
    readings = [Reading("awlr-depok", i, T0 + timedelta(minutes=i), 130.0 + (i - 30) * 175 / 60 if i > 30 else 130.0 + 0.1 * (i % 2), 12.0) for i in range(100)]
    out = _feed(p, readings)
    first_rise = next(i for i in out if isinstance(i, RateOfRise) and i.active)
    first_siaga = next(i for i in out if isinstance(i, SiagaChange))
    assert first_rise.ts < first_siaga.ts and first_rise.level_cm < depok.thresholds.siaga3
    assert first_rise.rate_cm_per_h >= depok.alerting.rate_of_rise_cm_per_h


def test_hovering_level_does_not_flap(katulampa) -> None:
    import numpy as np

    rng = np.random.default_rng(3)
    levels = 80 + rng.normal(0, 0.8, 600)
    p = LevelProcessor("gw", katulampa, "awlr-katulampa")
    out = _feed(p, [_reading(i, i, float(v)) for i, v in enumerate(levels)], batch=5)
    assert len([i for i in out if isinstance(i, SiagaChange)]) <= 1


def test_due_closes_window_and_late_readings_are_rejected(katulampa) -> None:
    p = LevelProcessor("gw", katulampa, "awlr-katulampa")
    p.accept(_reading(0, 1, 40))
    assert p.process() == []
    assert p.due(T0 + timedelta(minutes=9)) == []
    [summary] = p.due(T0 + timedelta(minutes=10))
    assert summary.count == 1
    with pytest.raises(FrameRejected) as err:
        p.accept(_reading(1, 0.5, 41))
    assert err.value.reason == "out_of_order"
    with pytest.raises(FrameRejected) as err:
        p.accept(_reading(9, 5, 40))
    assert err.value.reason == "late"


def test_duplicate_reading_is_rejected(katulampa) -> None:
    p = LevelProcessor("gw", katulampa, "awlr-katulampa")
    p.accept(_reading(7, 1, 40))
    with pytest.raises(FrameRejected) as err:
        p.accept(_reading(7, 1, 40))
    assert err.value.reason == "duplicate"


def test_missing_readings_are_counted_from_sequence_gaps(katulampa) -> None:
    p = LevelProcessor("gw", katulampa, "awlr-katulampa")
    out = _feed(p, [_reading(s, m, 40 + 0.1 * m) for s, m in [(0, 0), (1, 1), (4, 4), (5, 5), (9, 11)]])
    [s] = [i for i in out if isinstance(i, LevelSummary)]
    assert (s.qc.missing, s.first_seq, s.last_seq) == (2, 0, 5)


def test_summary_ids_are_deterministic(katulampa) -> None:
    def run() -> list[str]:
        p = LevelProcessor("gw", katulampa, "awlr-katulampa")
        return [i.id for i in _feed(p, [_reading(i, i, 40 + i) for i in range(40)])]

    ids = run()
    assert ids == run()
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("decimals", [None, 1])
def test_batching_does_not_change_what_is_sent(katulampa, decimals: int | None) -> None:
    """QC judges readings one by one as they come: the output must be the same as processing
    one reading at a time, spikes, stuck stretches and alarms included, and the verdicts
    those of QC over the whole series, for levels as sensors report them (a tenth of a cm)
    and for full doubles."""
    import numpy as np

    rng = np.random.default_rng(11)
    n = 900
    levels = 60 + np.cumsum(rng.normal(0, 0.8, n))
    levels[rng.choice(n, 12, replace=False)] += 150  # spikes
    levels[400:560] = levels[399]  # a stuck sensor for 160 minutes
    levels = np.clip(levels, 0, 399)
    if decimals is not None:
        levels = np.round(levels, decimals)
    readings = [_reading(i, i, float(v)) for i, v in enumerate(levels)]
    outputs = []
    for batch in (1, 5, 64):
        p = LevelProcessor("gw", katulampa, "awlr-katulampa")
        outputs.append([i.model_dump() for i in _feed(p, readings, batch)])
    assert outputs[0] == outputs[1] == outputs[2]
    summaries = [i for i in outputs[0] if i["type"] == "summary"]
    assert sum(s["qc"]["fail"] + s["qc"]["suspect"] for s in summaries) > 12, "spikes and the stuck stretch were flagged"
    # The same verdicts as QC over the whole series at once.
    from kinds.awlr.edge.qc import QcFlag, run_qc

    _, full = run_qc(np.arange(n) * 60.0, levels, katulampa.sensor_span_cm, katulampa.qc)
    for s in summaries:
        f = full[s["first_seq"] : s["last_seq"] + 1]
        assert (s["qc"]["good"], s["qc"]["suspect"], s["qc"]["fail"]) == (
            int((f == QcFlag.GOOD).sum()), int((f == QcFlag.SUSPECT).sum()), int((f == QcFlag.FAIL).sum())
        ), s["window_start"]


def test_state_stops_growing_and_a_stuck_sensor_fails_at_one_reading_a_second(katulampa) -> None:
    """At one reading a second the flat-line window is 9,000 readings: a sensor stuck for longer
    is failed, and what a station keeps stops growing once the longest window it tracks (rate
    of rise, 1,800 s) is full: QC keeps running extremes, not the readings."""
    import gc
    import tracemalloc

    stuck_from = 12_000
    p = LevelProcessor("gw", katulampa, "awlr-katulampa")
    reading = lambda i: _reading(i, i / 60, 60.0 + 0.3 * (i % 7) if i < stuck_from else 61.0)  # noqa: E731
    held: list[int] = []
    failed: list[LevelSummary] = []
    # Only what the processor's own code holds: in a whole test run other threads (a browser's
    # driver, servers of earlier tests winding down) allocate in the same process meanwhile.
    own = [tracemalloc.Filter(True, f"*{os.sep}kinds{os.sep}awlr{os.sep}*", all_frames=True)]
    tracemalloc.start(2)
    for i in range(stuck_from + 10_000):
        p.accept(reading(i))
        if i % 50 == 49:
            failed += [s for s in p.process() if isinstance(s, LevelSummary) and s.qc.fail]
        if i + 1 in (3000, stuck_from):
            gc.collect()
            held.append(sum(t.size for t in tracemalloc.take_snapshot().filter_traces(own).traces))
            if i + 1 == stuck_from:
                tracemalloc.stop()  # memory measured; tracing would only slow the stuck stretch down
    assert abs(held[1] - held[0]) < 1024, held
    assert failed and failed[0].window_start >= T0 + timedelta(seconds=stuck_from + 9000 - 600)
    assert failed[-1].qc.fail == failed[-1].count + failed[-1].qc.suspect + failed[-1].qc.fail


def test_duplicates_are_recognised_by_the_last_reading(katulampa) -> None:
    p = LevelProcessor("gw", katulampa, "awlr-katulampa")
    _feed(p, [_reading(i, i, 60.0 + 0.3 * (i % 7)) for i in range(600)], batch=7)
    with pytest.raises(FrameRejected):
        p.accept(_reading(599, 599, 61.0))
