"""MQTT topic names of Tepi's own processes, built and parsed in one place."""

from __future__ import annotations


def uplink_topic(tenant: str, gateway: str) -> str:
    return f"tepi/{tenant}/gw/{gateway}/up"


#: Every gateway's uplink topic (`uplink_topic`) of every tenant.
UPLINK_FILTER = "tepi/+/gw/+/up"


def downlink_topic(tenant: str, gateway: str) -> str:
    """Where the centre talks to one gateway: ingest's `UplinkAck`s (QoS 1, the gateway's
    persistent session keeps them while it is away)."""
    return f"tepi/{tenant}/gw/{gateway}/down"


#: Every gateway's downlink topic (`downlink_topic`) of every tenant: what ingest writes.
DOWNLINK_FILTER = "tepi/+/gw/+/down"


def uplink_subscription(share_group: str | None) -> str:
    """What ingest subscribes to: the shared subscription that spreads uplink messages over
    the workers of `share_group`, or, with None, the plain filter, for a broker without shared
    subscriptions (the embedded amqtt), where a `$share/...` filter matches nothing and a single
    worker must take every message itself."""
    if share_group is None:
        return UPLINK_FILTER
    return f"$share/{share_group}/{UPLINK_FILTER}"


def device_topic(tenant: str, device: str) -> str:
    """Where a field device publishes its readings on the gateway's local broker.

    A device may also publish below it (`.../up/<anything>`): third-party BLE scanners
    (Theengs Gateway, OpenMQTTGateway) publish one message per device heard at
    `<their publish topic>/<MAC>`, so set to `device_topic` their messages land under it. The
    device is always the topic's fourth level, whatever follows `up`."""
    return f"tepi/{tenant}/dev/{device}/up"


def device_topic_filter(tenant: str, device: str) -> str:
    """The device's topic and every topic below it (`device_topic`): what its ACL grants."""
    return f"{device_topic(tenant, device)}/#"


def device_subscription(tenant: str) -> str:
    # `.../up/#` matches `.../up` itself too (MQTT 3.1.1 section 4.7.1.2).
    return f"tepi/{tenant}/dev/+/up/#"


def device_from_topic(topic: str) -> str | None:
    parts = topic.split("/", 5)
    if len(parts) >= 5 and parts[0] == "tepi" and parts[2] == "dev" and parts[4] == "up" and parts[3]:
        return parts[3]
    return None


def alarm_topic(tenant: str, gateway: str) -> str:
    """Local alarm channel for sirens and displays; works without uplink."""
    return f"tepi/{tenant}/gw/{gateway}/alarm"
