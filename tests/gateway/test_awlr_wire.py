"""AWLR wire format: recorded frames, rejections with reasons, and the encode/decode round trip."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.devices.awlr import wire
from gateway.errors import FrameRejected

T0 = datetime(2026, 11, 23, 16, 22, tzinfo=timezone.utc)

# Lines as a recorder writes them on the serial port (checksums computed by hand: XOR of the
# characters between "$" and "*").
GOOD_LINES = [
    (b"$PTAWL,katulampa,12,20261123T162200Z,83.2,12.60*39\r\n", wire.AwlrFrame("katulampa", 12, T0, 83.2, 12.6)),
    (b"$PTAWL,depok,0,20261123T162200Z,130.0,12.10*39\r\n", wire.AwlrFrame("depok", 0, T0, 130.0, 12.1)),
    (b"$PTAWL,manggarai,99999,20261123T162200Z,950.5,11.95*39", wire.AwlrFrame("manggarai", 99999, T0, 950.5, 11.95)),
]


def _checksum(body: str) -> str:
    x = 0
    for ch in body:
        x ^= ord(ch)
    return f"{x:02X}"


@pytest.mark.parametrize(("line", "expected"), GOOD_LINES)
def test_decodes_recorded_sentences(line: bytes, expected: wire.AwlrFrame) -> None:
    body = line.decode().strip()[1:].split("*")[0]
    assert line.decode().strip().endswith(_checksum(body)), "fixture checksum is wrong"
    assert wire.decode_sentence(line) == expected


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"$PTAWL,katulampa,12,20261123T162200Z,83.2,12.60*00\r\n", "checksum"),
        (b"$PTAWL,katulampa,12,20261123T162200Z,83.2,12.60\r\n", "truncated"),
        (b"$PTAWL,katulampa,12,20261123T16", "truncated"),
        (b"\x00\xff\xfe garbage \x13\r\n", "garbage"),
        (b"$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A\r\n", "garbage"),
        (b"$PTAWL," + b"9" * 100 + b"*00\r\n", "too_large"),
    ],
)
def test_rejects_bad_lines_with_a_reason(line: bytes, reason: str) -> None:
    with pytest.raises(FrameRejected) as err:
        wire.decode_sentence(line)
    assert err.value.reason == reason


def _signed(body: str) -> bytes:
    return f"${body}*{_checksum(body)}\r\n".encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("PTAWL,katulampa,12,20261123T162200Z,83.2", "truncated"),
        ("PTAWL,katulampa,x,20261123T162200Z,83.2,12.6", "malformed"),
        ("PTAWL,katulampa,12,yesterday,83.2,12.6", "malformed"),
        ("PTAWL,katulampa,12,20261123T162200Z,nan,12.6", "malformed"),
        ("PTAWL,Kat Ulampa,12,20261123T162200Z,83.2,12.6", "malformed"),
        ("PTAWL,katulampa,-1,20261123T162200Z,83.2,12.6", "malformed"),
        ("PTAWL,katulampa,12,20261123T162200Z,83.2,12.6,extra", "malformed"),
    ],
)
def test_rejects_well_framed_but_invalid_fields(body: str, reason: str) -> None:
    with pytest.raises(FrameRejected) as err:
        wire.decode_sentence(_signed(body))
    assert err.value.reason == reason


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "not_json"),
        (b"\xff\xfe", "not_json"),
        (b"[1,2,3]", "malformed"),
        (b'{"station":"depok","seq":1}', "truncated"),
        (b'{"station":"depok","seq":1,"ts":"2026-11-23T16:22:00Z","level_cm":1,"battery_v":12,"x":1}', "malformed"),
        (b'{"station":"depok","seq":true,"ts":"2026-11-23T16:22:00Z","level_cm":1,"battery_v":12}', "malformed"),
        (b'{"station":"depok","seq":1,"ts":"2026-11-23T16:22:00","level_cm":1,"battery_v":12}', "malformed"),
        (b'{"station":"depok","seq":1,"ts":"2026-11-23T16:22:00Z","level_cm":"Infinity","battery_v":12}', "malformed"),
        (b"{" + b" " * 2000 + b"}", "too_large"),
    ],
)
def test_rejects_bad_json(payload: bytes, reason: str) -> None:
    with pytest.raises(FrameRejected) as err:
        wire.decode_json(payload)
    assert err.value.reason == reason


frames = st.builds(
    wire.AwlrFrame,
    station=st.from_regex(r"^[a-z0-9][a-z0-9_-]{0,20}$", fullmatch=True),
    seq=st.integers(0, 2**40),
    ts=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(timezone.utc)).map(
        lambda t: t.replace(microsecond=0)
    ),
    level_cm=st.floats(-100, 5000).map(lambda v: round(v, 1)),
    battery_v=st.floats(0, 30).map(lambda v: round(v, 2)),
)


@given(frames)
def test_sentence_round_trip(frame: wire.AwlrFrame) -> None:
    line = wire.encode_sentence(frame)
    assert len(line) <= wire.MAX_SENTENCE_BYTES
    assert wire.decode_sentence(line) == frame


@given(frames)
def test_json_round_trip(frame: wire.AwlrFrame) -> None:
    assert wire.decode_json(wire.encode_json(frame)) == frame


@given(st.binary(max_size=200))
def test_random_bytes_never_escape_as_other_errors(data: bytes) -> None:
    for decode in (wire.decode_sentence, wire.decode_json):
        try:
            decode(data)
        except FrameRejected:
            pass
