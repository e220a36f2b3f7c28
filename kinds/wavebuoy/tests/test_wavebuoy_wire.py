"""The buoy's wire format: what the simulator encodes the gateway decodes to the same report;
the standard sentences read as an independent NMEA parser (pynmea2) reads them; bad input is a
counted rejection with its reason, never a crash and never a report."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pynmea2
import pytest

from gateway.errors import REJECTION_REASONS, FrameRejected
from kinds.wavebuoy import wire
from kinds.wavebuoy.sim.sea import reports

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)


def _assemble(lines: list[bytes]) -> list[wire.BuoyReport]:
    assembler = wire.ReportAssembler()
    return [r for r in map(assembler.feed, lines) if r is not None]


def test_every_simulated_report_round_trips_through_the_wire() -> None:
    sent = reports("wb-benoa", T0, 60, 720)  # twelve hours with the storm
    lines = [line for r in sent for line in wire.encode_report(r, baro_bar=1.0085, air_c=28.0, water_c=29.0)]
    assert max(len(line) for line in lines) <= wire.MAX_SENTENCE_BYTES
    assert _assemble(lines) == sent


def test_the_standard_wind_sentences_read_the_same_with_pynmea2() -> None:
    for r in reports("wb-benoa", T0, 600, 72):
        mda, mwv, _ = wire.encode_report(r)
        ref_mda, ref_mwv = pynmea2.parse(mda.decode().strip(), check=True), pynmea2.parse(mwv.decode().strip(), check=True)
        ours_mda, ours_mwv = wire.decode_sentence(mda), wire.decode_sentence(mwv)
        assert isinstance(ours_mda, wire.Wind) and isinstance(ours_mwv, wire.Wind)
        assert (ours_mda.direction_deg, ours_mda.speed_kn) == (float(ref_mda.direction_true), float(ref_mda.wind_speed_knots))
        assert (ours_mwv.direction_deg, ours_mwv.speed_kn) == (float(ref_mwv.wind_angle), float(ref_mwv.wind_speed))
        assert ref_mwv.reference == "T" and ref_mwv.status == "A"


def test_mwv_in_metres_per_second_and_mda_without_knots_are_converted() -> None:
    body = "WIMWV,045.0,T,10.0,M,A"
    assert wire.decode_sentence(f"${body}*{wire.checksum(body)}".encode()) == wire.Wind(10.0 * wire.KNOTS_PER_MS, 45.0, "MWV")
    body = "WIMDA,,I,,B,,C,,C,,,,C,90.0,T,,M,,N,5.0,M"
    assert wire.decode_sentence(f"${body}*{wire.checksum(body)}".encode()) == wire.Wind(5.0 * wire.KNOTS_PER_MS, 90.0)


def test_a_report_without_wind_sentences_has_no_wind_and_wind_belongs_to_the_next_report() -> None:
    r1, r2 = reports("wb-benoa", T0, 60, 2)
    wave1 = wire.encode_report(r1)[-1]
    lines = [wave1, *wire.encode_report(r2)]
    got = _assemble(lines)
    assert (got[0].wind_kn, got[0].wind_dir_deg) == (None, None) and got[1] == r2


def _line(body: str, check: str | None = None) -> bytes:
    return f"${body}*{check if check is not None else wire.checksum(body)}\r\n".encode()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"hello", "garbage"),
        (b"", "garbage"),
        (b"$PTEPW,wb-benoa,1,20261207T030000Z,1.20,9.5,180,\r\n", "no_checksum"),
        (_line("PTEPW,wb-benoa,1,20261207T030000Z,1.20,9.5,180,", "00"), "checksum"),
        (_line("PTEPW,wb-benoa,1,20261207T030000Z,1.20,9.5"), "truncated"),
        (_line("PTEPW,wb-benoa,1,20261207T030000Z,1.20,9.5,180,,7"), "malformed"),
        (_line("PTEPW,WB BENOA,1,20261207T030000Z,1.20,9.5,180,"), "malformed"),
        (_line("PTEPW,wb-benoa,1.5,20261207T030000Z,1.20,9.5,180,"), "malformed"),
        (_line("PTEPW,wb-benoa,1,20261307T030000Z,1.20,9.5,180,"), "malformed"),
        (_line("PTEPW,wb-benoa,1,20261207T030000Z,nan,9.5,180,"), "malformed"),
        (_line("PTEPW,wb-benoa,1,20261207T030000Z,-1.20,9.5,180,"), "malformed"),
        (_line("PTEPW,wb-benoa,1,20261207T030000Z,1e3,9.5,180,"), "malformed"),
        (_line("PTEPW,wb-benoa,1,20261207T030000Z,21.00,9.5,180,"), "out_of_range"),
        (_line("PTEPW,wb-benoa,1,20261207T030000Z,1.20,0.5,180,"), "out_of_range"),
        (_line("PTEPW,wb-benoa,1,20261207T030000Z,1.20,9.5,361,"), "out_of_range"),
        (_line("PTEPW,wb-benoa,1,20261207T030000Z,1.20,9.5,180,200.0"), "out_of_range"),
        (_line("WIMWV,120.0,R,12.0,N,A"), "malformed"),
        (_line("WIMWV,120.0,T,12.0,N,V"), "no_fix"),
        (_line("WIMWV,120.0,T,12.0,X,A"), "malformed"),
        (_line("WIMDA,29.9,I,1.01,B,28.0,C,,C,,,,C,,T,,M,,N,,M"), "no_fix"),
        (_line("WIMDA,29.9,I,1.01,B"), "truncated"),
        (_line("GPRMC,030000,A,0845.000,S,11513.000,E,0.1,0.0,071226,,"), "unknown"),
        (b"$PTEPW,wb-benoa,1,20261207T030000Z,1.20,9.5,180,\xff*00\r\n", "non_ascii"),
        (_line("PTEPW," + "x" * 90), "too_large"),
    ],
)
def test_bad_sentences_are_refused_with_their_reason(line: bytes, reason: str) -> None:
    with pytest.raises(FrameRejected) as refused:
        wire.decode_sentence(line)
    assert refused.value.reason == reason


def test_fuzzed_input_never_crashes_and_never_becomes_a_report() -> None:
    """Random bytes and random mutations of good sentences: each is a report only when it still
    is a valid sentence (checksum and all), otherwise a documented rejection."""
    rng = np.random.default_rng(20)
    good = [line for r in reports("wb-benoa", T0, 60, 50) for line in wire.encode_report(r)]
    reasons: set[str] = set()
    accepted = 0
    for k in range(20_000):
        if k % 4 == 0:
            line = bytes(rng.integers(0, 256, int(rng.integers(0, 120)), dtype=np.uint8))
        else:
            b = bytearray(good[int(rng.integers(len(good)))])
            for _ in range(int(rng.integers(1, 4))):
                op = rng.integers(3)
                at = int(rng.integers(len(b))) if b else 0
                if op == 0 and b:
                    b[at] = int(rng.integers(0, 256))
                elif op == 1 and b:
                    del b[at]
                else:
                    b.insert(at, int(rng.integers(32, 127)))
            line = bytes(b)
        assembler = wire.ReportAssembler()
        try:
            assembler.feed(line)
            accepted += 1
        except FrameRejected as exc:
            assert exc.reason in REJECTION_REASONS
            reasons.add(exc.reason)
    assert {"garbage", "checksum", "non_ascii"} <= reasons
    assert accepted < 200  # a mutation that keeps the checksum right is rare
