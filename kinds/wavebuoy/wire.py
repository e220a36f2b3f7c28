"""The wave buoy's wire format, declared once: the simulator encodes with `encode_report`, the
shore gateway decodes with `ReportAssembler` (one per device: NMEA needs what came before).

NMEA 0183 (checksum required, at most 82 bytes a sentence with CR LF, printable ASCII). Every
report of the buoy is a group of sentences, the wave sentence last::

    $WIMDA,<baro inHg>,I,<baro bar>,B,<air C>,C,<water C>,C,<rh %>,,<dew C>,C,<wind dir true>,T,<wind dir mag>,M,<kn>,N,<m/s>,M*hh
    $WIMWV,<wind dir true>,T,<speed>,<N|M|K|S>,<A|V>*hh
    $PTEPW,<buoy>,<seq>,<utc YYYYMMDDThhmmssZ>,<Hs m>,<Tp s>,<mean wave dir deg>,<gust kn>*hh

* `$WIMDA` (meteorological composite) and `$WIMWV` (wind speed and angle) are the standard
  sentences a marine weather station emits (talker WI, weather instruments). A buoy's
  anemometer has its own compass, so its MWV angle is referenced to true north (`T`); a
  relative angle (`R`) needs a hull heading the buoy does not send and is refused (`malformed`);
  status `V` (data invalid) and an MDA with no true direction or speed are `no_fix`.
  The report's wind is its last wind sentence (MDA preferred over MWV); none: no wind.
* `$PTEPW` is Tepi's proprietary wave sentence (manufacturer code ``TEP``, sentence ``W``):
  NMEA 0183 has no standard sentence for wave parameters. It names the buoy and numbers and
  times the report (UTC), carries the significant wave height Hs (m, two decimals), the peak
  period Tp (s, one decimal), the mean direction the waves come from (degrees true, empty when
  the buoy has none) and the highest gust of the report interval (kn, empty without one), and
  closes the report: a wind sentence after it belongs to the next report.

Spans (`out_of_range` outside): Hs 0-20 m and Tp 1.6-30 s, the measuring ranges of the
Datawell DWR-MkIII (heave ±20 m, periods 1.6-30 s; Datawell, "DWR-MkIII" datasheet); wind and
gust 0-116 kn, the 0-60 m/s range of a Gill WindSonic ultrasonic anemometer (Gill Instruments,
WindSonic datasheet). Checks that need the configuration (the buoy of the device, clock skew)
happen in `kinds.wavebuoy.edge.kind`.

Other well-formed sentences (GNSS RMC/GGA of the buoy's own receiver, XDR, ...) are `unknown`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import reduce

from gateway.errors import FrameRejected

MANUFACTURER = "TEP"
WAVE_SENTENCE = "PTEPW"
MAX_SENTENCE_BYTES = 82  # NMEA 0183 limit, including "$" and CR LF
#: Spans a report may carry (see the module docstring for their sources).
HS_SPAN_M = (0.0, 20.0)
TP_SPAN_S = (1.6, 30.0)
WIND_SPAN_KN = (0.0, 116.0)
DIRECTION_SPAN_DEG = (0.0, 360.0)
SEQ_SPAN = (0, 2**63 - 1)
KNOTS_PER_MS = 3600 / 1852  # 1 kn = 1852 m/h (international nautical mile)
_TO_KNOTS = {"N": 1.0, "M": KNOTS_PER_MS, "K": 1000 / 1852, "S": 1609.344 / 1852}
_TS_FORMAT = "%Y%m%dT%H%M%SZ"
_SENTENCE = re.compile(rb"\$([A-Z][A-Z0-9]{1,9}),([ -~]*?)(?:\*([0-9A-Fa-f]{2}))?\r?\n?\Z")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?\Z")
_INT = re.compile(r"[0-9]+\Z")
_BUOY = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}\Z")


@dataclass(frozen=True, slots=True)
class Wind:
    """What one wind sentence says: speed (kn) and the direction it comes from (degrees true)."""

    speed_kn: float
    direction_deg: float
    #: The sentence it came in ("MDA" or "MWV"): a report prefers MDA's.
    source: str = "MDA"


@dataclass(frozen=True, slots=True)
class WaveRecord:
    """What one `$PTEPW` says."""

    buoy: str
    seq: int
    ts: datetime
    hs_m: float
    tp_s: float
    wave_dir_deg: float | None
    gust_kn: float | None


@dataclass(frozen=True, slots=True)
class BuoyReport:
    """One whole report: the wave record with the wind that came before it (None: no wind)."""

    buoy: str
    seq: int
    ts: datetime
    hs_m: float
    tp_s: float
    wave_dir_deg: float | None
    wind_kn: float | None
    wind_dir_deg: float | None
    gust_kn: float | None


def checksum(body: str) -> str:
    """NMEA 0183: the XOR of the characters between `$` and `*`, as two upper-case hex digits."""
    return f"{reduce(lambda a, c: a ^ ord(c), body, 0):02X}"


def _sentence(body: str) -> bytes:
    line = f"${body}*{checksum(body)}\r\n".encode("ascii")
    if len(line) > MAX_SENTENCE_BYTES:
        raise ValueError(f"{body[:6]} sentence of {len(line)} bytes, NMEA 0183 allows {MAX_SENTENCE_BYTES}")
    return line


def _num(value: float | None, decimals: int) -> str:
    return "" if value is None else f"{value:.{decimals}f}"


def encode_mda(wind: Wind, baro_bar: float | None = None, air_c: float | None = None, water_c: float | None = None) -> bytes:
    inhg = None if baro_bar is None else baro_bar * 29.529983
    body = (
        f"WIMDA,{_num(inhg, 2)},I,{_num(baro_bar, 4)},B,{_num(air_c, 1)},C,{_num(water_c, 1)},C,,,,C,"
        f"{wind.direction_deg:.1f},T,,M,{wind.speed_kn:.1f},N,{wind.speed_kn / KNOTS_PER_MS:.1f},M"
    )
    return _sentence(body)


def encode_mwv(wind: Wind, valid: bool = True) -> bytes:
    return _sentence(f"WIMWV,{wind.direction_deg:.1f},T,{wind.speed_kn:.1f},N,{'A' if valid else 'V'}")


def encode_wave(record: WaveRecord) -> bytes:
    body = (
        f"{WAVE_SENTENCE},{record.buoy},{record.seq},{record.ts.astimezone(timezone.utc).strftime(_TS_FORMAT)},"
        f"{record.hs_m:.2f},{record.tp_s:.1f},{_num(record.wave_dir_deg, 0)},{_num(record.gust_kn, 1)}"
    )
    return _sentence(body)


def encode_report(report: BuoyReport, baro_bar: float | None = None, air_c: float | None = None, water_c: float | None = None) -> list[bytes]:
    """The sentences of one report, in the order the buoy sends them (wind, then waves)."""
    lines = []
    if report.wind_kn is not None and report.wind_dir_deg is not None:
        wind = Wind(report.wind_kn, report.wind_dir_deg)
        lines += [encode_mda(wind, baro_bar, air_c, water_c), encode_mwv(wind)]
    record = WaveRecord(report.buoy, report.seq, report.ts, report.hs_m, report.tp_s, report.wave_dir_deg, report.gust_kn)
    return [*lines, encode_wave(record)]


def _decimal(name: str, text: str, span: tuple[float, float], upper_open: bool = False) -> float:
    if not _DECIMAL.match(text):
        raise FrameRejected("malformed", f"{name} {text[:20]!r} is not a decimal number")
    value = float(text)
    lo, hi = span
    if not (math.isfinite(value) and lo <= value <= hi) or (upper_open and value >= hi):
        raise FrameRejected("out_of_range", f"{name} {value} outside {span}")
    return value


def _direction(name: str, text: str) -> float:
    value = _decimal(name, text, DIRECTION_SPAN_DEG)
    return 0.0 if value == 360.0 else value  # 360 is north, as 0 is


def _optional(text: str, decode: object) -> float | None:
    return None if text == "" else decode(text)  # type: ignore[operator]


def split_sentence(line: bytes) -> tuple[str, list[str]]:
    """(address, fields) of one checked sentence; `FrameRejected` for anything else."""
    if len(line) > MAX_SENTENCE_BYTES:
        raise FrameRejected("too_large", f"{len(line)} bytes, NMEA 0183 allows {MAX_SENTENCE_BYTES}")
    if any(b < 0x20 or b > 0x7E for b in line.rstrip(b"\r\n")):
        raise FrameRejected("non_ascii", "bytes outside printable ASCII")
    m = _SENTENCE.match(line)
    if m is None:
        raise FrameRejected("garbage", "not an NMEA 0183 sentence")
    address, fields, given = m.group(1).decode(), m.group(2).decode(), m.group(3)
    if given is None:
        raise FrameRejected("no_checksum", f"{address} without *hh")
    if given.decode().upper() != checksum(f"{address},{fields}"):
        raise FrameRejected("checksum", f"{address} checksum {given.decode()} != {checksum(f'{address},{fields}')}")
    return address, fields.split(",")


def decode_sentence(line: bytes) -> WaveRecord | Wind:
    """One sentence of the buoy: its wave record or a wind; `FrameRejected` with a counted reason."""
    address, f = split_sentence(line)
    if address == WAVE_SENTENCE:
        return _wave(f)
    if len(address) == 5 and address[2:] == "MDA":
        return _mda(f)
    if len(address) == 5 and address[2:] == "MWV":
        return _mwv(f)
    raise FrameRejected("unknown", f"sentence {address} is no part of a buoy report")


def _wave(f: list[str]) -> WaveRecord:
    if len(f) != 7:
        raise FrameRejected("truncated" if len(f) < 7 else "malformed", f"{WAVE_SENTENCE} has {len(f)} fields, not 7")
    buoy, seq, ts, hs, tp, direction, gust = f
    if not _BUOY.match(buoy):
        raise FrameRejected("malformed", f"buoy id {buoy[:20]!r}")
    if not _INT.match(seq) or int(seq) > SEQ_SPAN[1]:
        raise FrameRejected("malformed", f"seq {seq[:20]!r}")
    try:
        at = datetime.strptime(ts, _TS_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise FrameRejected("malformed", f"time {ts[:20]!r} is not {_TS_FORMAT}") from None
    return WaveRecord(
        buoy, int(seq), at, _decimal("Hs", hs, HS_SPAN_M), _decimal("Tp", tp, TP_SPAN_S),
        _optional(direction, lambda t: _direction("wave direction", t)), _optional(gust, lambda t: _decimal("gust", t, WIND_SPAN_KN)),
    )


def _mda(f: list[str]) -> Wind:
    if len(f) != 20:
        raise FrameRejected("truncated" if len(f) < 20 else "malformed", f"MDA has {len(f)} fields, not 20")
    direction, true, kn, knots, ms, metres = f[12], f[13], f[16], f[17], f[18], f[19]
    if direction == "" or (kn == "" and ms == ""):
        raise FrameRejected("no_fix", "MDA without true wind direction or speed")
    if true != "T" or (kn and knots != "N") or (ms and metres != "M"):
        raise FrameRejected("malformed", "MDA wind units")
    speed = _decimal("wind", kn, WIND_SPAN_KN) if kn else _decimal("wind", ms, (0.0, WIND_SPAN_KN[1] / KNOTS_PER_MS)) * KNOTS_PER_MS
    return Wind(speed, _direction("wind direction", direction))


def _mwv(f: list[str]) -> Wind:
    if len(f) != 5:
        raise FrameRejected("truncated" if len(f) < 5 else "malformed", f"MWV has {len(f)} fields, not 5")
    angle, reference, speed, unit, status = f
    if status == "V":
        raise FrameRejected("no_fix", "MWV data invalid (V)")
    if status != "A" or unit not in _TO_KNOTS or reference not in ("T", "R"):
        raise FrameRejected("malformed", f"MWV reference {reference[:3]!r}, unit {unit[:3]!r}, status {status[:3]!r}")
    if reference == "R":
        raise FrameRejected("malformed", "MWV relative wind angle: a buoy reports wind from true north (T)")
    if angle == "" or speed == "":
        raise FrameRejected("no_fix", "MWV without angle or speed")
    knots = _decimal("wind", speed, (0.0, WIND_SPAN_KN[1] / _TO_KNOTS[unit])) * _TO_KNOTS[unit]
    return Wind(min(knots, WIND_SPAN_KN[1]), _direction("wind direction", angle), "MWV")


class ReportAssembler:
    """One device's reports from its sentences, in arrival order: wind sentences wait for the
    wave sentence that closes their report (`feed` returns the report then, else None). A
    refused sentence raises `FrameRejected` and changes nothing."""

    def __init__(self) -> None:
        self._mda: Wind | None = None
        self._mwv: Wind | None = None

    def feed(self, line: bytes) -> BuoyReport | None:
        value = decode_sentence(line)
        if isinstance(value, Wind):
            if value.source == "MDA":
                self._mda = value
            else:
                self._mwv = value
            return None
        wind = self._mda or self._mwv
        self._mda = self._mwv = None
        return BuoyReport(
            value.buoy, value.seq, value.ts, value.hs_m, value.tp_s, value.wave_dir_deg,
            None if wind is None else wind.speed_kn, None if wind is None else wind.direction_deg, value.gust_kn,
        )
