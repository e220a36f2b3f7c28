"""The fish-finder's wire format, declared once: NMEA 0183 as a boat's instruments speak it, plus
two proprietary sentences (manufacturer code ``TEP``). The simulator encodes with the
``encode_*`` functions; the on-board gateway decodes with `decoder.InstrumentDecoder`.

Standard sentences (any talker: GP, GN, GL, SD, YX, II, IN, ...), parsed by pynmea2 with the
checksum required:

- RMC, GGA, GLL → `Fix` (RMC status ``V``, GGA quality 0, GLL status ``V`` → ``no_fix``);
  VTG gives speed and course to a GGA/GLL fix of the same GNSS second; ZDA sets the date.
- DBT, DPT → `Depth` (empty fields or 0 m: the sounder has no bottom → ``no_fix``).
- MTW → `WaterTemp` (an empty temperature → ``no_fix``).
- ``!AIVDM``/``!AIVDO`` (other vessels' AIS) are checked and counted as ``ais``; other known
  sentences (GSV, HDG, Garmin's ``$PGRME`` ...) as ``unused``.

Echogram, one ping in 1..99 fragments, each a whole sentence of at most 82 bytes::

    $PTEPE,<seq>,<count>,1,<bin_mm>,<start_mm>,<bins>,<payload>*hh     first fragment
    $PTEPE,<seq>,<count>,<index>,<payload>*hh                          the others

The payloads, concatenated in index order, are base64 (RFC 4648; none of its characters is
reserved in NMEA 0183) of one byte per bin: ``q = round(-2 * Sv)``, so Sv = -q/2 dB in 0.5 dB
steps from 0 down to -127.5 dB; weaker echoes (and NaN) are sent as -127.5 dB. A ping has at
most 1,000 bins. The decoder keeps one ping open: a fragment of another ping, or one out of
order, drops the open ping, counted once as ``incomplete_ping``.

Distress (the SOS button), natures as in `values.DistressNature`, named after Signal K's special alarms
(https://signalk.org/specification/1.7.0/doc/notifications.html) plus ``undesignated``::

    $PTEPD,<press seq>,<nature>,<A active | V cancelled>,<ddmm.mmmm>,<N|S>,<dddmm.mmmm>,<E|W>*hh

Byte budget (8N1: 10 bits a byte; figures from `ping_wire_bytes` and the encoders): a 500-bin
ping with a 6-digit seq is 12 fragments, 969 bytes, so 2 pings/s take 1,938 B/s. One second of
NMEA (RMC, GGA, VTG, DBT, DPT, MTW) is ~250 B and a busy harbour adds ~5 AIS lines/s (~250 B/s):
~2,440 B/s in all, 64 % of a 38,400-baud line (3,840 B/s). 1,000-bin pings (1,938 B each) fit at
1 ping/s only. At 4,800 baud (480 B/s) one ping alone needs two seconds of line, so the simulator
sends NMEA only at 4,800 baud (`serial_sim.stream_for`).

Times: RMC and ZDA give date and time; GGA and GLL only the time of day, dated by the latest
GNSS time (or the receive time before any). DBT, DPT, MTW, pings and distress carry no time:
they are stamped with the latest GNSS time plus the receive time elapsed since it (the
gateway's clock only measures the interval), or with the receive time before any GNSS time.
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import get_args

import numpy as np
import pynmea2

from kinds.fishfinder.nmea_fields import FATHOM_M, FOOT_M, KNOT_KMH, MAX_SENTENCE_BYTES, fmt, fmt_angle, fmt_time
from kinds.fishfinder.values import Depth, Distress, DistressNature, Fix, Ping, WaterTemp

MANUFACTURER = "TEP"
ECHOGRAM, DISTRESS = "E", "D"
_MAX_BODY = MAX_SENTENCE_BYTES - 6  # less "$", "*hh" and CR LF
MAX_BINS = 1000
MAX_FRAGMENTS = 99
SV_STEP_DB = 0.5
SV_FLOOR_DB = -127.5
NATURES: tuple[str, ...] = get_args(DistressNature)

_UTC = timezone.utc


# -- encoding (simulator) -----------------------------------------------------------------

def _line(sentence: pynmea2.NMEASentence) -> bytes:
    return (sentence.render() + "\r\n").encode("ascii")


def encode_fix(fix: Fix, talker: str = "GP", satellites: int = 9, hdop: float = 0.9) -> list[bytes]:
    """RMC, GGA and (when speed or course is known) VTG of one fix, as a GNSS receiver sends them."""
    lat, ns = fmt_angle(fix.lat, 2, "NS")
    lon, ew = fmt_angle(fix.lon, 3, "EW")
    hms, sog, cog = fmt_time(fix.ts), fmt(fix.sog_kn, 1), fmt(fix.cog_deg, 1)
    lines = [
        _line(pynmea2.RMC(talker, "RMC", (hms, "A", lat, ns, lon, ew, sog, cog, f"{fix.ts.astimezone(_UTC):%d%m%y}", "", "", "A"))),
        _line(pynmea2.GGA(talker, "GGA", (hms, lat, ns, lon, ew, "1", f"{satellites:02d}", f"{hdop:.1f}", "1.5", "M", "", "M", "", ""))),
    ]
    if fix.sog_kn is not None or fix.cog_deg is not None:
        kmh = fmt(None if fix.sog_kn is None else fix.sog_kn * KNOT_KMH, 1)
        lines.append(_line(pynmea2.VTG(talker, "VTG", (cog, "T", "", "M", sog, "N", kmh, "K", "A"))))
    return lines


def encode_depth(depth: Depth, talker: str = "SD") -> list[bytes]:
    """DBT (feet, metres, fathoms) and DPT (metres, transducer offset) of one sounding."""
    m = depth.depth_m
    return [
        _line(pynmea2.DBT(talker, "DBT", (f"{m / FOOT_M:.1f}", "f", f"{m:.2f}", "M", f"{m / FATHOM_M:.1f}", "F"))),
        _line(pynmea2.DPT(talker, "DPT", (f"{m:.2f}", fmt(depth.offset_m, 2)))),
    ]


def encode_water_temp(temp: WaterTemp, talker: str = "YX") -> list[bytes]:
    return [_line(pynmea2.MTW(talker, "MTW", (f"{temp.temp_c:.1f}", "C")))]


def encode_distress(distress: Distress) -> bytes:
    if distress.nature not in NATURES or distress.seq < 0:
        raise ValueError(f"cannot encode distress nature {distress.nature!r} seq {distress.seq}")
    if (distress.lat is None) != (distress.lon is None):
        raise ValueError("distress position needs both lat and lon, or neither")
    pos = ["", "", "", ""]
    if distress.lat is not None and distress.lon is not None:
        pos = [*fmt_angle(distress.lat, 2, "NS"), *fmt_angle(distress.lon, 3, "EW")]
    data = [DISTRESS, str(distress.seq), distress.nature, "A" if distress.active else "V", *pos]
    return _line(pynmea2.ProprietarySentence(MANUFACTURER, data))


def quantise_sv(sv_db: np.ndarray) -> np.ndarray:
    """Sv (dB) to the wire's bytes: 0.5 dB steps, clipped to [-127.5, 0]; NaN is the floor."""
    sv = np.nan_to_num(np.asarray(sv_db, dtype=np.float64), nan=SV_FLOOR_DB, neginf=SV_FLOOR_DB, posinf=0.0)
    return np.clip(np.rint(sv / -SV_STEP_DB), 0, 255).astype(np.uint8)


def encode_ping(ping: Ping) -> list[bytes]:
    """One ping as `$PTEPE` fragments, each filled up to the 82-byte limit."""
    bins = len(ping.sv_db)
    bin_mm, start_mm = round(ping.bin_m * 1000), round(ping.range_start_m * 1000)
    if not 1 <= bins <= MAX_BINS or bin_mm < 1 or start_mm < 0 or ping.seq < 0:
        raise ValueError(f"cannot encode ping: {bins} bins, bin {ping.bin_m} m, start {ping.range_start_m} m, seq {ping.seq}")
    payload = base64.b64encode(quantise_sv(ping.sv_db).tobytes()).decode("ascii")
    # Room for the payload, reserving two digits for count and index (at most 99).
    fixed = len(f"P{MANUFACTURER}{ECHOGRAM},{ping.seq},99,99,")
    header = f"{bin_mm},{start_mm},{bins},"
    first_room, room = _MAX_BODY - fixed - len(header), _MAX_BODY - fixed
    count = 1 + max(0, -(-(len(payload) - first_room) // room))
    if count > MAX_FRAGMENTS:
        raise ValueError(f"ping needs {count} fragments, more than {MAX_FRAGMENTS}")
    chunks = [payload[:first_room]] + [payload[first_room + k * room: first_room + (k + 1) * room] for k in range(count - 1)]
    return [
        _line(pynmea2.ProprietarySentence(MANUFACTURER, [ECHOGRAM, str(ping.seq), str(count), str(i), *([header[:-1]] if i == 1 else []), chunk]))
        for i, chunk in enumerate(chunks, 1)
    ]


def ping_wire_bytes(bins: int, seq: int = 123456) -> int:
    """Bytes on the wire for one ping of `bins` bins (the module docstring's budget)."""
    sv = np.full(bins, -60.0)
    return sum(map(len, encode_ping(Ping(datetime(2026, 1, 1, tzinfo=_UTC), seq, 0.2, sv))))
