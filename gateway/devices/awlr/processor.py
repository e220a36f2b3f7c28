"""Per-station edge computation for river levels: QC, Siaga with hysteresis, rate of rise,
adaptive windows and summaries.

Readings are accepted one by one (cheap ordering checks) and processed per batch: QC runs once
over the station's trailing history plus the new readings (vectorised, `gateway.qc`), then the
trackers (`gateway.alarms`) see each new reading in order and windows close. Flags of earlier
readings are recomputed on every pass, so a reading's spike verdict becomes final once its
successor arrives, before its window is summarised.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from gateway.alarms import RateOfRiseTracker, SiagaTracker
from gateway.columns import LEVEL_STEPS_PER_CM, PackedFloats
from gateway.errors import FrameRejected
from gateway.model import Reading
from gateway.qc import QcFlag, run_qc
from tepi.config import StationConfig
from tepi.messages import LevelSummary, QcCounts, RateOfRise, SiagaChange, event_id, summary_id

Item = LevelSummary | SiagaChange | RateOfRise
_GOOD = int(QcFlag.GOOD)
#: Upper bound on readings kept per station for QC context. Only the flat-line span
#: (`qc.flat_fail_s`) is ever looked back on, so at one reading a minute ~150 are kept; the
#: bound applies to fast devices (at 1/s QC then sees the last 34 min).
MAX_HISTORY = 2048


class _History:
    """A station's recent readings as typed columns: levels and times for QC's look-back, and
    sequence numbers and battery voltages ("tags") only for the readings that can still be
    summarised or compared with the next one. Lists of Python floats took ~100 bytes a
    reading; four typed columns over the whole look-back took 32; doubles for the look-back
    16; now 8 where the values allow (`PackedFloats`: whole-second times, levels to a
    thousandth of a cm, kept exactly), with ~150 readings a station at 1/min and hundreds of
    stations on a small gateway. Indexing returns the same floats and ints that were
    appended; a missing battery voltage is stored as NaN (real ones are finite).

    Numpy sees copies (`to_numpy`), never views: a live view would stop the arrays from
    growing or shrinking (BufferError)."""

    __slots__ = ("t", "x", "_seq", "_battery", "_tags_from")

    def __init__(self) -> None:
        self.t = PackedFloats(scale=1)  # epoch seconds, strictly increasing
        self.x = PackedFloats(scale=LEVEL_STEPS_PER_CM)  # level, cm
        self._seq = array("q")  # the device's sequence number (0 <= seq < 2**63, checked by wire)
        self._battery = array("d")
        self._tags_from = 0  # index of the first reading whose seq and battery are kept

    def __len__(self) -> int:
        return len(self.t)

    def append(self, t: float, x: float, seq: int, battery_v: float | None) -> None:
        self.t.append(t)
        self.x.append(x)
        self._seq.append(seq)
        self._battery.append(math.nan if battery_v is None else battery_v)

    def seq(self, i: int) -> int:
        """Sequence number of reading `i` (negative counts from the end); only for readings at
        or after the one given to the last `forget_tags`."""
        return self._seq[i - self._tags_from if i >= 0 else i]

    def battery_v(self, i: int) -> float | None:
        b = self._battery[i - self._tags_from]
        return None if math.isnan(b) else b

    def forget_tags(self, before: int) -> None:
        """Drop sequence numbers and battery voltages of readings before index `before`: they
        stay only as QC context, where times and levels are all that is looked at."""
        k = before - self._tags_from
        if k > 0:
            del self._seq[:k], self._battery[:k]
            self._tags_from = before

    def drop_first(self, k: int) -> None:
        self.t.drop_first(k)
        self.x.drop_first(k)
        tagged = k - self._tags_from
        if tagged > 0:
            del self._seq[:tagged], self._battery[:tagged]
        self._tags_from = max(0, self._tags_from - k)


@dataclass(slots=True)
class _Window:
    start: float
    end: float
    first: int  # index into history of the window's first reading


class LevelProcessor:
    """Lifecycle: `accept` each reading (raises `FrameRejected` for duplicates, out-of-order
    and late readings), then `process()` once per batch; `due(now)` closes a window whose end
    has passed without a later reading. No I/O, no clock: time comes from readings or callers."""

    # One per device, hundreds on a gateway: attributes in slots, not a dict per instance.
    __slots__ = (
        "gateway_id", "station", "device_id", "alerting", "_siaga", "_rise", "_h", "_flags",
        "_pending", "_window", "_closed_until", "_rejected_in_window",
    )

    def __init__(self, gateway_id: str, station: StationConfig, device_id: str) -> None:
        self.gateway_id = gateway_id
        self.station = station
        self.device_id = device_id
        a = station.alerting
        self.alerting = a
        self._siaga = SiagaTracker(station.thresholds.bounds(), a.raise_after, a.clear_margin_cm)
        self._rise = RateOfRiseTracker(a.rate_of_rise_window_s, a.rate_of_rise_cm_per_h, a.rate_of_rise_clear_margin_cm_per_h)
        self._h = _History()
        self._flags = np.empty(0, dtype=np.uint8)
        self._pending = 0  # readings at the end of history not yet processed
        self._window: _Window | None = None
        self._closed_until = float("-inf")
        self._rejected_in_window = 0

    @property
    def siaga(self) -> int:
        return self._siaga.level

    def accept(self, reading: Reading) -> None:
        t = reading.ts.timestamp()
        h = self._h
        if len(h.t):
            last_t = h.t[-1]
            if t == last_t or (t < last_t and reading.seq == h.seq(-1)):
                raise FrameRejected("duplicate", f"seq {reading.seq} at {reading.ts.isoformat()} already accepted")
            if t < last_t:
                raise FrameRejected("out_of_order", f"{reading.ts.isoformat()} is before the last accepted reading")
        if t < self._closed_until:
            raise FrameRejected("late", f"{reading.ts.isoformat()} falls in a window already summarised")
        h.append(t, reading.level_cm, reading.seq, reading.battery_v)
        self._pending += 1

    def note_rejected(self) -> None:
        self._rejected_in_window += 1

    def process(self) -> list[Item]:
        if not self._pending:
            return []
        self._run_qc()
        out: list[Item] = []
        n = len(self._h)
        first = n - self._pending
        good = [f == _GOOD for f in self._flags[first:].tolist()]  # the new readings' flags only
        for i in range(first, n):
            out.extend(self._step(i, good[i - first]))
        self._pending = 0
        self._trim()
        return out

    def _run_qc(self) -> None:
        """Flags for the readings whose verdict can still change: the open window, the last
        processed reading (its spike test waited for this successor) and the new ones. QC runs
        over those plus the context its tests look back on (the flat-line span), not the whole
        history: at one reading a second the history is thousands of readings per device."""
        redo = self._first_unsettled(len(self._h) - self._pending - 1)
        context_from = self._context_from(redo)
        h = self._h
        _, flags = run_qc(h.t.to_numpy(context_from), h.x.to_numpy(context_from), self.station.sensor_span_cm, self.station.qc)
        kept = self._flags[:redo]
        self._flags = np.concatenate([kept, flags[redo - context_from :]]).astype(np.uint8, copy=False)

    def _first_unsettled(self, last_processed: int) -> int:
        """The first reading whose flag QC must recompute, given the last one already processed."""
        redo = last_processed
        if self._window is not None:
            redo = min(redo, self._window.first)
        return max(redo, 0)

    def _context_from(self, redo: int) -> int:
        """The first reading QC looks at when it recomputes flags from `redo` on: the flat-line
        span before it, and at least the two neighbours its spike and rate tests compare with.
        It never decreases from one pass to the next, which is what lets `_trim` drop the rest."""
        t = self._h.t
        context_from = bisect_left(t, t[redo] - self.station.qc.flat_fail_s)
        return max(0, min(context_from, redo - 2))

    def due(self, now: datetime) -> list[Item]:
        if self._window is not None and not self._pending and now.timestamp() >= self._window.end:
            return [self._close(len(self._h))]
        return []

    def _step(self, i: int, good: bool) -> list[Item]:
        h = self._h
        t, x, seq = h.t[i], h.x[i], h.seq(i)
        out: list[Item] = []
        w = self._window
        if w is not None and t >= w.end:
            out.append(self._close(i))
            w = None
        before = self._siaga.level
        changed = self._siaga.update(x, good)
        rise = self._rise.update(t, x, good)
        if changed is not None or rise is not None:
            out.extend(self._events(t, x, seq, before, changed, rise))
        every = self._every()
        if w is None:
            start = t // every * every
            self._window = _Window(start, start + every, i)
        elif changed is not None and every < w.end - w.start:
            # Adaptive reporting: an alert shortens the open window to the next short boundary.
            w.end = min(w.end, (t // every + 1) * every)
        return out

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
                    rate_cm_per_h=None if rate is None or np.isnan(rate) else round(float(rate), 2),
                    threshold_cm_per_h=self.alerting.rate_of_rise_cm_per_h, active=rise,
                )
            )
        return out

    def _every(self) -> int:
        a = self.alerting
        return a.summary_every_s_alert if self._siaga.level < 4 or self._rise.active else a.summary_every_s

    def _close(self, stop: int) -> LevelSummary:
        w = self._window
        assert w is not None
        h = self._h
        x = h.x.to_numpy(w.first, stop)
        f = self._flags[w.first : stop]
        first_seq, last_seq, n = h.seq(w.first), h.seq(stop - 1), stop - w.first
        good = f == QcFlag.GOOD
        suspect = f == QcFlag.SUSPECT
        gx = x[good]
        span = last_seq - first_seq + 1 if last_seq >= first_seq else n
        start = datetime.fromtimestamp(w.start, timezone.utc)
        summary = LevelSummary(
            id=summary_id(self.gateway_id, self.station.id, start, first_seq),
            station=self.station.id,
            device=self.device_id,
            window_start=start,
            window_end=datetime.fromtimestamp(w.end, timezone.utc),
            count=int(good.sum()),
            rejected=self._rejected_in_window,
            min_cm=float(gx.min()) if gx.size else None,
            max_cm=float(gx.max()) if gx.size else None,
            mean_cm=float(gx.mean()) if gx.size else None,
            last_cm=float(gx[-1]) if gx.size else None,
            qc=QcCounts(
                good=int(good.sum()), suspect=int(suspect.sum()), fail=int((f == QcFlag.FAIL).sum()),
                missing=max(0, span - n),
            ),
            suspect_min_cm=float(x[suspect].min()) if suspect.any() else None,
            suspect_max_cm=float(x[suspect].max()) if suspect.any() else None,
            last_ts=datetime.fromtimestamp(h.t[stop - 1], timezone.utc),
            first_seq=first_seq,
            last_seq=last_seq,
            siaga=self._siaga.level,
            battery_v=h.battery_v(stop - 1),
        )
        self._closed_until = w.end
        self._window = None
        self._rejected_in_window = 0
        return summary

    def _trim(self) -> None:
        """Forget history that neither QC nor the open window needs: what lies before the next
        pass's QC context (it only moves forward), and beyond MAX_HISTORY readings, except the
        open window's own readings. Of the rest, only the open window and the last reading
        (duplicates are recognised by it) keep their sequence numbers and battery voltages."""
        n = len(self._h)
        keep_from = max(n - MAX_HISTORY, self._context_from(self._first_unsettled(n - 1)))
        if self._window is not None:
            keep_from = min(keep_from, self._window.first)
        if keep_from > 0:
            self._h.drop_first(keep_from)
            self._flags = self._flags[keep_from:]
            if self._window is not None:
                self._window.first -= keep_from
            n -= keep_from
        tags_from = n - 1 if self._window is None else min(n - 1, self._window.first)
        self._h.forget_tags(max(tags_from, 0))
