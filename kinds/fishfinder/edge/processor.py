"""One boat's edge processing at the gateway on board: its instrument values in, the items the
shore needs out (a thinned track, fish schools, sea summaries, SOS calls).

Cadence, in instrument (GNSS) time, which is what the readings carry:
- `Track`: the thinned fixes (`edge.track`, 20 m SED bound) since the last track, sent when a
  sea window closes (every `SEA_WINDOW_S`) or at `TRACK_MAX_POINTS`; while an SOS is active
  every `SOS_TRACK_S`, at distress priority and marked `distress`, so a rescue sees the drift;
  only the fixes from the press on are so marked (those kept before it leave as a routine track).
  Each track ends with the newest fix (the thinner's `flush`), so the shore knows where the
  boat is, not where it last turned.
- `SchoolSighting`: as `edge.schools.SchoolDetector` closes a school (an event).
- `SeaSummary`: depth and water temperature per `SEA_WINDOW_S` window (routine).
- `DistressCall`: at once on a press, and on its cancel.

SOS repetition (`tick`, wall-clock time from the gateway): while a press is neither
acknowledged by the centre (`SosStatus` on the downlink, `on_downlink`) nor cancelled, the
gateway repeats its call every `SOS_REPEAT_S`, each repeat a new item (`repeat` k, id of its
own) that ingest stores and answers. DSC distress alerts are repeated every 3.5-4.5 minutes
until acknowledged (ITU-R M.541, https://www.itu.int/rec/R-REC-M.541/en); that interval
spaces transmissions on a shared radio channel. Here the link is IP with end-to-end acks: a
repeat costs a few hundred bytes, and each one is a fresh chance for an acknowledgement lost
on a flaky cellular link (the boat only learns of it through the answer to a call) to come
back, so a minute bounds how long an operator's acknowledgement waits to reach the boat.
Repeats are spaced by the gateway's own wall clock from the first `tick` that saw the press
(GNSS time and the gateway clock may disagree by hours) and numbered consecutively, so no id is
reused; a press is (number, press time), as the button numbers presses from 1 each trip.
`resolved` from the centre ends the incident (no repeats, no distress tracks); a status about a
press this gateway does not know changes nothing.

Restarts: the press is journalled (`edge.reading`) and its call committed to the outbox at
once. Its state (`edge.reading.SosState`: press time, first seen, repeats sent, acknowledged,
resolved, cancelled) goes to the journal with the next frame's readings (`state_readings`,
called by `edge.kind`) whenever it changes and every half window while open, and a window's
closing items trim the journal no further than an open press's newest state row; the replay
restores it. A change the instruments' silence kept from the journal costs at most: repeats
numbered past all the gateway's clock allowed (one a minute since first seen), and a lost
acknowledgement that ingest's answer to the next repeat brings back.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from contract.downlink import KindDownlink
from gateway.errors import FrameRejected
from kinds.fishfinder.edge.reading import BoatReading, SosState, reading_of
from kinds.fishfinder.edge.schools import DetectionSettings, School, SchoolDetector
from kinds.fishfinder.edge.track import TrackThinner, WindowSummarizer
from kinds.fishfinder.items import (
    DistressCall, SchoolSighting, SeaSummary, SosStatus, Track, distress_id, press_ms, school_id, sea_summary_id, track_id,
)
from kinds.fishfinder.values import Depth, Distress, Fix, Ping, WaterTemp

log = logging.getLogger(__name__)

SEA_WINDOW_S = 600.0
TRACK_MAX_POINTS = 200
SOS_TRACK_S = 30.0
SOS_REPEAT_S = 60.0
#: The `repeat` number of a cancel: distinct from every repeat of the press (at most 100,000).
CANCEL_REPEAT = 100_000
BoatItem = Track | SchoolSighting | SeaSummary | DistressCall
#: The detector as the gateway on board runs it: schools at least 1 m tall. A small boat's
#: sounder has 0.2 m bins (`sim.boat.SounderSettings`), where a single fish's echo is three bins
#: (0.6 m) tall and passes the detector's default 0.5 m: on 30 two-minute chunks of a simulated
#: fishing ground, 0.5 m reported 137 schools of which 71 were single fish, 1.0 m the 66 true
#: schools and nothing else (recall unchanged). Schools are metres tall, so none is lost.
BOAT_DETECTION = DetectionSettings(min_height_m=1.0)


@dataclass(slots=True)
class Incident:
    """One press of the SOS button, as the gateway repeats it."""

    press: int
    pressed_at: datetime
    nature: str
    lat: float | None
    lon: float | None
    last_repeat: int = 0
    acknowledged: bool = False
    cancelled: bool = False
    resolved: bool = False
    #: Gateway wall clock of the last send (the first `tick` after the press counts as its send):
    #: repeats are spaced by the gateway's own clock, never GNSS time against it.
    last_sent_at: datetime | None = None
    #: Gateway wall clock when it first saw the press (its first `tick`): bounds the repeats
    #: sent (at most one a `SOS_REPEAT_S`), so numbering after a restart never reuses one.
    seen_at: datetime | None = None
    restored: bool = False
    changed: bool = True  # not journalled since it last changed
    journalled_at: datetime | None = None  # reading time of its newest state row

    @property
    def open(self) -> bool:
        return not (self.cancelled or self.resolved)

    @property
    def repeating(self) -> bool:
        return self.open and not self.acknowledged and self.last_repeat < CANCEL_REPEAT - 1


class BoatProcessor:
    """Lifecycle as `gateway.devices.Processor`; `tick(now)` repeats unacknowledged SOS calls,
    `on_downlink(message)` takes the centre's `SosStatus`. `decoder` is this device's NMEA
    state (`decoder.InstrumentDecoder`), used by the kind's `decode`. No I/O, no clock."""

    def __init__(self, gateway_id: str, vessel: str, device_id: str, decoder: Any) -> None:
        self.gateway_id, self.vessel, self.device_id = gateway_id, vessel, device_id
        self.decoder = decoder
        self.last_decoded_fix: datetime | None = None  # RMC and GGA of one second are one fix (kind.decode)
        self.schools = SchoolDetector(BOAT_DETECTION)
        self.thinner = TrackThinner()
        self._depth, self._temp = WindowSummarizer(SEA_WINDOW_S), WindowSummarizer(SEA_WINDOW_S)
        self._window: int | None = None  # index of the open sea window
        self._points: list[Fix] = []  # kept fixes not yet in a Track
        self._last_fix: Fix | None = None
        self._last_ping: float = -math.inf
        self._last_track_at: datetime | None = None  # fix time of the newest point sent in a Track
        self._closed_until = -math.inf
        self._pending: list[BoatReading] = []
        self.incidents: dict[tuple[int, datetime], Incident] = {}  # by (press number, press time)
        self.rejected = 0

    # -- Processor
    def accept(self, reading: BoatReading) -> None:
        v, t = reading.value, reading.ts.timestamp()
        if isinstance(v, Ping):
            if t <= self._last_ping:
                raise FrameRejected("out_of_order", f"ping {v.seq} at {reading.ts.isoformat()} is not after the last")
            self._last_ping = t
        elif isinstance(v, (Fix, Depth, WaterTemp)):
            if t < self._closed_until:
                raise FrameRejected("late", f"{reading.ts.isoformat()} falls in a sea window already summarised")
        self._pending.append(reading)

    def note_rejected(self) -> None:
        self.rejected += 1

    def resume(self, summarised_until: datetime) -> None:
        self._closed_until = max(self._closed_until, summarised_until.timestamp())

    @property
    def open_window_s(self) -> float | None:
        return SEA_WINDOW_S if self._window is not None or self._points else None

    def process(self) -> list[BoatItem]:
        pending, self._pending = self._pending, []
        out: list[BoatItem] = []
        for r in pending:
            v = r.value
            if isinstance(v, Distress):
                out += self._distress(v)
                continue
            if isinstance(v, SosState):
                self._restore(v)
                continue
            if isinstance(v, Ping):
                try:
                    out += [self._sighting(s) for s in self.schools.push(v)]
                except ValueError as exc:
                    self.rejected += 1
                    log.warning("ping not taken by the school detector", extra={"device": self.device_id, "error": str(exc)})
                continue
            out += self._advance(r.ts)
            try:
                if isinstance(v, Fix):
                    out += self._fix(v)
                elif isinstance(v, Depth):
                    self._depth.add(v.ts, v.depth_m)
                elif isinstance(v, WaterTemp):
                    self._temp.add(v.ts, v.temp_c)
            except ValueError as exc:  # a value of a window already closed, a non-finite one
                self.rejected += 1
                log.warning("value not taken", extra={"device": self.device_id, "error": str(exc)})
        return out

    def due(self, now: datetime) -> list[BoatItem]:
        """The boat went silent (home, instruments off): everything open goes out."""
        out: list[BoatItem] = [self._sighting(s) for s in self.schools.flush()]
        out += self._close_window()
        return out

    # -- timers and downlink
    def tick(self, now: datetime) -> list[DistressCall]:
        """Repeats due at the gateway's wall-clock `now`: for each repeating press, the next
        number once `SOS_REPEAT_S` passed since its last send (a gateway that was off sends one)."""
        out = []
        for inc in self.incidents.values():
            if not inc.repeating:
                continue
            if inc.seen_at is None:
                inc.seen_at, inc.changed = now, True
            if inc.restored:  # after a restart: past every number the gateway can have sent
                inc.restored = False
                if now >= inc.seen_at:
                    bound = math.floor((now - inc.seen_at).total_seconds() / SOS_REPEAT_S)
                    inc.last_repeat = min(CANCEL_REPEAT - 1, max(inc.last_repeat, bound))
                    inc.last_sent_at = now - timedelta(seconds=SOS_REPEAT_S)  # a repeat at once
                    if not inc.repeating:  # 69 days of repeats: the last number is spent
                        continue
            if inc.last_sent_at is None or now < inc.last_sent_at:  # first seen, or the clock stepped back
                inc.last_sent_at = now
                continue
            if (now - inc.last_sent_at).total_seconds() >= SOS_REPEAT_S:
                inc.last_repeat += 1
                inc.last_sent_at, inc.changed = now, True
                lat, lon = self._position(inc)
                out.append(self._call(inc, inc.last_repeat, now, True, lat, lon))
        return out

    def on_downlink(self, message: KindDownlink) -> list[SosStatus]:
        """The centre's `SosStatus` for this vessel: `acknowledged` or `resolved` stops the
        repeats of that press; every status is returned for the local alarm to announce."""
        if message.type != "sos_status":
            return []
        status = SosStatus.model_validate_json(message.body)
        if status.vessel != self.vessel:
            return []
        inc = self._of_status(status)
        if inc is not None and status.status == "acknowledged" and not inc.acknowledged:
            inc.acknowledged = inc.changed = True
        elif inc is not None and status.status == "resolved" and not inc.resolved:
            inc.resolved = inc.changed = True  # over: no more repeats, no more distress tracks
        # A status of a press this gateway does not know (a stale one) only sounds on board.
        return [status]

    def _of_status(self, status: SosStatus) -> Incident | None:
        """The press a status is about: by press time when the centre says it, else the open
        press of that number."""
        if status.pressed_at is not None:  # the centre has it to the millisecond (`items.press_ms`)
            ms = press_ms(status.pressed_at)
            return next((i for i in self.incidents.values() if i.press == status.press and press_ms(i.pressed_at) == ms), None)
        return self._open(status.press)

    def _open(self, press: int) -> Incident | None:
        return next((inc for inc in self.incidents.values() if inc.press == press and inc.open), None)

    @property
    def sos_active(self) -> bool:
        return any(inc.open for inc in self.incidents.values())

    # -- internals
    def _distress(self, d: Distress) -> list[DistressCall]:
        inc = self._open(d.seq)
        if d.active:
            if inc is None:  # a new press (a new trip numbers its presses from 1 again)
                inc = self.incidents[(d.seq, d.ts)] = Incident(d.seq, d.ts, d.nature, d.lat, d.lon)
                lat, lon = self._position(inc)
                return [self._call(inc, 0, d.ts, True, lat, lon)]
            if d.lat is not None and (d.lat, d.lon) != (inc.lat, inc.lon):
                inc.lat, inc.lon, inc.changed = d.lat, d.lon, True
            return []
        if inc is None:
            cancelled = [i for i in self.incidents.values() if i.press == d.seq and not i.open]
            if cancelled:
                return []  # the button sends its cancel several times
            inc = self.incidents[(d.seq, d.ts)] = Incident(d.seq, d.ts, d.nature, d.lat, d.lon)
        inc.cancelled = inc.changed = True
        lat, lon = self._position(inc)
        return [self._call(inc, CANCEL_REPEAT, d.ts, False, lat, lon)]

    def state_readings(self, ts: datetime) -> list[BoatReading]:
        """SOS state rows for the journal (`edge.kind` adds them to a frame's readings): a press
        whose state changed, and an open press again every half window, so the window trims
        (`_close_window`) never take its newest row."""
        out = []
        for inc in self.incidents.values():
            stale = inc.open and (inc.journalled_at is None or (ts - inc.journalled_at).total_seconds() >= SEA_WINDOW_S / 2)
            if not (inc.changed or stale):
                continue
            inc.changed, inc.journalled_at = False, ts
            out.append(reading_of(self.device_id, SosState(
                ts, inc.press, inc.pressed_at, inc.nature, inc.seen_at, inc.last_repeat, inc.acknowledged,
                inc.cancelled, inc.resolved, inc.lat, inc.lon,
            )))
        return out

    def _restore(self, st: SosState) -> None:
        """A journalled state (a restart's replay), merged: what was sent or answered stays so."""
        key = (st.press, st.pressed_at)
        inc = self.incidents.get(key)
        new = inc is None
        if inc is None:
            inc = self.incidents[key] = Incident(st.press, st.pressed_at, st.nature, st.lat, st.lon)
        unseen = inc.seen_at is None
        inc.last_repeat = max(inc.last_repeat, st.last_repeat)
        inc.acknowledged |= st.acknowledged
        inc.cancelled |= st.cancelled
        inc.resolved |= st.resolved
        if st.seen_at is not None and (inc.seen_at is None or st.seen_at < inc.seen_at):
            inc.seen_at = st.seen_at
        # Live, a state row comes back through `accept` with what this run knows already.
        inc.restored = inc.restored or (unseen and inc.seen_at is not None)
        if new:
            inc.changed = False
        inc.journalled_at = max(st.ts, inc.journalled_at or st.ts)

    def _position(self, inc: Incident) -> tuple[float | None, float | None]:
        """The newest known position: the latest fix, else the one the button sent."""
        if self._last_fix is not None:
            return self._last_fix.lat, self._last_fix.lon
        return inc.lat, inc.lon

    def _call(self, inc: Incident, repeat: int, ts: datetime, active: bool, lat: float | None, lon: float | None) -> DistressCall:
        return DistressCall(
            id=distress_id(self.gateway_id, self.vessel, inc.press, inc.pressed_at, repeat), vessel=self.vessel,
            device=self.device_id, ts=ts, press=inc.press, pressed_at=inc.pressed_at, repeat=repeat, nature=inc.nature, active=active, lat=lat, lon=lon,  # type: ignore[arg-type]
        )

    def _fix(self, f: Fix) -> list[BoatItem]:
        if self._last_fix is not None and f.ts <= self._last_fix.ts:
            return []  # the same fix told again (RMC and GGA), or a GNSS clock step back
        self._last_fix = f
        try:
            self.schools.push_fix(f)
            kept = self.thinner.push(f)
        except ValueError as exc:
            self.rejected += 1
            log.warning("fix not taken", extra={"device": self.device_id, "error": str(exc)})
            return []
        self._points += kept
        if len(self._points) >= TRACK_MAX_POINTS:
            return self._track()
        if self.sos_active and (self._last_track_at is None or (f.ts - self._last_track_at).total_seconds() >= SOS_TRACK_S):
            return self._track()  # an SOS: where the boat drifts, every half minute
        return []

    def _track(self) -> list[Track]:
        points = self._points + [p for p in self.thinner.flush() if not self._points or p.ts > self._points[-1].ts]
        self._points = []
        if not points:
            return []
        self._last_track_at = points[-1].ts
        pressed = min((inc.pressed_at for inc in self.incidents.values() if inc.open), default=None)
        if pressed is None:
            return [self._track_of(points, distress=False)]
        # Fixes kept before the press (up to a sea window of them) leave as a routine track: the
        # boat was not in distress there, and a rescue reads the distress track as the drift.
        before = [p for p in points if p.ts < pressed]
        after = points[len(before):]
        return [self._track_of(part, distress) for part, distress in ((before, False), (after, True)) if part]

    def _track_of(self, points: list[Fix], distress: bool) -> Track:
        return Track(
            id=track_id(self.gateway_id, self.vessel, _us(points[0].ts)), vessel=self.vessel, device=self.device_id,
            points=[(_us(p.ts), p.lat, p.lon, _sog(p.sog_kn), _cog(p.cog_deg)) for p in points],
            distress=distress,
        )

    def _advance(self, ts: datetime) -> list[BoatItem]:
        """A reading of a later sea window closes the open one (track first, then the summary)."""
        w = math.floor(ts.timestamp() / SEA_WINDOW_S)
        if self._window is None:
            self._window = w
            return []
        if w <= self._window:
            return []
        out = self._close_window()
        self._window = w
        return out

    def _close_window(self) -> list[BoatItem]:
        out: list[BoatItem] = list(self._track())
        if self._window is None:
            return out
        start = datetime.fromtimestamp(self._window * SEA_WINDOW_S, timezone.utc)
        end = datetime.fromtimestamp((self._window + 1) * SEA_WINDOW_S, timezone.utc)
        d, t = self._depth.flush(), self._temp.flush()
        self._window = None
        self._closed_until = end.timestamp()
        # The items closing a window trim the journal before its end (a boat with GNSS only has
        # tracks and no summary), but never an open press: its row is the SOS after a restart.
        # Nor a press closed within the last window: the button repeats its cancel after the
        # release (`sim.boat.CANCEL_REPEATS`), and a restarted gateway that forgot the press would
        # send the next one as the cancel of a press never seen, a phantom incident ashore.
        rows = [(inc, inc.journalled_at or inc.pressed_at) for inc in self.incidents.values()]
        trim = min([end, *(t for inc, t in rows if inc.open or (end - t).total_seconds() < SEA_WINDOW_S)])
        for track in out:
            track.closes(self.device_id, trim.timestamp())
        if not (d or t):
            return out
        out.append(SeaSummary(
            id=sea_summary_id(self.gateway_id, self.vessel, start), vessel=self.vessel, device=self.device_id,
            window_start=start, window_end=end,
            depth_count=d[0].count if d else 0, depth_min_m=d[0].min if d else None,
            depth_max_m=d[0].max if d else None, depth_mean_m=d[0].mean if d else None,
            temp_count=t[0].count if t else 0, temp_min_c=t[0].min if t else None,
            temp_max_c=t[0].max if t else None, temp_mean_c=t[0].mean if t else None,
        ))
        out[-1].closes(self.device_id, trim.timestamp())
        return out

    def _sighting(self, s: School) -> SchoolSighting:
        return SchoolSighting(
            id=school_id(self.gateway_id, self.vessel, s.start, s.top_m), vessel=self.vessel, device=self.device_id,
            start=s.start, end=s.end, lat=s.lat, lon=s.lon, top_m=s.top_m, bottom_m=s.bottom_m,
            mean_sv_db=max(-200.0, min(0.0, s.mean_sv_db)), pings=s.pings,
        )


def _us(ts: datetime) -> int:
    return round(ts.timestamp() * 1_000_000)


def _sog(x: float | None) -> float | None:
    return None if x is None or not 0 <= x <= 100 else x


def _cog(x: float | None) -> float | None:
    return None if x is None or not 0 <= x < 360 else x
