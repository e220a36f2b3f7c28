"""The fish-finder's wire format: what the simulator encodes, the gateway decodes back, within the
format's declared precision; bad lines are rejected with their reason, never with a crash."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import numpy as np
import pynmea2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import FrameRejected
from kinds.fishfinder import wire
from kinds.fishfinder.decoder import InstrumentDecoder
from kinds.fishfinder.values import Depth, Distress, Fix, Ping, WaterTemp

UTC = timezone.utc
RX = datetime(2026, 3, 1, 3, 0, 0, tzinfo=UTC)
MINUTE_STEP_DEG = 1e-4 / 60  # positions travel as minutes with 4 decimals


def sentence(body: str) -> bytes:
    """A sentence with its checksum computed here, independently of the code under test."""
    checksum = 0
    for ch in body:
        checksum ^= ord(ch)
    return f"${body}*{checksum:02X}\r\n".encode("ascii")


def decode_all(lines: list[bytes], rx: datetime = RX) -> tuple[list, InstrumentDecoder]:
    decoder = InstrumentDecoder()
    out = [decoder.decode(line, rx) for line in lines]
    return [v for v in out if v is not None], decoder


def reason(line: bytes, decoder: InstrumentDecoder | None = None) -> str:
    with pytest.raises(FrameRejected) as exc:
        (decoder or InstrumentDecoder()).decode(line, RX)
    return exc.value.reason


centiseconds = st.integers(0, 10 * 365 * 86400 * 100).map(
    lambda cs: datetime(2020, 1, 1, tzinfo=UTC) + timedelta(milliseconds=10 * cs))


@given(ts=centiseconds, lat=st.floats(-89.99, 89.99), lon=st.floats(-179.99, 179.99),
       sog=st.floats(0, 60), cog=st.floats(0, 359.9), talker=st.sampled_from(["GP", "GN", "GL", "II"]))
def test_fix_round_trips_through_rmc_gga_vtg(ts, lat, lon, sog, cog, talker):
    lines = wire.encode_fix(Fix(ts, lat, lon, sog, cog), talker=talker)
    assert [line[3:6] for line in lines] == [b"RMC", b"GGA", b"VTG"]
    (rmc, gga), decoder = decode_all(lines)
    for fix in (rmc, gga):
        assert fix.ts == ts
        assert abs(fix.lat - lat) <= MINUTE_STEP_DEG / 2 + 1e-12
        assert abs(fix.lon - lon) <= MINUTE_STEP_DEG / 2 + 1e-12
    assert abs(rmc.sog_kn - sog) <= 0.05 + 1e-9 and abs(rmc.cog_deg - cog) <= 0.05 + 1e-9
    assert decoder.counts == {"fix": 2, "absorbed": 1}  # VTG: speed and course, no value alone


def test_vtg_gives_speed_and_course_to_a_gga_fix_of_the_same_second():
    ts = datetime(2026, 3, 1, 2, 59, 59, tzinfo=UTC)
    lines = [sentence("GPRMC,025959.00,A,0607.0000,S,10651.0000,E,4.0,90.0,010326,,,A"),
             sentence("GPVTG,91.5,T,,M,4.2,N,7.8,K,A"),
             sentence("GPGGA,025959.00,0607.0000,S,10651.0000,E,1,08,1.0,2.0,M,,M,,"),
             sentence("GPGGA,030000.00,0607.0010,S,10651.0000,E,1,08,1.0,2.0,M,,M,,")]
    (rmc, gga, later), _ = decode_all(lines)
    assert (gga.ts, gga.sog_kn, gga.cog_deg) == (ts, 4.2, 91.5)
    assert (later.sog_kn, later.cog_deg) == (None, None)  # the VTG was of the second before


@given(depth=st.floats(0.1, 2000), offset=st.one_of(st.none(), st.floats(-5, 5)))
def test_depth_round_trips_through_dbt_and_dpt(depth, offset):
    lines = wire.encode_depth(Depth(RX, depth, offset))
    assert [line[1:6] for line in lines] == [b"SDDBT", b"SDDPT"]
    (dbt, dpt), _ = decode_all(lines)
    assert abs(dbt.depth_m - depth) <= 0.005 + 1e-9 and dbt.offset_m is None
    assert abs(dpt.depth_m - depth) <= 0.005 + 1e-9
    assert (dpt.offset_m is None) == (offset is None)
    if offset is not None:
        assert abs(dpt.offset_m - offset) <= 0.005 + 1e-9


@given(temp=st.floats(-2, 40), talker=st.sampled_from(["YX", "SD", "II"]))
def test_water_temp_round_trips_through_mtw(temp, talker):
    (line,) = wire.encode_water_temp(WaterTemp(RX, temp), talker=talker)
    assert line.startswith(f"${talker}MTW,".encode())
    (value,), _ = decode_all([line])
    assert abs(value.temp_c - temp) <= 0.05 + 1e-9


sv_arrays = st.integers(1, wire.MAX_BINS).flatmap(
    lambda n: st.lists(st.floats(-127.5, 0), min_size=n, max_size=n).map(np.array))


@settings(max_examples=40, deadline=None)
@given(sv=sv_arrays, seq=st.integers(0, 10**9), bin_mm=st.integers(1, 5000), start_mm=st.integers(0, 50000))
def test_ping_round_trips_within_half_a_quantisation_step(sv, seq, bin_mm, start_mm):
    lines = wire.encode_ping(Ping(RX, seq, bin_mm / 1000, sv, start_mm / 1000))
    for line in lines:
        assert len(line) <= 82
        pynmea2.parse(line.decode().strip(), check=True)  # a checksum any NMEA reader accepts
    (ping,), decoder = decode_all(lines)
    assert (ping.seq, ping.ts) == (seq, RX)
    assert round(ping.bin_m * 1000) == bin_mm and round(ping.range_start_m * 1000) == start_mm
    assert ping.sv_db.shape == sv.shape
    assert np.max(np.abs(ping.sv_db - sv)) <= wire.SV_STEP_DB / 2 + 1e-6
    assert (decoder.counts["ping"], decoder.counts.get("absorbed", 0), sum(decoder.counts.values())) == (1, len(lines) - 1, len(lines))


def test_ping_values_outside_the_wire_range_are_clipped_and_nan_is_the_floor():
    sv = np.array([-300.0, np.nan, 5.0, -60.2])
    (ping,), _ = decode_all(wire.encode_ping(Ping(RX, 1, 0.1, sv)))
    assert ping.sv_db.tolist() == [-127.5, -127.5, 0.0, -60.0]


@pytest.mark.parametrize("bins,bin_m", [(0, 0.1), (wire.MAX_BINS + 1, 0.1), (10, 0.0)])
def test_encoding_a_ping_the_format_cannot_carry_is_an_error(bins, bin_m):
    with pytest.raises(ValueError):
        wire.encode_ping(Ping(RX, 1, bin_m, np.zeros(bins)))


@pytest.mark.parametrize("nature", wire.NATURES)
@pytest.mark.parametrize("active", [True, False])
@pytest.mark.parametrize("position", [(-6.2, 106.816667), (None, None)])
def test_distress_round_trips(nature, active, position):
    lat, lon = position
    line = wire.encode_distress(Distress(RX, 42, nature, active, lat, lon))
    assert line.startswith(b"$PTEPD,42,") and len(line) <= 82
    (value,), _ = decode_all([line])
    assert (value.seq, value.nature, value.active) == (42, nature, active)
    if lat is None:
        assert value.lat is None and value.lon is None
    else:
        assert abs(value.lat - lat) <= MINUTE_STEP_DEG and abs(value.lon - lon) <= MINUTE_STEP_DEG


def test_two_pings_a_second_fit_38400_baud_with_nmea_and_ais_but_not_4800():
    """The module docstring's budget, from the encoders: 8N1 carries baud/10 bytes a second."""
    ts = datetime(2026, 3, 1, tzinfo=UTC)
    nmea = [*wire.encode_fix(Fix(ts, -6.1, 106.8, 5.5, 123.4)), *wire.encode_depth(Depth(ts, 35.2, 0.5)),
            *wire.encode_water_temp(WaterTemp(ts, 29.1))]
    ais = 5 * len(b"!AIVDM,1,1,,B,13aDp<PP000IwSlN?Wm@0?wN2<1T,0*29\r\n")
    ping = wire.ping_wire_bytes(500, seq=999_999)
    per_second = 2 * ping + sum(map(len, nmea)) + ais
    assert per_second <= 38400 / 10
    assert ping > 4800 / 10  # one ping alone needs more than a second of a 4800-baud line


# -- rejections ---------------------------------------------------------------------------

RMC = sentence("GPRMC,030000.00,A,0607.4074,S,10651.0000,E,5.2,77.3,010326,,,A")


@pytest.mark.parametrize("line,expected", [
    (RMC[:10] + b"*" + RMC[10:], "malformed"),  # a "*" before the checksum
    (RMC[:-4] + (b"00" if RMC[-4:-2] != b"00" else b"11") + b"\r\n", "checksum"),
    (RMC[:-5] + b"\r\n", "no_checksum"),
    (RMC[:40] + b"\r\n", "no_checksum"),  # truncated
    (RMC[:-2] + RMC, "too_large"),  # two sentences run together
    (sentence("YXMTW,28.5,C")[:-2] + sentence("SDDPT,12.3,0.5"), "malformed"),  # two short ones
    (RMC[:-2] + b"," + b"9" * 20 + b"\r\n", "too_large"),
    (RMC.replace(b"A,06", b"\xc1,06"), "non_ascii"),
    (RMC.replace(b"5.2", b"5\t2"), "non_ascii"),
    (b"** " + RMC, "malformed"),
    (sentence("GPRMC,030000.00,V,,,,,,,010326,,,N"), "no_fix"),
    (sentence("GPRMC,030000.00,A,0660.0000,S,10651.0000,E,5.2,77.3,010326,,,A"), "malformed"),  # 60 minutes
    (sentence("GPRMC,030000.00,A,9100.0000,N,10651.0000,E,5.2,77.3,010326,,,A"), "malformed"),
    (sentence("GPRMC,030000.00,A,0607.4074,S,10651.0000,E,nan,77.3,010326,,,A"), "malformed"),
    (sentence("GPRMC,030000.00,A,0607.4074,S,10651.0000,E,5.2,77.3,310226,,,A"), "malformed"),  # 31 Feb
    (sentence("GPRMC,250000.00,A,0607.4074,S,10651.0000,E,5.2,77.3,010326,,,A"), "malformed"),
    (sentence("GPGGA,030000.00,,,,,0,00,99.9,,M,,M,,"), "no_fix"),
    (sentence("GPGLL,0607.4074,S,10651.0000,E,030000.00,V,N"), "no_fix"),
    (sentence("SDDBT,,f,,M,,F"), "no_fix"),
    (sentence("SDDPT,0.0,0.0"), "no_fix"),
    (sentence("SDDPT,-3.0,0.0"), "malformed"),
    (sentence("SDMTW,,C"), "no_fix"),
    (sentence("SDMTW,84.2,F"), "malformed"),
    (sentence("GPXYZ,1,2,3"), "unknown"),
    (sentence("PTEPX,1,2"), "unknown"),
    (sentence("PTEPD,1,piracy,A,,,,"), "malformed"),  # not a nature of this format
    (sentence("PTEPE,1,2,3,AAAA"), "malformed"),  # fragment 3 of 2
    (b"!AIVDM,1,1,,B,13aDp<PP000IwSlN?Wm@0?wN2<1T,0*28\r\n", "checksum"),
])
def test_bad_lines_are_rejected_with_their_reason(line, expected):
    decoder = InstrumentDecoder()
    assert reason(line, decoder) == expected
    assert decoder.counts == {expected: 1}


@pytest.mark.parametrize("line,label", [
    (b"!AIVDM,1,1,,B,13aDp<PP000IwSlN?Wm@0?wN2<1T,0*29\r\n", "ais"),
    (b"!AIVDO,1,1,,,B3aC3LP00063aj7RNpl03wSUwP06,0*43\r\n", "ais"),
    (sentence("GPGSV,3,1,10,03,39,230,23,08,31,170,31,10,08,058,31,11,65,149,31"), "unused"),
    (sentence("PGRME,2.6,M,3.8,M,5.1,M"), "unused"),
    (sentence("GPZDA,030000.00,01,03,2026,00,00"), "absorbed"),
    (b"\r\n", "blank"),
])
def test_lines_without_a_value_are_counted_not_rejected(line, label):
    decoder = InstrumentDecoder()
    assert decoder.decode(line, RX) is None
    assert decoder.counts == {label: 1}


def test_a_ping_whose_fragments_were_lost_is_dropped_and_counted_once():
    sv = np.linspace(-90, -30, 300)
    first, second = (wire.encode_ping(Ping(RX, seq, 0.25, sv)) for seq in (7, 8))
    lines = first[:3] + first[4:] + second  # fragment 4 of ping 7 lost
    pings, decoder = decode_all(lines)
    assert [p.seq for p in pings] == [8]
    assert decoder.counts["incomplete_ping"] == 1
    pings, decoder = decode_all(first[:2] + second)  # ping 7 cut short by ping 8's start
    assert [p.seq for p in pings] == [8] and decoder.counts["incomplete_ping"] == 1
    pings, decoder = decode_all(first[2:] + second)  # ping 7's start lost
    assert [p.seq for p in pings] == [8] and decoder.counts["incomplete_ping"] == 1


# -- time ---------------------------------------------------------------------------------

def test_soundings_take_the_gnss_time_advanced_by_the_receive_time_elapsed():
    decoder = InstrumentDecoder()
    early = decoder.decode(sentence("SDDPT,12.3,0.5"), RX)
    assert early.ts == RX  # no GNSS time yet: the receive time
    gateway_clock = RX + timedelta(hours=5)  # the gateway's clock is wrong, its intervals are not
    fix = decoder.decode(sentence("GPRMC,101010.00,A,0607.4074,S,10651.0000,E,5.2,77.3,010326,,,A"), gateway_clock)
    assert fix.ts == datetime(2026, 3, 1, 10, 10, 10, tzinfo=UTC)
    depth = decoder.decode(sentence("SDDBT,40.4,f,12.30,M,6.7,F"), gateway_clock + timedelta(seconds=1.5))
    assert depth.ts == fix.ts + timedelta(seconds=1.5)


def test_a_time_of_day_after_midnight_is_dated_the_next_day():
    decoder = InstrumentDecoder()
    decoder.decode(sentence("GPRMC,235959.50,A,0607.4074,S,10651.0000,E,5.2,77.3,280226,,,A"), RX)
    fix = decoder.decode(sentence("GPGGA,000000.50,0607.4074,S,10651.0000,E,1,08,1.0,2.0,M,,M,,"), RX + timedelta(seconds=1))
    assert fix.ts == datetime(2026, 3, 1, 0, 0, 0, 500000, tzinfo=UTC)


def test_before_any_date_a_gga_takes_the_receive_date():
    (fix,), _ = decode_all([sentence("GPGGA,235959,0607.4074,S,10651.0000,E,1,08,1.0,2.0,M,,M,,")])
    assert fix.ts == datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC)  # nearest to RX, 03:00 on 1 March


def test_a_naive_receive_time_is_a_programming_error():
    with pytest.raises(ValueError):
        InstrumentDecoder().decode(RMC, datetime(2026, 3, 1))


def test_values_built_through_their_slots_behave_as_the_dataclasses_they_are():
    """`values` gives the value types a faster ``__init__``; all else is the dataclass's."""
    fix = Fix(RX, 1.5, 2.5)
    assert (fix.sog_kn, fix.cog_deg) == (None, None) and fix == Fix(RX, 1.5, 2.5) and hash(fix) == hash(Fix(RX, 1.5, 2.5))
    assert fix != Fix(RX, 1.5, 2.5, 3.0) and Depth(RX, 1.0) != WaterTemp(RX, 1.0)
    assert dataclasses.replace(fix, sog_kn=3.0) == Fix(ts=RX, lat=1.5, lon=2.5, sog_kn=3.0)
    assert Distress(RX, 1) == Distress(RX, 1, "undesignated", True, None, None)
    assert Ping(RX, 1, 0.1, np.zeros(3)) == Ping(RX, 1, 0.1, np.ones(3))  # the bins are not compared
    with pytest.raises(dataclasses.FrozenInstanceError):
        fix.lat = 0.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        Fix(RX, 1.5)  # type: ignore[call-arg]
