"""MQTT source: devices publish JSON readings on the gateway's local broker, one topic each."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from functools import partial

import paho.mqtt.client as mqtt

from gateway.model import RawFrame
from gateway.sources import FrameSink
from tepi.config import BrokerConfig
from tepi.messages import device_from_topic, device_subscription

log = logging.getLogger(__name__)


def frame_from_message(message: mqtt.MQTTMessage, received_at: datetime, client: mqtt.Client | None = None) -> RawFrame:
    """The one adapter from paho's message type to the gateway's own. With `client`, the
    frame carries the deferred PUBACK, sent only once the gateway has committed the frame."""
    ack = partial(client.ack, message.mid, message.qos) if client is not None and message.qos > 0 else None
    return RawFrame("mqtt", bytes(message.payload), device_from_topic(message.topic), received_at, ack)


class MqttDeviceSource:
    def __init__(self, broker: BrokerConfig, tenant: str, client_id: str) -> None:
        self.name = f"mqtt:{broker.host}:{broker.port}"
        self.broker = broker
        self.topic = device_subscription(tenant)
        # Persistent session + manual PUBACK: a reading the gateway has not committed is
        # redelivered by the broker after a crash instead of being lost in memory.
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, manual_ack=True
        )
        broker.apply_to(self._client)
        self._client.reconnect_delay_set(1, 30)
        self._client.max_inflight_messages_set(1000)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._on_frame: FrameSink | None = None
        self.bytes_in = 0
        self.subscribed = threading.Event()

    def start(self, on_frame: FrameSink) -> None:
        self._on_frame = on_frame
        self._client.on_message = self._on_message
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=self.broker.keepalive_s)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: mqtt.ReasonCode, props: object) -> None:
        if reason.is_failure:
            log.warning("local broker refused connection", extra={"reason": str(reason)})
            return
        client.subscribe(self.topic, qos=1)
        log.info("listening for devices", extra={"topic": self.topic})

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reasons: list[mqtt.ReasonCode], props: object) -> None:
        if all(not r.is_failure for r in reasons):
            self.subscribed.set()
        else:
            log.error("device subscription refused", extra={"topic": self.topic, "reasons": [str(r) for r in reasons]})

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason: mqtt.ReasonCode, props: object) -> None:
        self.subscribed.clear()
        log.warning("local broker disconnected", extra={"reason": str(reason)})

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self.bytes_in += len(message.payload)
        assert self._on_frame is not None
        self._on_frame(frame_from_message(message, datetime.now(timezone.utc), client))
