"""The configuration of a fishing boat's own gateway, as `tepi demo` runs it and `tepi mqtt
setup` derives its users from.

A boat is out of coverage for days, so its gateway is on board (kinds/fishfinder/README.md),
with the fish-finder on the boat's own broker (a phone or router bridging the NMEA
multiplexer) and its outbox on board: one deployment, one `TepiConfig`, per boat. The fish-
finder's platform is the vessel, registered centrally (`kinds.fishfinder.state.register_vessel`),
not listed here: the configuration has no stations.
"""

from __future__ import annotations

from pathlib import Path

from core.config import BrokerConfig, BrokerQueueConfig, DeviceConfig, GatewayConfig, OutboxConfig, TepiConfig

#: A boat's device link carries one fish-finder's payload a second; a burst is at most a few
#: minutes of them replayed by the bridge after its Wi-Fi dropped (a Tepi assumption).
BOAT_BROKER_QUEUE = BrokerQueueConfig(peak_readings_per_s=10.0, peak_duration_s=60.0)
#: A boat's outbox: days of tracks, schools and summaries at ~30 KB an hour (README) fit many
#: times over; a Tepi choice sized for a small gateway's flash.
BOAT_OUTBOX_BYTES = 64 * 1024 * 1024


def boat_gateway_id(vessel: str) -> str:
    """The on-board gateway of `vessel`: where its SOS answers go (`Vessel.gateway_id`)."""
    return f"gw-{vessel}"


def boat_gateway_config(
    base: TepiConfig,
    vessel: str,
    tenant: str,
    *,
    device: str | None = None,
    local_broker: BrokerConfig | None = None,
    uplink_broker: BrokerConfig | None = None,
    outbox: Path | None = None,
) -> TepiConfig:
    """The deployment of one boat: its fish-finder `device` (default: named as the vessel, as
    the boat simulator publishes it) on MQTT, mounted on `vessel`, and the gateway on board of
    `tenant`. Tenants, ingest and the rest come from `base`; a `ValueError` (pydantic's) for an
    id that is no identifier or a tenant `base` does not have."""
    gateway = GatewayConfig(
        id=boat_gateway_id(vessel), tenant=tenant,
        local_broker=local_broker or base.gateway.local_broker, uplink_broker=uplink_broker or base.gateway.uplink_broker,
        outbox=OutboxConfig(path=outbox or Path("var/boats") / vessel / "outbox.db", max_bytes=BOAT_OUTBOX_BYTES),
        summary_linger_s=base.gateway.summary_linger_s,
    )
    return TepiConfig.model_validate({
        **{k: getattr(base, k) for k in ("tenants", "ingest", "api", "retention")},
        "stations": [],
        "devices": [DeviceConfig(id=device or vessel, kind="fishfinder", platform=vessel, transport="mqtt")],
        "gateway": gateway,
        "broker_queue": BOAT_BROKER_QUEUE,
    })
