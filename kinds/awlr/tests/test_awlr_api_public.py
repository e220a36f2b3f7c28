"""The public view: /public/stations, CAP messages and their feed without credentials; caching and rate limits."""

from __future__ import annotations

from datetime import timedelta

from api_people import HEAD, OFFICER, ClientFactory
from fastapi.testclient import TestClient
from lxml import etree
from river_story import BADUNG, T0
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import writer
from kinds.awlr.ingest.points import SqlPointSink
from ingest.service import apply_batch
from ingest.testing import batch, summary

PUBLIC = "/api/v1/public/stations"
ALERTS = "/api/v1/alerts"
ATOM = "{http://www.w3.org/2005/Atom}"
#: Everything a public station shows; anything more is a publication decision, made in the model.
PUBLIC_FIELDS = {
    "tenant", "station", "name", "river", "lat", "lon", "level_cm", "siaga", "siaga_label", "trend", "trend_cm_per_h", "updated_at",
}  # fmt: skip


def act_on_alerts(client: TestClient, make_client: ClientFactory) -> None:
    """People act: the officer acknowledges Katulampa with a note, the head closes Depok's cleared alert."""
    by_station = {a["station"]: a for a in client.get(ALERTS).json()["data"]}
    assert client.post(f"{ALERTS}/{by_station['katulampa']['id']}/ack", json={"note": "tim ke Katulampa"}).is_success
    head = make_client(as_user=("dki-jakarta", HEAD))
    assert head.post(f"{ALERTS}/{by_station['depok']['id']}/close", json={"note": "surut"}).is_success


def test_public_stations_need_no_key_and_show_nothing_personal(
    client: TestClient, anonymous: TestClient, make_client: ClientFactory
) -> None:
    act_on_alerts(client, make_client)
    r = anonymous.get(PUBLIC)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"data", "count", "limit", "offset"}
    assert all(set(s) == PUBLIC_FIELDS for s in body["data"])
    for secret in (OFFICER, HEAD, "tim ke Katulampa", "surut", "acknowledged", "thresholds", "gateway"):
        assert secret not in r.text
    by_id = {s["station"]: s for s in body["data"]}
    assert [(s["tenant"], s["station"]) for s in body["data"]] == [
        ("dki-jakarta", "depok"),
        ("dki-jakarta", "katulampa"),
        ("dki-jakarta", "manggarai"),
        ("kab-badung", BADUNG),
    ]
    assert by_id["depok"] | {"trend": None, "trend_cm_per_h": None} == {
        "tenant": "dki-jakarta",
        "station": "depok",
        "name": "Pos Depok (Panus)",
        "river": "Ciliwung",
        "lat": -6.3967,
        "lon": 106.8317,
        "level_cm": 148.0,
        "siaga": 4,
        "siaga_label": "SIAGA IV",
        "trend": None,
        "trend_cm_per_h": None,
        "updated_at": "2025-01-20T02:59:59Z",
    }
    # Trend over the half hour up to the newest reading: Depok +1 cm and Tukad Mati +5 cm a
    # 10-minute window; Katulampa has only events, Manggarai's windows are hours older than its
    # newest reading: no trend.
    assert {k: (s["trend"], s["trend_cm_per_h"]) for k, s in by_id.items()} == {
        "depok": ("rising", 6.0),
        BADUNG: ("rising", 30.0),
        "katulampa": (None, None),
        "manggarai": (None, None),
    }
    assert by_id[BADUNG]["siaga_label"] == "SIAGA III"


def test_trend_falls_with_the_water(anonymous: TestClient, engine: Engine) -> None:
    with Session(writer(engine)) as s, s.begin():
        falling = [summary("depok", T0 + timedelta(minutes=10 * i), m) for i, m in ((18, 144.0), (19, 139.0))]
        apply_batch(s, batch(falling), SqlPointSink(s))
    depok = next(x for x in anonymous.get(PUBLIC).json()["data"] if x["station"] == "depok")
    # Window means 147, 144, 139 cm ten minutes apart: 4 cm down every ten minutes.
    assert (depok["trend"], depok["trend_cm_per_h"], depok["level_cm"]) == ("falling", -24.0, 140.0)


def test_public_stations_by_tenant_and_paginated(anonymous: TestClient) -> None:
    badung = anonymous.get(PUBLIC, params={"tenant": "kab-badung"}).json()
    assert (badung["count"], [s["station"] for s in badung["data"]]) == (1, [BADUNG])
    assert anonymous.get(PUBLIC, params={"tenant": "kab-nowhere"}).json()["count"] == 0
    page = anonymous.get(PUBLIC, params={"limit": 2, "offset": 2}).json()
    assert (page["count"], page["limit"], page["offset"]) == (4, 2, 2)
    assert [s["station"] for s in page["data"]] == ["manggarai", BADUNG]
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"tenant": "DKI Jakarta"}, {"tenant": "x" * 64}):
        assert anonymous.get(PUBLIC, params=bad).status_code == 422, bad


def test_etag_and_304(anonymous: TestClient, engine: Engine) -> None:
    first = anonymous.get(PUBLIC)
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    assert tag.startswith('"') and tag.endswith('"')
    again = anonymous.get(PUBLIC, headers={"If-None-Match": tag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
    assert again.headers["cache-control"] == "public, max-age=60"
    assert anonymous.get(PUBLIC, headers={"If-None-Match": f'"other", W/{tag}'}).status_code == 304
    assert anonymous.get(PUBLIC, headers={"If-None-Match": '"other"'}).status_code == 200
    # New water, new representation, new validator.
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, batch([summary("depok", T0 + timedelta(hours=3), 150.0)]), SqlPointSink(s))
    changed = anonymous.get(PUBLIC, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag


def test_server_reuses_a_computed_answer_for_public_cache_s(make_client: ClientFactory, engine: Engine) -> None:
    anonymous = make_client(as_user=None, public_cache_s=60)
    before = anonymous.get(PUBLIC).content
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, batch([summary("depok", T0 + timedelta(hours=3), 150.0)]), SqlPointSink(s))
    assert anonymous.get(PUBLIC).content == before


def test_public_endpoints_are_rate_limited_per_client(make_client: ClientFactory) -> None:
    anonymous = make_client(as_user=None, public_burst=3, public_rate_per_s=0.05)
    assert [anonymous.get(PUBLIC).status_code for _ in range(3)] == [200, 200, 200]
    limited = anonymous.get(PUBLIC)
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    # 1 token at 0.05/s: 20 s, slow enough that no token comes back during the test (a slow machine
    # may have refilled part of it between the requests: Retry-After counts what is left).
    assert 15 <= int(limited.headers["retry-after"]) <= 20
    # One bucket per client across the public endpoints; authenticated ones are not limited by it.
    assert anonymous.get(f"{ALERTS}/cap").status_code == 429
    assert anonymous.get("/healthz").status_code == 200


def test_cap_messages_and_feed_are_public_without_personal_data(
    client: TestClient, anonymous: TestClient, make_client: ClientFactory
) -> None:
    act_on_alerts(client, make_client)
    feed = anonymous.get(f"{ALERTS}/cap")
    assert feed.status_code == 200 and feed.headers["cache-control"] == "public, max-age=60"
    entries = etree.fromstring(feed.content).findall(f"{ATOM}entry")
    assert {e.findtext(f"{ATOM}id", "").split(":")[2] for e in entries} == {"dki-jakarta", "kab-badung"}
    only_badung = etree.fromstring(anonymous.get(f"{ALERTS}/cap", params={"tenant": "kab-badung"}).content)
    assert [e.findtext(f"{ATOM}id", "").split(":")[2] for e in only_badung.findall(f"{ATOM}entry")] == ["kab-badung"]
    every = [a["id"] for a in client.get(ALERTS, params={"limit": 100}).json()["data"]]
    for alert_id in every:
        for revision in (None, 1):
            r = anonymous.get(f"{ALERTS}/{alert_id}/cap", params={"revision": revision} if revision else {})
            assert r.status_code == 200, r.text
            for secret in (OFFICER, HEAD, "tim ke Katulampa", "surut"):
                assert secret.encode() not in r.content
            assert b"/api/v1/public/stations?tenant=dki-jakarta</" in r.content  # `web`: public too
            tag = r.headers["etag"]
            assert anonymous.get(r.url, headers={"If-None-Match": tag}).status_code == 304
    for secret in (OFFICER, HEAD):
        assert secret.encode() not in feed.content
    assert anonymous.get(f"{ALERTS}/999999/cap").status_code == 404
