"""The gateway loop's own pieces: the frame buffer, batched PUBACKs, deferred processing, and
the JSON fast path agreeing with the general decoder."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from kinds.awlr import wire
from gateway.errors import FrameRejected
from gateway.model import RawFrame
from kinds.awlr.edge.reading import LevelReading as Reading
from gateway.runtime import Deferral
from gateway.strict_json import strict_json
from gateway.sources.buffer import FrameBuffer
from gateway.sources.mqtt_devices import puback_packets

NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)


def frame(i: int) -> RawFrame:
    return RawFrame("serial", str(i).encode(), "dev", NOW)


def test_pubacks_are_back_to_back_four_byte_packets() -> None:
    assert puback_packets([1, 258, 65535]) == bytes([0x40, 2, 0, 1, 0x40, 2, 1, 2, 0x40, 2, 0xFF, 0xFF])
    assert puback_packets([]) == b""


def test_a_full_buffer_blocks_a_producer_thread_until_the_loop_takes() -> None:
    buf = FrameBuffer(2)
    buf.put(frame(0))
    buf.put(frame(1))
    third = threading.Thread(target=buf.put, args=(frame(2),))
    third.start()
    third.join(0.2)
    assert third.is_alive() and buf.qsize() == 2
    assert [f.payload for f in buf.take(10)] == [b"0", b"1"]
    third.join(2)
    assert [f.payload for f in buf.take(10)] == [b"2"]
    buf.close()


def test_the_loop_never_blocks_on_its_own_buffer_and_sees_room() -> None:
    buf = FrameBuffer(1)
    buf.put_own(frame(0))
    assert buf.room() == 0
    buf.put_own(frame(1))  # the loop reads only what `room()` allows; if it did not, it must still not hang
    assert buf.qsize() == 2 and buf.room() == 0
    buf.close()


def test_deferral_is_due_by_age_or_count() -> None:
    d = Deferral(max_age_s=1.0, max_readings=3)
    assert not d.overdue(0.0)
    d.add([Reading("a", 1, NOW, 1.0, None)], now=10.0)
    assert not d.overdue(10.5) and d.overdue(11.0)
    d.add([Reading("b", 1, NOW, 1.0, None)] * 2, now=10.6)
    assert d.overdue(10.6)
    assert d.take() == {"a", "b"} and d.pending == 0 and not d.overdue(100.0)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"station":"depok","seq":7,"ts":"2026-11-23T01:02:03Z","level_cm":120.5,"battery_v":12.61}',
        b'{"station":"depok","seq":7,"ts":"2026-11-23T01:02:03Z","level_cm":120,"battery_v":12.61}',
        b'{"station":"depok","seq":"7","ts":"2026-11-23T01:02:03+07:00","level_cm":"120.5","battery_v":12.61}',
        b'{"station":"Depok","seq":7,"ts":"2026-11-23T01:02:03Z","level_cm":120.5,"battery_v":12.61}',
        b'{"station":"depok","seq":-1,"ts":"2026-11-23T01:02:03Z","level_cm":120.5,"battery_v":12.61}',
        b'{"station":"depok","seq":7,"ts":"2026-11-23T01:02:03","level_cm":120.5,"battery_v":12.61}',
        b'{"station":"depok","seq":7,"ts":"2026-11-23T01:02:03Z","level_cm":1e400,"battery_v":12.61}',
        b'{"station":"depok","seq":7,"ts":"2026-11-23T01:02:03Z","level_cm":true,"battery_v":12.61}',
        b'{"station":"depok","seq":7,"ts":"2026-11-23T01:02:03Z","level_cm":NaN,"battery_v":12.61}',
        b'{"station":"depok","seq":7,"ts":"2026-11-23T01:02:03Z","level_cm":120.5,"battery_v":-1e300}',
        b'{"station":"depok","seq":7,"ts":"2026-11-23T01:02:03Z","level_cm":120.5,"battery_v":12.61,"seq":8}',
    ],
)
def test_the_json_fast_path_decides_as_the_general_decoder(payload: bytes) -> None:
    def general() -> object:
        try:
            return wire._build(strict_json(payload), text=False)
        except FrameRejected as rej:
            return rej.reason

    try:
        fast: object = wire.decode_json(payload)
    except FrameRejected as rej:
        fast = rej.reason
    assert fast == general()
