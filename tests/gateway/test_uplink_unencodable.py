"""One stored body the uplink cannot encode (a record of a type no running kind registers: the
outbox still holds river records after the river device left the gateway) must not stop the
send loop: it is logged with its item id, counted, kept in the outbox and skipped."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from gateway.outbox import PRIORITY_SUMMARY, Outbox
from gateway.uplink import Uplink
from ingest.testing import summary
from core.config import BrokerConfig
from kinds.awlr.items import outbox_body

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
GW = "gw-ciliwung"
#: A record mark no kind registers (awlr's is b"\x03").
UNREGISTERED = b"\x7f" + bytes(40)


def test_an_unencodable_body_is_set_aside_and_the_rest_still_goes_out(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    good = [summary(f"st{k}", T0 + timedelta(minutes=10 * k), 120.0 + k, gateway=GW, first_seq=k) for k in range(3)]
    outbox.put([("gw-ciliwung:old-river-record", PRIORITY_SUMMARY, UNREGISTERED)])
    outbox.put([(s.id, PRIORITY_SUMMARY, outbox_body(s, GW)) for s in good])
    registry = CollectorRegistry()
    up = Uplink(outbox, BrokerConfig(port=1), "dki-jakarta", GW, registry)
    try:
        with caplog.at_level(logging.ERROR, logger="gateway.uplink"):
            assert up._send_some()
        carried = [seq for m in up._inflight.messages() for seq in m.seqs]
        assert len(carried) == len(good), "the three good summaries go out despite the bad body ahead of them"
        assert outbox.depth() == len(good) + 1, "the bad body stays in the outbox"
        assert any(getattr(r, "item_id", None) == "gw-ciliwung:old-river-record" for r in caplog.records)
        assert registry.get_sample_value("tepi_gateway_uplink_set_aside_items_total") == 1
        # Later rounds skip it: no second error, nothing more to send.
        assert not up._send_some()
        assert registry.get_sample_value("tepi_gateway_uplink_set_aside_items_total") == 1
    finally:
        outbox.close()


def test_the_send_loop_survives_an_unexpected_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    registry = CollectorRegistry()
    up = Uplink(outbox, BrokerConfig(port=1), "dki-jakarta", GW, registry)
    calls = []

    def failing_once() -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        up._stopping.set()
        return False

    monkeypatch.setattr(up, "_send_some", failing_once)
    monkeypatch.setattr(up._stopping, "wait", lambda timeout=None: False)
    up._connected.set()
    try:
        up._drain()  # returns only once `_stopping` is set: after the failure, it called again
        assert len(calls) == 2
        assert registry.get_sample_value("tepi_gateway_uplink_send_errors_total") == 1
    finally:
        outbox.close()
