"""Streams recorded from real instruments (tests/data/SOURCES.md) decode without a crash, give the
values a boat's instruments sent, and every other line is counted with its reason.

Expected numbers are worked out here from the raw lines, not taken from the decoder."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from gateway.errors import FrameRejected
from kinds.fishfinder.values import Depth, Fix, WaterTemp
from kinds.fishfinder.decoder import InstrumentDecoder

DATA = Path(__file__).parent / "data"
RECORDINGS = sorted(DATA.glob("*.nmea"))
RX = datetime(2026, 1, 1, tzinfo=timezone.utc)  # a receive time far from every recording


def stream_lines(path: Path) -> list[bytes]:
    """The lines as a serial port gave them; `#` lines are the log files' own comments."""
    return [line for line in path.read_bytes().splitlines(keepends=True) if not line.startswith(b"#")]


def decode(path: Path) -> tuple[list, InstrumentDecoder]:
    decoder, values = InstrumentDecoder(), []
    for line in stream_lines(path):
        try:
            value = decoder.decode(line, RX)
        except FrameRejected:
            continue
        if value is not None:
            values.append(value)
    return values, decoder


def count(path: Path, predicate) -> int:
    return sum(1 for line in stream_lines(path) if predicate(line))


def sentence_type(line: bytes) -> bytes:
    return line[3:6] if line.startswith(b"$") else b""


def test_the_recordings_are_small():
    assert 2 <= len(RECORDINGS) <= 4
    assert sum(p.stat().st_size for p in RECORDINGS) <= 200_000


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.stem)
def test_every_line_is_decoded_or_counted_and_values_are_plausible(path):
    values, decoder = decode(path)
    assert sum(decoder.counts.values()) == len(stream_lines(path))
    fixes = [v for v in values if isinstance(v, Fix)]
    assert fixes, "every recording has GNSS positions"
    for v in values:
        assert v.ts.tzinfo is not None
        if isinstance(v, Fix):
            assert -90 <= v.lat <= 90 and -180 <= v.lon <= 180
        if isinstance(v, Depth):
            assert v.depth_m > 0
    # Every position of one recording is within a few km of its first: one boat, one trip.
    first = fixes[0]
    assert all(abs(f.lat - first.lat) < 0.05 and abs(f.lon - first.lon) < 0.05 for f in fixes)


def test_humminbird_fishing_sounder():
    path = DATA / "gpsd_humminbird_m37.nmea"
    values, decoder = decode(path)
    kinds = Counter(type(v).__name__ for v in values)
    n = lambda t: count(path, lambda line: sentence_type(line) == t)  # noqa: E731
    assert kinds == {"Fix": n(b"RMC") + n(b"GGA") + n(b"GLL"), "Depth": n(b"DPT"), "WaterTemp": n(b"MTW")}
    assert decoder.counts["absorbed"] == n(b"VTG") + n(b"ZDA")
    assert not set(decoder.counts) & {"checksum", "malformed", "no_fix", "unknown"}
    # $INRMC,194101,A,4426.1130,N,07140.5596,W,5.2,77.3,160906,...: worked out by hand.
    rmc = next(v for v in values if isinstance(v, Fix))
    assert rmc.ts == datetime(2006, 9, 16, 19, 41, 1, tzinfo=timezone.utc)
    assert rmc.lat == pytest.approx(44 + 26.1130 / 60, abs=1e-9)
    assert rmc.lon == pytest.approx(-(71 + 40.5596 / 60), abs=1e-9)
    assert (rmc.sog_kn, rmc.cog_deg) == (5.2, 77.3)
    # The DPT before any GNSS time has the receive time; the one after the RMC has the RMC's.
    depths = [v for v in values if isinstance(v, Depth)]
    assert (depths[0].ts, depths[0].depth_m, depths[0].offset_m) == (RX, 2.2, 0.0)
    assert (depths[1].ts, depths[1].depth_m) == (rmc.ts, 2.1)
    temps = [v.temp_c for v in values if isinstance(v, WaterTemp)]
    assert min(temps) == 17.9 and max(temps) == 18.1
    # The receiver's clock went back from 19:41:24 to 19:41:11; the fix keeps what it said.
    back = [f for f in values if isinstance(f, Fix) and f.ts == datetime(2006, 9, 16, 19, 41, 11, tzinfo=timezone.utc)]
    assert len(back) == 2


def test_bandg_chartplotter_without_water_temperature():
    path = DATA / "gpsd_bandg_zeus2_excerpt.nmea"
    values, decoder = decode(path)
    empty_mtw = count(path, lambda line: line.startswith(b"$SDMTW,,C*"))
    assert empty_mtw > 0 and decoder.counts["no_fix"] == empty_mtw
    assert decoder.counts["unknown"] == count(path, lambda line: sentence_type(line) == b"GLC")
    assert not any(isinstance(v, WaterTemp) for v in values)
    depths = [v for v in values if isinstance(v, Depth)]
    assert len(depths) == count(path, lambda line: sentence_type(line) in (b"DBT", b"DPT"))
    # $SDDBT,18.0,f,5.4,M,3.0,F: the metres field, which the feet and fathoms agree with.
    dbt = next(d for d in depths if d.offset_m is None)
    assert dbt.depth_m == 5.4 and abs(18.0 * 0.3048 - 5.4) < 0.1 and abs(3.0 * 1.8288 - 5.4) < 0.1
    # Its GNSS time: the RMC and ZDA of 09:47:37 on 20 August 2018 came just before.
    assert dbt.ts == datetime(2018, 8, 20, 9, 47, 37, tzinfo=timezone.utc)


def test_gnss_with_ais_receiver():
    path = DATA / "gpsd_ais_nmea_excerpt.nmea"
    values, decoder = decode(path)
    assert decoder.counts["ais"] == count(path, lambda line: line.startswith(b"!AIVDM,"))
    assert len(values) == count(path, lambda line: sentence_type(line) in (b"RMC", b"GGA", b"GLL"))
    # RMC, VTG, GGA, GLL of 21:39:50: the VTG (0.020 kn, no course) gives the GGA and GLL their speed.
    rmc, gga, gll = values[:3]
    when = datetime(2020, 4, 7, 21, 39, 50, tzinfo=timezone.utc)
    for fix in (rmc, gga, gll):
        assert (fix.ts, fix.sog_kn, fix.cog_deg) == (when, 0.020, None)
        assert fix.lat == pytest.approx(52 + 50.53669 / 60) and fix.lon == pytest.approx(5 + 42.34920 / 60)


def test_garmin_logger_with_sounder_dropouts_and_marked_lines():
    path = DATA / "paleolimbot_depths_excerpt.nmea"
    values, decoder = decode(path)
    not_nmea = count(path, lambda line: not line.startswith(b"$"))  # header line, "** " lines
    assert not_nmea > 0 and decoder.counts["malformed"] == not_nmea
    dropouts = count(path, lambda line: line.startswith(b"$SDDPT,,*"))
    assert dropouts > 0 and decoder.counts["no_fix"] == dropouts
    assert decoder.counts["unused"] == count(path, lambda line: line.startswith((b"$PGRM", b"$GPRTE")))
    # $SDDPT,32.80,0.00 follows the RMC of 12:30:27 on 7 September 2016.
    depth = next(v for v in values if isinstance(v, Depth) and v.depth_m == 32.80)
    assert depth.ts == datetime(2016, 9, 7, 12, 30, 27, tzinfo=timezone.utc) and depth.offset_m == 0.0
