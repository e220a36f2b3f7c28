"""Authentication (API keys), tenant admins' users and keys, body size limit and pagination bounds."""

from __future__ import annotations

import pytest
from api_people import BADUNG_TENANT, DKI, OFFICER, ClientFactory
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.accounts import key_digest
from api.testing import TEST_PEPPER, bearer
from central.db import ApiKey, User, writer
from contract.clock import utcnow

STATIONS = "/api/v1/stations"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-key",
        "Bearer tepi_0123456789abcdef_" + "A" * 43,  # well-formed, unknown
        "bearer tepi_zz",
    ],
)
def test_no_or_invalid_credentials_are_401_with_a_challenge(anonymous: TestClient, authorization: str | None) -> None:
    r = anonymous.get(STATIONS, headers={"Authorization": authorization} if authorization is not None else {})
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith('Bearer realm="tepi"')
    assert r.json()["code"] == "not_authenticated"


def test_a_key_with_a_known_id_but_wrong_secret_is_401(anonymous: TestClient, keys: dict) -> None:
    key = keys[(DKI, OFFICER)]
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    r = anonymous.get(STATIONS, headers=bearer(forged))
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]
    assert anonymous.get(STATIONS, headers=bearer(key)).status_code == 200


def test_the_database_holds_only_keyed_hashes(engine: Engine, keys: dict) -> None:
    key = keys[(DKI, OFFICER)]
    key_id = key.split("_")[1]
    with Session(engine) as s:
        row = s.get(ApiKey, key_id)
        assert row is not None and row.key_hash == key_digest(TEST_PEPPER.encode(), key)
        assert key.split("_", 2)[2] not in row.key_hash
    # Another pepper (a stolen database without the server's secret) verifies nothing.
    assert key_digest(b"another-pepper-of-at-least-32-characters", key) != row.key_hash


def test_me_revocation_and_disabled_users(client: TestClient, anonymous: TestClient, engine: Engine, keys: dict) -> None:
    me = client.get("/api/v1/me").json()
    assert (me["name"], me["tenant"], me["role"]) == (OFFICER, DKI, "disaster_office")
    admin = bearer(keys[(DKI, "Admin DKI")])
    assert anonymous.delete(f"/api/v1/keys/{me['key_id']}", headers=admin).status_code == 204
    assert client.get("/api/v1/me").status_code == 401  # at once
    assert anonymous.delete(f"/api/v1/keys/{me['key_id']}", headers=admin).status_code == 204  # idempotent

    viewer = bearer(keys[(DKI, "Viewer DKI")])
    assert anonymous.get(STATIONS, headers=viewer).status_code == 200
    with Session(writer(engine)) as s, s.begin():
        user = s.query(User).filter_by(tenant_id=DKI, name="Viewer DKI").one()
        user.disabled_at = utcnow()
    assert anonymous.get(STATIONS, headers=viewer).status_code == 401


def test_tenant_admins_manage_their_own_tenant_only(anonymous: TestClient, keys: dict) -> None:
    admin = bearer(keys[(DKI, "Admin DKI")])
    made = anonymous.post("/api/v1/users", json={"name": "  Operator Pintu Air ", "role": "disaster_office"}, headers=admin)
    assert made.status_code == 201, made.text
    user = made.json()
    assert (user["tenant"], user["name"], user["role"]) == (DKI, "Operator Pintu Air", "disaster_office")
    dup = anonymous.post("/api/v1/users", json={"name": "Operator Pintu Air", "role": "viewer"}, headers=admin)
    assert dup.status_code == 409
    assert anonymous.post("/api/v1/users", json={"name": "x", "role": "root"}, headers=admin).status_code == 422
    assert anonymous.post("/api/v1/users", json={"name": "a\x00b", "role": "viewer"}, headers=admin).status_code == 422

    created = anonymous.post(f"/api/v1/users/{user['id']}/keys", headers=admin)
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith(f"tepi_{created.json()['id']}_")
    as_new = anonymous.get("/api/v1/me", headers=bearer(key)).json()
    assert (as_new["name"], as_new["role"]) == ("Operator Pintu Air", "disaster_office")
    listed = anonymous.get(f"/api/v1/users/{user['id']}/keys", headers=admin).json()
    assert listed["count"] == 1 and "key" not in listed["data"][0]

    users = anonymous.get("/api/v1/users", headers=admin).json()
    assert {u["tenant"] for u in users["data"]} == {DKI} and users["count"] == 7
    # Badung's admin cannot see, key or revoke any of it: 404, as if it did not exist.
    badung = bearer(keys[(BADUNG_TENANT, "Admin Badung")])
    assert anonymous.get(f"/api/v1/users/{user['id']}/keys", headers=badung).status_code == 404
    assert anonymous.post(f"/api/v1/users/{user['id']}/keys", headers=badung).status_code == 404
    assert anonymous.delete(f"/api/v1/keys/{created.json()['id']}", headers=badung).status_code == 404
    assert {u["tenant"] for u in anonymous.get("/api/v1/users", headers=badung).json()["data"]} == {BADUNG_TENANT}
    assert anonymous.get("/api/v1/me", headers=bearer(key)).status_code == 200
    # Nor can a non-admin of the tenant.
    officer = bearer(keys[(DKI, OFFICER)])
    assert anonymous.post("/api/v1/users", json={"name": "x", "role": "admin"}, headers=officer).status_code == 403


def test_bodies_over_the_limit_are_413(client: TestClient, make_client: ClientFactory) -> None:
    katulampa = client.get("/api/v1/alerts", params={"station": "katulampa"}).json()["data"][0]
    url = f"/api/v1/alerts/{katulampa['id']}/ack"
    big = b'{"note": "' + b"x" * (64 * 1024) + b'"}'
    r = client.post(url, content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"

    def chunks(n: int):  # no Content-Length: chunked transfer encoding
        for _ in range(n):
            yield b" " * 1024

    assert client.post(url, content=chunks(65), headers={"Content-Type": "application/json"}).status_code == 413
    small = client.post(url, content=b"".join(chunks(2)) + b'{"note": "ok"}', headers={"Content-Type": "application/json"})
    assert small.status_code == 200, small.text
    assert client.get("/api/v1/alerts").status_code == 200  # still serving
    # The limit is a setting.
    tight = make_client(max_body_bytes=1024)
    assert tight.post(url, content=b"x" * 1025, headers={"Content-Type": "application/json"}).status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stations",
        "/api/v1/alerts",
        "/api/v1/alerts/{alert}/events",
        "/api/v1/public/stations",
        "/api/v1/users",
        "/api/v1/users/{user}/keys",
    ],
)
def test_every_list_is_paginated_with_bounds(client: TestClient, keys: dict, path: str) -> None:
    alert = client.get("/api/v1/alerts").json()["data"][0]["id"]
    admin = bearer(keys[(DKI, "Admin DKI")])
    user = client.get("/api/v1/me", headers=admin).json()["user_id"]
    url = path.format(alert=alert, user=user)
    headers = admin if "/users" in path else {}
    ok = client.get(url, params={"limit": 500, "offset": 0}, headers=headers)
    assert ok.status_code == 200, ok.text
    assert (ok.json()["limit"], ok.json()["offset"]) == (500, 0) and ok.json()["count"] >= len(ok.json()["data"])
    one = client.get(url, params={"limit": 1}, headers=headers).json()
    assert len(one["data"]) == 1
    beyond = client.get(url, params={"offset": one["count"]}, headers=headers).json()
    assert beyond["data"] == [] and beyond["count"] == one["count"]
    for bad in ({"limit": 501}, {"limit": 0}, {"offset": -1}, {"offset": 1_000_001}, {"limit": "many"}):
        assert client.get(url, params=bad, headers=headers).status_code == 422, bad


def test_the_cap_feed_is_bounded_too(anonymous: TestClient) -> None:
    assert anonymous.get("/api/v1/alerts/cap", params={"limit": 501}).status_code == 422
    assert anonymous.get("/api/v1/alerts/cap", params={"limit": 1}).status_code == 200


def test_errors_all_carry_a_code(anonymous: TestClient, client: TestClient) -> None:
    assert anonymous.get("/api/v1/nowhere").json() == {"detail": "Not Found", "code": "not_found"}
    assert client.put(STATIONS).json()["code"] == "method_not_allowed"
    assert client.get("/api/v1/stations/Not%20An%20Id/levels").status_code == 422
