"""The decoder takes short roads, and each must end where the plain road does.

1. `nmea_fields.read_sentence` reads a sentence without pynmea2's per-line regex: it must read
   every line as step-by-step framing then `pynmea2.parse(text, check=True)` did, which this
   file re-implements as the reference. Same class family, sentence type and fields for a
   sentence; the same rejection reason for anything else.
2. `InstrumentDecoder` reads sentences in their usual shape in one match (`TALKER_LINE`,
   `nmea_common`): it must decode every line as ``InstrumentDecoder(common_shapes=False)``,
   which reads each through `read_sentence` and field by field. Same values to the last bit,
   same rejection reasons and messages, same counts, line after line of the same stream.

Held to every recorded line, every simulated line (damaged ones too), recorded sentences with
fields edited, and generated lines with the awkward addresses pynmea2 reads its own way."""

from __future__ import annotations

import operator
import re
from collections import Counter
from datetime import datetime, time, timedelta, timezone
from functools import reduce
from pathlib import Path

import pynmea2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import FrameRejected
from kinds.fishfinder import nmea_common, nmea_fields
from kinds.fishfinder.nmea_fields import Encapsulated, read_sentence
from kinds.fishfinder.sim import nmea_stream
from kinds.fishfinder.decoder import InstrumentDecoder
from kinds.fishfinder.values import Fix

DATA = Path(__file__).parent / "data"
RX = datetime(2026, 3, 1, tzinfo=timezone.utc)


def reference(line: bytes):
    """How the decoder read a line before: framing checks one by one, then pynmea2.parse."""
    raw = line.rstrip(b"\r\n")
    if not raw:
        return None
    if len(raw) > 80:
        return "too_large"
    if raw.translate(None, bytes(range(0x20, 0x7F))):
        return "non_ascii"
    text = raw.decode("ascii")
    if text[0] not in "$!":
        return "malformed"
    star = text.find("*")
    if star < 0:
        return "no_checksum"
    if star != len(text) - 3 or "$" in text[1:] or "!" in text[1:]:
        return "malformed"
    if not re.fullmatch(r"[0-9A-F]{2}", text[star + 1:]):
        return "checksum"
    if text[0] == "!":
        if reduce(operator.xor, text[1:star].encode("ascii"), 0) != int(text[star + 1:], 16):
            return "checksum"
        return Encapsulated, text[3:6] if text[6:7] == "," else "", None
    try:
        msg = pynmea2.parse(text, check=True)
    except pynmea2.ChecksumError:
        return "checksum"
    except pynmea2.SentenceTypeError:
        return "unknown"
    except (ValueError, IndexError):  # IndexError: see test_a_makers_sentence_too_short_for_pynmea2
        return "malformed"
    if isinstance(msg, pynmea2.TalkerSentence):
        return pynmea2.TalkerSentence, msg.sentence_type, msg.data
    if isinstance(msg, pynmea2.ProprietarySentence):
        maker = getattr(msg, "manufacturer", None)
        return pynmea2.ProprietarySentence, maker, msg.data if maker == "TEP" else None
    return type(msg), "", None


def fast(line: bytes):
    """`read_sentence`, in the reference's terms (the fields the decoder reads, split)."""
    try:
        read = read_sentence(line)
    except FrameRejected as exc:
        return exc.reason
    if read is None:
        return None
    family, name, fields = read
    reads_fields = family is pynmea2.TalkerSentence or (family is pynmea2.ProprietarySentence and name == "TEP")
    return family, name, fields.split(",") if reads_fields else None


def agree(line: bytes) -> None:
    expected, got = reference(line), fast(line)
    if isinstance(expected, tuple) and isinstance(got, tuple) and expected[1] is None:
        got = (got[0], None, got[2])  # a maker's class that does not keep its name (TNL)
    assert got == expected, line


def recorded() -> list[bytes]:
    return [line for path in sorted(DATA.glob("*.nmea")) for line in path.read_bytes().splitlines(keepends=True)
            if not line.startswith(b"#")]


def test_every_recorded_line_is_read_as_pynmea2_reads_it():
    lines = recorded()
    assert len(lines) > 400
    for line in lines:
        agree(line)


def test_every_simulated_line_damaged_or_not_is_read_as_pynmea2_reads_it():
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    lines = [s.wire for s in nmea_stream.compose(nmea_stream.steady_boat(start, 40, bins=120), garble_fraction=0.25, seed=3)]
    damaged = [s for s in nmea_stream.compose(nmea_stream.steady_boat(start, 40, bins=120), garble_fraction=0.25, seed=3)
               if s.garble]
    assert len(damaged) > 50  # the damaged lines exercise the rejections
    for line in lines:
        agree(line)


def checksummed(body: str, right: bool = True, start: str = "$") -> bytes:
    checksum = 0
    for ch in body:
        checksum ^= ord(ch)
    return f"{start}{body}*{checksum ^ (0 if right else 1):02X}\r\n".encode("ascii")


#: Addresses pynmea2 reads in its own way: proprietary first (``P`` and three word characters,
#: even when a talker was meant), queries, lower case, unknown types, digits and underscores.
ADDRESSES = ["GPRMC", "GNGGA", "SDDBT", "YXMTW", "gprmc", "GpGgA", "II_HDG", "12GSV", "GPXYZ", "GPGLC", "PTEPE",
             "PTEPD", "Ptepe", "PGRME", "PGRMZ", "PASH", "PTNL", "PSXN", "PNOR", "PXYZ", "P1RMC", "GPGPQ", "CCGPQ",
             "GPGSQ", "GP", "P", "", "GP RMC", "AIVDM", "AIVDO", "GPR*C"]
FIELDS = ["", "1", "A", "GGA", "GGA,1", "030000.00,A,0607.4074,S,10651.0000,E,5.2,77.3,010326,,,A", "E,1,1,1,200,0,6,AAAA",
          ",1,2", "X", ",,,"]


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(ADDRESSES), st.sampled_from(FIELDS), st.booleans(), st.sampled_from(["$", "!"]),
       st.sampled_from([",", ""]))
def test_generated_lines_with_awkward_addresses_are_read_as_pynmea2_reads_them(address, fields, right, start, comma):
    agree(checksummed(address + comma + fields, right, start))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=90))
def test_random_bytes_are_refused_as_before(line):
    agree(line)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=128))
def test_the_folded_checksum_is_the_xor_of_the_bytes(body):
    assert nmea_fields.checksum(body) == reduce(operator.xor, body, 0)


@pytest.mark.parametrize("body", ["PASH", "PSXN", "PTNL"])
def test_a_makers_sentence_too_short_for_pynmea2_is_malformed_not_a_crash(body):
    """pynmea2's makers' classes index fields a bare ``$PASH*hh`` lacks (IndexError); the
    decoder let that escape before."""
    decoder = InstrumentDecoder()
    with pytest.raises(FrameRejected) as exc:
        decoder.decode(checksummed(body), RX)
    assert exc.value.reason == "malformed"
    assert decoder.counts == {"malformed": 1}


# -- 2. the usual shapes against field by field -------------------------------------------

def outcomes(lines: list[bytes], gaps_ms: list[int] | None = None, common_shapes: bool = True) -> tuple[list, dict]:
    """What the decoder made of each line (a value, None, or the rejection's reason and
    message), and its counts at the end."""
    decoder, out, rx = InstrumentDecoder(common_shapes=common_shapes), [], RX
    for i, line in enumerate(lines):
        rx += timedelta(milliseconds=gaps_ms[i % len(gaps_ms)] if gaps_ms else 0)
        try:
            out.append(decoder.decode(line, rx))
        except FrameRejected as exc:
            out.append((exc.reason, str(exc)))
    decoder.close()
    return out, dict(decoder.counts)


def decoded_alike(lines: list[bytes], gaps_ms: list[int] | None = None) -> list:
    usual, by_fields = outcomes(lines, gaps_ms), outcomes(lines, gaps_ms, common_shapes=False)
    for line, got, expected in zip(lines, usual[0], by_fields[0]):
        assert got == expected, line
    assert usual[1] == by_fields[1]
    return usual[0]


def test_every_recording_decodes_the_same_by_the_usual_shapes():
    for path in sorted(DATA.glob("*.nmea")):
        lines = [line for line in path.read_bytes().splitlines(keepends=True) if not line.startswith(b"#")]
        decoded_alike(lines)
        decoded_alike(lines, gaps_ms=[0, 180, 1000, 7])


def test_the_recorded_values_are_read_by_the_usual_shapes():
    """Or the test above would compare the plain road with itself."""
    taken = Counter()
    for address, fields in RECORDED_SENTENCES:
        taken[getattr(nmea_common, address[2:].lower())(",".join(fields)) is not None] += 1
    assert taken[True] >= 0.9 * (taken[True] + taken[False]), taken


def test_simulated_streams_damaged_or_not_decode_the_same_by_the_usual_shapes():
    start = datetime(2026, 3, 1, 23, 59, 30, tzinfo=timezone.utc)  # across midnight
    for garble in (0.0, 0.3):
        lines = [s.wire for s in nmea_stream.compose(nmea_stream.steady_boat(start, 60, bins=120), garble_fraction=garble,
                                                      ais_per_s=2, seed=5)]
        decoded_alike(lines, gaps_ms=[0, 40, 950])


def sentence(address: str, fields: list[str]) -> bytes:
    return checksummed(",".join([address, *fields]))


RECORDED_SENTENCES = sorted({
    (line[1:6].decode(), tuple(line[7:line.index(b"*")].decode().split(",")))
    for line in recorded() if line[3:6] in {b"RMC", b"GGA", b"GLL", b"VTG", b"ZDA", b"DBT", b"DPT", b"MTW"}})
#: Field texts near the usual shapes' edges: signs, bare points, exponents, degrees and minutes
#: out of range, hemispheres, statuses and modes, times and dates that are no time or date.
EDGE_FIELDS = ["", "0", "0.0", "5.", ".5", "+1.5", "-1.5", "-0", "1e3", "nan", "1_0", " 1", "1.2.3", "360", "360.1",
               "0000.000", "8959.9999", "9000.0", "9000.1", "9100.0", "959.99", "18000.0", "18000.1", "18100.0",
               "17959.99", "0996.0", "5960.0", "N", "S", "E", "W", "n", "A", "V", "D", "C", "c", "F", "M", "00", "1",
               "01", "9", "2", "240000", "235960", "235959.9999999", "123519.", "310226", "290224", "290223", "010180",
               "31", "12", "13", "2026", "99999"]


def test_every_field_of_recorded_sentences_edited_to_each_edge_decodes_the_same_by_the_usual_shapes():
    """Each field of three recorded sentences of each type, and one past the last, set to each
    edge text in turn, one stream for both roads."""
    by_type: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for address, fields in RECORDED_SENTENCES:
        by_type.setdefault(address[2:], []).append((address, fields))
    lines = []
    for sentences in by_type.values():
        for address, fields in sentences[:: max(1, len(sentences) // 3)][:3]:
            lines.append(sentence(address, list(fields)))
            for at in range(len(fields) + 1):
                for text in EDGE_FIELDS:
                    data = list(fields) + [""]
                    data[at] = text
                    lines.append(sentence(address, data if at == len(fields) else data[:-1]))
    assert len(lines) > 5000
    decoded_alike(lines, gaps_ms=[0, 0, 400, 3_600_000, 47_000_000])  # the last over half a day


@pytest.mark.parametrize("date", ["070420", "311279", "010180", "291299", "010100", "290200", "290201"])
def test_rmc_times_and_dates_read_in_one_go_decode_the_same_by_the_usual_shapes(date):
    """`nmea_common.rmc` reads the date and time as ISO 8601: every fraction length NMEA sends,
    both centuries, leap days and a day that is none."""
    times = ["213950", "000000", "235959", "235959.9", "120000.05", "120000.125", "120000.5000", "120000.12345",
             "120000.999999", "235960", "240000", "126000"]
    lines = [sentence("GPRMC", [t, "A", "5250.53669", "N", "00542.34920", "E", "0.020", "", date, "", "", "A"]) for t in times]
    real = date != "290201"
    assert [isinstance(value, Fix) for value in decoded_alike(lines)] == [real] * 9 + [False] * 3
    taken = [nmea_common.rmc(line[7:line.index(b"*")].decode()) is not None for line in lines]
    assert taken == [real] * 9 + [False] * 3  # the usual shape's road, or the test compares the plain one with itself


field_edit = st.tuples(st.integers(0, 15), st.sampled_from(EDGE_FIELDS) | st.text("0123456789.-+ANSEWVC", max_size=11))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(RECORDED_SENTENCES), st.lists(field_edit, max_size=3), st.integers(0, 16),
                          st.sampled_from(["", "GP", "IN", "SD", "gp", "P1", "12"])), min_size=1, max_size=8),
       st.lists(st.integers(0, 60_000), min_size=1, max_size=4))
def test_recorded_sentences_with_edited_fields_decode_the_same_by_the_usual_shapes(sentences, gaps_ms):
    """Field edits keep the checksum right, so they reach the field readers of both roads."""
    lines = []
    for (address, fields), edits, keep, talker in sentences:
        data = list(fields)
        for at, text in edits:
            data[at % len(data)] = text
        lines.append(sentence((talker or address[:2]) + address[2:], data[:keep] if keep < len(data) else data))
    decoded_alike(lines, gaps_ms)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(recorded()), min_size=1, max_size=6), st.integers(0, 2**31),
       st.lists(st.tuples(st.integers(0, 90), st.integers(0, 255)), max_size=3))
def test_recorded_lines_with_bytes_edited_decode_the_same_by_the_usual_shapes(lines, pick, edits):
    line = bytearray(lines[pick % len(lines)])
    for at, byte in edits:
        line[at % len(line)] = byte
    decoded_alike([*lines, bytes(line)])


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(timezone.utc)),
       st.integers(-10**8, 10**8), st.times(), st.integers(0, 6))
def test_a_time_of_day_is_dated_as_by_date_arithmetic(gnss, elapsed_ms, tod, digits):
    """`_dated`'s comparison for the field of the latest GNSS time, against the arithmetic."""
    def field(t: time) -> str:
        return f"{t:%H%M%S}" + (f".{t.microsecond:06d}"[:digits + 1] if digits else "")

    gnss = gnss.replace(microsecond=int(f"{gnss.microsecond:06d}"[:digits].ljust(6, "0")))  # what the field holds
    tod = tod.replace(microsecond=int(f"{tod.microsecond:06d}"[:digits].ljust(6, "0")), tzinfo=timezone.utc)
    decoder, rx = InstrumentDecoder(), RX
    decoder._set_clock(gnss, rx, field(gnss))
    later = rx + timedelta(milliseconds=elapsed_ms)
    for tod_utc in (tod, gnss.timetz()):
        ref = gnss + max(later - rx, timedelta(0))
        expected = datetime.combine(ref.date(), tod_utc)
        if expected - ref > timedelta(hours=12):
            expected -= timedelta(days=1)
        elif ref - expected > timedelta(hours=12):
            expected += timedelta(days=1)
        assert decoder._dated(field(tod_utc), later) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text("0123456789,.EMZWCabc-", max_size=8), min_size=1, max_size=12))
def test_garmins_sentences_build_from_any_fields(data):
    """Why `read_sentence` need not build a GRM (`_BUILT_WITHOUT_FAIL`)."""
    pynmea2.ProprietarySentence.sentence_types["GRM"]("GRM", data)


@pytest.mark.parametrize("padding", [60, 70, 71, 72])
@pytest.mark.parametrize("tail", ["", "\r\n", "\n\n"])
def test_a_whole_line_in_its_usual_shape_keeps_the_frames_length_bound(padding, tail):
    """`nmea_common.LINES` match a whole line, fields and frame in one: fields one past the 70
    characters `TALKER_LINE` allows (too large a line) must end as the plain road ends them."""
    for address, fields in RECORDED_SENTENCES:
        body = ",".join([address, *fields])
        body += "," + "0" * max(0, padding - (len(body) - 6) - 1)
        decoded_alike([checksummed(body) + tail.encode()])
