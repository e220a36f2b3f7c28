"""The fish-finder through the real gateway: an SOS overtakes a backlog on the uplink, is
repeated until the centre's acknowledgement comes down (real Mosquitto), then sounds on board;
and a press survives a gateway that dies before processing it."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from contract.downlink import UplinkAck, encode_ack
from contract.items import PRIORITY_ROUTINE
from contract.topics import alarm_topic, downlink_topic, uplink_topic
from contract.uplink_batch import decode_batch
from core.config import parse_config, with_local_services
from core.processes import Mosquitto
from core.testing import wait_until
from gateway.model import RawFrame
from gateway.outbox import Outbox
from gateway.runtime import EdgeGateway
from gateway.stored_item import StoredItem
from kinds.fishfinder import wire
from kinds.fishfinder.items import SosStatus
from kinds.fishfinder.values import Distress

VESSEL, DEVICE, GW, TENANT = "perahu-krs-01", "ff-krs", "gw-krs", "jatim"


def config(transport: str = "mqtt"):
    return parse_config({
        "tenants": [{"id": TENANT, "name": "Jawa Timur"}], "stations": [],
        "devices": [{"id": DEVICE, "kind": "fishfinder", "station": VESSEL, "transport": transport}],
        "gateway": {"id": GW, "tenant": TENANT, "summary_linger_s": 0},
    })


def sos_frame(at: datetime, active: bool = True) -> RawFrame:
    line = wire.encode_distress(Distress(at, 1, "sinking", active, -6.85, 112.9))
    return RawFrame("mqtt", line, DEVICE, at)


class Centre:
    """Stands in for ingest: records uplink items in arrival order and acks every message."""

    def __init__(self, port: int) -> None:
        self.items: list[dict] = []
        self.alarms: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="centre")
        self.subscribed = threading.Event()
        self.client.on_connect = lambda c, *_: c.subscribe([(uplink_topic(TENANT, GW), 1), (alarm_topic(TENANT, GW) + "/#", 1)])
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client, userdata, msg) -> None:
        if msg.topic.startswith(alarm_topic(TENANT, GW)):
            with self._lock:
                self.alarms[msg.topic] = msg.payload
            return
        batch = decode_batch(msg.payload)
        with self._lock:
            self.items.extend(batch.items)
        client.publish(downlink_topic(TENANT, GW), encode_ack(UplinkAck(stored=[batch.msg])), qos=1)

    def calls(self) -> list[dict]:
        with self._lock:
            return [i for i in self.items if i.get("type") == "sos"]

    def answer(self, status: str, press: int = 1) -> None:
        body = SosStatus(vessel=VESSEL, press=press, incident=1, status=status, at=datetime.now(timezone.utc))
        self.client.publish(downlink_topic(TENANT, GW), body.model_dump_json().encode(), qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.mark.integration
def test_an_sos_overtakes_a_backlog_repeats_until_acknowledged_and_sounds_on_board(mosquitto: Mosquitto, tmp_path: Path) -> None:
    cfg = with_local_services(config(), mosquitto.port, tmp_path)
    backlog = Outbox(cfg.gateway.outbox.path)
    backlog.put([
        StoredItem(f"{GW}:{VESSEL}:sea:{k}", PRIORITY_ROUTINE, "fishfinder", "sea_summary", f"{VESSEL}/{DEVICE}", float(k),
                   json.dumps({"kind": "fishfinder", "type": "sea_summary", "id": f"{GW}:{VESSEL}:sea:{k}"}).encode())
        for k in range(10_000)
    ])
    backlog.close()
    centre = Centre(mosquitto.port)
    assert centre.subscribed.wait(10)
    gw = EdgeGateway(cfg)
    offset = [timedelta(0)]
    gw.wall_clock = lambda: datetime.now(timezone.utc) + offset[0]
    pressed = datetime.now(timezone.utc)
    gw._intake([sos_frame(pressed)])  # the press arrives while the link is down ...
    gw._settle()
    gw.start()  # ... and the link comes up with 10,000 routine items waiting before it
    try:
        wait_until(lambda: len(centre.calls()) >= 1, what="the SOS call")
        assert centre.items[0]["type"] == "sos" and centre.items[0]["repeat"] == 0, "the SOS leaves first"
        wait_until(lambda: len(centre.items) >= 10_001, timeout=60, what="the backlog after it")
        offset[0] = timedelta(seconds=61)  # a minute on, unacknowledged: the gateway repeats
        wait_until(lambda: {c["repeat"] for c in centre.calls()} >= {0, 1}, what="the first repeat")
        repeats = centre.calls()
        assert len({c["id"] for c in repeats}) == len(repeats) and all(c["press"] == 1 for c in repeats)
        centre.answer("received")  # stored ashore, nobody on it yet: repeats go on
        offset[0] = timedelta(seconds=121)
        wait_until(lambda: any(c["repeat"] == 2 for c in centre.calls()), what="the second repeat")
        centre.answer("acknowledged")
        topic = f"{alarm_topic(TENANT, GW)}/{VESSEL}/sos_status"
        wait_until(lambda: b"help acknowledged" in centre.alarms.get(topic, b""), what="the alarm on board")
        assert not any(i.repeating for i in gw.processors[DEVICE].incidents.values() if i.press == 1)
        assert gw.processors[DEVICE].tick(pressed + timedelta(minutes=30)) == []
        assert max(c["repeat"] for c in centre.calls()) == 2
    finally:
        gw.stop()
        centre.close()


def test_a_press_survives_a_gateway_that_dies_before_processing_it(tmp_path: Path) -> None:
    cfg = config("serial")  # no port: no source, the frames are handed in as a port would
    path = tmp_path / "outbox.db"
    dying = EdgeGateway(cfg, outbox_path=path, with_uplink=False, local_alarms=False)
    pressed = datetime.now(timezone.utc)
    frame = RawFrame("serial", wire.encode_distress(Distress(pressed, 4, "fire", True, None, None)), DEVICE, pressed)
    dying._intake([frame])  # journalled; killed before the call was made (no processing, no stop)
    assert dying.outbox.peek(10) == []
    dying.outbox.close()

    restarted = EdgeGateway(cfg, outbox_path=path, with_uplink=False, local_alarms=False)
    restarted._recover()
    calls = [json.loads(e.body) for e in restarted.outbox.peek(10)]
    assert [(c["type"], c["press"], c["repeat"], c["nature"]) for c in calls] == [("sos", 4, 0, "fire")]
    assert restarted.outbox.peek(1)[0].priority == 0
    # The dead gateway never sent a repeat: the restarted one starts its own minute count.
    assert restarted.processors[DEVICE].tick(pressed + timedelta(seconds=185)) == []
    later = restarted.processors[DEVICE].tick(pressed + timedelta(seconds=185 + 61))
    assert [c.repeat for c in later] == [1]
    restarted.outbox.close()
