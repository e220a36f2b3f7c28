"""One buoy device's processor at the shore gateway: reports in, QC'd window summaries and
small-boat limit events out. No I/O, no clock.

Windows are `summary_every_s` long (default 600 s), aligned to the epoch; a window closes when
a report falls in a later one, or when the gateway finds the device silent (`due`). QC runs over
the window's reports with the reports before it as context (`qc.report_flags`).

Small-boat limits: the sea is `exceeded` once two reports in a row, each usable, are above a
limit (waves above `wave_limit_m` or wind above `wind_limit_kn`), and back below once two usable
reports in a row are below both by a margin (`CLEAR_MARGIN_M`, `CLEAR_MARGIN_KN`); a lone spike raises nothing, and the event leaves at once,
at event priority, about one report after the crossing.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime, timezone

import numpy as np

from gateway.errors import FrameRejected
from kinds.wavebuoy.edge.qc import WAVE_QC, report_flags
from kinds.wavebuoy.edge.reading import BuoyReading
from kinds.wavebuoy.edge.sea_state import over_limits, usable, window_stats
from kinds.wavebuoy.wire import ReportAssembler
from kinds.wavebuoy.items import Observation, SeaStateSummary, SmallBoatLimit, limit_id, sea_state_id

#: Reports kept before the open window: enough for the flat-line test's longest run.
CONTEXT = WAVE_QC.flat_fail_count + 1
#: Consecutive usable reports that change the limit state.
CONFIRM = 2
#: Back below only this far under the limits (a Tepi choice: a sea hovering at the limit, its
#: reports scattered by a few percent, must not flap between dangerous and safe).
CLEAR_MARGIN_M, CLEAR_MARGIN_KN = 0.15, 2.0


def _none(x: float) -> float | None:
    return None if math.isnan(x) else x


class BuoyProcessor:
    def __init__(self, gateway: str, buoy: str, device: str, wave_limit_m: float, wind_limit_kn: float, summary_every_s: int = 600) -> None:
        if summary_every_s <= 0:
            raise ValueError("summary_every_s must be positive")
        self.gateway, self.buoy, self.device = gateway, buoy, device
        self.wave_limit_m, self.wind_limit_kn = wave_limit_m, wind_limit_kn
        self.every = summary_every_s
        self.exceeded = False
        self.rejected = 0
        #: The device's sentences become reports here (`wire`: wind waits for its wave sentence).
        self.assembler = ReportAssembler()
        self._context: deque[BuoyReading] = deque(maxlen=CONTEXT)
        self._window: list[BuoyReading] = []
        self._start: float | None = None
        self._pending: list[BuoyReading] = []
        self._last = -math.inf
        self._closed_until = -math.inf

    # -- the gateway's calls
    def accept(self, reading: BuoyReading) -> None:
        t = reading.ts.timestamp()
        if t < self._closed_until:
            raise FrameRejected("late", f"{reading.ts.isoformat()} falls in a window already summarised")
        if t == self._last:
            raise FrameRejected("duplicate", f"a report at {reading.ts.isoformat()} was already accepted")
        if t < self._last:
            raise FrameRejected("out_of_order", f"{reading.ts.isoformat()} is older than the last report")
        self._last = t
        self._pending.append(reading)

    def note_rejected(self) -> None:
        self.rejected += 1

    def resume(self, summarised_until: datetime) -> None:
        self._closed_until = max(self._closed_until, summarised_until.timestamp())

    @property
    def open_window_s(self) -> float | None:
        return float(self.every) if self._window else None

    def process(self) -> list[SeaStateSummary | SmallBoatLimit]:
        pending, self._pending = self._pending, []
        out: list[SeaStateSummary | SmallBoatLimit] = []
        for r in pending:
            t = r.ts.timestamp()
            start = math.floor(t / self.every) * self.every
            if self._start is not None and start != self._start:
                out += self._close()
            self._start = start
            self._window.append(r)
            event = self._limit_event()
            if event is not None:
                out.append(event)
        return out

    def due(self, now: datetime) -> list[SeaStateSummary | SmallBoatLimit]:
        return self._close()

    # -- inside
    def _series(self, readings: list[BuoyReading]) -> tuple[np.ndarray, ...]:
        a = np.array([(r.hs_m, r.tp_s, r.wave_dir_deg, r.wind_kn, r.wind_dir_deg, r.gust_kn) for r in readings], dtype=float).reshape(-1, 6)
        return tuple(a.T)

    def _flags(self, readings: list[BuoyReading]) -> tuple[np.ndarray, np.ndarray]:
        hs, tp, _, wind, _, _ = self._series(readings)
        return report_flags(hs, tp, wind)

    def _limit_event(self) -> SmallBoatLimit | None:
        recent = [*self._context, *self._window][-CONTEXT:]
        if len(recent) < CONFIRM:
            return None
        waves, wind = self._flags(recent)
        last = recent[-CONFIRM:]
        wave_ok, wind_ok = usable(waves[-CONFIRM:]), usable(wind[-CONFIRM:])
        if not wave_ok.all():
            return None
        overs = [
            over_limits(r.hs_m, r.wind_kn if w else math.nan, self.wave_limit_m, self.wind_limit_kn) for r, w in zip(last, wind_ok)
        ]
        below = [
            over_limits(r.hs_m, r.wind_kn if w else math.nan, max(self.wave_limit_m - CLEAR_MARGIN_M, self.wave_limit_m / 2),
                        max(self.wind_limit_kn - CLEAR_MARGIN_KN, self.wind_limit_kn / 2))
            for r, w in zip(last, wind_ok)
        ]
        if not self.exceeded and all(overs):
            self.exceeded = True
        elif self.exceeded and not any(below):
            self.exceeded = False
        else:
            return None
        newest = last[-1]
        return SmallBoatLimit(
            id=limit_id(self.gateway, self.buoy, newest.ts, self.exceeded), buoy=self.buoy, device=self.device,
            exceeded=self.exceeded, over=overs[-1], wave_limit_m=self.wave_limit_m, wind_limit_kn=self.wind_limit_kn,
            observation=self._observation(newest, bool(wind_ok[-1])),
        )

    def _observation(self, r: BuoyReading, wind_ok: bool) -> Observation:
        return Observation(
            at=r.ts, hs_m=r.hs_m, tp_s=r.tp_s, wave_dir_deg=_none(r.wave_dir_deg),
            wind_kn=_none(r.wind_kn) if wind_ok else None, wind_dir_deg=_none(r.wind_dir_deg) if wind_ok else None,
            gust_kn=_none(r.gust_kn) if wind_ok else None,
        )

    def _close(self) -> list[SeaStateSummary | SmallBoatLimit]:
        if not self._window or self._start is None:
            return []
        window, start = self._window, self._start
        n = len(window)
        waves, wind = self._flags([*self._context, *window])
        waves, wind = waves[-n:], wind[-n:]
        hs, tp, wdir, wkn, ndir, gust = self._series(window)
        stats = window_stats(hs, tp, wdir, wkn, ndir, gust, waves, wind)
        ok = np.flatnonzero(usable(waves))
        last = None if ok.size == 0 else self._observation(window[ok[-1]], bool(usable(wind[ok[-1]:ok[-1] + 1])[0]))
        begin = datetime.fromtimestamp(start, timezone.utc)
        end = start + self.every
        item = SeaStateSummary(
            id=sea_state_id(self.gateway, self.buoy, begin), buoy=self.buoy, device=self.device, window_start=begin,
            window_end=datetime.fromtimestamp(end, timezone.utc), count=stats.count, qc_suspect=stats.qc_suspect,
            qc_fail=stats.qc_fail, hs_max_m=stats.hs_max_m, hs_mean_m=stats.hs_mean_m, tp_mean_s=stats.tp_mean_s,
            wave_dir_mean_deg=stats.wave_dir_mean_deg, wind_max_kn=stats.wind_max_kn, wind_mean_kn=stats.wind_mean_kn,
            wind_dir_mean_deg=stats.wind_dir_mean_deg, gust_max_kn=stats.gust_max_kn, last=last,
        )
        item.closes(self.device, float(end))
        self._context.extend(window)
        self._window, self._start = [], None
        self._closed_until = max(self._closed_until, float(end))
        return [item]
