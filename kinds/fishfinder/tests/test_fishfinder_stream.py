"""The simulated multiplexer stream: mixed talkers and AIS, damaged lines with their ground truth,
and the decoder holding to that truth: every whole sentence's value, nothing from a damaged one."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import numpy as np
import pytest

from gateway.errors import FrameRejected
from kinds.fishfinder.decoder import InstrumentDecoder
from kinds.fishfinder.sim import nmea_stream
from kinds.fishfinder.values import Depth, Distress, Fix, Ping, WaterTemp

UTC = timezone.utc
START = datetime(2026, 3, 1, 4, 0, 0, tzinfo=UTC)


def voyage(seconds: int = 40) -> list[list]:
    values = nmea_stream.steady_boat(START, seconds, seed=3)
    values[5].append(Distress(START, 1, "sinking", True, -6.0, 106.7))
    return values


def decode_stream(data: bytes) -> tuple[list, InstrumentDecoder]:
    """As `SerialLineSource` splits the bytes: at each LF."""
    decoder, values = InstrumentDecoder(), []
    for line in data.splitlines(keepends=True):
        try:
            value = decoder.decode(line, START)
        except FrameRejected:
            continue
        if value is not None:
            values.append(value)
    decoder.close()
    return values, decoder


def expected_values(lines: list[nmea_stream.StreamLine]) -> list:
    """What the truth says the decoder must give: values of whole sentences; a ping only when
    all its fragments came whole."""
    damaged_pings = {int(line.sentence.split(b",")[1]) for line in lines
                     if line.garble and line.sentence.startswith(b"$PTEPE,")}
    return [line.value for line in lines if line.value is not None and line.garble is None
            and not (isinstance(line.value, Ping) and line.value.seq in damaged_pings)]


def same(decoded, truth) -> bool:
    if type(decoded) is not type(truth):
        return False
    if isinstance(truth, Fix):
        return (decoded.ts == truth.ts and abs(decoded.lat - truth.lat) < 1e-5 and abs(decoded.lon - truth.lon) < 1e-5
                and (truth.sog_kn is None) == (decoded.sog_kn is None))
    if isinstance(truth, Depth):
        return abs(decoded.depth_m - truth.depth_m) < 0.006 and (decoded.offset_m is None) == (truth.offset_m is None)
    if isinstance(truth, WaterTemp):
        return abs(decoded.temp_c - truth.temp_c) < 0.06
    if isinstance(truth, Ping):
        return decoded.seq == truth.seq and bool(np.all(np.abs(decoded.sv_db - np.clip(truth.sv_db, -127.5, 0)) <= 0.25 + 1e-6))
    return (decoded.seq, decoded.nature, decoded.active) == (truth.seq, truth.nature, truth.active)


def test_a_clean_stream_mixes_talkers_and_ais_and_decodes_to_every_value():
    lines = list(nmea_stream.compose(voyage(), seed=1, ais_per_s=3))
    talkers = Counter(line.sentence[1:3] for line in lines if line.sentence[:1] == b"$" and line.sentence[1:2] != b"P")
    assert {b"GP", b"SD", b"YX", b"II"} <= set(talkers)
    data = b"".join(line.wire for line in lines)
    values, decoder = decode_stream(data)
    truth = expected_values(lines)
    assert len(values) == len(truth) and all(map(same, values, truth))
    assert decoder.counts["ais"] == sum(1 for line in lines if line.sentence.startswith(b"!AIVDM"))
    assert decoder.counts["ais"] > 40  # ~3 a second over 40 s
    assert not set(decoder.counts) & {"checksum", "no_checksum", "malformed", "too_large", "non_ascii", "incomplete_ping"}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_damaged_lines_give_no_values_and_whole_lines_give_theirs(seed):
    lines = list(nmea_stream.compose(voyage(), seed=seed, garble_fraction=0.08, ais_per_s=2))
    kinds = Counter(line.garble for line in lines)
    assert all(kinds[g] > 5 for g in (*nmea_stream.GARBLES, "merged"))
    assert kinds["merged"] == kinds["no_line_end"] or kinds["merged"] == kinds["no_line_end"] - 1  # last line
    values, decoder = decode_stream(b"".join(line.wire for line in lines))
    truth = expected_values(lines)
    assert len(values) == len(truth) and all(map(same, values, truth))
    rejected = sum(n for reason, n in decoder.counts.items() if reason in wire_rejections())
    damaged_lines = kinds["bit_flip"] + kinds["truncated"] + kinds["no_line_end"]  # a merged pair is one line
    assert rejected >= damaged_lines
    assert decoder.counts["incomplete_ping"] >= 1


def wire_rejections() -> set[str]:
    return {"checksum", "no_checksum", "malformed", "too_large", "non_ascii", "unknown", "no_fix"}


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_damage():
    a, b, c = (b"".join(line.wire for line in nmea_stream.compose(voyage(10), seed=s, garble_fraction=0.1)) for s in (5, 5, 6))
    assert a == b and a != c


def test_without_echogram_the_stream_has_no_ping_fragments():
    lines = list(nmea_stream.compose(voyage(10), echogram=False, ais_per_s=0))
    assert not any(line.sentence.startswith(b"$PTEPE") for line in lines)
    assert sum(len(line.wire) for line in lines) / 10 <= 4800 / 10  # fits a 4,800-baud line
