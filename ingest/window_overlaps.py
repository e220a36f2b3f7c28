"""Summaries whose window overlaps an earlier one of the same series: what a time series store
cannot keep apart.

A gateway's windows of one device never overlap and their starts strictly increase
(`gateway.devices.awlr.processor`). A gateway from before that (issue 18) opened a ten-minute
window at 18:30 after one-minute windows up to 18:32, and two devices reporting one station
through one gateway do the same all the time: two summaries of one series (tenant, station,
gateway) with overlapping windows, often the same start. The TSDB keeps one point per series
and time (InfluxDB the last written, VictoriaMetrics one value per field), so the readings of
the other window are lost from it; the embedded store keeps both (rows keyed by item id).
Ingest cannot undo that; it counts such summaries per gateway, so an operator sees which
gateway to upgrade or reconfigure.

Best effort: each worker remembers the newest window of each series it stored, so an overlap
whose two summaries went to different workers of the share group, or around a restart of the
worker, goes unseen. The same summary delivered again is not an overlap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from ingest.summaries import SummaryPoints

#: Series remembered before the memory starts again, empty (a deployment has thousands).
SERIES_LIMIT = 100_000

_Series = tuple[str, str, str]  # tenant, gateway, station
_Window = tuple[int, int, int]  # start and end (µs since the epoch), first sequence number


class WindowOverlaps:
    """Counts stored summaries that overlap another of their series. Not thread-safe: the
    worker's batch thread calls it after each commit."""

    def __init__(self, limit: int = SERIES_LIMIT) -> None:
        self.limit = limit
        self._newest: dict[_Series, _Window] = {}

    def observe(self, points: Sequence[SummaryPoints]) -> Counter[str]:
        """Per gateway, how many summaries overlap the one before them in start order, among
        those of `points` and the newest window remembered of each series."""
        if len(self._newest) > self.limit:
            self._newest = {}
        found: Counter[str] = Counter()
        for p in points:
            n = self._observe(p)
            if n:
                found[p.gateway] += n
        return found

    def _observe(self, p: SummaryPoints) -> int:
        if not len(p):
            return 0
        index = p.stations()
        keys = [(p.tenant, p.gateway, name) for name in index.names]
        known = [(code, self._newest[key]) for code, key in enumerate(keys) if key in self._newest]
        rows = p.rows
        code = np.concatenate([np.array([c for c, _ in known], dtype=np.intp), index.codes])
        start = np.concatenate([np.array([w[0] for _, w in known], dtype=np.int64), rows.window_start_us])
        end = np.concatenate([np.array([w[1] for _, w in known], dtype=np.int64), rows.window_end_us])
        first = np.concatenate([np.array([w[2] for _, w in known], dtype=np.int64), rows.first_seq])
        order = np.lexsort((first, end, start, code))
        code, start, end, first = code[order], start[order], end[order], first[order]
        same_series = code[1:] == code[:-1]
        # The item id's parts: the start in whole seconds and the first reading.
        same_summary = (start[1:] // 1_000_000 == start[:-1] // 1_000_000) & (first[1:] == first[:-1])
        overlaps = int(np.count_nonzero(same_series & (start[1:] < end[:-1]) & ~same_summary))
        # Remember the window that ends last of each series (the last of its rows by end).
        by_end = np.lexsort((end, code))
        last = by_end[np.r_[code[by_end][1:] != code[by_end][:-1], True]]
        for i in last.tolist():
            self._newest[keys[code[i]]] = (int(start[i]), int(end[i]), int(first[i]))
        return overlaps
