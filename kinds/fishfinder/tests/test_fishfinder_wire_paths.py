"""The decoder reads a sentence without pynmea2's per-line regex (`nmea_fields.read_sentence`):
it must read every line exactly as the plain road did, step-by-step framing then
`pynmea2.parse(text, check=True)`, which this file re-implements as the reference. Same class
family, sentence type and fields for a sentence; the same rejection reason for anything else.
Held to every recorded line, every simulated line (damaged ones too) and generated lines with
the awkward addresses pynmea2 reads its own way."""

from __future__ import annotations

import operator
import re
from datetime import datetime, timezone
from functools import reduce
from pathlib import Path

import pynmea2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import FrameRejected
from kinds.fishfinder import nmea_fields
from kinds.fishfinder.nmea_fields import Encapsulated, read_sentence
from kinds.fishfinder.sim import nmea_stream
from kinds.fishfinder.wire import InstrumentDecoder

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
    assert nmea_fields._checksum(body) == reduce(operator.xor, body, 0)


@pytest.mark.parametrize("body", ["PASH", "PSXN", "PTNL"])
def test_a_makers_sentence_too_short_for_pynmea2_is_malformed_not_a_crash(body):
    """pynmea2's makers' classes index fields a bare ``$PASH*hh`` lacks (IndexError); the
    decoder let that escape before."""
    decoder = InstrumentDecoder()
    with pytest.raises(FrameRejected) as exc:
        decoder.decode(checksummed(body), RX)
    assert exc.value.reason == "malformed"
    assert decoder.counts == {"malformed": 1}
