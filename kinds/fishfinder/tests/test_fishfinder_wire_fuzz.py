"""No input makes the fish-finder decoder raise anything but `FrameRejected`: random bytes, and
sentences with correct checksums but edited fields (which reach every field parser), and byte
edits of the encoders' own lines."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import FrameRejected
from kinds.fishfinder import wire
from kinds.fishfinder.decoder import InstrumentDecoder

RX = datetime(2026, 3, 1, tzinfo=timezone.utc)

#: Valid sentences' fields, for edits that keep the checksum right and so reach the field parsers.
TEMPLATES: dict[str, list[str]] = {
    "GPRMC": ["030000.00", "A", "0607.4074", "S", "10651.0000", "E", "5.2", "77.3", "010326", "", "", "A"],
    "GNGGA": ["030000.00", "0607.4074", "S", "10651.0000", "E", "1", "08", "1.0", "2.0", "M", "", "M", "", ""],
    "GPGLL": ["0607.4074", "S", "10651.0000", "E", "030000.00", "A", "A"],
    "GPVTG": ["77.3", "T", "", "M", "5.2", "N", "9.6", "K", "A"],
    "GPZDA": ["030000.00", "01", "03", "2026", "00", "00"],
    "SDDBT": ["76.9", "f", "23.45", "M", "12.8", "F"],
    "SDDPT": ["23.45", "0.40"],
    "YXMTW": ["28.5", "C"],
    "PTEPD": ["7", "mob", "A", "0606.0000", "S", "10648.0000", "E"],
    "PTEPE": ["9", "2", "1", "200", "0", "6", "AAAA"],
    "PTEPE ": ["9", "2", "2", "AAAA"],  # the space keeps the key apart; stripped below
    "GPGSV": ["3", "1", "10", "03", "39", "230", "23"],
    "GPXYZ": ["1"],
}
FIELD_CHARS = "0123456789.-+ANSEWVCMfFTKD=/ab"
field_text = st.text(FIELD_CHARS, max_size=12) | st.sampled_from(["", "A", "V", "0", "1", "E", "mob", "AAAA", "99", "600000"])
edited = st.tuples(
    st.sampled_from(sorted(TEMPLATES)),
    st.lists(st.tuples(st.integers(0, 15), field_text), max_size=3),
    st.integers(0, 16),
)


def checksummed(address: str, data: list[str]) -> bytes:
    body = ",".join([address, *data])
    checksum = 0
    for ch in body:
        checksum ^= ord(ch)
    return f"${body}*{checksum:02X}\r\n".encode("ascii")


def feed(decoder: InstrumentDecoder, line: bytes, rx: datetime) -> None:
    try:
        decoder.decode(line, rx)
    except FrameRejected:
        pass


@settings(max_examples=400, deadline=None)
@given(st.lists(st.binary(max_size=100), max_size=20))
def test_random_bytes_are_rejected_or_skipped(lines):
    decoder = InstrumentDecoder()
    for line in lines:
        feed(decoder, line, RX)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(edited, st.integers(0, 10**6)), max_size=12))
def test_checksummed_sentences_with_edited_fields_are_rejected_or_decoded(sentences):
    decoder = InstrumentDecoder()
    for (address, edits, keep), ms in sentences:
        data = list(TEMPLATES[address])
        for at, text in edits:
            data[at % len(data)] = text
        data = data[:keep] if keep < len(data) else data
        feed(decoder, checksummed(address.strip(), data), RX + timedelta(milliseconds=ms))
    decoder.close()
    assert sum(decoder.counts.values()) >= len(sentences)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**31), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=4))
def test_corrupted_valid_lines_are_rejected_or_decoded(pick, edits):
    """Byte edits of real encoder output (the likeliest noise on a serial line)."""
    import numpy as np

    from kinds.fishfinder.values import Distress, Fix, Ping

    lines = [*wire.encode_fix(Fix(RX, -6.1, 106.8, 4.5, 270.0)),
             *wire.encode_ping(Ping(RX, 5, 0.2, np.linspace(-100, -20, 120))),
             wire.encode_distress(Distress(RX, 3, "fire", True, -6.1, 106.8))]
    line = bytearray(lines[pick % len(lines)])
    for at, byte in edits:
        line[at % len(line)] = byte
    feed(InstrumentDecoder(), bytes(line), RX)
