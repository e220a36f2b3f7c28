"""The gateway's health report: built from what it counts, due every `health_every_s`, and only the
latest unsent one kept in the outbox, however long the outage. No network: the gateway runs
without its network parts, on a stepped clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from contract.gateway_items import GatewayHealth
from contract.items import PRIORITY_EVENT, PRIORITY_ROUTINE
from core.config import TepiConfig, with_local_services
from gateway.health_report import DeviceCounts, HealthSchedule, ReportedDevice, battery_of, build_report
from gateway.model import RawFrame
from gateway.outbox import Outbox
from gateway.runtime import EdgeGateway
from gateway.stored_item import StoredItem, stored_gateway_item
from kinds.awlr import wire

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)
GW = "gw-ciliwung"


def report(at: datetime, **counts: object) -> GatewayHealth:
    return build_report(
        gateway=GW, at=at, every_s=300.0, uptime_s=900.0, outbox_items=12, outbox_bytes=4096, link_up=False,
        rejected_by_reason={"not_json": 2, "garbage": 3}, devices=[ReportedDevice("awlr-depok", "awlr", "depok", DeviceCounts(**counts))],  # type: ignore[arg-type]
    )


def test_a_report_is_what_the_gateway_counted_at_its_time() -> None:
    seen = T0 - timedelta(seconds=20)
    quiet = DeviceCounts()
    busy = DeviceCounts(frames=41, rejected=2, last_seen_at=seen, battery_v=12.4)
    r = build_report(
        gateway=GW, at=T0, every_s=300.0, uptime_s=900.0, outbox_items=12, outbox_bytes=4096, link_up=False,
        rejected_by_reason={"not_json": 2, "unknown_device": 5, "garbage": 3},
        devices=[ReportedDevice("awlr-katulampa", "awlr", "katulampa", quiet), ReportedDevice("awlr-depok", "awlr", "depok", busy)],
    )
    assert (r.kind, r.type, r.gateway, r.at, r.every_s, r.uptime_s) == ("gateway", "gateway_health", GW, T0, 300.0, 900.0)
    assert (r.outbox_items, r.outbox_bytes, r.link_up) == (12, 4096, False)
    assert r.rejected_frames == 10, "unknown senders count for the gateway, not for any device"
    assert list(r.rejected_by_reason.items()) == [("garbage", 3), ("not_json", 2), ("unknown_device", 5)]
    assert [(d.device, d.platform, d.frames, d.rejected_frames, d.last_seen_at, d.battery_v, d.battery_pct) for d in r.devices] == [
        ("awlr-depok", "depok", 41, 2, seen, 12.4, None),
        ("awlr-katulampa", "katulampa", 0, 0, None, None, None),
    ]
    assert r.id == report(T0).id != report(T0 + timedelta(minutes=5)).id, "the id names the gateway and the time"
    assert GatewayHealth.model_validate_json(r.model_dump_json()) == r, "what the outbox stores reads back the same"


def test_battery_comes_from_optional_attributes_of_any_kinds_reading() -> None:
    assert battery_of(SimpleNamespace(battery_v=12.4)) == (12.4, None)
    assert battery_of(SimpleNamespace(battery_v=3.7, battery_pct=81)) == (3.7, 81.0)
    assert battery_of(SimpleNamespace(level_cm=140.0)) == (None, None), "a kind whose readings tell none"
    for bad in (float("nan"), float("inf"), -1.0, 101.0, "12.4", True, None):
        assert battery_of(SimpleNamespace(battery_v=bad, battery_pct=bad)) == (None, None), bad


def test_the_last_known_battery_stays_while_later_readings_tell_none() -> None:
    counts = DeviceCounts()
    counts.seen(T0, SimpleNamespace(battery_v=12.6))
    counts.sample_battery()
    counts.seen(T0 + timedelta(seconds=20), SimpleNamespace(level_cm=1.0))
    counts.sample_battery()
    assert (counts.frames, counts.last_seen_at, counts.battery_v) == (2, T0 + timedelta(seconds=20), 12.6)
    counts.seen(T0 + timedelta(seconds=40), SimpleNamespace(battery_v=11.9))
    counts.sample_battery()
    assert counts.battery_v == 11.9


def test_a_report_is_due_every_interval_and_a_stalled_loop_makes_one_not_a_burst() -> None:
    schedule = HealthSchedule(300.0)
    assert not schedule.due(1000.0), "nothing at start: the first report comes one interval later"
    assert not schedule.due(1299.0)
    assert schedule.due(1300.0) and not schedule.due(1301.0)
    assert schedule.uptime_s(1300.0) == 300.0
    assert schedule.due(5000.0) and not schedule.due(5001.0), "an hour's stall: one report"
    with pytest.raises(ValueError):
        HealthSchedule(0)


def test_an_impossible_report_is_refused_by_the_contract() -> None:
    good = report(T0).model_dump()
    for field, value in [("outbox_items", -1), ("uptime_s", float("nan")), ("link_up", "yes"), ("rejected_frames", 1.5)]:
        with pytest.raises(ValidationError):
            GatewayHealth.model_validate({**good, field: value})
    with pytest.raises(ValidationError):
        GatewayHealth.model_validate({**good, "devices": [{**good["devices"][0], "battery_v": float("inf")}]})
    with pytest.raises(ValidationError):
        GatewayHealth.model_validate({**good, "rejected_by_reason": {f"r{i}": 1 for i in range(65)}})


def test_the_outbox_keeps_only_the_latest_unsent_report_and_never_evicts_it(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_bytes=40_000)
    event = StoredItem("gw:depok:siaga:1", PRIORITY_EVENT, "awlr", "siaga_change", "depok/awlr-depok", 0.0, b"E" * 500)
    box.put([event, stored_gateway_item(report(T0))])
    in_flight = box.peek(2)[1]
    assert json.loads(in_flight.body)["type"] == "gateway_health"
    box.protected = frozenset({in_flight.seq})  # sent, ingest's ack still to come: not deleted under the uplink
    for minute in range(5, 65, 5):  # an hour's outage: a report every five minutes
        box.put([stored_gateway_item(report(T0 + timedelta(minutes=minute)))])
        box.put([StoredItem(f"gw:depok:s:{minute}", PRIORITY_ROUTINE, "awlr", "summary", "depok/awlr-depok", 60.0 * minute, b"s" * 6000)])
    reports = [json.loads(e.body) for e in box.peek(100) if e.body.startswith(b"{") and b"gateway_health" in e.body]
    assert [r["at"] for r in reports] == [T0.isoformat().replace("+00:00", "Z"), (T0 + timedelta(minutes=60)).isoformat().replace("+00:00", "Z")]
    assert box.evicted > 0, "the summaries overflowed the bound ..."
    assert [e.item_id for e in box.peek(3)] == [event.item_id, in_flight.item_id, report(T0 + timedelta(minutes=60)).id], (
        "... the event and the reports stayed, ahead of the summaries"
    )
    assert box.stored_bytes == sum(len(e.body) for e in box.peek(100)) and box.depth() == len(box.peek(100))
    box.close()
    again = Outbox(tmp_path / "o.db")
    assert again.depth() == len(again.peek(100)), "the count kept in memory matched the file"
    again.close()


def frame(device: str, payload: bytes, transport: str = "mqtt") -> RawFrame:
    return RawFrame(transport, payload, device, T0)  # type: ignore[arg-type]


def test_the_gateway_loop_reports_its_devices_and_rejections_every_interval(default_config: TepiConfig, tmp_path: Path) -> None:
    cfg = with_local_services(default_config, 1883, tmp_path)
    cfg = cfg.model_copy(update={"gateway": cfg.gateway.model_copy(update={"health_every_s": 60.0})})
    gw = EdgeGateway(cfg, with_uplink=False, local_alarms=False)  # not started: no I/O
    now = [1_000.0]
    gw.clock = lambda: now[0]
    gw.wall_clock = lambda: T0 + timedelta(seconds=now[0] - 1_000.0)
    start = (T0 - timedelta(hours=1)).replace(minute=0)
    frames = [frame("awlr-depok", wire.encode_json(wire.AwlrFrame("depok", i, start + timedelta(seconds=20 * i), 120.0, 12.0 + i / 10))) for i in range(3)]
    frames += [frame("awlr-depok", b"{not json"), frame("awlr-nobody", b"{}"), frame("awlr-manggarai", b"{not json")]
    try:
        gw._settle()  # the loop's first pass, at start
        gw._intake(frames)
        now[0] += 59
        gw._settle()
        assert not [e for e in gw.outbox.peek(100) if b"gateway_health" in e.body], "not before one interval"
        now[0] += 1
        gw._settle()
        (stored,) = [e for e in gw.outbox.peek(100) if b"gateway_health" in e.body]
        first = GatewayHealth.model_validate_json(stored.body)
        assert (first.gateway, first.at, first.uptime_s, first.link_up) == (GW, T0 + timedelta(seconds=60), 60.0, False)
        assert (first.rejected_frames, first.rejected_by_reason) == (3, {"not_json": 2, "unknown_device": 1})
        devices = {d.device: d for d in first.devices}
        assert set(devices) == {"awlr-depok", "awlr-katulampa", "awlr-manggarai"}
        depok = devices["awlr-depok"]
        assert (depok.kind, depok.platform, depok.frames, depok.rejected_frames, depok.last_seen_at, depok.battery_v) == (
            "awlr", "depok", 3, 1, T0, 12.2
        )
        assert (devices["awlr-manggarai"].frames, devices["awlr-manggarai"].rejected_frames, devices["awlr-manggarai"].battery_v) == (0, 1, None)
        assert first.outbox_items == gw.outbox.depth() - 1, "the outbox as it was before the report joined it"
        now[0] += 60
        gw._settle()
        (stored,) = [e for e in gw.outbox.peek(100) if b"gateway_health" in e.body]
        assert GatewayHealth.model_validate_json(stored.body).at == T0 + timedelta(seconds=120), "the newer replaced the unsent one"
        assert gw.registry.get_sample_value("tepi_gateway_items_queued_total", {"type": "gateway_health"}) == 2
    finally:
        gw.outbox.close()
