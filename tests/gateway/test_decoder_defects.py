"""A defect in a device kind's decoder costs the frame it failed on, never the gateway: the
gateway's loop is what keeps every other device of the site (and its sirens) working."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.config import TepiConfig, with_local_services
from core.processes import free_port
from gateway.model import RawFrame
from gateway.runtime import EdgeGateway
from kinds.awlr import wire


def test_a_decoder_that_raises_unexpectedly_costs_only_its_frame(
    default_config: TepiConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = with_local_services(default_config, free_port(), tmp_path)
    device = next(d for d in cfg.devices if d.transport == "mqtt")
    gw = EdgeGateway(cfg, outbox_path=tmp_path / "outbox.db", with_uplink=False, local_alarms=False)
    kind = gw._routes[device.id].kind
    real_decode = kind.decode

    def flawed(frame, *args):  # type: ignore[no-untyped-def]
        if frame.payload == b"trips the defect":
            raise OverflowError("int too large to convert to float")
        return real_decode(frame, *args)

    monkeypatch.setattr(kind, "decode", flawed)
    now = datetime.now(timezone.utc)
    assert gw.handle(RawFrame("mqtt", b"trips the defect", device.id, now)) is None
    assert gw.registry.get_sample_value("tepi_gateway_rejected_total", {"reason": "decoder_error"}) == 1

    good = wire.encode_json(wire.AwlrFrame(device.platform, 1, now.replace(microsecond=0), 83.2, 12.6))
    assert gw.handle(RawFrame("mqtt", good, device.id, now)) is not None, "the next frame is decoded as ever"
