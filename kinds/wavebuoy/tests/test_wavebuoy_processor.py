"""The shore gateway's processor of one buoy: a lone spike raises no limit event, a storm raises
one and clears it once, windows summarise what QC left usable, and misplaced reports are refused."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from gateway.errors import FrameRejected
from kinds.wavebuoy.edge.processor import BuoyProcessor
from kinds.wavebuoy.edge.reading import BuoyReading
from kinds.wavebuoy.items import SeaStateSummary, SmallBoatLimit
from kinds.wavebuoy.sim.sea import reports

T0 = datetime(2026, 12, 7, 0, 0, tzinfo=timezone.utc)


def _reading(t: datetime, hs: float, wind: float = 8.0) -> BuoyReading:
    return BuoyReading("wb1", 0, t, hs, 9.0, 200.0, wind, 120.0, wind * 1.3)


def _run(p: BuoyProcessor, readings: list[BuoyReading]) -> list[object]:
    out: list[object] = []
    for r in readings:
        p.accept(r)
        out += p.process()
    return out


def _processor() -> BuoyProcessor:
    return BuoyProcessor("gw", "wb-benoa", "wb1", 1.25, 15.0)


def test_a_lone_spike_raises_nothing_and_counts_in_the_summary_as_failed() -> None:
    hs = [0.8 + 0.01 * (k % 3) for k in range(12)]
    hs[5] = 4.0
    items = _run(_processor(), [_reading(T0 + timedelta(minutes=k), h, 8.0 + 0.3 * (k % 4)) for k, h in enumerate(hs)])
    assert not any(isinstance(i, SmallBoatLimit) for i in items)
    (summary,) = [i for i in items if isinstance(i, SeaStateSummary)]
    assert (summary.count, summary.qc_fail, summary.qc_suspect) == (10, 1, 2)  # the spike, and its neighbours
    assert summary.hs_max_m == pytest.approx(0.82)
    assert summary.window_start == T0 and summary.window_end == T0 + timedelta(minutes=10)


def test_the_storm_raises_one_limit_event_and_clears_it_once() -> None:
    storm = reports("wb-benoa", T0, 60, 13 * 60)
    p = _processor()
    items = _run(p, [BuoyReading("wb1", r.seq, r.ts, r.hs_m, r.tp_s, r.wave_dir_deg or math.nan, r.wind_kn or math.nan,
                                 r.wind_dir_deg or math.nan, r.gust_kn or math.nan) for r in storm])
    events = [i for i in items if isinstance(i, SmallBoatLimit)]
    assert [e.exceeded for e in events] == [True, False]
    raised, cleared = events
    assert "wind" in raised.over and timedelta(hours=3) < raised.observation.at - T0 < timedelta(hours=5)
    assert cleared.observation.hs_m <= 1.25 and cleared.observation.wind_kn <= 15
    summaries = [i for i in items if isinstance(i, SeaStateSummary)]
    assert len(summaries) == 77 and max(s.hs_max_m for s in summaries) > 3.0  # the last window stays open
    assert p.due(T0 + timedelta(hours=14))[0].window_start == T0 + timedelta(hours=12, minutes=50)


def test_duplicate_older_and_late_reports_are_refused() -> None:
    p = _processor()
    _run(p, [_reading(T0 + timedelta(minutes=k), 0.8 + k / 100) for k in (0, 1, 11)])  # 11 closes the first window
    for t, reason in ((T0 + timedelta(minutes=11), "duplicate"), (T0 + timedelta(minutes=10), "out_of_order")):
        with pytest.raises(FrameRejected) as refused:
            p.accept(_reading(t, 0.8))
        assert refused.value.reason == reason
    restarted = _processor()
    restarted.resume(T0 + timedelta(minutes=10))
    with pytest.raises(FrameRejected, match="late"):
        restarted.accept(_reading(T0 + timedelta(minutes=9), 0.8))
