"""The fish-finder's NMEA decoder, on board: the lines of a boat's instruments, as a serial
port or an MQTT payload gives them, to the values of `values` (the format and its rejection
reasons: `wire`, which also encodes it for the simulator)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import numpy as np
import pynmea2

from gateway.errors import FrameRejected
from kinds.fishfinder import nmea_common
from kinds.fishfinder.nmea_fields import (
    FATHOM_M, FOOT_M, HEX_BYTE, KNOT_KMH, TALKER_LINE, TALKER_TYPES, Encapsulated, bad, checksum, course, date_of,
    ddmmyy, depth_m, number, position, read_sentence, speed, time_of_day, uint,
)
from kinds.fishfinder.values import Depth, Distress, Fix, InstrumentValue, Ping, WaterTemp
from kinds.fishfinder.wire import DISTRESS, ECHOGRAM, MANUFACTURER, MAX_BINS, MAX_FRAGMENTS, NATURES, SV_STEP_DB

_UTC = timezone.utc
_HALF_DAY = timedelta(hours=12)
_NO_TIME = timedelta(0)
_AIS_TYPES = frozenset({"VDM", "VDO"})
_HEX = {f"{i:02X}": i for i in range(256)}  # a checksum's two upper-case hex digits, read

_Apply = Callable[[Any, datetime], "Outcome"]
_KNOWN_LINES = 64  # a few seconds of a boat's lines (10 to 15 sentences a second and AIS)


def _as_read(reading: str, rx: datetime) -> str:
    """The reading is the outcome (``unused``, ``ais``)."""
    return reading


class _OpenPing:
    __slots__ = ("seq", "count", "next", "ts", "bin_mm", "start_mm", "bins", "chunks")

    def __init__(self, seq: int, count: int, ts: datetime, bin_mm: int, start_mm: int, bins: int) -> None:
        self.seq, self.count, self.next, self.ts = seq, count, 1, ts
        self.bin_mm, self.start_mm, self.bins = bin_mm, start_mm, bins
        self.chunks: list[str] = []


Outcome = InstrumentValue | str
_KIND_LABEL = {Fix: "fix", Depth: "depth", WaterTemp: "water_temp", Ping: "ping", Distress: "distress"}


class InstrumentDecoder:
    """Decodes one boat's NMEA stream, line by line, into instrument values.

    Stateful because NMEA is: fixes without a date, soundings without a time and echogram
    fragments need what came before. Pure otherwise: the receive time is passed in, never read.
    `decode` returns a value, None for a line that carries none on its own, or raises
    `FrameRejected`. `counts` tallies every line's outcome: a value's kind (``fix``, ``depth``,
    ``water_temp``, ``ping``, ``distress``), a rejection reason, or ``ais``, ``unused``,
    ``absorbed`` (VTG, ZDA, a ping fragment before the last), ``blank``; and
    ``incomplete_ping`` for each ping dropped unfinished, which no line is rejected for. A plain
    dict (a `Counter`'s ``+=`` cost 60 ns more a line): an outcome not seen yet is not in it.

    The short road, for speed (bench/nmea_parse.py): a talker sentence in its usual shape is
    framed and its fields read in one match of the whole line (`nmea_common.LINES`), into a
    reading that the line alone decides (a position and time, a depth, "unused" ...), which is
    then applied to the stream's state (the clock, the receive time). A line the same as one
    read so shortly before is not read again: instruments repeat what has not changed (water
    temperature, depth, satellites in view, Garmin's datum), a third of the recorded lines.
    Anything else takes the plain road, `read_sentence` and the fields one by one, to the same
    values and reasons; ``common_shapes=False`` takes it for every line, the reference the
    tests hold the short road to.
    """

    def __init__(self, common_shapes: bool = True) -> None:
        self.counts: dict[str, int] = {}
        self._gnss_ts: datetime | None = None  # latest GNSS time, and when it was received
        self._gnss_rx: datetime | None = None
        self._gnss_hms: str | None = None  # the time-of-day field it was read from
        self._motion: tuple[datetime | None, float | None, float | None] | None = None  # VTG: epoch, sog, cog
        self._ping: _OpenPing | None = None
        self._lost_seq: int | None = None
        self._talker: dict[str, Callable[[list[str], datetime], Outcome]] = {  # the plain road, field by field
            "RMC": self._rmc, "GGA": self._gga, "GLL": self._gll, "VTG": self._vtg, "ZDA": self._zda,
            "DBT": self._dbt, "DPT": self._dpt, "MTW": self._mtw,
        }
        # The short road: a sentence type's usual shape read to a reading, how that is applied,
        # and whether the same line may well come again (not with a GNSS time of day in it).
        repeats = {"RMC": False, "GGA": False, "GLL": False, "ZDA": False,
                   "VTG": True, "DBT": True, "DPT": True, "MTW": True}
        applies = {
            "RMC": self._apply_fix, "GGA": self._apply_time_only_fix, "GLL": self._apply_time_only_fix,
            "ZDA": self._apply_date, "VTG": self._apply_motion, "DBT": self._apply_depth,
            "DPT": self._apply_depth, "MTW": self._apply_water_temp,
        }
        self._usual: dict[bytes, tuple[re.Pattern[str], Callable[[re.Match[str]], Any], _Apply,
                                       Callable[[list[str], datetime], Outcome], bool]] | None = {
            head: (whole, read, applies[head.decode()], self._talker[head.decode()], repeats[head.decode()])
            for head, (whole, read) in nmea_common.LINES.items()
        } if common_shapes else None
        self._known: dict[bytes, tuple[_Apply, object]] = {}  # lines read the short way lately: their readings

    def decode(self, line: bytes, received_at: datetime) -> InstrumentValue | None:
        """One line as read from the port, with or without CR LF; `received_at` UTC-aware."""
        if received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        try:
            known = self._known.get(line)  # the same line lately: what it alone decides, applied anew
            if known is not None:
                apply, reading = known
                outcome = apply(reading, received_at)
            else:
                outcome = self._short_road(line, received_at) if self._usual is not None else None
                if outcome is None:
                    outcome = self._plain_road(line, received_at)
        except FrameRejected as exc:
            self._count(exc.reason)
            raise
        if isinstance(outcome, str):
            label, outcome = outcome, None
        else:
            label = _KIND_LABEL[type(outcome)]
        try:
            self.counts[label] += 1
        except KeyError:  # the first of its kind
            self.counts[label] = 1
        return outcome

    def _count(self, label: str) -> None:
        self.counts[label] = self.counts.get(label, 0) + 1

    def close(self) -> None:
        """End of stream: a ping still open is incomplete."""
        self._drop_open_ping()

    # -- sentences
    def _short_road(self, line: bytes, rx: datetime) -> Outcome | None:
        """The outcome of a talker sentence in its usual frame; None for the plain road. A
        sentence type read here is matched whole, fields and frame in one (`nmea_common.LINES`),
        chosen by the type where ``$ttTTT`` has it."""
        usual = self._usual.get(line[3:6])  # type: ignore[union-attr]
        if usual is not None:
            whole, read, apply, by_fields, repeats = usual
            m = whole.fullmatch(line.decode("latin-1"))
            if m is not None:
                stated = m.start("stated")
                if stated > 78:  # fields past TALKER_LINE's 70 characters
                    return None
                if checksum(line[1:stated - 1]) != _HEX[m["stated"]]:
                    return None  # read_sentence says why not
                reading = read(m)
                if reading is None:  # not the usual values
                    return by_fields(line[7:stated - 1].decode("ascii").split(","), rx)
                if repeats:
                    self._remember(line, apply, reading)
                return apply(reading, rx)
        framed = TALKER_LINE.fullmatch(line)
        if framed is None:
            return None
        covered, sentence_type, fields_text, stated_hex = framed.groups()
        if checksum(covered) != HEX_BYTE[stated_hex]:
            return None  # read_sentence says why not
        if usual is not None:  # framed, but the fields not in their usual shape
            return usual[3](fields_text.decode("ascii").split(","), rx)
        if sentence_type in TALKER_TYPES:
            return self._remember(line, _as_read, "unused")
        return None

    def _plain_road(self, line: bytes, rx: datetime) -> Outcome:
        read = read_sentence(line)
        if read is None:
            return "blank"
        family, name, fields = read
        if family is pynmea2.TalkerSentence:
            decoder = self._talker.get(name)
            return decoder(fields.split(","), rx) if decoder else "unused"
        if family is pynmea2.ProprietarySentence and name == MANUFACTURER:
            data = fields.split(",")
            kind = data[0]
            if kind == ECHOGRAM:
                return self._fragment(data, rx)
            if kind == DISTRESS:
                return self._distress(data, rx)
            raise FrameRejected("unknown", f"$P{MANUFACTURER}{kind[:4]} is not a sentence of this format")
        if family is Encapsulated:  # other vessels' AIS: checked and counted, not decoded
            return self._remember(line, _as_read, "ais" if name in _AIS_TYPES else "unused")
        return self._remember(line, _as_read, "unused")  # other makers' proprietary sentences, queries

    def _remember(self, line: bytes, apply: _Apply, reading: Any) -> Any:
        """What `line` alone decides (its reading), for when the same line comes again. A few
        seconds of lines: the repeats are of the second before."""
        if self._usual is not None:
            if len(self._known) >= _KNOWN_LINES:
                self._known.clear()
            self._known[line] = (apply, reading)
        return reading

    # -- time
    def _now(self, rx: datetime) -> datetime:
        """The latest GNSS time advanced by the receive time elapsed since; rx before any."""
        if self._gnss_ts is None or self._gnss_rx is None:
            return rx.astimezone(_UTC)
        elapsed = rx - self._gnss_rx
        return self._gnss_ts + elapsed if elapsed > _NO_TIME else self._gnss_ts

    def _set_clock(self, ts: datetime, rx: datetime, hms: str) -> None:
        self._gnss_ts, self._gnss_rx, self._gnss_hms = ts, rx, hms

    def _dated(self, hms: str, rx: datetime) -> datetime:
        """A GNSS time of day (its field) on the date that puts it nearest to the time now
        known. The field the latest GNSS time was read from, received within half a day of it,
        is that time: the RMC, GGA and GLL of one GNSS second, dated by comparing text."""
        if hms == self._gnss_hms and rx - self._gnss_rx < _HALF_DAY:  # type: ignore[operator]
            return self._gnss_ts  # type: ignore[return-value]
        tod = time_of_day(hms)
        ref = self._now(rx)
        ts = datetime.combine(ref.date(), tod)
        if ts - ref > _HALF_DAY:
            ts -= timedelta(days=1)
        elif ref - ts > _HALF_DAY:
            ts += timedelta(days=1)
        return ts

    # -- readings of the short road (nmea_common) applied to the stream's state
    def _apply_fix(self, reading: tuple[Fix, str], rx: datetime) -> Fix:
        fix, hms = reading
        self._set_clock(fix.ts, rx, hms)
        return fix

    def _apply_time_only_fix(self, reading: tuple[str, float, float], rx: datetime) -> Fix:
        hms, lat, lon = reading
        return self._time_only_fix(hms, lat, lon, rx)

    def _apply_motion(self, motion: tuple[float | None, float | None], rx: datetime) -> str:
        self._motion = (self._gnss_ts, *motion)
        return "absorbed"

    def _apply_date(self, reading: tuple[datetime, str], rx: datetime) -> str:
        ts, hms = reading
        self._set_clock(ts, rx, hms)
        return "absorbed"

    def _apply_depth(self, depth: tuple[float, float | None], rx: datetime) -> Depth:
        return Depth(self._now(rx), depth[0], depth[1])

    def _apply_water_temp(self, temp: float, rx: datetime) -> WaterTemp:
        return WaterTemp(self._now(rx), temp)

    # -- GNSS
    def _rmc(self, d: list[str], rx: datetime) -> Outcome:
        if len(d) < 9:
            raise bad(f"RMC has {len(d)} fields")
        if d[1] != "A" or (len(d) > 11 and d[11] == "N"):
            raise FrameRejected("no_fix", f"RMC status {d[1][:2]!r}")
        ts = datetime.combine(ddmmyy(d[8]), time_of_day(d[0]))
        lat, lon = position(d, 2)
        sog, cog = speed(number(d[6])), course(number(d[7]))
        self._set_clock(ts, rx, d[0])
        return Fix(ts, lat, lon, sog, cog)

    def _gga(self, d: list[str], rx: datetime) -> Outcome:
        if len(d) < 6:
            raise bad(f"GGA has {len(d)} fields")
        if d[5] in ("", "0"):
            raise FrameRejected("no_fix", "GGA quality 0")
        uint(d[5], "GGA quality")
        return self._time_only_fix(d[0], *position(d, 1), rx)

    def _gll(self, d: list[str], rx: datetime) -> Outcome:
        if len(d) < 4:
            raise bad(f"GLL has {len(d)} fields")
        if (len(d) > 5 and d[5] not in ("A", "")) or (len(d) > 6 and d[6] == "N"):
            raise FrameRejected("no_fix", f"GLL status {d[5][:2]!r}")
        return self._time_only_fix(d[4] if len(d) > 4 else "", *position(d, 0), rx)

    def _time_only_fix(self, hms: str, lat: float, lon: float, rx: datetime) -> Fix:
        if not hms:  # NMEA 2.0 GLL has no time
            return Fix(self._now(rx), lat, lon)
        ts = self._dated(hms, rx)
        sog = cog = None
        if self._motion is not None and self._motion[0] == ts:
            _, sog, cog = self._motion
        self._set_clock(ts, rx, hms)
        return Fix(ts, lat, lon, sog, cog)

    def _vtg(self, d: list[str], rx: datetime) -> Outcome:
        if len(d) < 7:
            raise bad(f"VTG has {len(d)} fields")
        if len(d) > 8 and d[8] == "N":
            raise FrameRejected("no_fix", "VTG mode N")
        knots, kmh = number(d[4]), number(d[6])
        sog = knots if knots is not None else (None if kmh is None else kmh / KNOT_KMH)
        self._motion = (self._gnss_ts, speed(sog), course(number(d[0])))
        return "absorbed"

    def _zda(self, d: list[str], rx: datetime) -> Outcome:
        if len(d) < 4:
            raise bad(f"ZDA has {len(d)} fields")
        tod = time_of_day(d[0])
        day, month, year = (uint(d[i], "ZDA date") for i in (1, 2, 3))
        self._set_clock(datetime.combine(date_of(day, month, year), tod), rx, d[0])
        return "absorbed"

    # -- sounder
    def _dbt(self, d: list[str], rx: datetime) -> Outcome:
        if len(d) < 5:
            raise bad(f"DBT has {len(d)} fields")
        feet, metres = number(d[0]), number(d[2])
        fathoms = number(d[4]) if len(d) > 4 else None
        depth = metres if metres is not None else (
            feet * FOOT_M if feet is not None else (fathoms * FATHOM_M if fathoms is not None else None))
        return Depth(self._now(rx), depth_m(depth))

    def _dpt(self, d: list[str], rx: datetime) -> Outcome:
        if len(d) < 2:
            raise bad(f"DPT has {len(d)} fields")
        return Depth(self._now(rx), depth_m(number(d[0])), number(d[1]))

    def _mtw(self, d: list[str], rx: datetime) -> Outcome:
        if len(d) < 2 or d[1] not in ("C", ""):
            raise bad("MTW must be in degrees C")
        temp = number(d[0])
        if temp is None:
            raise FrameRejected("no_fix", "MTW without a temperature")
        return WaterTemp(self._now(rx), temp)

    # -- proprietary
    def _distress(self, d: list[str], rx: datetime) -> Outcome:
        if len(d) != 8:
            raise bad(f"$P{MANUFACTURER}{DISTRESS} has {len(d) - 1} fields, not 7")
        seq, nature = uint(d[1], "distress seq"), d[2]
        if nature not in NATURES or d[3] not in ("A", "V"):
            raise bad(f"distress nature {nature[:20]!r} or state {d[3][:2]!r}")
        lat = lon = None
        if any(d[4:8]):
            lat, lon = position(d, 4)
        return Distress(self._now(rx), seq, nature, d[3] == "A", lat, lon)  # type: ignore[arg-type]

    def _fragment(self, d: list[str], rx: datetime) -> Outcome:
        if len(d) < 5:
            raise bad("echogram fragment lacks fields")
        seq, count, index = uint(d[1], "ping seq"), uint(d[2], "count"), uint(d[3], "index")
        if not 1 <= index <= count <= MAX_FRAGMENTS:
            raise bad(f"fragment {index} of {count}")
        if index == 1:
            if len(d) != 8:
                raise bad("first echogram fragment needs bin_mm, start_mm, bins, payload")
            bin_mm, start_mm, bins = uint(d[4], "bin_mm"), uint(d[5], "start_mm"), uint(d[6], "bins")
            if not (1 <= bins <= MAX_BINS and bin_mm >= 1):
                raise bad(f"ping of {bins} bins of {bin_mm} mm")
            self._drop_open_ping()
            self._ping = _OpenPing(seq, count, self._now(rx), bin_mm, start_mm, bins)
        else:
            if len(d) != 5:
                raise bad("echogram fragment needs seq, count, index, payload")
            open_ = self._ping
            if open_ is None or (open_.seq, open_.count, open_.next) != (seq, count, index):
                self._drop_open_ping()
                if seq != self._lost_seq:  # its first fragment was lost: the ping is incomplete
                    self._lost_seq = seq
                    self._count("incomplete_ping")
                return "absorbed"
        ping = self._ping
        assert ping is not None
        ping.chunks.append(d[-1])
        ping.next += 1
        if index < count:
            return "absorbed"
        self._ping = None
        try:
            raw = base64.b64decode("".join(ping.chunks), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise bad(f"ping {seq} payload is not base64") from exc
        if len(raw) != ping.bins:
            raise bad(f"ping {seq} has {len(raw)} bins, header says {ping.bins}")
        sv = np.frombuffer(raw, dtype=np.uint8).astype(np.float32) * np.float32(-SV_STEP_DB)
        return Ping(ping.ts, seq, ping.bin_mm / 1000, sv, ping.start_mm / 1000)

    def _drop_open_ping(self) -> None:
        if self._ping is not None:
            self._lost_seq = self._ping.seq
            self._count("incomplete_ping")
            self._ping = None
