"""A simulated fleet of AWLR devices: configuration built in memory and readings in the real
wire format (`kinds.awlr.wire.encode_json`)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

from kinds.awlr import wire
from core.config import (
    BrokerConfig,
    DeviceConfig,
    GatewayConfig,
    OutboxConfig,
    TenantConfig,
    TepiConfig,
)
from kinds.awlr.config import AlertingConfig, SiagaThresholds, StationConfig
from contract.topics import device_topic

TENANT = "bench"
GATEWAY = "gw-bench"
#: Siaga bounds of every simulated station (Pos Depok's published criteria).
SIAGA = (200.0, 270.0, 350.0)
BASE_CM = 120.0


def station_id(i: int) -> str:
    return f"st{i:04d}"


def device_id(i: int) -> str:
    return f"awlr-{i:04d}"


def fleet_config(
    n_devices: int,
    local_port: int,
    uplink_port: int,
    outbox: Path,
    summary_every_s: int = 600,
    summary_every_s_alert: int = 60,
    uplink_inflight: int = 200,
    device_rate_per_s: float | None = 1_000_000.0,
    gateway: str = GATEWAY,
) -> TepiConfig:
    """N stations with one MQTT AWLR each, the gateway pointed at brokers on loopback.

    `device_rate_per_s`: the per-device rate limit; the benchmarks that replay device time far
    faster than real time lift it, None keeps the shipped default."""
    stations = [
        StationConfig(
            id=station_id(i),
            name=f"Bench station {i}",
            river="Bench",
            tenant=TENANT,
            lat=-6.2 - i * 1e-4,
            lon=106.8,
            thresholds=SiagaThresholds(siaga3=SIAGA[0], siaga2=SIAGA[1], siaga1=SIAGA[2], source="bench: Pos Depok criteria"),
            sensor_span_cm=(0.0, 600.0),
            alerting=AlertingConfig(summary_every_s=summary_every_s, summary_every_s_alert=min(summary_every_s_alert, summary_every_s)),
        )
        for i in range(n_devices)
    ]
    devices = [DeviceConfig(id=device_id(i), kind="awlr", station=station_id(i), transport="mqtt") for i in range(n_devices)]
    extra = {} if device_rate_per_s is None else {"device_rate_per_s": device_rate_per_s}
    gw = GatewayConfig(
        **extra,
        id=gateway,
        tenant=TENANT,
        local_broker=BrokerConfig(host="127.0.0.1", port=local_port),
        uplink_broker=BrokerConfig(host="127.0.0.1", port=uplink_port),
        uplink_inflight=uplink_inflight,
        outbox=OutboxConfig(path=outbox),
    )
    return TepiConfig(tenants=[TenantConfig(id=TENANT, name="Bench tenant")], stations=stations, devices=devices, gateway=gw)


def write_yaml(config: TepiConfig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    return path


HOT_BASE_CM = 196.0  # just under Siaga 3 (200 cm)
RAMP_CM_PER_READING = 0.8  # below QC's 1 cm/s rate-of-change limit at one reading per second
RAMP_TOP_CM = 206.0
RAMP_STAGGER = 2  # readings between the starts of successive hot devices' rises


def level(device: int, k: int, hot: int = 0, ramp_at: int = -1) -> float:
    """A quiet river: slow swell plus a small deterministic wobble, far from any QC threshold.

    The first `hot` devices sit just below Siaga 3 (wobble only); from reading `ramp_at`
    (staggered per device) they rise gently across it, so their events are real, QC-clean ones.
    """
    wobble = 0.3 * math.sin(k * 1.7 + device)
    if device >= hot:
        return BASE_CM + 5.0 * math.sin((k + 7 * device) / 3000.0) + wobble
    start = ramp_at + RAMP_STAGGER * device
    if ramp_at >= 0 and k >= start:
        return min(RAMP_TOP_CM, HOT_BASE_CM + RAMP_CM_PER_READING * (k - start))
    return HOT_BASE_CM + wobble


@dataclass(frozen=True, slots=True)
class Stream:
    """Readings of devices [first, first + count), interleaved reading-major so that every device's
    readings are in order and all devices progress together, as a live fleet does."""

    first: int
    count: int
    readings_per_device: int
    t0: float  # epoch seconds of reading 0
    step_s: float  # device-time spacing between a device's readings
    seq0: int = 0
    topic_style: str = "tepi"  # or "tb": sensors/<device>/data
    hot: int = 0
    ramp_at: int = -1

    def topic(self, dev: int) -> str:
        if self.topic_style == "tb":
            return f"sensors/{device_id(dev)}/data"
        return device_topic(TENANT, device_id(dev))

    def messages(self) -> Iterator[tuple[int, int, str, bytes]]:
        """(device index, seq, topic, payload) in publish order."""
        topics = {d: self.topic(d) for d in range(self.first, self.first + self.count)}
        for k in range(self.readings_per_device):
            seq = self.seq0 + k
            ts = datetime.fromtimestamp(self.t0 + seq * self.step_s, timezone.utc)
            for d in range(self.first, self.first + self.count):
                frame = wire.AwlrFrame(station_id(d), seq, ts, round(level(d, seq, self.hot, self.ramp_at), 1), 12.6)
                yield d, seq, topics[d], wire.encode_json(frame)


def aligned_start(span_s: float, window_s: int, slack_s: float = 120.0) -> float:
    """An epoch second on a window boundary, early enough that `span_s` of device time ends
    before now (the gateway rejects readings from the future)."""
    start = datetime.now(timezone.utc).timestamp() - span_s - slack_s - window_s
    return math.floor(start / window_s) * window_s


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """[first, count) ranges of n devices over `parts` publishers."""
    parts = max(1, min(parts, n))
    base, extra = divmod(n, parts)
    out, first = [], 0
    for p in range(parts):
        c = base + (1 if p < extra else 0)
        out.append((first, c))
        first += c
    return out

