"""A device that falls silent: its open window is closed after as long as the window is, so its
last reading reaches the centre within one reporting interval: one minute at Siaga I, ten at
Siaga IV. The gateway runs without its network parts, on a stepped clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from kinds.awlr import wire
from gateway.model import RawFrame
from gateway.runtime import EdgeGateway
from core.config import TepiConfig, with_local_services
from contract.envelope import encode_uplink
from kinds.awlr.items import LevelSummary
from contract.uplink_batch import decode_batch
from kinds.awlr.ingest.uplink import every_item


def queued_summaries(gw: EdgeGateway) -> list[LevelSummary]:
    bodies = [e.body for e in gw.outbox.peek(10_000)]
    batch = decode_batch(encode_uplink("dki-jakarta", gw.config.gateway.id, bodies, datetime.now(timezone.utc)))
    return [i for i in every_item(batch) if isinstance(i, LevelSummary)]


def test_a_silent_device_at_siaga_1_has_its_last_reading_sent_after_one_minute_at_siaga_4_after_ten(
    default_config: TepiConfig, tmp_path: Path
) -> None:
    gw = EdgeGateway(with_local_services(default_config, 1883, tmp_path), with_uplink=False, local_alarms=False)  # not started: no I/O
    now = [1_000.0]
    gw.clock = lambda: now[0]
    # On the hour: the two minutes of readings stay inside one ten-minute window whenever this runs.
    t0 = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    received = datetime.now(timezone.utc)
    frames = []
    for i in range(7):  # Depok above its Siaga I bound (350 cm), Katulampa at a normal level
        at = t0 + timedelta(seconds=20 * i)
        frames.append(RawFrame("mqtt", wire.encode_json(wire.AwlrFrame("depok", i, at, 351.0 + i, 12.4)), "awlr-depok", received))
        frames.append(RawFrame("serial", wire.encode_sentence(wire.AwlrFrame("katulampa", i, at, 40.0 + 0.2 * i, 12.4)), "awlr-katulampa", received))
    try:
        gw._intake(frames)
        gw._settle()
        assert gw.processors["awlr-depok"].siaga == 1 and gw.processors["awlr-katulampa"].siaga == 4

        def newest_seq(device: str) -> int | None:
            return max((s.last_seq for s in queued_summaries(gw) if s.device == device), default=None)

        now[0] += 59
        gw._settle()
        assert newest_seq("awlr-depok") != 6, "a minute's window is not closed before a minute of silence"
        now[0] += 1
        gw._settle()
        assert newest_seq("awlr-depok") == 6, "Depok's last reading is queued for the centre"
        assert newest_seq("awlr-katulampa") is None, "a ten-minute window is still open"
        now[0] += 539
        gw._settle()
        assert newest_seq("awlr-katulampa") is None
        now[0] += 1
        gw._settle()
        assert newest_seq("awlr-katulampa") == 6
    finally:
        gw.outbox.close()
