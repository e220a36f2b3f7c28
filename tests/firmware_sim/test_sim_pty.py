"""The pseudo-terminal link: a gateway opens it with pyserial like a real RS-232 port."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import serial

from firmware_sim.errors import LinkError, SimulatorError
from kinds.awlr.sim.recorder import encode_frame, reading_frame
from kinds.awlr.sim.runner import Simulator, run_simulator
from kinds.awlr.wire import decode_sentence
from gateway.errors import FrameRejected
from firmware_sim.transports import PtySerialLink

TS = datetime(2025, 1, 15, 3, 0, tzinfo=timezone.utc)


def _line(seq: int) -> bytes:
    return encode_frame(reading_frame("katulampa", seq, TS, 150.0 + seq / 10, 12.6), "serial")


def test_a_pyserial_reader_gets_every_sentence_through_the_symlink(tmp_path: Path) -> None:
    link_path = tmp_path / "sim" / "awlr-katulampa"
    with PtySerialLink(link_path) as link:
        assert link_path.is_symlink() and str(link_path.resolve()) == link.path
        with serial.Serial(str(link_path), baudrate=9600, timeout=2) as port:
            for seq in range(20):
                assert link.send(_line(seq))
            frames = [decode_sentence(port.readline()) for _ in range(20)]
    assert [f.seq for f in frames] == list(range(20))
    assert frames[5].level_cm == 150.5 and frames[5].ts == TS
    assert not link_path.exists(), "the symlink goes away with the link"


def test_without_a_reader_sentences_are_dropped_not_blocked(tmp_path: Path) -> None:
    with PtySerialLink() as link:
        started = time.monotonic()
        results = [link.send(_line(seq)) for seq in range(20_000)]
        assert time.monotonic() - started < 5
        assert link.dropped == results.count(False) > 0
        assert link.sent == results.count(True) > 0
        # A gateway attaching later (pyserial discards the backlog on open) reads whole
        # sentences again; at most the very first line is the tail of a half-written one.
        with serial.Serial(link.path, timeout=1) as port:
            for seq in range(5):
                link.send(_line(100_000 + seq))
            lines = [port.readline() for _ in range(6)]
    good = []
    for i, line in enumerate(lines):
        try:
            good.append(decode_sentence(line).seq)
        except FrameRejected:
            assert i == 0, f"only a first partial line may be rejected, got {line!r} at {i}"
    assert good[-5:] == [100_000 + s for s in range(5)]


def test_a_stale_symlink_is_replaced_but_a_real_file_is_not(tmp_path: Path) -> None:
    stale = tmp_path / "awlr-katulampa"
    stale.symlink_to("/dev/pts/does-not-exist")
    with PtySerialLink(stale) as link:
        assert str(stale.resolve()) == link.path
    precious = tmp_path / "awlr-depok"
    precious.write_text("not a tty")
    with pytest.raises(LinkError, match="not a symlink"):
        PtySerialLink(precious).open()
    assert precious.read_text() == "not a tty"
    with pytest.raises(SimulatorError):
        PtySerialLink().path  # noqa: B018 - not open yet


def test_simulator_serial_device_reads_like_a_real_logger(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = scenario(devices=["awlr-katulampa"], lookback_h=1.0, garbage_probability=0.1)
    sim = Simulator(config, speed=3000, link_dir=tmp_path)
    sim.start()
    try:
        path = sim.serial_paths()["awlr-katulampa"]
        assert (tmp_path / "awlr-katulampa").resolve() == Path(path)
        seqs: list[int] = []
        rejected: list[str] = []
        with serial.Serial(str(tmp_path / "awlr-katulampa"), timeout=0.5) as port:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and (not seqs or seqs[-1] < 55):
                line = port.readline()
                if not line:
                    continue
                try:
                    frame = decode_sentence(line)
                except FrameRejected as exc:
                    rejected.append(exc.reason)
                    continue
                assert frame.station == "katulampa" and frame.ts <= datetime.now(timezone.utc)
                seqs.append(frame.seq)
    finally:
        sim.stop()
    assert len(seqs) > 20
    assert seqs == sorted(set(seqs)), "seq increases monotonically"
    counters = sim.counters()
    garbled = sum(counters.faults.get(k, 0) for k in ("garbage", "checksum", "truncated"))
    assert set(rejected) <= {"garbage", "checksum", "truncated"}
    assert 0 < len(rejected) <= garbled
    assert counters.sent["awlr-katulampa"] >= len(seqs) + len(rejected)
    assert not (tmp_path / "awlr-katulampa").exists()


def test_run_simulator_returns_counters_after_the_duration(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = scenario(devices=["awlr-katulampa"], lookback_h=0.5)
    started = time.monotonic()
    counters = run_simulator(config, 6000, "127.0.0.1", 1, tmp_path, duration_s=0.6)
    assert 0.5 < time.monotonic() - started < 3
    # 30-31 min of history, one reading a minute, caught up after 0.3 s at 6000x.
    assert 30 <= counters.sent["awlr-katulampa"] <= 33
    assert counters.dropped == {"awlr-katulampa": 0}
    assert counters.faults == {}
