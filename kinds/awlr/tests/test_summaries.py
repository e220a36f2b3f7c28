"""Summary rows in ingest (`kinds.awlr.ingest.summaries`): stations as numbers, screening, folding."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from kinds.awlr.ingest.summaries import StationIndex, fold, screen
from ingest.testing import summary
from kinds.awlr.ingest.uplink import summary_rows

T0 = datetime(2025, 2, 3, 6, 0, tzinfo=timezone.utc)


def test_station_index_names_each_station_once() -> None:
    index = StationIndex.of(["b", "a", "b", "c", "a"])
    assert sorted(index.names) == ["a", "b", "c"]
    assert [index.names[k] for k in index.codes.tolist()] == ["b", "a", "b", "c", "a"]


def test_taking_rows_forgets_stations_left_without_rows() -> None:
    index = StationIndex.of(["b", "a", "b", "c", "a"])
    kept = index.take(np.array([True, False, True, True, False]))
    assert sorted(kept.names) == ["b", "c"]
    assert [kept.names[k] for k in kept.codes.tolist()] == ["b", "b", "c"]
    assert index.take(np.ones(5, dtype=bool)).names == index.names


def test_screen_keeps_known_stations_of_the_tenant_and_counts_the_rest() -> None:
    rows = summary_rows([summary(s, T0, 100.0) for s in ("depok", "ghost", "bogor", "depok", "other-tenant")])
    kept = screen(rows, np.arange(5, dtype=np.int64), "jakarta", {"depok": "jakarta", "bogor": "jakarta", "other-tenant": "bandung"})
    assert kept.rows.station == ["depok", "bogor", "depok"]
    assert kept.positions.tolist() == [0, 2, 3]
    assert sorted(kept.index.names) == ["bogor", "depok"]
    assert [kept.index.names[k] for k in kept.index.codes.tolist()] == kept.rows.station
    assert (kept.unknown_station, kept.foreign_station, kept.non_finite) == (1, 1, 0)


def test_fold_takes_each_stations_newest_reading_across_parts() -> None:
    first = summary_rows([summary("depok", T0 + timedelta(minutes=10), 101.0), summary("bogor", T0, 50.0)])
    second = summary_rows([summary("depok", T0, 99.0), summary("bogor", T0 + timedelta(minutes=20), 52.0)])
    folds = fold([
        (first, np.array([0, 1], dtype=np.int64), StationIndex.of(first.station)),
        (second, np.array([2, 3], dtype=np.int64), StationIndex.of(second.station)),
    ])
    assert set(folds) == {"depok", "bogor"}
    assert folds["depok"].level_cm == first.last_cm[0]  # the later window, though it came first
    assert folds["bogor"].level_cm == second.last_cm[1]
    assert folds["depok"].at_us == first.last_ts_us[0]
    assert folds["depok"].first_us == int(T0.timestamp()) * 1_000_000


def test_fold_keeps_each_stations_newest_reading_whatever_its_qc() -> None:
    """The latest sign of life (`newest_us`) counts a window QC passed nothing of; the level does not."""
    rows = summary_rows([summary("depok", T0, 101.0), summary("depok", T0 + timedelta(minutes=10), None)])
    folds = fold([(rows, np.array([0, 1], dtype=np.int64), StationIndex.of(rows.station))])
    assert folds["depok"].at_us == rows.last_ts_us[0]
    assert folds["depok"].newest_us == rows.last_ts_us[1]
