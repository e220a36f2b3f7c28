"""Summaries whose window overlaps an earlier one of the same series: what a time series store
cannot keep apart.

A gateway's windows of one device never overlap and their starts strictly increase
(`kinds.awlr.edge.processor`). A gateway from before that (issue 18) opened a ten-minute
window at 18:30 after one-minute windows up to 18:32, and two devices reporting one station
through one gateway do the same all the time: two summaries of one series (tenant, station,
gateway) with overlapping windows, often the same start. The TSDB keeps one point per series
and time (InfluxDB the last written, VictoriaMetrics one value per field), so the readings of
the other window are lost from it; the embedded store keeps both (rows keyed by item id).
Ingest cannot undo that; it counts such summaries per gateway, so an operator sees which
gateway to upgrade or reconfigure.

Best effort, and cheap (a few array operations per call, whatever the number of stations): each
summary is compared with the one of its series that came before it, in the call or remembered
from the last call, as a gateway sends them in order. An overlap with an earlier summary than
that, or whose two summaries went to different workers of the share group, or around a restart
of the worker, goes unseen. The same summary delivered again is not an overlap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from kinds.awlr.ingest.points import SeriesKeys
from kinds.awlr.ingest.summaries import SummaryPoints

_UNKNOWN = -1  # the end of a series' newest window before any was seen


class WindowOverlaps:
    """Counts stored summaries that overlap the one of their series before them. Not
    thread-safe: the worker's batch thread calls it after each commit."""

    def __init__(self) -> None:
        self._series = SeriesKeys()
        #: The last window of each series (by its number in `_series`): start, end, first seq.
        self._start = np.zeros(0, dtype=np.int64)
        self._end = np.zeros(0, dtype=np.int64)
        self._first = np.zeros(0, dtype=np.int64)

    def observe(self, points: Sequence[SummaryPoints]) -> Counter[str]:
        """Per gateway, how many summaries of `points` overlap the summary of their series that
        came before them (in `points`, or the last one remembered from earlier calls)."""
        points = [p for p in points if len(p)]
        if not points:
            return Counter()
        self._series.bound()
        if len(self._series) < len(self._end):  # the numbering started again: so does the memory
            self._start, self._end, self._first = (np.zeros(0, dtype=np.int64) for _ in range(3))
        series = np.concatenate([self._series.numbers(p.tenant, p.gateway, (index := p.stations()).names)[index.codes] for p in points])
        self._grow(len(self._series))
        start = np.concatenate([p.rows.window_start_us for p in points])
        end = np.concatenate([p.rows.window_end_us for p in points])
        first = np.concatenate([p.rows.first_seq for p in points])
        point = np.repeat(np.arange(len(points)), [len(p) for p in points])
        # Each row against the one of its series before it: the rows of a series in arrival
        # order, each series led by its remembered window.
        order = np.argsort(series, kind="stable")
        code = series[order]
        leads = np.r_[True, code[1:] != code[:-1]]
        before_start = np.r_[0, start[order][:-1]]
        before_end = np.r_[0, end[order][:-1]]
        before_first = np.r_[0, first[order][:-1]]
        before_start[leads], before_end[leads], before_first[leads] = self._start[code[leads]], self._end[code[leads]], self._first[code[leads]]
        s, e, f = start[order], end[order], first[order]
        # The same summary again: the item id's parts, the start in whole seconds and the first reading.
        same_summary = (s // 1_000_000 == before_start // 1_000_000) & (f == before_first)
        overlap = (before_end != _UNKNOWN) & (s < before_end) & (before_start < e) & ~same_summary
        by_point = np.bincount(point[order][overlap], minlength=len(points))
        found: Counter[str] = Counter()
        for k in np.flatnonzero(by_point).tolist():
            found[points[k].gateway] += int(by_point[k])
        last = np.r_[leads[1:], True]  # the last row of each series
        self._start[code[last]], self._end[code[last]], self._first[code[last]] = s[last], e[last], f[last]
        return found

    def _grow(self, n: int) -> None:
        """Room for `n` series; new ones have no window yet."""
        grow = n - len(self._end)
        if grow > 0:
            self._start = np.concatenate([self._start, np.zeros(grow, dtype=np.int64)])
            self._end = np.concatenate([self._end, np.full(grow, _UNKNOWN, dtype=np.int64)])
            self._first = np.concatenate([self._first, np.zeros(grow, dtype=np.int64)])
