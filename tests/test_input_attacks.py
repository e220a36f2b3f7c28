"""Hostile device input against the gateway, through a real Mosquitto running the configuration
`tepi mqtt setup` generates: each attack is refused and counted by reason, and every valid
reading sent among the attacks arrives upstream.

The frames a decoder must refuse (`"seq": 1.5`, `"seq": "7"`, a battery of -1e300, a key given
twice, NaN) each claim the sequence number and time of a valid frame sent right after them: a
gateway that took one of them would refuse the valid frame as a duplicate, and lose it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from test_mqtt_security import Probe

from kinds.awlr import wire
from gateway.model import RawFrame
from gateway.runtime import EdgeGateway
from core.config import BrokerConfig, DeviceConfig, TepiConfig, with_local_services
from core.logs import RateLimitedLog
from contract.topics import device_topic, uplink_subscription
from tepi.mqtt_security import MqttSecurityFiles, setup_broker_security
from core.processes import Mosquitto
from core.testing import wait_until
from contract.uplink_batch import decode_batch
from kinds.awlr.ingest.uplink import every_item

pytestmark = pytest.mark.integration

TENANT, GATEWAY, DEPOK = "dki-jakarta", "gw-ciliwung", "awlr-depok"
#: Devices the broker's registry knows but this gateway's configuration does not.
ROGUES = [f"awlr-rogue-{i:02d}" for i in range(30)]
NOT_AUTHORIZED = 0x87


@pytest.fixture(scope="module")
def security(default_config: TepiConfig, tmp_path_factory: pytest.TempPathFactory) -> MqttSecurityFiles:
    registry = default_config.model_copy(
        update={"devices": [*default_config.devices, *(DeviceConfig(id=r, kind="awlr", station="depok", transport="mqtt") for r in ROGUES)]}
    )
    return setup_broker_security([registry], tmp_path_factory.mktemp("mqtt-security"))


@pytest.fixture(scope="module")
def broker(security: MqttSecurityFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    b = Mosquitto(workdir=tmp_path_factory.mktemp("mosquitto"), persistence=False, auth=security).start()
    yield b
    b.close()


def connect(broker: Mosquitto, security: MqttSecurityFiles, username: str, client_id: str) -> Probe:
    probe = Probe(client_id, username, security.credential(username).password)
    assert not probe.connect(broker.port).is_failure
    return probe


@pytest.fixture
def gateway(broker: Mosquitto, security: MqttSecurityFiles, default_config: TepiConfig, tmp_path: Path) -> Iterator[EdgeGateway]:
    """The shipped configuration's gateway, on the secured broker with its generated password."""
    secured = BrokerConfig(host="127.0.0.1", port=broker.port, password=security.credential(GATEWAY).password)
    cfg = with_local_services(default_config, broker.port, tmp_path, summary_every_s=60, device_rate_per_s=1000)
    cfg = cfg.model_copy(update={"gateway": cfg.gateway.model_copy(update={"local_broker": secured, "uplink_broker": secured})})
    gw = EdgeGateway(cfg, local_alarms=False)
    gw.start()
    assert gw.wait_ready(15)
    yield gw
    gw.stop()


def _rejected(gw: EdgeGateway, reason: str) -> float:
    return gw.registry.get_sample_value("tepi_gateway_rejected_total", {"reason": reason}) or 0.0


def _frame_json(frame: wire.AwlrFrame, **raw: str) -> bytes:
    """`frame` as a device would send it, with some fields replaced by raw JSON text."""
    fields = {k: json.dumps(v) for k, v in json.loads(wire.encode_json(frame)).items()} | raw
    return ("{" + ",".join(f'"{k}":{v}' for k, v in fields.items()) + "}").encode()


#: (what a hostile frame does to a valid one, the reason it is refused with)
ATTACKS = [
    (lambda f: _frame_json(f, seq=f"{f.seq}.5"), "wrong_type"),
    (lambda f: _frame_json(f, seq=f'"{f.seq}"'), "wrong_type"),
    (lambda f: _frame_json(f, seq="true"), "wrong_type"),
    (lambda f: _frame_json(f, level_cm=f'"{f.level_cm}"'), "wrong_type"),
    (lambda f: _frame_json(f, battery_v="-1e300"), "out_of_range"),
    (lambda f: _frame_json(f, level_cm="NaN"), "out_of_range"),
    (lambda f: _frame_json(f, level_cm="1e999999"), "out_of_range"),
    (lambda f: _frame_json(f)[:-1] + b',"level_cm":9999.0}', "duplicate_key"),
    (lambda f: b'{"level_cm":9999.0,' + _frame_json(f)[1:], "duplicate_key"),
]


def test_hostile_frames_are_counted_and_no_valid_reading_is_lost(
    broker: Mosquitto, security: MqttSecurityFiles, gateway: EdgeGateway
) -> None:
    ingest = connect(broker, security, "ingest.1", "ingest.1")
    assert not any(rc.is_failure for rc in ingest.subscribe(uplink_subscription("ingest")))
    device = connect(broker, security, DEPOK, "attack-test-depok")
    try:
        t0 = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(second=0, microsecond=0)
        valid = [wire.AwlrFrame("depok", i, t0 + timedelta(seconds=5 * i), 130.0 + i, 12.4) for i in range(len(ATTACKS))]
        for frame, (attack, _) in zip(valid, ATTACKS):
            twin = dataclasses.replace(frame, level_cm=frame.level_cm + 50)  # told apart upstream if taken
            assert not device.publish(device_topic(TENANT, DEPOK), attack(twin)).is_failure
            assert not device.publish(device_topic(TENANT, DEPOK), wire.encode_json(frame)).is_failure
        for i, at_s in enumerate((60, 90), start=len(ATTACKS)):  # the second closes the first minute's window
            later = wire.AwlrFrame("depok", i, t0 + timedelta(seconds=at_s), 140.0, 12.4)
            assert not device.publish(device_topic(TENANT, DEPOK), wire.encode_json(later)).is_failure

        summaries: list = []

        def first_window_summarised() -> bool:
            while not ingest.messages.empty():
                summaries.extend(i for i in every_item(decode_batch(ingest.messages.get().payload)) if i.type == "summary")
            return any(s.window_start == t0 for s in summaries)

        wait_until(first_window_summarised, timeout=20, what="the first window's summary upstream")
        first = next(s for s in summaries if s.window_start == t0)
        assert first.station == "depok"
        assert first.count == len(valid)  # every valid reading, none taken for a hostile twin
        assert (first.min_cm, first.max_cm, first.mean_cm) == (130.0, 130.0 + len(valid) - 1, 130.0 + (len(valid) - 1) / 2)
        assert first.rejected == len(ATTACKS)  # and the station's office sees that it was attacked
        expected = Counter(reason for _, reason in ATTACKS)
        assert {r: _rejected(gateway, r) for r in expected} == expected
        assert _rejected(gateway, "duplicate") == 0
    finally:
        device.close()
        ingest.close()


def test_unknown_devices_are_counted_with_sampled_logs_and_no_state_per_name(
    broker: Mosquitto, security: MqttSecurityFiles, gateway: EdgeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """Devices the broker lets in but the gateway does not know: each frame counted as
    `unknown_device`, one log line per interval for all of them, nothing remembered per name.
    A name the broker does not know cannot even reach the gateway."""
    caplog.set_level(logging.WARNING, logger="gateway.runtime")
    started = time.monotonic()
    t0 = datetime.now(timezone.utc) - timedelta(minutes=5)
    for name in ROGUES:
        rogue = connect(broker, security, name, f"attack-test-{name}")
        try:
            assert not rogue.publish(device_topic(TENANT, name), wire.encode_json(wire.AwlrFrame("depok", 1, t0, 130.0, 12.4))).is_failure
            assert rogue.publish(device_topic(TENANT, "awlr-nobody"), b"{}").value == NOT_AUTHORIZED
        finally:
            rogue.close()
    wait_until(lambda: _rejected(gateway, "unknown_device") >= len(ROGUES), timeout=10, what="rogue frames counted")
    elapsed = time.monotonic() - started
    assert _rejected(gateway, "unknown_device") == len(ROGUES)
    lines = [r for r in caplog.records if r.getMessage() == "frame rejected" and getattr(r, "reason", "") == "unknown_device"]
    assert 1 <= len(lines) <= 1 + elapsed // 10.0  # RateLimitedLog's default interval
    assert len(gateway.rejection_log) == 1  # one key, "unknown_device", whatever the names
    assert _rejected(gateway, "duplicate_key") + _rejected(gateway, "wrong_type") == 0


def test_a_flood_of_distinct_unknown_names_keeps_memory_and_logs_bounded(
    default_config: TepiConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """190,000 distinct names used to leave 190,000 keys in the log limiter and 190,000 log
    lines. Here 100,000 frames, over 20 s of a stepped clock: two lines, memory flat."""
    caplog.set_level(logging.WARNING, logger="gateway.runtime")
    gw = EdgeGateway(with_local_services(default_config, 1883, tmp_path), local_alarms=False)  # not started: no I/O
    now = [0.0]
    gw.rejection_log = RateLimitedLog(logging.getLogger("gateway.runtime"), clock=lambda: now[0])
    payload = wire.encode_json(wire.AwlrFrame("depok", 1, datetime.now(timezone.utc), 130.0, 12.4))
    received = datetime.now(timezone.utc)
    flood = 100_000
    for i in range(1_000):  # warm up: metric children, caches
        gw.handle(RawFrame("mqtt", payload, f"warm-{i}", received))
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for i in range(flood):
            now[0] = i / 5_000  # one second every 5,000 frames
            gw.handle(RawFrame("mqtt", payload, f"awlr-{i:06d}\nforged log line {'x' * 200}", received))
        grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    finally:
        tracemalloc.stop()
        gw.outbox.close()
    print(f"memory grown over {flood} distinct names: {grown} bytes")
    assert grown < 256 * 1024, f"memory grew by {grown} bytes over {flood} distinct names"
    assert len(gw.rejection_log) == 1
    lines = [r for r in caplog.records if r.getMessage() == "frame rejected"]
    assert len(lines) == 2  # at 0 s and at 10 s of the stepped clock
    assert lines[1].suppressed == 1_000 + flood // 2 - 1  # type: ignore[attr-defined]
    assert lines[1].device is None and len(lines[1].detail) <= 200  # a name is quoted, cut  # type: ignore[attr-defined]
    assert "\n" not in lines[1].detail  # type: ignore[attr-defined]
    assert gw.registry.get_sample_value("tepi_gateway_rejected_total", {"reason": "unknown_device"}) == flood + 1_000
