"""Send a simulated buoy's reports: over MQTT to the device's topic (one report a payload, as a
buoy's cellular modem does), logging in as the device's MQTT user from `tepi mqtt setup`."""

from __future__ import annotations

from collections.abc import Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from contract.topics import device_topic
from kinds.wavebuoy.wire import BuoyReport, encode_report


def report_payload(report: BuoyReport) -> bytes:
    """One report as an MQTT payload: its sentences, newline-separated."""
    return b"".join(encode_report(report, baro_bar=1.0085, air_c=28.0, water_c=29.0))


def publish_reports(
    host: str, port: int, tenant: str, device: str, reports: Sequence[BuoyReport], *,
    username: str | None = None, password: str | None = None, extra: Sequence[bytes] = (),
) -> None:
    """Publish every report (and `extra` raw payloads, e.g. broken frames) at QoS 1 and wait."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=username or device)
    if username:
        client.username_pw_set(username, password)
    client.connect(host, port)
    client.loop_start()
    try:
        topic = device_topic(tenant, device)
        for payload in [*(report_payload(r) for r in reports), *extra]:
            client.publish(topic, payload, qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()
