"""Local alarm channel: sirens and displays at the site hear level changes without any uplink.

Each station's current alarm state is published retained on the gateway's local broker
(`tepi/<tenant>/gw/<gateway>/alarm/<station>/<kind>`), so a display that (re)connects sees the state at
once, and every change is also logged at WARNING. Nothing here waits for the central side.
"""

from __future__ import annotations

import json
import logging

import paho.mqtt.client as mqtt

from core.config import BrokerConfig
from kinds.awlr.siaga import SiagaLevel
from contract.topics import alarm_topic
from kinds.awlr.items import RateOfRise, SiagaChange

log = logging.getLogger(__name__)


def alarm_state(event: SiagaChange | RateOfRise) -> dict[str, object]:
    """What a siren controller or a display at the site needs, and nothing personal."""
    state: dict[str, object] = {
        "station": event.station, "kind": event.type, "level_cm": event.level_cm, "reading_ts": event.ts.isoformat(),
    }
    if isinstance(event, SiagaChange):
        level = SiagaLevel(event.siaga_to)
        state |= {"siaga": level.value, "label": level.label, "siaga_name": level.name_id}
    else:
        state |= {"active": event.active, "rate_cm_per_h": event.rate_cm_per_h}
    return state


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

    def announce(self, event: SiagaChange | RateOfRise) -> None:
        state = alarm_state(event)
        log.warning("local alarm", extra=state)
        payload = json.dumps(state, separators=(",", ":"))
        self._client.publish(f"{self.prefix}/{event.station}/{event.type}", payload, qos=1, retain=True)
        self.announced += 1

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
