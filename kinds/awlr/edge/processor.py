"""Per-station edge computation for river levels: QC, Siaga with hysteresis, rate of rise,
adaptive windows and summaries.

Readings are accepted one by one (cheap ordering checks) and processed per batch, in order:
QC judges each as it comes (`kinds.awlr.edge.station_qc`, state that does not grow with the reading
rate), the trackers (`kinds.awlr.edge.alarms`) see it with the flags known at that moment (a reading's
spike verdict waits for its successor, so the newest reading of a batch is judged without it),
and its window tallies it with its final flag. Nothing of a reading is kept once its window is
closed: summaries are running tallies, not lists of readings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

from kinds.awlr.edge.trackers import RateOfRiseTracker, SiagaTracker
from gateway.errors import FrameRejected
from kinds.awlr.edge.reading import LevelReading as Reading
from kinds.awlr.qc_config import QcFlag
from kinds.awlr.edge.station_qc import StationQc
from kinds.awlr.config import StationConfig
from contract.ids import event_id
from kinds.awlr.items import LevelSummary, QcCounts, RateOfRise, SiagaChange
from kinds.awlr.summary_columns import summary_id

Item = LevelSummary | SiagaChange | RateOfRise
_GOOD, _SUSPECT, _FAIL = int(QcFlag.GOOD), int(QcFlag.SUSPECT), int(QcFlag.FAIL)


@dataclass(slots=True)
class _Window:
    """A summary window being filled: running tallies of its readings by final QC flag. The
    newest reading's flag may still change (its spike test waits for the next reading), so it
    waits in `tail` until settled, or is tallied as it stands when the window closes first."""

    start: float
    end: float
    first_seq: int
    last_seq: int = 0
    n: int = 0
    last_t: float = 0.0
    battery_v: float | None = None
    good: int = 0
    suspect: int = 0
    fail: int = 0
    good_sum: float = 0.0
    good_min: float = math.inf
    good_max: float = -math.inf
    good_last: float = math.nan
    suspect_min: float = math.inf
    suspect_max: float = -math.inf
    tail: tuple[float, int] | None = None  # (level, flag so far) of the newest reading

    def add(self, t: float, x: float, seq: int, battery_v: float | None, flag: int, final: bool) -> None:
        self.n += 1
        self.last_seq, self.last_t, self.battery_v = seq, t, battery_v
        if final:
            self._tally(x, flag)
        else:
            self.tail = (x, flag)

    def settle(self, flag: int) -> None:
        """The final flag of the newest reading, now that its successor is known."""
        if self.tail is not None:
            self._tally(self.tail[0], flag)
            self.tail = None

    def _tally(self, x: float, flag: int) -> None:
        if flag == _GOOD:
            self.good += 1
            self.good_sum += x
            self.good_min = min(self.good_min, x)
            self.good_max = max(self.good_max, x)
            self.good_last = x
        elif flag == _SUSPECT:
            self.suspect += 1
            self.suspect_min = min(self.suspect_min, x)
            self.suspect_max = max(self.suspect_max, x)
        elif flag == _FAIL:
            self.fail += 1


class LevelProcessor:
    """Lifecycle: `accept` each reading (raises `FrameRejected` for duplicates, out-of-order
    and late readings), then `process()` once per batch; `due(now)` closes a window whose end
    has passed without a later reading. No I/O, no clock: time comes from readings or callers.

    A device's windows never overlap and their starts strictly increase, whatever the cadence
    does: a window starts on a boundary of the current cadence or where the last one ended,
    whichever is later (`resume` restores that end after a restart)."""

    # One per device, hundreds on a gateway: attributes in slots, not a dict per instance.
    __slots__ = (
        "gateway_id", "station", "device_id", "alerting", "_siaga", "_rise", "_qc", "_pending",
        "_last_t", "_last_seq", "_window", "_closed_until", "_rejected_in_window",
    )

    def __init__(self, gateway_id: str, station: StationConfig, device_id: str) -> None:
        self.gateway_id = gateway_id
        self.station = station
        self.device_id = device_id
        a = station.alerting
        self.alerting = a
        self._siaga = SiagaTracker(station.thresholds.bounds(), a.raise_after, a.clear_margin_cm)
        self._rise = RateOfRiseTracker(
            a.rate_of_rise_window_s, a.rate_of_rise_cm_per_h, a.rate_of_rise_clear_margin_cm_per_h,
            short_window_s=a.rate_of_rise_short_window_s, short_threshold_cm_per_h=a.rate_of_rise_short_cm_per_h,
        )
        self._qc = StationQc(station.sensor_span_cm, station.qc)
        self._pending: list[Reading] = []  # accepted, not yet processed
        self._last_t = -math.inf  # the last accepted reading: duplicates are recognised by it
        self._last_seq = -1
        self._window: _Window | None = None
        self._closed_until = -math.inf
        self._rejected_in_window = 0

    @property
    def siaga(self) -> int:
        return self._siaga.level

    def accept(self, reading: Reading) -> None:
        t = reading.ts.timestamp()
        last_t = self._last_t
        if t == last_t or (t < last_t and reading.seq == self._last_seq):
            raise FrameRejected("duplicate", f"seq {reading.seq} at {reading.ts.isoformat()} already accepted")
        if t < last_t:
            raise FrameRejected("out_of_order", f"{reading.ts.isoformat()} is before the last accepted reading")
        if t < self._closed_until:
            raise FrameRejected("late", f"{reading.ts.isoformat()} falls in a window already summarised")
        self._pending.append(reading)
        self._last_t, self._last_seq = t, reading.seq

    def note_rejected(self) -> None:
        self._rejected_in_window += 1

    def process(self) -> list[Item]:
        """QC, trackers and windows over the pending readings, in order. A reading is stepped
        once the next one has been judged when the batch holds it, so that its spike verdict
        is final; the last of the batch goes with its verdict so far."""
        pending, self._pending = self._pending, []
        out: list[Item] = []
        held: Reading | None = None  # the newest reading, stepped once its successor is judged
        held_t, flag = 0.0, _GOOD
        for r in pending:
            t = r.ts.timestamp()
            previous, now = self._qc.push(t, r.level_cm)
            if held is not None:
                self._step(held, held_t, previous, True, out)  # type: ignore[arg-type]
            elif previous is not None:
                self._rise.settle(previous == _GOOD)  # a spike taken as good leaves the rise windows
                if self._window is not None:
                    self._window.settle(previous)
            held, held_t, flag = r, t, now
        if held is not None:
            self._step(held, held_t, flag, False, out)
        return out

    def due(self, now: datetime) -> list[Item]:
        if self._window is not None and not self._pending and now.timestamp() >= self._window.end:
            return [self._close()]
        return []

    @property
    def open_window_s(self) -> float | None:
        """Length of the open window (None when none is open): its end is at most this long
        after its newest reading, so a device silent this long has passed it."""
        w = self._window
        return None if w is None else w.end - w.start

    def resume(self, summarised_until: datetime) -> None:
        """After a restart: the device's windows already summarised end at `summarised_until`.
        No new window starts before it, and a reading before it is refused as late."""
        self._closed_until = max(self._closed_until, summarised_until.timestamp())

    def _step(self, r: Reading, t: float, flag: int, final: bool, out: list[Item]) -> None:
        """One reading through trackers and window; what it closes or raises goes to `out`."""
        x, seq = r.level_cm, r.seq
        w = self._window
        if w is not None and t >= w.end:
            out.append(self._close())
            w = None
        good = flag == _GOOD
        before = self._siaga.level
        changed = self._siaga.update(x, good)
        rise = self._rise.update(t, x, good)
        if changed is not None or rise is not None:
            out.extend(self._events(t, x, seq, before, changed, rise))
        if w is None:
            # Aligned to the cadence, but never before the end of the windows already sent:
            # after one-minute windows up to 18:32, the next ten-minute one is [18:32, 18:40),
            # not [18:30, 18:40), which would overlap them and share a start (a series' time).
            every = self._every()
            start = max(t // every * every, self._closed_until)
            w = self._window = _Window(start, (t // every + 1) * every, seq)
        elif changed is not None:
            every = self._every()
            if every < w.end - w.start:
                # Adaptive reporting: an alert shortens the open window to the next short boundary.
                w.end = min(w.end, (t // every + 1) * every)
        w.add(t, x, seq, r.battery_v, flag, final)

    def _events(self, t: float, x: float, seq: int, before: int, changed: int | None, rise: bool | None) -> list[Item]:
        out: list[Item] = []
        ts = datetime.fromtimestamp(t, timezone.utc)
        if changed is not None:
            out.append(
                SiagaChange(
                    id=event_id(self.gateway_id, self.station.id, "siaga", ts, seq), station=self.station.id,
                    device=self.device_id, ts=ts, seq=seq, level_cm=x, siaga_from=before, siaga_to=changed,
                )
            )
        if rise is not None:
            rate = self._rise.rate_cm_per_h
            out.append(
                RateOfRise(
                    id=event_id(self.gateway_id, self.station.id, "rise", ts, seq), station=self.station.id,
                    device=self.device_id, ts=ts, seq=seq, level_cm=x,
                    rate_cm_per_h=None if rate is None or math.isnan(rate) else round(float(rate), 2),
                    threshold_cm_per_h=self._rise.rate_threshold_cm_per_h, active=rise,
                )
            )
        return out

    def _every(self) -> int:
        a = self.alerting
        return a.summary_every_s_alert if self._siaga.level < 4 or self._rise.active else a.summary_every_s

    def _close(self) -> LevelSummary:
        w = self._window
        assert w is not None
        if w.tail is not None:
            w.settle(w.tail[1])  # no successor yet: the verdict as it stands
        good = w.good
        span = w.last_seq - w.first_seq + 1 if w.last_seq >= w.first_seq else w.n
        start = datetime.fromtimestamp(w.start, timezone.utc)
        summary = LevelSummary(
            id=summary_id(self.gateway_id, self.station.id, start, w.first_seq),
            station=self.station.id,
            device=self.device_id,
            window_start=start,
            window_end=datetime.fromtimestamp(w.end, timezone.utc),
            count=good,
            rejected=self._rejected_in_window,
            min_cm=w.good_min if good else None,
            max_cm=w.good_max if good else None,
            mean_cm=w.good_sum / good if good else None,
            last_cm=w.good_last if good else None,
            qc=QcCounts(good=good, suspect=w.suspect, fail=w.fail, missing=max(0, span - w.n)),
            suspect_min_cm=w.suspect_min if w.suspect else None,
            suspect_max_cm=w.suspect_max if w.suspect else None,
            last_ts=datetime.fromtimestamp(w.last_t, timezone.utc),
            first_seq=w.first_seq,
            last_seq=w.last_seq,
            siaga=self._siaga.level,
            battery_v=w.battery_v,
        )
        self._closed_until = w.end
        self._window = None
        self._rejected_in_window = 0
        return summary
