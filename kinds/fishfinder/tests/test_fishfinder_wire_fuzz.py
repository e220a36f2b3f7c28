"""No input makes the fish-finder decoder raise anything but `FrameRejected`: random bytes, and
sentences with correct checksums but arbitrary fields (which reach every field parser)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import FrameRejected
from kinds.fishfinder import wire

RX = datetime(2026, 3, 1, tzinfo=timezone.utc)

ADDRESSES = ["GPRMC", "GNRMC", "GPGGA", "GPGLL", "GPVTG", "GPZDA", "SDDBT", "SDDPT", "YXMTW", "GPGSV",
             "PTEPE", "PTEPD", "PTEPX", "PGRME", "GPXYZ"]
FIELD_CHARS = "0123456789.-+ANSEWVCMfFTKD=/ab"
fields = st.lists(st.text(FIELD_CHARS, max_size=12) | st.sampled_from(["", "A", "1", "E", "mob", "AAAA"]), max_size=14)


def checksummed(address: str, data: list[str]) -> bytes:
    body = ",".join([address, *data])
    checksum = 0
    for ch in body:
        checksum ^= ord(ch)
    return f"${body}*{checksum:02X}\r\n".encode("ascii")


def feed(decoder: wire.InstrumentDecoder, line: bytes, rx: datetime) -> None:
    try:
        decoder.decode(line, rx)
    except FrameRejected:
        pass


@settings(max_examples=400, deadline=None)
@given(st.lists(st.binary(max_size=100), max_size=20))
def test_random_bytes_are_rejected_or_skipped(lines):
    decoder = wire.InstrumentDecoder()
    for line in lines:
        feed(decoder, line, RX)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(ADDRESSES), fields, st.integers(0, 10**6)), max_size=25))
def test_checksummed_sentences_with_any_fields_are_rejected_or_decoded(sentences):
    decoder = wire.InstrumentDecoder()
    for address, data, ms in sentences:
        feed(decoder, checksummed(address, data), RX + timedelta(milliseconds=ms))
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
    feed(wire.InstrumentDecoder(), bytes(line), RX)
