"""Ingest counts summaries whose window overlaps another of the same series (`kinds.awlr.ingest.window_overlaps`):
what an older gateway sent after a cadence switch, or two devices at one station."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from kinds.awlr.ingest.summaries import SummaryPoints
from ingest.testing import summary
from kinds.awlr.ingest.window_overlaps import WindowOverlaps
from kinds.awlr.items import LevelSummary
from kinds.awlr.ingest.uplink import summary_rows

T0 = datetime(2025, 2, 3, 18, 0, tzinfo=timezone.utc)


def points(summaries: list[LevelSummary], gateway: str = "gw-ciliwung") -> list[SummaryPoints]:
    return [SummaryPoints("dki-jakarta", gateway, summary_rows(summaries))]


def minute(station: str, m: int, seq: int) -> LevelSummary:
    return summary(station, T0 + timedelta(minutes=m), 85.0, window_s=60, count=6, siaga=3, first_seq=seq)


def test_windows_that_follow_each_other_are_no_overlap_however_they_arrive() -> None:
    watch = WindowOverlaps()
    one_minute = [minute("katulampa", 30 + i, 6 * i) for i in range(3)]
    # What a gateway sends after one-minute windows up to 18:33: a ten-minute cadence from there.
    rest = summary("katulampa", T0 + timedelta(minutes=33), 80.0, window_s=420, count=7, first_seq=18)
    assert watch.observe(points(one_minute[1:])) == {}
    assert watch.observe(points([rest, one_minute[0]])) == {}, "an older window arriving late overlaps nothing"
    assert watch.observe(points(one_minute + [rest])) == {}, "the same summaries delivered again"
    assert watch.observe(points([minute("depok", 30, 0)])) == {}, "another station"


def test_an_older_gateways_window_over_one_minute_windows_is_counted_in_a_batch_and_across_batches() -> None:
    watch = WindowOverlaps()
    one_minute = [minute("katulampa", 30 + i, 6 * i) for i in range(2)]
    # Before issue 18: back at ten minutes, the window restarted at 18:30, the start of the first.
    overlapping = summary("katulampa", T0 + timedelta(minutes=30), 80.0, window_s=600, count=8, first_seq=12)
    assert watch.observe(points(one_minute + [overlapping])) == {"gw-ciliwung": 1}
    watch = WindowOverlaps()
    assert watch.observe(points(one_minute)) == {}
    assert watch.observe(points([overlapping])) == {"gw-ciliwung": 1}


def test_two_devices_at_one_station_are_counted_per_gateway() -> None:
    watch = WindowOverlaps()
    a = summary("depok", T0, 150.0, device="awlr-depok", first_seq=100)
    b = summary("depok", T0, 151.0, device="awlr-depok-2", first_seq=7)
    assert watch.observe(points([a]) + points([b], gateway="gw-other")) == {}, "different gateways: different series"
    assert watch.observe(points([b])) == {"gw-ciliwung": 1}
