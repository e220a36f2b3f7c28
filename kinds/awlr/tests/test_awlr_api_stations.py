"""GET /api/v1/stations: registry plus latest state, as ingest left it."""

from __future__ import annotations

from api_people import BADUNG_TENANT, ClientFactory
from fastapi.testclient import TestClient


def test_stations_show_latest_level_siaga_and_last_seen(client: TestClient) -> None:
    r = client.get("/api/v1/stations")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 3
    by_id = {s["id"]: s for s in body["data"]}
    assert set(by_id) == {"katulampa", "depok", "manggarai"}

    depok = by_id["depok"]
    assert depok["name"] == "Pos Depok (Panus)"
    assert depok["river"] == "Ciliwung"
    assert depok["tenant"] == "dki-jakarta"
    # The newest summary (window 17: mean 147, last = mean + 1) is newer than the Siaga events.
    assert depok["last_level_cm"] == 148.0
    assert (depok["siaga"], depok["siaga_label"]) == (4, "SIAGA IV")
    assert depok["last_seen_at"] == "2025-01-20T02:59:59Z"
    assert depok["thresholds"]["siaga1_cm"] == 350

    katulampa = by_id["katulampa"]
    assert (katulampa["siaga"], katulampa["siaga_label"], katulampa["last_level_cm"]) == (2, "SIAGA II", 160.0)
    assert katulampa["last_seen_at"] == "2025-01-20T04:00:00Z"


def test_stations_are_the_callers_tenants_only(client: TestClient, make_client: ClientFactory) -> None:
    # A `tenant` parameter is no way out of one's own tenant: it is not a parameter at all.
    assert {s["id"] for s in client.get("/api/v1/stations", params={"tenant": "kab-badung"}).json()["data"]} == {
        "katulampa",
        "depok",
        "manggarai",
    }
    badung = make_client(as_user=(BADUNG_TENANT, "Petugas BPBD Badung")).get("/api/v1/stations").json()
    assert (badung["count"], [s["id"] for s in badung["data"]]) == (1, ["tukad-mati-kuta"])
    assert badung["data"][0]["thresholds"]["source"].startswith("ILLUSTRATIVE, NOT PUBLISHED")
    assert badung["data"][0]["siaga_label"] == "SIAGA III"


def test_stations_pagination(client: TestClient) -> None:
    page = client.get("/api/v1/stations", params={"limit": 2, "offset": 1}).json()
    assert (page["count"], page["limit"], page["offset"]) == (3, 2, 1)
    assert [s["id"] for s in page["data"]] == ["katulampa", "manggarai"]
    assert client.get("/api/v1/stations", params={"limit": 501}).status_code == 422
    assert client.get("/api/v1/stations", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/stations", params={"offset": -1}).status_code == 422
    assert client.get("/api/v1/stations", params={"offset": 1_000_001}).status_code == 422
