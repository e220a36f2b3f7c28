"""The badge kind through the real gateway and a real Mosquitto: scanners publish Tepi's batch
messages; a gateway with no roster yet reports version 0 in its office health; a stand-in
centre answers with the roster on the gateway's downlink, as ingest does; then staff check in,
a replayed EID is a security event, and a restarted gateway, with the centre silent, still
resolves badges from the roster it stored."""

from __future__ import annotations

import stat
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from contract.downlink import UplinkAck, encode_ack
from contract.topics import device_topic, downlink_topic, uplink_topic
from contract.uplink_batch import decode_batch
from core.config import parse_config, with_local_services
from core.processes import Mosquitto
from core.testing import wait_until
from gateway.runtime import EdgeGateway
from kinds.badge import wire
from kinds.badge.edge import roster_store
from kinds.badge.tests.badge_edge_scenes import TENANT, badges, mac, roster

GW, OFFICE, SCANNERS = "gw-bkpsdm", "bkpsdm", ("sc-1", "sc-2")


def _config(tmp_path: Path, port: int):  # type: ignore[no-untyped-def]
    cfg = parse_config({
        "tenants": [{"id": TENANT, "name": "Kabupaten Indramayu"}], "stations": [],
        "devices": [{"id": s, "kind": "badge", "platform": OFFICE, "transport": "mqtt"} for s in SCANNERS],
        "gateway": {"id": GW, "tenant": TENANT, "summary_linger_s": 0},
        "offices": [{"id": OFFICE, "tenant": TENANT, "name": "BKPSDM", "lat": -6.33, "lon": 108.32, "summary_every_s": 60}],
    })
    return with_local_services(cfg, port, tmp_path)


class Centre:
    """Stands in for ingest: keeps uplink items, acks every message, and answers an office
    health summary naming an older roster with the roster (while `answering`)."""

    def __init__(self, port: int, roster_body: bytes, version: int) -> None:
        self.items: list[dict[str, Any]] = []
        self.answering = True
        self.rosters_sent = 0
        self._roster, self._version = roster_body, version
        self._lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="centre")
        self.client.on_connect = lambda c, *_: c.subscribe(uplink_topic(TENANT, GW), 1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        batch = decode_batch(msg.payload)
        with self._lock:
            self.items.extend(batch.items)
        client.publish(downlink_topic(TENANT, GW), encode_ack(UplinkAck(stored=[batch.msg])), qos=1)
        stale = any(i.get("type") == "office_health" and i["roster_version"] < self._version for i in batch.items)
        if stale and self.answering:
            self.rosters_sent += 1
            client.publish(downlink_topic(TENANT, GW), self._roster, qos=1)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [i for i in self.items if i.get("type") == kind]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Scanners:
    def __init__(self, port: int) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="scanners")
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def scan(self, at: datetime, heard: list[tuple[bytes, int]]) -> None:
        for scanner in SCANNERS:
            report = wire.ScanReport(scanner, at, tuple(wire.Heard(mac(i + 1), rssi, data) for i, (data, rssi) in enumerate(heard)))
            self.client.publish(device_topic(TENANT, scanner), wire.encode_scan(report), qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.mark.integration
def test_an_office_gets_its_roster_checks_staff_in_and_keeps_it_across_a_restart(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cfg = _config(tmp_path, mosquitto.port)
    staff = badges(3)
    centre = Centre(mosquitto.port, roster(1, staff).model_dump_json().encode(), 1)
    assert centre.subscribed.wait(10)
    gateway = EdgeGateway(cfg, local_alarms=False)
    gateway.start()
    scanners = Scanners(mosquitto.port)
    start = (datetime.now(timezone.utc) - timedelta(hours=2)).replace(second=0, microsecond=0)
    at = start
    try:
        assert gateway.wait_ready(10)
        # No roster yet: the first minute's badges are unknown, its health says version 0.
        for _ in range(62):
            scanners.scan(at, [(b.advert(at), -60) for b in staff])
            at += timedelta(seconds=1)
        wait_until(lambda: gateway.processors["sc-1"].site.resolver.version == 1, what="the roster from the centre")
        assert centre.of_type("office_health")[0]["roster_version"] == 0
        assert centre.of_type("presence") == []
        path = roster_store.roster_path(cfg.gateway.outbox.path, GW)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        # Now they resolve: three check-ins, and a replay of yesterday's EID is caught.
        for _ in range(60):
            scanners.scan(at, [(b.advert(at), -60) for b in staff] + [(staff[0].advert(at, -(86_400 >> 10)), -58)])
            at += timedelta(seconds=1)
        wait_until(lambda: len(centre.of_type("presence")) == 3, what="three check-ins")
        assert {p["badge"] for p in centre.of_type("presence")} == {b.id for b in staff}
        assert all(p["event"] == "check_in" for p in centre.of_type("presence"))
        wait_until(lambda: [s["reason"] for s in centre.of_type("security")] == ["eid_replayed"], what="the replay event")
        second = (start + timedelta(seconds=60)).isoformat().replace("+00:00", "Z")
        wait_until(lambda: any(h["window_start"] == second for h in centre.of_type("office_health")), what="the second health window")
        heard = gateway.metrics.readings._counts[OFFICE]
        scanners.scan(at, [(b.advert(at), -60) for b in staff])  # carries who is in into the journal
        at += timedelta(seconds=1)
        wait_until(lambda: gateway.metrics.readings._counts[OFFICE] == heard + 2, what="the last scan taken in")
    finally:
        gateway.stop(flush_timeout=5)

    centre.answering = False  # the uplink's centre says nothing more: the stored roster must do
    restarted = EdgeGateway(cfg, local_alarms=False)
    restarted.start()
    try:
        assert restarted.wait_ready(10)
        assert restarted.processors["sc-2"].site.resolver.version == 1
        for _ in range(130):
            scanners.scan(at, [(b.advert(at), -60) for b in staff])
            at += timedelta(seconds=1)
        wait_until(lambda: any(h["roster_version"] == 1 for h in centre.of_type("office_health")), what="health at version 1")
        counts = restarted.processors["sc-1"].collector.adverts
        wait_until(lambda: counts[(OFFICE, "badge")] >= 2 * 3 * 120, what="badges resolved after the restart")
        assert counts[(OFFICE, "unknown")] == 0
        assert centre.rosters_sent == 1
        assert len(centre.of_type("presence")) == 3  # the staff inside were not checked in again
    finally:
        restarted.stop(flush_timeout=5)
        scanners.close()
        centre.close()
