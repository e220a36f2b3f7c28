"""Closing, one alert, its history, and the status/type filters of the new lifecycle."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from api_people import DKI, HEAD, OFFICER, ClientFactory
from fastapi.testclient import TestClient
from river_story import T0
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import writer
from kinds.awlr.ingest.forecast import RiverNetwork
from kinds.awlr.ingest.offline import alerting_rules, check_offline
from kinds.awlr.ingest.points import SqlPointSink
from ingest.service import apply_batch
from ingest.testing import batch, siaga_change
from core.config import TepiConfig

API = "/api/v1/alerts"


def one(client: TestClient, **params: object) -> dict:
    r = client.get(API, params=params)
    assert r.status_code == 200, r.text
    (alert,) = r.json()["data"]
    return alert


def test_close_a_cleared_alert_409_otherwise(client: TestClient, make_client: ClientFactory) -> None:
    head = make_client(as_user=(DKI, HEAD))
    depok = one(client, station="depok")  # cleared in the story
    katulampa = one(client, station="katulampa")  # still active
    refused = head.post(f"{API}/{katulampa['id']}/close")
    assert refused.status_code == 409
    assert refused.json()["code"] == "alert_not_cleared"

    r = head.post(f"{API}/{depok['id']}/close", json={"note": "banjir surut"})
    assert r.status_code == 200, r.text
    closed = r.json()
    assert (closed["status"], closed["closed_by"]) == ("closed", HEAD)
    assert closed["closed_at"].endswith("Z")
    assert (closed["cleared_by"], closed["clear_reason"]) == ("gateway:gw-ciliwung", "level_normal")
    again = client.post(f"{API}/{depok['id']}/close")
    assert again.status_code == 200 and again.json()["closed_by"] == HEAD
    ack = client.post(f"{API}/{depok['id']}/ack")
    assert (ack.status_code, ack.json()["code"]) == (409, "alert_closed")
    assert client.post(f"{API}/999999/close").status_code == 404
    assert client.post(f"{API}/{depok['id']}/close", json={"by": HEAD}).status_code == 422

    assert [a["station"] for a in client.get(API, params={"status": "closed"}).json()["data"]] == ["depok"]
    assert client.get(API, params={"status": "cleared"}).json()["count"] == 0


def test_one_alert_and_its_history(client: TestClient) -> None:
    katulampa = one(client, station="katulampa")
    client.post(f"{API}/{katulampa['id']}/ack")
    got = client.get(f"{API}/{katulampa['id']}").json()
    assert (got["status"], got["acknowledged_by"], got["revision"]) == ("acknowledged", OFFICER, 2)

    history = client.get(f"{API}/{katulampa['id']}/events").json()
    assert (history["count"], history["limit"], history["offset"]) == (3, 500, 0)
    steps = [(e["kind"], e["who"], e["revision"], e["alert"]["status"], e["alert"]["siaga"]) for e in history["data"]]
    assert steps == [
        ("opened", "gateway:gw-ciliwung", 1, "active", 3),
        ("escalated", "gateway:gw-ciliwung", 2, "active", 2),
        ("acknowledged", OFFICER, 2, "acknowledged", 2),
    ]
    page = client.get(f"{API}/{katulampa['id']}/events", params={"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and [e["kind"] for e in page["data"]] == ["escalated"]
    assert [e["at"] for e in history["data"][:2]] == ["2025-01-20T03:00:00Z", "2025-01-20T04:00:00Z"]
    assert client.get(f"{API}/999999").status_code == 404
    assert client.get(f"{API}/999999/events").json()["code"] == "alert_not_found"


def test_offline_and_forecast_alerts_are_listed_by_type(
    client: TestClient, engine: Engine, default_config: TepiConfig
) -> None:
    with Session(writer(engine)) as s, s.begin():
        b = batch([siaga_change("depok", T0 + timedelta(hours=6), 3, 210.0, siaga_from=4, seq=20)])
        apply_batch(s, b, SqlPointSink(s), network=RiverNetwork.from_config(default_config))
    with Session(writer(engine)) as s, s.begin():
        later = datetime.now(timezone.utc) + timedelta(days=1)
        check_offline(s, alerting_rules(default_config), later, watching_since=later - timedelta(days=2))

    forecast = one(client, type="forecast")
    assert (forecast["station"], forecast["severity"], forecast["status"]) == ("manggarai", "warning", "active")
    assert forecast["forecast"] == {
        "upstream_station": "depok",
        "upstream_siaga": 3,
        "upstream_level_cm": 210.0,
        "expected_from": "2025-01-20T11:00:00Z",  # Depok -> Manggarai 5-7 h
        "expected_until": "2025-01-20T13:00:00Z",
    }
    offline = client.get(API, params={"type": "offline", "status": "open"}).json()
    assert offline["count"] == 3
    assert all(a["last_arrival_at"] and a["forecast"] is None for a in offline["data"])
    assert client.get(API, params={"type": "siaga", "status": "active"}).json()["count"] == 3
