"""The kind's gateway interface: what a scanner message is refused for, the journal body
(replaying it after a restart decides exactly what the live run decided), how items are
stored, and the payload limits a deployment must configure."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from contract.items import PRIORITY_EVENT, PRIORITY_ROUTINE
from core.config import ConfigError, DeviceConfig
from gateway.model import RawFrame
from kinds.badge import wire
from kinds.badge.edge import KIND
from kinds.badge.edge.reading import REPLAYED, STATIC_REFUSED, ScanReading, from_journal, journal_body, pack_present
from kinds.badge.items import OfficeHealth, Presence, SecurityEvent
from kinds.badge.tests.badge_edge_scenes import T0, Gate, badges, config, roster, seconds


def test_messages_ahead_of_the_clock_naming_another_scanner_or_out_of_order_are_refused(tmp_path: Path) -> None:
    staff = badges(2)
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    gate.send("sc-bkpsdm-1", T0 + timedelta(minutes=6), [(staff[0].advert(T0), -60)], received_at=T0)
    gate.send("sc-bkpsdm-1", T0 + timedelta(seconds=10), [(staff[0].advert(T0), -60)])
    gate.send("sc-bkpsdm-1", T0 + timedelta(seconds=10), [(staff[0].advert(T0), -61)])  # same time: Theengs-style, fine
    gate.send("sc-bkpsdm-1", T0 + timedelta(seconds=5), [(staff[0].advert(T0), -60)])
    report = wire.ScanReport("sc-bkpsdm-2", T0, ())
    frame = RawFrame("mqtt", wire.encode_scan(report), "sc-bkpsdm-1", T0)
    dev = next(d for d in gate.cfg.devices if d.id == "sc-bkpsdm-1")
    with pytest.raises(wire.WireError) as exc:
        KIND.decode(frame, dev, gate.procs["sc-bkpsdm-1"], gate.cfg.gateway)
    assert exc.value.reason == "station_mismatch"
    assert gate.rejected == ["future_timestamp", "out_of_order"]


def test_after_a_restart_a_replayed_reading_before_the_last_summary_is_late(tmp_path: Path) -> None:
    staff = badges(1)
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    gate.procs["sc-bkpsdm-1"].resume(T0 + timedelta(minutes=5))
    gate.send("sc-bkpsdm-1", T0 + timedelta(minutes=4), [(staff[0].advert(T0), -60)])
    assert gate.rejected == ["late"]


def test_a_scanner_on_no_configured_office_stops_the_gateway(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    with pytest.raises(ConfigError, match="no configured office"):
        KIND.processor(cfg, DeviceConfig(id="sc-x", kind="badge", platform="gudang", transport="mqtt"))


def test_the_journal_body_round_trips_and_refuses_what_it_did_not_write() -> None:
    ts = T0 + timedelta(seconds=1.25)
    r = ScanReading(
        "sc-1", 7, ts, ts.timestamp(),
        [("b0000000000ab", bytes.fromhex("0000000000ab"), -61, -59, 0, 0), ("b0000000000cd", bytes.fromhex("0000000000cd"), -127, -169, REPLAYED, -84),
         ("b0000000000ef", bytes.fromhex("0000000000ef"), 20, 86, STATIC_REFUSED, 0)],
        unknown=3, not_badges=40, malformed=1,
        snapshot=pack_present([("b0000000000ab", bytes.fromhex("0000000000ab"), ts.timestamp() - 5, ts.timestamp(), -62.5, -59)]),
    )
    body = journal_body(r)
    assert len(body) == 22 + 3 * 10 + 4 + 28
    assert from_journal("sc-1", 7, ts, body) == r
    for bad in (b"", b"W" + body[1:], body[:-1], body + b"\0"):
        with pytest.raises(ValueError):
            from_journal("sc-1", 7, ts, bad)


def test_replaying_the_journal_decides_what_the_live_run_decided(tmp_path: Path) -> None:
    """The gateway replays a restarted office's journal through fresh processors, device by
    device (`Outbox.journal` orders by device): the same presence and security items, by id."""
    staff = badges(3, statics=1)
    live = Gate(config(tmp_path / "live"))
    live.downlink(roster(1, staff))
    for at in seconds(T0, 200):
        live.send("sc-bkpsdm-1", at, [(b.advert(at), -60) for b in staff])
        live.send("sc-bkpsdm-2", at + timedelta(milliseconds=300), [(b.advert(at), -66) for b in staff])
    journal = list(live.journal)
    journal.sort(key=lambda row: (row[0], row[1], row[2]))
    restarted = Gate(config(tmp_path / "restarted"))  # no roster at all: the journal needs none
    for device, ts, seq, body in journal:
        restarted.procs[device].accept(KIND.from_journal(device, seq, datetime.fromtimestamp(ts, timezone.utc), body))
    items = [i for p in restarted.procs.values() for i in p.process()]
    events = sorted(i.id for i in items if isinstance(i, (Presence, SecurityEvent)))
    assert events == sorted(i.id for i in live.items if isinstance(i, (Presence, SecurityEvent)))
    assert any(isinstance(i, SecurityEvent) for i in items) and any(isinstance(i, Presence) for i in items)


def test_presence_and_security_leave_as_events_health_as_routine(tmp_path: Path) -> None:
    staff = badges(1, statics=1)
    gate = Gate(config(tmp_path, summary_every_s=60))
    gate.downlink(roster(1, staff))
    for at in seconds(T0, 61):
        gate.send("sc-bkpsdm-1", at, [(b.advert(at), -60) for b in staff])
    kinds = {type(i): KIND.stored(i, "gw") for i in gate.items}
    assert kinds[Presence].priority == kinds[SecurityEvent].priority == PRIORITY_EVENT
    health = kinds[OfficeHealth]
    assert health.priority == PRIORITY_ROUTINE and health.summarised is not None and health.origin == "bkpsdm"
    assert kinds[Presence].summarised is None and KIND.alarm(gate.items[0]) is None


def test_a_full_batch_fits_the_kinds_limits() -> None:
    """5,000 legacy advertisements with scan responses, the batch format's most: within the
    payload a gateway can be configured to take, which the kind declares."""
    data = bytes(62)
    report = wire.ScanReport("sc-bkpsdm-1", T0, tuple(wire.Heard("aa:bb:cc:dd:ee:ff", -127, data) for _ in range(wire.MAX_ENTRIES)))
    size = len(wire.encode_scan(report))
    assert size <= KIND.max_payload_bytes <= 1_048_576
    typical = wire.ScanReport("sc-bkpsdm-1", T0, tuple(wire.Heard("aa:bb:cc:dd:ee:ff", -67, badges(1)[0].advert(T0)) for _ in range(2000)))
    assert abs(len(wire.encode_scan(typical)) - KIND.typical_payload_bytes) / KIND.typical_payload_bytes < 0.25


def test_a_restarted_gateway_keeps_the_staff_who_are_in_without_checking_them_in_again(tmp_path: Path) -> None:
    """The journal holds only the readings since the last health close; the badges in at that
    close come back from the snapshot the first reading after it carried."""
    staff = badges(3)
    gate = Gate(config(tmp_path, summary_every_s=60))
    gate.downlink(roster(1, staff))
    at = T0
    for at in seconds(T0, 150):
        gate.send("sc-bkpsdm-1", at, [(b.advert(at), -60) for b in staff])
    assert sorted(p.event for p in gate.presence()) == ["check_in"] * 3
    assert gate.journal and min(row[1] for row in gate.journal) >= (T0 + timedelta(seconds=120)).timestamp()
    again = gate.restarted()
    assert again.presence() == []  # nobody checked in twice
    for at in seconds(T0 + timedelta(seconds=150), 400):  # staff[2] went home during the restart
        again.send("sc-bkpsdm-1", at, [(b.advert(at), -60) for b in staff[:2]])
    assert [(p.badge, p.event) for p in again.presence()] == [(staff[2].id, "check_out")]
    assert again.presence()[0].at <= T0 + timedelta(seconds=150)


def test_a_bad_entry_of_a_batch_is_a_rejection_of_its_own_and_costs_nothing_else(tmp_path: Path) -> None:
    staff = badges(2)
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    good = [["aa:bb:cc:dd:ee:0" + str(i), -60, b.advert(T0).hex()] for i, b in enumerate(staff)]
    payload = ('{"v":1,"scanner":"sc-bkpsdm-1","t":%f,"adv":%s}' % (T0.timestamp(), str(good + [["aa:bb:cc:dd:ee:09", "-60", "00"]]).replace("'", '"'))).encode()
    dev = next(d for d in gate.cfg.devices if d.id == "sc-bkpsdm-1")
    decoded = KIND.decode(RawFrame("mqtt", payload, "sc-bkpsdm-1", T0), dev, gate.procs["sc-bkpsdm-1"], gate.cfg.gateway)
    assert [r.reason for r in decoded.rejected] == ["wrong_type"]  # type: ignore[attr-defined]
    assert [s[0] for s in decoded.readings[0].sightings] == [b.id for b in staff]  # type: ignore[attr-defined]


def test_theengs_messages_one_per_advertisement_resolve_and_may_share_a_time(tmp_path: Path) -> None:
    staff = badges(2)
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    dev = next(d for d in gate.cfg.devices if d.id == "sc-bkpsdm-1")
    proc = gate.procs["sc-bkpsdm-1"]
    for i, b in enumerate(staff):
        service = b.advert(T0)[-10:].hex()  # the Eddystone-EID frame: type, power, EID
        body = f'{{"id": "AA:BB:CC:DD:EE:0{i}", "rssi": -61, "servicedatauuid": "0xfeaa", "servicedata": "{service}"}}'
        for r in KIND.decode(RawFrame("mqtt", body.encode(), dev.id, T0), dev, proc, gate.cfg.gateway).readings:
            proc.accept(r)  # both stamped with the gateway's receive time
    proc.process()
    assert proc.collector.adverts[("bkpsdm", "badge")] == 2
