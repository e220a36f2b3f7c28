"""What a small boat's NMEA multiplexer puts on the fish-finder's serial line, second by second:
the simulator's side of `kinds.fishfinder.wire`.

A real line is not one instrument's tidy output: the GNSS receiver (talker GP), the sounder
(SD), the temperature transducer (YX) and a heading sensor (II) are mixed whole sentence by
whole sentence, other vessels' AIS reports (``!AIVDM``) come in between, echogram fragments
are interleaved with all of that, and a cheap cable or a multiplexer's full buffer damages some
lines. `compose` is pure: the same values and seed give the same bytes, with the ground truth
of every line (what it encodes, and what was done to it), so tests can hold the decoder to it.

Damage (`StreamLine.garble`): ``bit_flip`` (one bit of the sentence inverted), ``truncated``
(cut before its checksum is whole, line end kept), ``no_line_end`` (CR LF dropped, so it runs
into the next sentence, which is then ``merged``). Each is detectable: a flipped bit changes
the XOR checksum, a cut sentence has no whole checksum, two sentences on one line are too
long or have a ``$`` inside.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import pynmea2

from kinds.fishfinder import wire
from kinds.fishfinder.values import Depth, Distress, Fix, InstrumentValue, Ping, WaterTemp

GARBLES = ("bit_flip", "truncated", "no_line_end")

#: Real AIS reports (each tuple one message, fragments together), as an AIS receiver on the
#: IJsselmeer gave them in April 2020: gpsd's test log `test/daemon/ais-nmea.log`
#: (https://github.com/ntpsec/gpsd, BSD-2-Clause); also in tests/data/gpsd_ais_nmea_excerpt.nmea.
AIS_MESSAGES: tuple[tuple[bytes, ...], ...] = tuple(tuple(line.encode() + b"\r\n" for line in message) for message in (
    ("!AIVDM,2,1,9,B,55R3Vn82=ILTQ3KKS>1<D60Dq@E918U<F222221J1`?164vc03S1CCAD,0*2A",
     "!AIVDM,2,2,9,B,`88888888888880,2*76"),
    ("!AIVDM,1,1,,B,13aDp<PP000IwSlN?Wm@0?wN2<1T,0*29",),
    ("!AIVDM,1,1,,B,339FEj5P00PIwujN?fQv4?wPRD5:,0*64",),
    ("!AIVDM,1,1,,B,13aGrVHP000J8VDN?5B@0?wR06bL,0*29",),
    ("!AIVDM,1,1,,B,140Ut9@P000J9DTN?1L00?wT06bL,0*73",),
    ("!AIVDM,1,1,,B,839FEj0j2d<dtuuMMj9PqgbP00P0,0*19",),
    ("!AIVDM,1,1,,A,13aDq30P00PJ8BPN?0@@0?wV2@NC,0*03",),
    ("!AIVDM,1,1,,B,13aNoh0000PJ7>HN>wlP?Vwd0<2;,0*10",),
    ("!AIVDM,1,1,,A,13aL?W0P00PJ9T8N?1hh0?wd20R>,0*7C",),
    ("!AIVDM,1,1,,A,13P<JdP000PJ76@N>wBbjFsd00Rp,0*63",),
    ("!AIVDM,1,1,,A,13`nu=PP000J9@dN?7U@0?wf0D0V,0*5A",),
))
GSA = b"$GPGSA,A,3,11,32,14,28,22,03,10,08,17,,,,2.02,1.03,1.74*00\r\n"  # same source, unused by Tepi


@dataclass(frozen=True, slots=True)
class StreamLine:
    """One sentence as composed, the bytes it became on the wire, and the ground truth."""

    second: int  # index of the input second it belongs to
    wire: bytes  # as written to the line: the sentence, or what damage left of it
    sentence: bytes
    value: InstrumentValue | None = field(default=None, compare=False)
    """What the decoder gets from this sentence when it and (for a ping) its fragments arrive
    whole; None for sentences without a value (VTG, AIS, HDG, GSA, non-final fragments)."""
    garble: str | None = None  # one of GARBLES, "merged", or None


def _heading(deg: float) -> bytes:
    """A heading sensor's HDT (talker II): a sentence Tepi does not use, as on a real line."""
    return (pynmea2.HDT("II", "HDT", (f"{deg:.1f}", "T")).render() + "\r\n").encode("ascii")


def _sentences(values: Sequence[InstrumentValue], echogram: bool) -> list[tuple[bytes, InstrumentValue | None]]:
    """The instruments' sentences of one second, in the order the instruments send them."""
    out: list[tuple[bytes, InstrumentValue | None]] = []
    for v in values:
        if isinstance(v, Fix):
            rmc, gga, *vtg = wire.encode_fix(v)
            out += [(rmc, v), (gga, replace(v, sog_kn=None, cog_deg=None)), *((line, None) for line in vtg), (GSA, None)]
            if v.cog_deg is not None:
                out.append((_heading(v.cog_deg), None))
        elif isinstance(v, Depth):
            dbt, dpt = wire.encode_depth(v)
            out += [(dbt, replace(v, offset_m=None)), (dpt, v)]
        elif isinstance(v, WaterTemp):
            out += [(line, v) for line in wire.encode_water_temp(v)]
        elif isinstance(v, Distress):
            out.append((wire.encode_distress(v), v))
        elif isinstance(v, Ping) and echogram:
            *head, last = wire.encode_ping(v)
            out += [(line, None) for line in head] + [(last, v)]
    return out


def compose(
    seconds: Iterable[Sequence[InstrumentValue]],
    *,
    seed: int = 0,
    garble_fraction: float = 0.0,
    ais_per_s: float = 2.0,
    echogram: bool = True,
) -> Iterator[StreamLine]:
    """The multiplexed lines of each second of instrument values, in order.

    `ais_per_s` AIS messages a second on average (a Poisson count), placed between whole
    sentences; `garble_fraction` of the sentences damaged; `echogram=False` leaves the pings
    out (a 4,800-baud line has no room for them, see `wire`)."""
    if not 0 <= garble_fraction <= 1 or ais_per_s < 0:
        raise ValueError("garble_fraction must be in [0, 1] and ais_per_s >= 0")
    rng = random.Random(seed)
    merging = False
    for second, values in enumerate(seconds):
        lines = _sentences(values, echogram)
        for _ in range(_poisson(rng, ais_per_s)):
            message = rng.choice(AIS_MESSAGES)
            at = rng.randrange(len(lines) + 1)
            lines[at:at] = [(line, None) for line in message]
        for sentence, value in lines:
            garble: str | None = "merged" if merging else None
            data = sentence
            if garble is None and rng.random() < garble_fraction:
                garble = rng.choice(GARBLES)
                data = _damage(sentence, garble, rng)
            merging = garble == "no_line_end"
            yield StreamLine(second, data, sentence, value, garble)


def _damage(sentence: bytes, garble: str, rng: random.Random) -> bytes:
    body = sentence.rstrip(b"\r\n")
    if garble == "bit_flip":
        at = rng.randrange(len(body))
        return body[:at] + bytes([body[at] ^ (1 << rng.randrange(8))]) + body[at + 1:] + b"\r\n"
    if garble == "truncated":
        return body[: rng.randrange(1, len(body) - 1)] + b"\r\n"
    return body  # no_line_end


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the few events a second here."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def steady_boat(
    start: datetime,
    seconds: int,
    *,
    lat: float = -6.05,
    lon: float = 106.75,
    sog_kn: float = 4.0,
    cog_deg: float = 35.0,
    depth_m: float = 28.0,
    temp_c: float = 29.2,
    pings_per_s: int = 2,
    bins: int = 500,
    seed: int = 0,
) -> list[list[InstrumentValue]]:
    """A boat steaming on a steady course over a gently varying bottom (Java Sea defaults), with
    an echogram of noise, the seabed echo and now and then a school: a stand-in for the
    simulator's own instrument values, for demos and tests of the stream."""
    rng = np.random.default_rng(seed)
    bin_m = 2 * depth_m / bins  # the range shows the bottom at mid-screen
    out: list[list[InstrumentValue]] = []
    metres_per_s = sog_kn * wire.KNOT_KMH / 3.6
    for s in range(seconds):
        ts = start + timedelta(seconds=s)
        north = metres_per_s * s * math.cos(math.radians(cog_deg)) / 111_320
        east = metres_per_s * s * math.sin(math.radians(cog_deg)) / (111_320 * math.cos(math.radians(lat)))
        depth = depth_m + 1.5 * math.sin(s / 40) + float(rng.normal(0, 0.05))
        values: list[InstrumentValue] = [
            Fix(ts, lat + north, lon + east, sog_kn + float(rng.normal(0, 0.1)), (cog_deg + float(rng.normal(0, 1))) % 360),
            Depth(ts, round(depth, 2), 0.5),
            WaterTemp(ts, round(temp_c + float(rng.normal(0, 0.05)), 1)),
        ]
        for k in range(pings_per_s):
            sv = rng.normal(-95, 3, bins)
            bottom = int(depth / bin_m)
            sv[bottom: bottom + 3] = -18
            sv[bottom + 3:] = -45 + rng.normal(0, 2, max(0, bins - bottom - 3))
            if (s // 20) % 3 == 1:  # a school in mid-water for 20 s of every minute
                sv[bottom // 2 - 8: bottom // 2 + 8] = rng.normal(-52, 3, 16)
            seq = s * pings_per_s + k
            values.append(Ping(ts + timedelta(seconds=k / pings_per_s), seq, bin_m, sv))
        out.append(values)
    return out
