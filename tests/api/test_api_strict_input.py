"""Attacks on the API with hostile input: each is refused with a 4xx, nothing is stored from it.

JSON allows neither `NaN` nor `Infinity`, and a number like `1e999999` overflows a float; Python's
parser takes all three, and echoing them back in an error body used to fail with a 500.
"""

from __future__ import annotations

import json

import httpx
import pytest

from api import permissions
from api_people import DKI, ClientFactory
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999999", "-1e999999"]

# What is refused here is refused before any query, so on the embedded database only: what the
# API stores and answers on PostgreSQL is the other API tests' subject.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
_DOCUMENT: list[dict] = []


def _document(client: TestClient) -> dict:
    """The OpenAPI document of the apps of these tests (all of one configuration): ~0.3 s to build."""
    if not _DOCUMENT:
        _DOCUMENT.append(client.app.openapi())  # type: ignore[attr-defined]
    return _DOCUMENT[0]


def _open_alert(client: TestClient) -> int:
    r = client.get("/api/v1/alerts", params={"status": "active"})
    assert r.status_code == 200, r.text
    return r.json()["data"][0]["id"]


def _assert_non_finite_refused(r: httpx.Response) -> None:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "invalid_request"
    assert "JSON numbers must be finite" in body["detail"][0]["msg"]


def _state(client: TestClient, admin: TestClient, alert: int) -> tuple[list, list]:
    events = client.get(f"/api/v1/alerts/{alert}/events").json()["data"]
    users = admin.get("/api/v1/users").json()["data"]
    return [e["seq"] for e in events], sorted(u["name"] for u in users)


@pytest.mark.parametrize("number", NON_FINITE)
def test_non_finite_numbers_in_any_body_are_422(client: TestClient, make_client: ClientFactory, number: str) -> None:
    admin = make_client(as_user=(DKI, "Admin DKI"), level_store="sql")
    alert = _open_alert(client)
    before = _state(client, admin, alert)
    for sender, url, body, content_type in [
        (client, f"/api/v1/alerts/{alert}/ack", f'{{"note": {number}}}', "application/json"),
        (client, f"/api/v1/alerts/{alert}/close", f'{{"note": [1, {{"x": {number}}}]}}', "application/json"),
        (client, f"/api/v1/alerts/{alert}/ack", f'{{"note": "ok", "by": {number}}}', "application/merge-patch+json"),
        (admin, "/api/v1/users", f'{{"name": {number}, "role": "viewer"}}', "application/json; charset=utf-8"),
        (admin, "/api/v1/users", f'{{"name": "Nama", "role": "viewer", "x": {number}}}', None),
    ]:
        headers = {"Content-Type": content_type} if content_type else {}
        _assert_non_finite_refused(sender.post(url, content=body, headers=headers))
    assert _state(client, admin, alert) == before  # nothing acknowledged, closed or created


@pytest.mark.parametrize(
    "content_types",
    [
        ["application/json", "text/plain"],  # Starlette reads the first: the route parses JSON
        ["text/plain", "application/json"],
        ["text/plain"],
        ["application/x-www-form-urlencoded"],
        ["application/json (nested)"],
    ],
)
def test_non_finite_numbers_are_refused_whatever_content_type_says(
    client: TestClient, content_types: list[str]
) -> None:
    """Whichever Content-Type header the framework believes, however many there are and however
    written, a body with NaN gets the 422 that says so (it used to be a 500)."""
    alert = _open_alert(client)
    before = client.get(f"/api/v1/alerts/{alert}/events").json()["data"]
    headers = [("Content-Type", value) for value in content_types]
    _assert_non_finite_refused(client.post(f"/api/v1/alerts/{alert}/ack", content=b'{"note": NaN}', headers=headers))
    assert client.get(f"/api/v1/alerts/{alert}/events").json()["data"] == before


def test_other_bodies_meet_the_usual_validation(client: TestClient) -> None:
    alert = _open_alert(client)
    deep = client.post(f"/api/v1/alerts/{alert}/ack", content=b"[" * 30_000 + b"]" * 30_000, headers={"Content-Type": "application/json"})
    assert 400 <= deep.status_code < 500, deep.text  # too deep to parse: a client error, never a 500
    r = client.post(f"/api/v1/alerts/{alert}/ack", content='{"note": 1e308}', headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "string_type", r.text
    ok = client.post(f"/api/v1/alerts/{alert}/ack", json={"note": "menuju lokasi"})
    assert ok.status_code == 200, ok.text


def _numeric_query_parameters(client: TestClient) -> list[tuple[str, str]]:
    """(path, name) of every numeric query parameter of a GET the app documents, now or later.
    The live stream is left out: a request it accepted would never end (its `after` is tested
    with the stream's own tests)."""
    found = []
    for path, operations in _document(client)["paths"].items():
        for param in operations.get("get", {}).get("parameters", []):
            schema = param["schema"]
            types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
            if param["in"] == "query" and types & {"number", "integer"} and not path.endswith("/stream"):
                found.append((path, param["name"]))
    return found


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999999", "1e308"])
def test_non_finite_query_parameters_are_422(client: TestClient, make_client: ClientFactory, value: str) -> None:
    """No numeric query parameter takes NaN, an infinity or a float for an integer (pydantic's
    floats would take the first two), nor do the level history's times and bucket width."""
    admin = make_client(as_user=(DKI, "Admin DKI"), level_store="sql")  # the users' lists are theirs
    fisher = make_client(as_user=(DKI, "Fisher DKI"), level_store="sql")  # and a fisher's catches theirs
    alert = _open_alert(client)
    numeric = _numeric_query_parameters(client)
    assert {name for _, name in numeric} >= {"limit", "offset", "revision"}
    levels = "/api/v1/stations/{station_id}/levels"
    for path, name in [*numeric, (levels, "every"), (levels, "start"), (levels, "end")]:
        url = "/api" + path.removeprefix("/api").replace("{station_id}", "katulampa").replace("{alert_id}", str(alert))
        allowed = permissions.TABLE[("GET", path)]
        caller = client if "disaster_office" in allowed else admin if "admin" in allowed else fisher
        r = caller.get(url, params={name: value})
        assert r.status_code == 422, (url, name, r.text)


def test_real_server_answers_and_keeps_the_connection(live_api: str, officer: dict[str, str]) -> None:
    """Over uvicorn, chunked or not: a 422, and the same connection serves the next request."""
    with httpx.Client(base_url=live_api, headers=officer, timeout=10) as http:
        alert = http.get("/api/v1/alerts", params={"status": "active"}).json()["data"][0]["id"]
        json_headers = {"Content-Type": "application/json"}
        _assert_non_finite_refused(http.post(f"/api/v1/alerts/{alert}/ack", content=b'{"note": NaN}', headers=json_headers))
        chunked = iter([b'{"note": ', b"1e999999}"])
        _assert_non_finite_refused(http.post(f"/api/v1/alerts/{alert}/ack", content=chunked, headers=json_headers))
        after = http.post(f"/api/v1/alerts/{alert}/ack", json={"note": "menuju lokasi"})
        assert after.status_code == 200, after.text
        assert after.json()["status"] == "acknowledged"


_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
_JSON = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=_JSON, token=st.sampled_from(NON_FINITE))
def test_any_body_with_a_non_finite_number_is_refused_and_others_never_fail(
    client: TestClient, document: object, token: str
) -> None:
    """Whatever JSON a client sends to a write endpoint, the answer is a 4xx or a success, never a
    5xx; with a non-finite number anywhere in it, always the 422 that says so."""
    alert = _open_alert(client)
    url = f"/api/v1/alerts/{alert}/close"
    finite = client.post(url, content=json.dumps(document), headers={"Content-Type": "application/json"})
    assert finite.status_code < 500, finite.text
    hostile = json.dumps([document, "<>"]).replace('"<>"', token)
    _assert_non_finite_refused(client.post(url, content=hostile, headers={"Content-Type": "application/json"}))


def test_a_field_named_twice_is_422_and_nothing_happens(client: TestClient) -> None:
    """Python keeps the last of two equal keys, other readers the first: refused, as the gateway does."""
    alert = _open_alert(client)
    before = client.get(f"/api/v1/alerts/{alert}/events").json()["data"]
    for body in ('{"note": "a", "note": "b"}', '{"note": "a", "x": {"y": 1, "y": 2}}', '[{"note": 1, "note": 1}]'):
        r = client.post(f"/api/v1/alerts/{alert}/ack", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, (body, r.text)
        assert (r.json()["code"], r.json()["detail"][0]["msg"]) == ("invalid_request", "a JSON object names a field more than once")
    assert client.get(f"/api/v1/alerts/{alert}/events").json()["data"] == before
    ok = client.post(f"/api/v1/alerts/{alert}/ack", content='{"note": "a"}', headers={"Content-Type": "application/json"})
    assert ok.status_code == 200, ok.text


#: Times at the ends of Python's datetimes, whose conversion to UTC or a week added overflowed
#: (a 500), and times just outside the documented bounds.
EXTREME_TIMES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T00:00:00Z",
    "1970-01-01T23:59:59Z",
    "2200-01-01T00:00:01Z",
]
_ANY_ID = {"{station_id}": "katulampa", "{vessel_id}": "no-such-vessel"}


def _is_time(schema: dict) -> bool:
    return schema.get("format") == "date-time" or any(s.get("format") == "date-time" for s in schema.get("anyOf", []))


def _time_parameters(client: TestClient) -> tuple[list[tuple[str, str, list[str]]], list[tuple[str, str, str]]]:
    """([(path, name, the operation's other time parameters)] of every time query parameter of
    a GET, [(path, body schema, field)] of every time field of a request body): all the app
    documents, now or later."""
    spec = _document(client)
    queries, bodies = [], []
    for path, operations in spec["paths"].items():
        times = [p["name"] for p in operations.get("get", {}).get("parameters", []) if p["in"] == "query" and _is_time(p["schema"])]
        queries += [(path, name, [t for t in times if t != name]) for name in times]
        for operation in operations.values():
            ref = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            refs = [ref, *ref.get("anyOf", [])]
            for r in (r["$ref"] for r in refs if "$ref" in r):
                name = r.rsplit("/", 1)[1]
                props = spec["components"]["schemas"][name]["properties"]
                bodies += [(path, name, field) for field, schema in props.items() if _is_time(schema)]
    return queries, bodies


def _caller(make_client: ClientFactory, method: str, path: str, clients: dict[str, TestClient] | None = None) -> TestClient:
    """A client of a DKI user allowed to call `path`; one per user in `clients` (an app is
    costly to build, and every endpoint with a time parameter is called)."""
    allowed = permissions.TABLE[(method, path)]
    for role, name in (("disaster_office", "Petugas Pusdalops"), ("admin", "Admin DKI"), ("fisher", "Fisher DKI")):
        if role in allowed:
            if clients is None:
                return make_client(as_user=(DKI, name), level_store="sql")
            if name not in clients:
                clients[name] = make_client(as_user=(DKI, name), level_store="sql")
            return clients[name]
    raise AssertionError(f"no test user may call {method} {path}")


@pytest.mark.parametrize("value", EXTREME_TIMES)
def test_times_out_of_range_anywhere_are_422_naming_the_field(make_client: ClientFactory, value: str) -> None:
    """Every time a client sends, in a query or a body, goes through `RequestDatetime`."""
    queries, bodies = _time_parameters(make_client(level_store="sql"))
    assert {name for _, name, _ in queries} >= {"since", "until", "start", "end"}
    assert {field for _, _, field in bodies} >= {"caught_at", "expected_return_at"}
    clients: dict[str, TestClient] = {}
    for path, name, others in queries:
        url = path
        for placeholder, value_ in _ANY_ID.items():
            url = url.replace(placeholder, value_)
        params = {other: "2025-01-20T00:00:00Z" for other in others} | {name: value}
        r = _caller(make_client, "GET", path, clients).get(url, params=params)
        assert r.status_code == 422, (path, name, r.text)
        assert any(e["loc"][-1] == name and "between 1970-01-02 and 2200-01-01" in e["msg"] for e in r.json()["detail"]), r.text
    for path, _schema, field in bodies:
        url = path
        for placeholder, value_ in _ANY_ID.items():
            url = url.replace(placeholder, value_)
        r = _caller(make_client, "POST", path, clients).post(url, json={field: value})
        assert r.status_code == 422, (path, field, r.text)
        assert any(e["loc"] == ["body", field] and "between 1970-01-02 and 2200-01-01" in e["msg"] for e in r.json()["detail"]), r.text
