"""Every endpoint x every caller x own/other tenant: 200/201/204, 401, 403 or 404 as designed.

Callers: each of the seven roles in each of two tenants (DKI Jakarta, Kabupaten Badung), nobody,
a well-formed but unknown key, a revoked key, and the metrics token. Sides: the caller's own
tenant's object, or the other tenant's. Expected answers come from the table below, written
from the design (not from `api.permissions`, which `test_the_table_is_the_apps` compares):

* public endpoints answer 200 to anyone, whatever credentials come along;
* `/metrics` takes the metrics token only: 401 without valid credentials, 403 for API keys;
* everything else: 401 without a valid key, 403 for a role not listed, 404 for another
  tenant's object (exactly as for one that does not exist), success otherwise; lists and
  streams never contain another tenant's data, whatever the query says.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api import permissions
from api.main import create_app
from central.accounts import create_key, create_user, revoke_key, set_password
from api.settings import Settings
from api.testing import TEST_PEPPER, TEST_PUBLIC_BASE_URL, bearer
from central.db import Alert, User, create_engine, prepare_database, writer
from kinds.fishfinder.catches import Catch
from kinds.fishfinder.grounds import ground_id_at
from kinds.fishfinder.state import SchoolSighting, VesselPosition, register_vessel
from kinds.fishfinder.api.sea_service import APP_ACTOR, SOS_SEVERITY, SOS_TYPE
from kinds.wavebuoy.state import WaveBuoy
from central.incidents import raise_subject_alert
from kinds.awlr.ingest.points import SqlPointSink
from ingest.service import apply_batch
from ingest.testing import batch, rate_of_rise, siaga_change, summary
from core.config import TepiConfig, load_config
from badge_matrix import MISSING_NIP, badge_objects, badge_request, throwaway_leave

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

POSTGRES_URL = os.environ.get("TEPI_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
METRICS_TOKEN = "matrix-metrics-token-0123456789abcdefghij"
#: The DKI viewer's console password: signing in is public, whoever else the caller is.
CONSOLE_PASSWORD = "matrix console password"
T0 = datetime(2025, 1, 20, tzinfo=timezone.utc)
TENANTS = ("dki-jakarta", "kab-badung")
ROLES = ("admin", "disaster_office", "employee", "fisher", "fisheries_office", "staff_admin", "viewer")
OTHER = {"dki-jakarta": "kab-badung", "kab-badung": "dki-jakarta"}

PUBLIC, METRICS = "public", "metrics"
BADGE_PATHS = ("/api/v1/employees", "/api/v1/attendance", "/api/v1/activities", "/api/v1/leave", "/api/v1/security-events")
ALERT_READERS = {"admin", "disaster_office", "viewer"}
ALERT_ACTORS = {"admin", "disaster_office"}
EVERYONE = set(ROLES)
ADMINS = {"admin"}
# The fish finder: catches are the fisher's own; statistics for the fisheries office; vessels
# and SOS incidents for the owner and the rescue, never for viewers.
FISHER = {"fisher"}
STATISTICIANS = {"admin", "fisheries_office"}
VESSEL_READERS = {"admin", "disaster_office", "fisher"}
RESPONDERS = {"admin", "disaster_office"}
#: One incident: the rescue, and the fisher who owns the vessel (is help coming?).
INCIDENT_READERS = RESPONDERS | FISHER
#: A vessel's safe route: its owner, the admin (harbour register) and the rescue.
ROUTE_PLANNERS = {"admin", "disaster_office", "fisher"}
#: Fishing grounds (anonymised, at least 3 boats): fishers, the fisheries office, the admin.
GROUND_READERS = {"admin", "fisher", "fisheries_office"}
# Attendance (kinds/badge): an employee their own records, a staff_admin their office's, the
# admin the tenant's; recording activities and asking leave for oneself (a linked user).
STAFF_ADMINS = {"admin", "staff_admin"}
ATTENDANCE_READERS = {"admin", "employee", "staff_admin"}
SELF_SERVICE = {"employee", "staff_admin"}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    allowed: str | set[str]
    ok: int = 200
    #: "object": the path names one object (other tenant's: 404); "list": data of the caller's
    #: tenant only, whatever `?tenant=` says; "single": no other side; "person": an object that
    #: is a person's records, with a third side, "colleague": another employee of the caller's
    #: own office (an employee gets 404 there, as for a NIP that does not exist).
    scope: str = "list"
    #: Another success answer in some tenants: DKI Jakarta has no sea section, so no route (422).
    ok_in: dict[str, int] = field(default_factory=dict)


ENDPOINTS = [
    Endpoint("GET", "/healthz", PUBLIC, scope="single"),
    Endpoint("GET", "/api/v1/healthz", PUBLIC, scope="single"),
    Endpoint("GET", "/api/v1/public/stations", PUBLIC),
    Endpoint("GET", "/api/v1/public/warnings", PUBLIC),
    Endpoint("GET", "/api/v1/public/basemap", PUBLIC),
    Endpoint("GET", "/api/v1/public/tenants", PUBLIC),
    # Signing in to the console: anyone with the password, whatever key comes along; signing out
    # without a session cookie just clears it.
    Endpoint("POST", "/api/v1/session", PUBLIC, scope="single"),
    Endpoint("DELETE", "/api/v1/session", PUBLIC, ok=204, scope="single"),
    Endpoint("GET", "/api/v1/alerts/cap", PUBLIC),
    Endpoint("GET", "/api/v1/alerts/{alert_id}/cap", PUBLIC, scope="public-object"),
    Endpoint("GET", "/metrics", METRICS, scope="single"),
    Endpoint("GET", "/api/v1/metrics", METRICS, scope="single"),
    Endpoint("GET", "/api/v1/me", EVERYONE, scope="single"),
    Endpoint("GET", "/api/v1/basemap", EVERYONE),
    Endpoint("GET", "/api/v1/stations", EVERYONE),
    Endpoint("GET", "/api/v1/stations/{station_id}", EVERYONE, scope="object"),
    Endpoint("GET", "/api/v1/stations/{station_id}/levels", EVERYONE, scope="object"),
    Endpoint("GET", "/api/v1/alerts", ALERT_READERS),
    Endpoint("GET", "/api/v1/alerts/stream", ALERT_READERS),
    Endpoint("GET", "/api/v1/alerts/{alert_id}", ALERT_READERS, scope="object"),
    Endpoint("GET", "/api/v1/alerts/{alert_id}/events", ALERT_READERS, scope="object"),
    Endpoint("POST", "/api/v1/alerts/{alert_id}/ack", ALERT_ACTORS, scope="object"),
    Endpoint("POST", "/api/v1/alerts/{alert_id}/close", ALERT_ACTORS, scope="object"),
    Endpoint("GET", "/api/v1/gateways", ALERT_READERS),
    # A user's own subscriptions: another's (of either tenant) is 404.
    Endpoint("GET", "/api/v1/subscriptions", ALERT_READERS),
    Endpoint("POST", "/api/v1/subscriptions", ALERT_READERS, ok=201, scope="single"),
    Endpoint("DELETE", "/api/v1/subscriptions/{subscription_id}", ALERT_READERS, ok=204, scope="object"),
    Endpoint("GET", "/api/v1/users", ADMINS),
    Endpoint("POST", "/api/v1/users", ADMINS, ok=201, scope="single"),
    Endpoint("GET", "/api/v1/users/{user_id}/keys", ADMINS, scope="object"),
    Endpoint("POST", "/api/v1/users/{user_id}/keys", ADMINS, ok=201, scope="object"),
    Endpoint("DELETE", "/api/v1/keys/{key_id}", ADMINS, ok=204, scope="object"),
    Endpoint("POST", "/api/v1/catches", FISHER, ok=201, scope="single"),
    Endpoint("GET", "/api/v1/catches", FISHER),
    Endpoint("GET", "/api/v1/catches/contacts", FISHER),
    Endpoint("GET", "/api/v1/catches/aggregates", STATISTICIANS),
    Endpoint("GET", "/api/v1/catches/{catch_id}", FISHER, scope="object"),
    Endpoint("GET", "/api/v1/market", EVERYONE),
    Endpoint("POST", "/api/v1/market/{catch_id}/contact", EVERYONE, ok=201, scope="object"),
    Endpoint("GET", "/api/v1/vessels", VESSEL_READERS),
    Endpoint("GET", "/api/v1/vessels/{vessel_id}/track", VESSEL_READERS, scope="object"),
    Endpoint("POST", "/api/v1/vessels/{vessel_id}/departure", {"admin", "fisher"}, scope="object"),
    # The vessel is named in the body: another tenant's is a 404 as for a path's object.
    Endpoint("POST", "/api/v1/sos", FISHER, ok=201, scope="object"),
    Endpoint("GET", "/api/v1/sos", RESPONDERS),
    Endpoint("GET", "/api/v1/sos/{incident_id}", INCIDENT_READERS, scope="object"),
    Endpoint("POST", "/api/v1/sos/{incident_id}/acknowledge", RESPONDERS, scope="object"),
    Endpoint("POST", "/api/v1/sos/{incident_id}/resolve", RESPONDERS, scope="object"),
    # Wave buoys (kinds/wavebuoy): the sea state is everyone's of the tenant, viewers included.
    Endpoint("GET", "/api/v1/buoys", EVERYONE),
    Endpoint("GET", "/api/v1/buoys/{buoy_id}", EVERYONE, scope="object"),
    # Sea conditions are public safety information: every role of the tenant (kinds/wavebuoy).
    Endpoint("GET", "/api/v1/marine-conditions", EVERYONE),
    # The vessel is named in the query: another tenant's is a 404 as for a path's object.
    Endpoint("GET", "/api/v1/routes", ROUTE_PLANNERS, scope="object", ok_in={"dki-jakarta": 422}),
    Endpoint("GET", "/api/v1/fishing-grounds", GROUND_READERS),
    Endpoint("GET", "/api/v1/fishing-grounds/{ground_id}", GROUND_READERS, scope="object"),
    # Attendance (kinds/badge). A NIP in the body or query is an object as one in the path.
    Endpoint("GET", "/api/v1/employees", STAFF_ADMINS),
    Endpoint("POST", "/api/v1/employees/import", STAFF_ADMINS, scope="single"),
    Endpoint("GET", "/api/v1/employees/me", SELF_SERVICE, scope="single"),
    Endpoint("GET", "/api/v1/employees/{nip}", ATTENDANCE_READERS, scope="person"),
    Endpoint("GET", "/api/v1/attendance/daily", STAFF_ADMINS),
    Endpoint("GET", "/api/v1/attendance/monthly", STAFF_ADMINS),
    Endpoint("GET", "/api/v1/attendance/employees/{nip}/days", ATTENDANCE_READERS, scope="person"),
    Endpoint("GET", "/api/v1/attendance/employees/{nip}/monthly", ATTENDANCE_READERS, scope="person"),
    Endpoint("POST", "/api/v1/attendance/corrections", STAFF_ADMINS, ok=201, scope="object"),
    Endpoint("GET", "/api/v1/attendance/views", ATTENDANCE_READERS),
    Endpoint("POST", "/api/v1/activities", SELF_SERVICE, ok=201, scope="single"),
    Endpoint("GET", "/api/v1/activities", ATTENDANCE_READERS),
    Endpoint("POST", "/api/v1/leave", SELF_SERVICE, ok=201, scope="single"),
    Endpoint("GET", "/api/v1/leave", ATTENDANCE_READERS),
    Endpoint("POST", "/api/v1/leave/{leave_id}/approve", STAFF_ADMINS, scope="object"),
    Endpoint("POST", "/api/v1/leave/{leave_id}/reject", STAFF_ADMINS, scope="object"),
    Endpoint("GET", "/api/v1/security-events", STAFF_ADMINS),
]

#: Path and body values naming nothing that exists: what another tenant's object must look like.
MISSING = {
    "alert_id": 2**31 - 1,
    "station_id": "no-such-station",
    "user_id": 2**31 - 1,
    "key_id": "f" * 16,
    "catch_id": 2**31 - 1,
    "vessel_id": "no-such-vessel",
    "incident_id": 2**31 - 1,
    "buoy_id": "no-such-buoy",
    "ground_id": "fg-n0000-e00000",
    "nip": MISSING_NIP,
    "leave_id": 2**31 - 1,
    "subscription_id": 2**31 - 1,
}

#: Callers: (tenant, role) of a user, or one of these.
ANONYMOUS, UNKNOWN_KEY, REVOKED_KEY, METRICS_CALLER = "anonymous", "unknown-key", "revoked-key", "metrics-token"
Caller = tuple[str, str] | str
CALLERS: list[Caller] = [
    *((t, r) for t in TENANTS for r in ROLES),
    ANONYMOUS,
    UNKNOWN_KEY,
    REVOKED_KEY,
    METRICS_CALLER,
]


def sides(endpoint: Endpoint) -> tuple[str, ...]:
    if endpoint.scope == "person":
        return ("own", "other", "colleague")
    return ("own",) if endpoint.scope == "single" else ("own", "other")


def expected(endpoint: Endpoint, caller: Caller, side: str) -> int:
    if endpoint.allowed == PUBLIC:
        return endpoint.ok
    if endpoint.allowed == METRICS:
        return 200 if caller == METRICS_CALLER else 403 if isinstance(caller, tuple) else 401
    if not isinstance(caller, tuple):
        return 401
    if caller[1] not in endpoint.allowed:
        return 403
    if side == "other" and endpoint.scope in ("object", "person"):
        return 404
    if side == "colleague" and caller[1] == "employee":
        return 404
    return endpoint.ok_in.get(caller[0], endpoint.ok)


def _id(caller: Caller) -> str:
    return "/".join(caller) if isinstance(caller, tuple) else caller


CASES = [(e, c, s) for e in ENDPOINTS for c in CALLERS for s in sides(e)]
CASE_IDS = [f"{e.method} {e.path} | {_id(c)} | {s}" for e, c, s in CASES]


@dataclass
class World:
    client: TestClient
    engine: Engine
    keys: dict[Caller, str] = field(default_factory=dict)
    #: Per tenant: its objects the paths name.
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)


def _story(engine: Engine) -> None:
    """DKI: Katulampa's Siaga alert active, Depok's cleared. Badung: Tukad Mati's Siaga alert
    cleared, its rate-of-rise alert active."""
    badung = "gw-badung"
    dki = [
        batch([siaga_change("katulampa", T0, 3, 95.0, siaga_from=4, seq=1)]),
        batch([siaga_change("depok", T0, 3, 205.0, siaga_from=4, seq=2)]),
        batch([siaga_change("depok", T0 + timedelta(hours=2), 4, 190.0, siaga_from=3, seq=3)]),
        batch([summary("depok", T0 + timedelta(minutes=10 * i), 150.0 + i) for i in range(3)]),
    ]
    kuta = "tukad-mati-kuta"
    bdg = [
        batch([siaga_change(kuta, T0, 3, 160.0, siaga_from=4, seq=1, gateway=badung)], tenant="kab-badung", gateway=badung),
        batch(
            [siaga_change(kuta, T0 + timedelta(hours=1), 4, 140.0, siaga_from=3, seq=2, gateway=badung)],
            tenant="kab-badung",
            gateway=badung,
        ),
        batch(
            [rate_of_rise(kuta, T0 + timedelta(hours=2), True, 145.0, seq=3, gateway=badung)],
            tenant="kab-badung",
            gateway=badung,
        ),
        batch([summary(kuta, T0 + timedelta(minutes=10 * i), 120.0 + i, gateway=badung) for i in range(3)], tenant="kab-badung", gateway=badung),
    ]
    with Session(writer(engine)) as s, s.begin():
        for b in [*dki, *bdg]:
            result = apply_batch(s, b, SqlPointSink(s))
            assert result.rejected_total == 0


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    config: TepiConfig = load_config()
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'state.db'}"
    else:
        schema = f"m_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"

        def cleanup() -> None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    engine = create_engine(url)
    try:
        prepare_database(engine, config)
        _story(engine)
        settings = Settings(
            database_url=url,
            auth_pepper=TEST_PEPPER,  # type: ignore[arg-type]
            public_base_url=TEST_PUBLIC_BASE_URL,
            metrics_token=METRICS_TOKEN,  # type: ignore[arg-type]
            public_burst=100_000,
            public_cache_s=0,
            login_ip_burst=100_000,
            stream_max_s=0.05,
            stream_heartbeat_s=0.05,
            level_store="sql",
        )
        app = create_app(config, settings, registry=CollectorRegistry())
        client = TestClient(app)
        client.__enter__()
        w = World(client=client, engine=engine)
        pepper = TEST_PEPPER.encode()
        with Session(writer(engine)) as s, s.begin():
            for tenant in TENANTS:
                users = {role: create_user(s, tenant, f"{role}@{tenant}", role) for role in ROLES}
                for role, user in users.items():
                    w.keys[(tenant, role)] = create_key(s, pepper, user.id)[1]
                alerts = {a.status: a.id for a in s.scalars(sa.select(Alert).where(Alert.tenant_id == tenant))}
                w.objects[tenant] = {
                    "station_id": "katulampa" if tenant == "dki-jakarta" else "tukad-mati-kuta",
                    "active": alerts["active"],
                    "cleared": alerts["cleared"],
                    "user_id": users["viewer"].id,
                    "user_ids": {role: user.id for role, user in users.items()},
                    **_sea(s, tenant, users["fisher"].id),
                    "buoy_id": _buoy(s, tenant),
                    **badge_objects(s, tenant, users),
                }
            set_password(s, s.scalars(sa.select(User).where(User.name == "viewer@dki-jakarta")).one(), CONSOLE_PASSWORD, T0)
            row, key = create_key(s, pepper, s.scalars(sa.select(User.id).where(User.name == "admin@dki-jakarta")).one())
            revoke_key(s, row.id)
        w.keys[REVOKED_KEY] = key
        w.keys[UNKNOWN_KEY] = "tepi_0123456789abcdef_" + "Q" * 43
        w.keys[METRICS_CALLER] = METRICS_TOKEN
        yield w
        client.__exit__(None, None, None)
    finally:
        engine.dispose()
        cleanup()


def _sea(s: Session, tenant: str, fisher_id: int) -> dict[str, Any]:
    """The tenant's fisher owns two vessels, each with a position and an SOS incident (one to
    acknowledge, one to resolve), and a catch for sale."""
    now = datetime.now(timezone.utc)
    incidents = {}
    for n, purpose in ((1, "ack_incident"), (2, "resolve_incident")):
        vessel = register_vessel(
            s, vessel_id=f"{tenant}-boat-{n}", tenant=tenant, name=f"KM Matrix {n}", home_port="Pelabuhan",
            gateway_id=f"gw-{tenant}-boat-{n}", now=now, owner_user=fisher_id, speed_kn=6.0,
        )
        s.add(VesselPosition(tenant_id=tenant, vessel_id=vessel.id, ts=now - timedelta(minutes=n), lat=-8.7, lon=115.2 + n / 10))
        vessel.last_lat, vessel.last_lon, vessel.last_fix_at = -8.7, 115.2 + n / 10, now - timedelta(minutes=n)
        alert, _ = raise_subject_alert(
            s, tenant=tenant, kind="fishfinder", subject=vessel.id, alert_type=SOS_TYPE, severity=SOS_SEVERITY,
            at=now, who=APP_ACTOR, detail={"nature": "adrift"},
        )
        s.flush()
        incidents[purpose] = alert.id
    catch = Catch(
        tenant_id=tenant, fisher_id=fisher_id, vessel_id=f"{tenant}-boat-1", species="tongkol", weight_kg=12.0,
        lat=-8.7, lon=115.2, caught_at=now - timedelta(hours=2), price_idr_per_kg=25_000, port="Benoa",
        for_sale=True, created_at=now,
    )
    s.add(catch)
    s.flush()
    return {"catch_id": catch.id, "vessel_id": f"{tenant}-boat-1", "ground_id": _ground(s, tenant, now), **incidents}


#: Where each tenant's three boats saw schools: off Jakarta Bay, and south of Bali's Bukit.
GROUND_SPOTS = {"dki-jakarta": (-5.955, 106.805), "kab-badung": (-8.905, 115.155)}


def _ground(s: Session, tenant: str, now: datetime) -> str:
    """Three boats of the tenant (no owner) each saw a school at its spot an hour ago: a ground."""
    lat, lon = GROUND_SPOTS[tenant]
    for n in range(3):
        vessel = register_vessel(s, vessel_id=f"{tenant}-seiner-{n}", tenant=tenant, name=f"KM Seiner {n}",
                                 home_port="Pelabuhan", gateway_id=f"gw-{tenant}-seiner-{n}", now=now)
        at = now - timedelta(hours=1)
        s.add(SchoolSighting(item_id=f"{tenant}-school-{n}", tenant_id=tenant, vessel_id=vessel.id, gateway=vessel.gateway_id,
                             start=at, end=at, lat=lat + n / 1000, lon=lon, top_m=10.0, bottom_m=20.0, mean_sv_db=-60.0, pings=10))
    return ground_id_at(lat, lon)


def _buoy(s: Session, tenant: str) -> str:
    """A buoy of the tenant (as the configuration's `buoys:` would declare it), observed an hour ago."""
    buoy = WaveBuoy(id=f"{tenant}-buoy", tenant_id=tenant, name="Buoy Matrix", lat=-8.8, lon=115.2,
                    observed_at=datetime.now(timezone.utc) - timedelta(hours=1), hs_m=1.1, tp_s=9.0)
    s.add(buoy)
    s.flush()
    return buoy.id


def _throwaway_key(world: World, tenant: str) -> str:
    with Session(writer(world.engine)) as s, s.begin():
        row, _key = create_key(s, TEST_PEPPER.encode(), world.objects[tenant]["user_id"])
        return row.id


def _throwaway_subscription(world: World, tenant: str, role: str) -> int:
    from central.reach_models import Subscription

    with Session(writer(world.engine)) as s, s.begin():
        sub = Subscription(tenant_id=tenant, user_id=world.objects[tenant]["user_ids"][role], channel="email",
                           target="matrix@example.go.id", alert_types=[], subjects=[], created_at=datetime.now(timezone.utc))
        s.add(sub)
        s.flush()
        return sub.id


def _request(world: World, endpoint: Endpoint, caller: Caller, side: str) -> tuple[Any, str]:
    """(response, the tenant whose object or data was asked for)."""
    own = caller[0] if isinstance(caller, tuple) else "dki-jakarta"
    target = OTHER[own] if side == "other" else own
    objects = world.objects[target]
    values = {
        "alert_id": objects["cleared" if endpoint.path.endswith("/close") else "active"],
        "station_id": objects["station_id"],
        "user_id": objects["user_id"],
        "key_id": _throwaway_key(world, target) if "{key_id}" in endpoint.path else "",
        "catch_id": objects["catch_id"],
        "vessel_id": objects["vessel_id"],
        "incident_id": objects["resolve_incident" if endpoint.path.endswith("/resolve") else "ack_incident"],
        "buoy_id": objects["buoy_id"],
        "ground_id": objects["ground_id"],
        "nip": objects["colleague_nip" if side == "colleague" else "nip"],
        "leave_id": throwaway_leave(world.engine, objects["employee_id"], target) if "{leave_id}" in endpoint.path else 0,
        "office": objects["office"],
        "subscription_id": _throwaway_subscription(world, target, caller[1] if isinstance(caller, tuple) else "viewer")
        if "{subscription_id}" in endpoint.path else 0,
    }
    params: dict[str, Any] = {}
    if endpoint.scope == "list" and side == "other":
        params["tenant"] = target  # no way out of one's own tenant
    if endpoint.path == "/api/v1/alerts/stream":
        params["after"] = 0
    if endpoint.path == "/api/v1/catches/aggregates":
        params.update(since=(T0 - timedelta(days=7)).isoformat(), until=T0.isoformat())
    headers = bearer(world.keys[caller]) if caller != ANONYMOUS else {}
    response = _send(world, endpoint, values, params, headers)
    return response, target


def _send(world: World, endpoint: Endpoint, values: dict[str, Any], params: dict[str, Any], headers: dict[str, str]) -> Any:
    """`endpoint` with `values` in its path (and its body, where the body names the object)."""
    body: dict[str, Any] | None = None
    if endpoint.path.startswith(BADGE_PATHS):
        params, extra = badge_request(endpoint.path, {**values, "method": endpoint.method}, params)
        return world.client.request(endpoint.method, endpoint.path.format(**values), params=params, headers={**headers, **extra.pop("headers", {})}, **extra)
    if endpoint.path == "/api/v1/users":
        body = {"name": f"user {uuid.uuid4().hex[:8]}", "role": "viewer"}
    elif endpoint.path == "/api/v1/catches":
        caught = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
        body = {"species": "kembung", "weight_kg": 3.0, "lat": -8.7, "lon": 115.2, "caught_at": caught, "port": "Benoa"}
    elif endpoint.path == "/api/v1/sos":
        body = {"vessel": values["vessel_id"], "lat": -8.71, "lon": 115.21, "nature": "adrift"}
    elif endpoint.path.endswith("/departure"):
        body = {"expected_return_at": (datetime.now(timezone.utc) + timedelta(hours=6)).isoformat()}
    elif endpoint.path == "/api/v1/subscriptions":
        body = {"channel": "email", "target": "matrix@example.go.id"}
    elif endpoint.path.endswith("/contact"):
        body = {"message": "Masih ada?"}
    elif endpoint.path == "/api/v1/routes":  # Benoa to a ground south of Bukit (Badung's sea)
        params = {**params, "from": "-8.7394,115.2083", "to": "-8.95,115.12", "vessel": values["vessel_id"]}
    elif endpoint.path == "/api/v1/session" and endpoint.method == "POST":
        body = {"tenant": "dki-jakarta", "name": "viewer@dki-jakarta", "password": CONSOLE_PASSWORD}
    response = world.client.request(endpoint.method, endpoint.path.format(**values), params=params, headers=headers, json=body)
    world.client.cookies.clear()  # every caller of the matrix is who its key says, never a session
    return response


@pytest.mark.parametrize(("endpoint", "caller", "side"), CASES, ids=CASE_IDS)
def test_matrix(world: World, endpoint: Endpoint, caller: Caller, side: str) -> None:
    response, target = _request(world, endpoint, caller, side)
    want = expected(endpoint, caller, side)
    assert response.status_code == want, (response.status_code, response.text[:300])
    if want == 401:
        assert response.headers["www-authenticate"].startswith('Bearer realm="tepi"')
    if want == 404:
        # Exactly what a missing object gets: the other tenant's existence does not show.
        missing = _send(world, endpoint, MISSING, {}, bearer(world.keys[caller]))  # type: ignore[index]
        assert (missing.status_code, missing.json()["code"]) == (404, response.json()["code"])
    if want == 422:
        assert "no sea section" in response.json()["detail"][0]["msg"], response.text
    if want in (200, 201) and isinstance(caller, tuple) and endpoint.allowed not in (PUBLIC, METRICS):
        foreign = OTHER[caller[0]]
        assert foreign not in response.text, f"{foreign} data leaked to {caller}"
        assert target == caller[0] or endpoint.scope == "list"


def test_the_table_is_the_apps(world: World) -> None:
    """Every route of the app is in this matrix, and the documented table says the same."""
    from fastapi.routing import APIRoute

    app = world.client.app
    # Routes of included routers are in the schema; the root probes are not, but are APIRoutes.
    routes = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops}  # type: ignore[attr-defined]
    # The docs pages are FastAPI's own (public, no data; tests/api/test_api_operations.py covers them).
    docs = {"/docs", "/docs/oauth2-redirect", "/redoc"}
    routes |= {(m, r.path) for r in app.routes if isinstance(r, APIRoute) and r.path not in docs for m in r.methods}  # type: ignore[attr-defined]
    assert routes == {(e.method, e.path) for e in ENDPOINTS}
    documented = {
        (e.method, e.path): (e.allowed if isinstance(e.allowed, str) else set(e.allowed)) for e in ENDPOINTS
    }
    table = {k: (v if isinstance(v, str) else set(v)) for k, v in permissions.TABLE.items()}
    assert table == documented
    print(f"\nauthorisation matrix: {len(CASES)} cases per database, {2 * len(CASES)} in all")


