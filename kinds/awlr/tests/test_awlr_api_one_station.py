"""GET /api/v1/stations/{id}: one station as the list shows it, for its own page; another tenant's is 404."""

from __future__ import annotations

from api_people import BADUNG_TENANT, ClientFactory
from fastapi.testclient import TestClient
from river_story import BADUNG


def test_one_station_reads_as_in_the_list(client: TestClient) -> None:
    listed = {s["id"]: s for s in client.get("/api/v1/stations").json()["data"]}
    r = client.get("/api/v1/stations/depok")
    assert r.status_code == 200, r.text
    assert r.json() == listed["depok"]
    assert (r.json()["trend"], r.json()["siaga_label"]) == ("rising", "SIAGA IV")


def test_another_tenants_station_is_as_missing_as_none(client: TestClient, make_client: ClientFactory) -> None:
    other = client.get(f"/api/v1/stations/{BADUNG}")
    missing = client.get("/api/v1/stations/no-such-station")
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"].replace(BADUNG, "x") == missing.json()["detail"].replace("no-such-station", "x")
    badung = make_client(as_user=(BADUNG_TENANT, "Petugas BPBD Badung")).get(f"/api/v1/stations/{BADUNG}")
    assert badung.status_code == 200 and badung.json()["siaga_label"] == "SIAGA III"
