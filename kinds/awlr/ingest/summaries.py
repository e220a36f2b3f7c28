"""Level summaries in ingest: checked, folded per station and handed to the point sink as columns.

Summaries are most of what gateways send (one per station and window, a backlog of a day after
an outage), and what they do centrally is simple: their points go to the time series store, and
together they move each station's state to its newest reading. So they are handled as columns
(`kinds.awlr.ingest.summary_rows.SummaryRows`), with a Python object only for the rare row that may clear an
alert (`ingest.service`).

They carry no idempotency key in the state database: a summary's point is identified by its
series (tenant, station, gateway) and window start, and writing it again is idempotent in the
TSDB (InfluxDB overwrites; VictoriaMetrics deduplicates with `-dedup.minScrapeInterval`) and
in the embedded store (`level_points` keyed by item id, inserted with ON CONFLICT DO NOTHING);
its effect on station state is idempotent too (the newest reading wins). Keys are kept for
events, whose alert transitions must happen once. Two different windows of a series never share
a start (a gateway's windows of a device never overlap); ingest counts any that overlap
(`kinds.awlr.ingest.window_overlaps`), since the TSDB would keep only one of two that share a start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kinds.awlr.summary_columns import MAX_TIME_US
from kinds.awlr.ingest.summary_rows import SummaryRows, names_with_rows

#: Where a summary's station stands with the batch's tenant.
STATION_OK, STATION_UNKNOWN, STATION_FOREIGN = 0, 1, 2


@dataclass(frozen=True, slots=True)
class StationIndex:
    """The stations of some rows as numbers: `names[codes[i]]` is row i's station. Computed once
    per batch; screening, folding and the point sink then work per station, not per row."""

    names: list[str]
    codes: npt.NDArray[np.intp]

    @classmethod
    def of(cls, stations: list[str]) -> StationIndex:
        index: dict[str, int] = {}
        codes = station_codes(stations, index)
        return cls(list(index), codes)

    @classmethod
    def of_rows(cls, rows: SummaryRows) -> StationIndex:
        """The index of `rows`: the one their decoder gave, or computed from their stations."""
        if rows.station_numbers is not None:
            names, codes = rows.station_numbers
            return cls(names, codes)
        return cls.of(rows.station)

    def take(self, keep: npt.NDArray[np.bool_]) -> StationIndex:
        """The index of the rows in `keep`: only stations that still have rows are named."""
        return StationIndex(*names_with_rows(self.names, self.codes[keep]))


@dataclass(frozen=True, slots=True)
class SummaryPoints:
    """Summaries accepted from one batch, with its tenant and gateway: what a point sink writes.
    `index` is the rows' `StationIndex` when the caller has it already."""

    tenant: str
    gateway: str
    rows: SummaryRows
    index: StationIndex | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def stations(self) -> StationIndex:
        return self.index if self.index is not None else StationIndex.of_rows(self.rows)


@dataclass(frozen=True, slots=True)
class Screened:
    """A batch's summary rows after the per-row checks, with what was refused and why."""

    rows: SummaryRows
    positions: npt.NDArray[np.int64]
    index: StationIndex
    unknown_station: int
    foreign_station: int
    non_finite: int


def station_codes(stations: list[str], index: dict[str, int]) -> npt.NDArray[np.intp]:
    """Each station's number in `index` (extended with the new ones): per-station facts then
    apply to rows as array lookups."""
    for name in set(stations).difference(index):
        index[name] = len(index)
    return np.array(list(map(index.__getitem__, stations)), dtype=np.intp)


def screen(rows: SummaryRows, positions: npt.NDArray[np.int64], tenant: str, tenant_of: dict[str, str]) -> Screened:
    """Keep the rows of known stations of `tenant` whose values are all finite.

    `positions` are the rows' places in the call (ties in device time go by arrival);
    `tenant_of` maps every known station to its tenant.
    """
    index = StationIndex.of_rows(rows)
    status = np.array(
        [STATION_UNKNOWN if s not in tenant_of else STATION_OK if tenant_of[s] == tenant else STATION_FOREIGN for s in index.names],
        dtype=np.int8,
    )[index.codes]
    known = status == STATION_OK
    keep = known & ~rows.non_finite
    if keep.all():
        return Screened(rows, positions, index, 0, 0, 0)
    return Screened(
        rows.take(keep),
        positions[keep],
        index.take(keep),
        unknown_station=int(np.count_nonzero(status == STATION_UNKNOWN)),
        foreign_station=int(np.count_nonzero(status == STATION_FOREIGN)),
        non_finite=int(np.count_nonzero(known & rows.non_finite)),
    )


def _recode(stations: StationIndex, index: dict[str, int]) -> npt.NDArray[np.intp]:
    """`stations.codes` as numbers in `index` (extended with the new names)."""
    return station_codes(stations.names, index)[stations.codes]


class StationFold:
    """What the summaries of one call say about one station, folded (times in µs since the epoch).

    `first_us`: the earliest time seen (window start, or a reading before it), where the
    station's history begins. `at_us`, `level_cm`, `siaga`: the newest reading that passed QC;
    of equal times, the one that arrived later wins, as applying them one by one would leave it.
    `newest_us`: the newest reading whatever QC said of it, the latest sign of the station's life.
    """

    __slots__ = ("first_us", "at_us", "level_cm", "siaga", "newest_us")

    def __init__(self, first_us: int, at_us: int | None, level_cm: float, siaga: int, newest_us: int = 0) -> None:
        self.first_us = first_us
        self.at_us = at_us
        self.level_cm = level_cm
        self.siaga = siaga
        self.newest_us = newest_us


def fold(parts: list[tuple[SummaryRows, npt.NDArray[np.int64], StationIndex]]) -> dict[str, StationFold]:
    """The rows of all `parts` (with their places in the call and their stations) folded per
    station, with a few array operations for the whole call rather than a loop per row."""
    parts = [part for part in parts if len(part[0])]
    if not parts:
        return {}
    index: dict[str, int] = {}
    codes = np.concatenate([_recode(stations, index) for _, _, stations in parts])
    positions = np.concatenate([p for _, p, _ in parts])
    starts = np.concatenate([rows.window_start_us for rows, _, _ in parts])
    at = np.concatenate([rows.last_ts_us for rows, _, _ in parts])
    level = np.concatenate([rows.last_cm for rows, _, _ in parts])
    siaga = np.concatenate([rows.siaga for rows, _, _ in parts])
    has_reading = ~np.isnan(level)
    first = np.full(len(index), MAX_TIME_US, dtype=np.int64)
    np.minimum.at(first, codes, starts)
    np.minimum.at(first, codes[has_reading], at[has_reading])
    newest = np.full(len(index), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(newest, codes, at)
    names = list(index)
    folds = {name: StationFold(int(first[code]), None, 0.0, 4, int(newest[code])) for code, name in enumerate(names)}
    with_reading = np.flatnonzero(has_reading)
    if with_reading.size:
        # Newest per station: sort by (station, time, arrival) and take each station's last row.
        order = with_reading[np.lexsort((positions[with_reading], at[with_reading], codes[with_reading]))]
        ordered = codes[order]
        for i in order[np.r_[ordered[1:] != ordered[:-1], True]].tolist():
            f = folds[names[codes[i]]]
            f.at_us, f.level_cm, f.siaga = int(at[i]), float(level[i]), int(siaga[i])
    return folds
