"""Local alarm channel: sirens and displays at the site hear alarms without any uplink.

Each platform's (station's, vessel's) current alarm state, per item type, is published retained
on the gateway's local broker (`tepi/<tenant>/gw/<gateway>/alarm/<platform>/<type>`), so a display that
(re)connects sees the state at once, and every change is also logged at WARNING. What an alarm
says is the device kind's (`DeviceKind.alarm`); nothing here waits for the central side.
"""

from __future__ import annotations

import logging

import paho.mqtt.client as mqtt

from contract.topics import alarm_topic
from core.config import BrokerConfig

log = logging.getLogger(__name__)


class LocalAlarmChannel:
    """Lifecycle: `start()` connects in the background (retrying), `announce()` never blocks,
    `stop()` disconnects. paho queues announcements while the local broker is briefly away."""

    def __init__(self, broker: BrokerConfig, tenant: str, gateway: str, mqtt_user: str) -> None:
        self.prefix = alarm_topic(tenant, gateway)
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=mqtt_user)
        broker.apply_to(self._client, mqtt_user)
        self._client.reconnect_delay_set(1, 10)
        self._broker = broker
        self.announced = 0

    def start(self) -> None:
        self._client.connect_async(self._broker.host, self._broker.port, keepalive=self._broker.keepalive_s)
        self._client.loop_start()

    def announce(self, platform: str, item_type: str, payload: bytes) -> None:
        log.warning("local alarm", extra={"platform": platform, "type": item_type, "alarm": payload.decode(errors="replace")})
        self._client.publish(f"{self.prefix}/{platform}/{item_type}", payload, qos=1, retain=True)
        self.announced += 1

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
