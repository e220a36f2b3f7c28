"""AWLR wire format: recorded frames, rejections with reasons, and the encode/decode round trip."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinds.awlr import wire
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
        ("PTAWL,katulampa,x,20261123T162200Z,83.2,12.6", "wrong_type"),
        ("PTAWL,katulampa,1.5,20261123T162200Z,83.2,12.6", "wrong_type"),
        ("PTAWL,katulampa,1_000,20261123T162200Z,83.2,12.6", "wrong_type"),
        ("PTAWL,katulampa, 7,20261123T162200Z,83.2,12.6", "wrong_type"),
        ("PTAWL,katulampa,12,yesterday,83.2,12.6", "malformed"),
        ("PTAWL,katulampa,12,20261123T162200Z,nan,12.6", "wrong_type"),
        ("PTAWL,katulampa,12,20261123T162200Z,1e9,12.6", "wrong_type"),
        ("PTAWL,katulampa,12,20261123T162200Z,83.2,inf", "wrong_type"),
        ("PTAWL,katulampa,12,20261123T162200Z,83.2,-1.0", "out_of_range"),
        ("PTAWL,katulampa,12,20261123T162200Z,83.2,30.01", "out_of_range"),
        ("PTAWL,katulampa,99999999999999999999,20261123T162200Z,83.2,12.6", "out_of_range"),
        ("PTAWL,Kat Ulampa,12,20261123T162200Z,83.2,12.6", "malformed"),
        ("PTAWL,katulampa,-1,20261123T162200Z,83.2,12.6", "out_of_range"),
        ("PTAWL,katulampa,12,20261123T162200Z,83.2,12.6,extra", "malformed"),
    ],
)
def test_rejects_well_framed_but_invalid_fields(body: str, reason: str) -> None:
    with pytest.raises(FrameRejected) as err:
        wire.decode_sentence(_signed(body))
    assert err.value.reason == reason


def _json(**fields: str) -> bytes:
    """A frame as JSON text with some fields written as given (raw JSON)."""
    base = {"station": '"depok"', "seq": "1", "ts": '"2026-11-23T16:22:00Z"', "level_cm": "130.5", "battery_v": "12.1"}
    return ("{" + ",".join(f'"{k}":{v}' for k, v in {**base, **fields}.items()) + "}").encode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "not_json"),
        (b"\xff\xfe", "not_json"),
        (b"[1,2,3]", "malformed"),
        (b'{"station":"depok","seq":1}', "truncated"),
        (_json(x="1"), "malformed"),
        (_json(ts='"2026-11-23T16:22:00"'), "malformed"),
        (_json(station='"Depok Baru"'), "malformed"),
        # Integers only as JSON integers; numbers only as JSON numbers.
        (_json(seq="true"), "wrong_type"),
        (_json(seq="1.5"), "wrong_type"),
        (_json(seq="1.0"), "wrong_type"),
        (_json(seq='"7"'), "wrong_type"),
        (_json(seq="null"), "wrong_type"),
        (_json(level_cm='"130.5"'), "wrong_type"),
        (_json(level_cm='"Infinity"'), "wrong_type"),
        (_json(battery_v="false"), "wrong_type"),
        (_json(battery_v="[12.1]"), "wrong_type"),
        (_json(station="7"), "wrong_type"),
        (_json(ts="1732378920"), "wrong_type"),
        # Finite, and within the declared span.
        (_json(level_cm="NaN"), "out_of_range"),
        (_json(level_cm="Infinity"), "out_of_range"),
        (_json(level_cm="-Infinity"), "out_of_range"),
        (_json(level_cm="1e999999"), "out_of_range"),
        (_json(level_cm="1" * 400), "out_of_range"),
        (_json(battery_v="-1e300"), "out_of_range"),
        (_json(battery_v="-0.01"), "out_of_range"),
        (_json(battery_v="30.5"), "out_of_range"),
        (_json(seq="-1"), "out_of_range"),
        (_json(seq=str(2**63)), "out_of_range"),
        (_json(seq="9" * 500), "out_of_range"),
        (b"{" + b" " * 2000 + b"}", "too_large"),
    ],
)
def test_rejects_bad_json(payload: bytes, reason: str) -> None:
    with pytest.raises(FrameRejected) as err:
        wire.decode_json(payload)
    assert err.value.reason == reason, err.value.detail


@pytest.mark.parametrize(
    "payload",
    [
        b'{"station":"depok","seq":1,"seq":2,"ts":"2026-11-23T16:22:00Z","level_cm":130.5,"battery_v":12.1}',
        b'{"station":"depok","seq":1,"ts":"2026-11-23T16:22:00Z","level_cm":130.5,"battery_v":12.1,"level_cm":999.0}',
        b'{"station":"depok","seq":1,"ts":"2026-11-23T16:22:00Z","level_cm":130.5,"battery_v":12.1,"station" :"bogor"}',
        b'{"station":"depok","seq":1,"ts":"2026-11-23T16:22:00Z","level_cm":130.5,"battery_v":12.1,"s\\u0074ation":"x"}',
    ],
)
def test_duplicate_keys_are_refused_not_resolved(payload: bytes) -> None:
    """A device, or someone posing as one, cannot smuggle a second value past a reader that
    takes the first while the gateway takes the last."""
    with pytest.raises(FrameRejected) as err:
        wire.decode_json(payload)
    assert err.value.reason == "duplicate_key"


def test_json_numbers_in_other_spellings_decode_alike() -> None:
    """Integers for levels and batteries are JSON numbers too, and whitespace or key order do
    not matter: the strict path gives what the fast path gives."""
    plain = wire.decode_json(_json())
    assert plain == wire.AwlrFrame("depok", 1, datetime(2026, 11, 23, 16, 22, tzinfo=timezone.utc), 130.5, 12.1)
    assert wire.decode_json(_json(level_cm="130", battery_v="12")) == wire.AwlrFrame("depok", 1, plain.ts, 130.0, 12.0)
    spaced = b'{ "battery_v" : 12.1 , "level_cm" : 130.5, "ts" : "2026-11-23T16:22:00Z", "seq" : 1, "station" : "depok" }'
    assert wire.decode_json(spaced) == plain
    assert wire.decode_json(b'{"st\\u0061tion":"depok","seq":1,"ts":"2026-11-23T16:22:00Z","level_cm":130.5,"battery_v":12.1}') == plain


frames = st.builds(
    wire.AwlrFrame,
    station=st.from_regex(r"^[a-z0-9][a-z0-9_-]{0,20}$", fullmatch=True),
    seq=st.integers(0, 2**40),
    ts=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(timezone.utc)).map(
        lambda t: t.replace(microsecond=0)
    ),
    level_cm=st.floats(-100, 5000).map(lambda v: round(v, 1)),
    battery_v=st.floats(*wire.BATTERY_SPAN_V).map(lambda v: round(v, 2)),
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


REASONS = {"not_json", "malformed", "truncated", "too_large", "wrong_type", "out_of_range", "duplicate_key"}


def _json_values(finite: bool) -> st.SearchStrategy[object]:
    return st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=not finite, allow_infinity=not finite) | st.text(max_size=12),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
        max_leaves=6,
    )



@given(frames, st.sampled_from([f.name for f in wire.FIELDS]), _json_values(finite=False))
def test_any_value_in_any_field_is_decoded_strictly_or_refused_with_a_reason(
    frame: wire.AwlrFrame, field: str, value: object
) -> None:
    """Whatever a device puts in one field (NaN and infinities included, written as JSON allows
    Python to), the result is a frame whose fields have exactly their declared types and spans,
    or a rejection with one of the documented reasons."""
    obj = json.loads(wire.encode_json(frame))
    obj[field] = value
    try:
        got = wire.decode_json(json.dumps(obj).encode())
    except FrameRejected as rej:
        assert rej.reason in REASONS
        return
    assert type(value) is not bool and not isinstance(value, (list, dict)) and value is not None
    assert type(got.seq) is int and wire.SEQ_SPAN[0] <= got.seq <= wire.SEQ_SPAN[1]
    assert wire.BATTERY_SPAN_V[0] <= got.battery_v <= wire.BATTERY_SPAN_V[1]
    assert abs(got.level_cm) < float("inf")
    if field == "seq":
        assert type(value) is int and got.seq == value
    if field in {"level_cm", "battery_v"}:
        assert type(value) in {int, float} and getattr(got, field) == value


@given(frames, st.sampled_from([f.name for f in wire.FIELDS]), _json_values(finite=True), st.integers(0, 5), st.booleans())
def test_a_key_given_twice_is_refused_wherever_and_whatever_it_holds(
    frame: wire.AwlrFrame, field: str, value: object, at: int, spaced: bool
) -> None:
    members = [f'"{k}":{json.dumps(v)}' for k, v in json.loads(wire.encode_json(frame)).items()]
    members.insert(at, f'"{field}"{" " if spaced else ""}:{json.dumps(value)}')
    with pytest.raises(FrameRejected) as err:
        wire.decode_json(("{" + ",".join(members) + "}").encode())
    assert err.value.reason == "duplicate_key"
