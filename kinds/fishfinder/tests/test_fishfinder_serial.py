"""The simulator's stream through a pseudo-terminal, read back by the gateway's pyserial source and
decoded: what a gateway on a boat gets from the fish-finder's serial line."""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import datetime, timezone

import pytest

from gateway.errors import FrameRejected
from gateway.model import RawFrame
from gateway.sources.serial_line import SerialLineSource
from kinds.fishfinder.sim import serial_sim
from kinds.fishfinder.sim.nmea_stream import StreamLine, steady_boat
from kinds.fishfinder.values import Depth, Fix, Ping, WaterTemp
from kinds.fishfinder.decoder import InstrumentDecoder

START = datetime(2026, 3, 1, 4, 0, 0, tzinfo=timezone.utc)


def wait_for(condition, limit_s: float) -> bool:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def pty_port():
    master, slave, path = serial_sim.open_pty()
    yield master, path
    os.close(master)
    os.close(slave)


def test_the_stream_at_38400_baud_reaches_the_gateway_decoded(pty_port):
    master, path = pty_port
    frames: list[RawFrame] = []
    source = SerialLineSource("fishfinder-1", path, baudrate=38400)
    source.start(frames.append)
    try:
        # pyserial empties the input when it opens the port: send blank lines (which the source
        # drops) until it has read one, so that the stream starts after the port is open.
        def port_open() -> bool:
            if source.bytes_in:
                return True
            os.write(master, b"\r\n")
            return False

        assert wait_for(port_open, 3.0)
        lines = list(serial_sim.stream_for(38400, steady_boat(START, 3, seed=7), seed=7))
        stats = serial_sim.play(master, lines, 38400, second_s=0.75)
        assert stats.bytes_dropped == 0 and stats.lines == len(lines)
        assert wait_for(lambda: len(frames) >= len(lines), 3.0)
    finally:
        source.stop()
    decoder, values = InstrumentDecoder(), []
    for frame in frames:
        try:
            value = decoder.decode(frame.payload, frame.received_at)
        except FrameRejected:
            continue
        if value is not None:
            values.append(value)
    kinds = Counter(type(v) for v in values)
    assert kinds == {Fix: 6, Depth: 6, WaterTemp: 3, Ping: 6}  # RMC+GGA, DBT+DPT, MTW, 2 pings, a second
    assert [p.seq for p in values if isinstance(p, Ping)] == [0, 1, 2, 3, 4, 5]
    assert decoder.counts["ais"] == sum(1 for line in lines if line.sentence.startswith(b"!AIVDM"))
    fixes = [v for v in values if isinstance(v, Fix)]
    assert [f.ts for f in fixes[::2]] == [v.ts for second in steady_boat(START, 3, seed=7) for v in second if isinstance(v, Fix)]


def test_pacing_keeps_to_the_baud_rate():
    """With a fake clock: at 4800 baud a 48-byte sentence holds the line 0.1 s; a second whose
    bytes do not fit makes the next one late."""
    now = [0.0]
    written: list[tuple[float, bytes]] = []

    def sleep(s: float) -> None:
        now[0] += s

    def write(fd: int, data: bytes) -> int:
        written.append((now[0], data))
        return len(data)

    lines = [StreamLine(0, b"x" * 48, b"x" * 48) for _ in range(10)] + [StreamLine(2, b"y" * 10, b"y" * 10)]
    stats = serial_sim.play(-1, lines, 4800, clock=lambda: now[0], sleep=sleep, write=write)
    assert [round(t, 6) for t, _ in written] == [round(0.1 * k, 6) for k in range(10)] + [2.0]
    assert stats.bytes_written == 490 and stats.max_lag_s == 0.0
    stats = serial_sim.play(-1, lines[:10] * 2 + [StreamLine(1, b"z", b"z")], 4800, clock=lambda: now[0], sleep=sleep, write=write)
    assert stats.max_lag_s == pytest.approx(1.0)  # 960 bytes of second 0 end 1 s into second 1
