"""GET /api/v1/alerts and POST /api/v1/alerts/{id}/ack."""

from __future__ import annotations

from datetime import timedelta

from api_people import DKI, HEAD, OFFICER, ClientFactory
from fastapi.testclient import TestClient
from river_story import T0
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import writer
from kinds.awlr.ingest.points import SqlPointSink
from ingest.service import apply_batch
from ingest.testing import batch, rate_of_rise


def alerts(client: TestClient, **params: object) -> dict:
    r = client.get("/api/v1/alerts", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_alerts_newest_first_with_status_filter(client: TestClient) -> None:
    every = alerts(client)
    assert [a["station"] for a in every["data"]] == ["manggarai", "katulampa", "depok"]
    assert every["count"] == 3

    active = alerts(client, status="active")
    assert [a["station"] for a in active["data"]] == ["manggarai", "katulampa"]
    katulampa = active["data"][1]
    assert katulampa["siaga"] == 2 and katulampa["siaga_label"] == "SIAGA II" and katulampa["peak_siaga"] == 2
    assert (katulampa["type"], katulampa["severity"], katulampa["rate_cm_per_h"]) == ("siaga", "major", None)
    assert katulampa["opened_at"] == "2025-01-20T03:00:00Z"
    assert katulampa["updated_at"] == "2025-01-20T04:00:00Z"
    assert katulampa["acknowledged_at"] is None and katulampa["cleared_at"] is None

    cleared = alerts(client, status="cleared")
    assert [(a["station"], a["cleared_at"]) for a in cleared["data"]] == [("depok", "2025-01-20T02:00:00Z")]


def test_rate_of_rise_alerts_are_listed_by_type(client: TestClient, engine: Engine) -> None:
    with Session(writer(engine)) as s, s.begin():
        apply_batch(
            s,
            batch([rate_of_rise("depok", T0 + timedelta(hours=6), True, 260.0, rate_cm_per_h=175.0)]),
            SqlPointSink(s),
        )
    rises = alerts(client, type="rate_of_rise")
    assert rises["count"] == 1
    (rise,) = rises["data"]
    assert (rise["station"], rise["severity"], rise["rate_cm_per_h"]) == ("depok", "warning", 175.0)
    assert (rise["siaga"], rise["siaga_label"]) == (3, "SIAGA III")  # 260 cm at Depok
    assert alerts(client, type="siaga")["count"] == 3
    assert alerts(client)["data"][0]["type"] == "rate_of_rise"
    assert client.get("/api/v1/alerts", params={"type": "flood"}).status_code == 422


def test_alerts_pagination(client: TestClient) -> None:
    first = alerts(client, limit=2, offset=0)
    second = alerts(client, limit=2, offset=2)
    assert (first["count"], second["count"]) == (3, 3)
    assert [a["station"] for a in first["data"]] == ["manggarai", "katulampa"]
    assert [a["station"] for a in second["data"]] == ["depok"]
    assert client.get("/api/v1/alerts", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/alerts", params={"status": "resolved"}).status_code == 422


def test_ack_flow(client: TestClient, make_client: ClientFactory) -> None:
    katulampa = alerts(client, station="katulampa")["data"][0]
    r = client.post(f"/api/v1/alerts/{katulampa['id']}/ack", json={"note": "  menuju lokasi  "})
    assert r.status_code == 200, r.text
    acked = r.json()
    assert acked["status"] == "acknowledged"
    assert acked["acknowledged_by"] == OFFICER  # the authenticated user, never a name in the body
    assert acked["acknowledged_at"].endswith("Z")

    head = make_client(as_user=(DKI, HEAD))
    again = head.post(f"/api/v1/alerts/{katulampa['id']}/ack")  # no body at all is fine
    assert again.status_code == 200
    assert (again.json()["acknowledged_by"], again.json()["acknowledged_at"]) == (OFFICER, acked["acknowledged_at"])
    events = client.get(f"/api/v1/alerts/{katulampa['id']}/events").json()["data"]
    assert (events[-1]["kind"], events[-1]["who"], events[-1]["detail"]) == (
        "acknowledged",
        OFFICER,
        {"note": "menuju lokasi"},
    )

    assert [a["station"] for a in alerts(client, status="acknowledged")["data"]] == ["katulampa"]
    assert [a["station"] for a in alerts(client, status="open")["data"]] == ["manggarai", "katulampa"]


def test_who_acted_comes_from_the_key_not_the_body(client: TestClient) -> None:
    katulampa = alerts(client, station="katulampa")["data"][0]
    r = client.post(f"/api/v1/alerts/{katulampa['id']}/ack", json={"by": "Bupati"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "by"]
    assert client.post(f"/api/v1/alerts/{katulampa['id']}/ack", json={"note": "a\x00b"}).status_code == 422
    assert client.post(f"/api/v1/alerts/{katulampa['id']}/ack", json={"note": "x" * 1001}).status_code == 422


def test_viewers_read_alerts_without_the_names_of_who_acted(
    client: TestClient, make_client: ClientFactory
) -> None:
    katulampa = alerts(client, station="katulampa")["data"][0]
    client.post(f"/api/v1/alerts/{katulampa['id']}/ack", json={"note": "on my way"})
    viewer = make_client(as_user=(DKI, "Viewer DKI"))
    seen = viewer.get(f"/api/v1/alerts/{katulampa['id']}").json()
    assert seen["status"] == "acknowledged" and seen["acknowledged_at"] and seen["acknowledged_by"] is None
    assert all(a["acknowledged_by"] is None for a in alerts(viewer)["data"])
    history = viewer.get(f"/api/v1/alerts/{katulampa['id']}/events").json()["data"]
    assert history[-1]["kind"] == "acknowledged" and history[-1]["who"] is None and history[-1]["detail"] == {}
    assert history[0]["who"] == "gateway:gw-ciliwung"  # a gateway is not a person


def test_ack_errors(client: TestClient) -> None:
    depok = alerts(client, station="depok")["data"][0]
    cleared = client.post(f"/api/v1/alerts/{depok['id']}/ack")
    assert cleared.status_code == 409
    assert cleared.json()["code"] == "alert_cleared"

    missing = client.post("/api/v1/alerts/999999/ack")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "alert 999999 does not exist", "code": "alert_not_found"}

    assert client.post(f"/api/v1/alerts/{depok['id']}/ack", json={"note": 5}).status_code == 422
    assert client.post(f"/api/v1/alerts/{depok['id']}/ack", json=[]).status_code == 422
    assert client.post("/api/v1/alerts/abc/ack").status_code == 422
