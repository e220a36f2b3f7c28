"""`GET /public/warnings`: the warnings in force for the public page, worded as their CAP messages."""

from __future__ import annotations

from api_people import OFFICER, ClientFactory
from fastapi.testclient import TestClient
from lxml import etree
from river_story import BADUNG

from api.testing import TEST_PUBLIC_BASE_URL

WARNINGS = "/api/v1/public/warnings"
ALERTS = "/api/v1/alerts"
ATOM = "{http://www.w3.org/2005/Atom}"
FIELDS = {
    "id", "tenant", "type", "severity", "station", "area", "place", "siaga", "siaga_label", "headline_id",
    "headline_en", "since", "updated_at", "cap_url", "category",
}  # fmt: skip


def test_only_warnings_in_force_with_their_cap_headlines_and_nothing_personal(
    client: TestClient, anonymous: TestClient
) -> None:
    katulampa = next(a for a in client.get(ALERTS).json()["data"] if a["station"] == "katulampa")
    assert client.post(f"{ALERTS}/{katulampa['id']}/ack", json={"note": "tim ke Katulampa"}).is_success

    r = anonymous.get(WARNINGS, params={"tenant": "dki-jakarta"})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "public, max-age=60" and r.headers["etag"]
    body = r.json()
    # Depok's alert cleared (its Cancel is still in the CAP index): not in force, not listed.
    assert [(w["station"], w["siaga_label"], w["type"]) for w in body["data"]] == [
        ("manggarai", "SIAGA III", "siaga"),
        ("katulampa", "SIAGA II", "siaga"),
    ]
    assert body["count"] == 2 and all(set(w) == FIELDS for w in body["data"])
    for secret in (OFFICER, "tim ke Katulampa", "acknowledged", "kab-badung", BADUNG):
        assert secret not in r.text
    katulampa_warning = body["data"][1]
    assert katulampa_warning["place"] == "Bendung Katulampa" and katulampa_warning["area"] is None
    assert katulampa_warning["cap_url"] == f"{TEST_PUBLIC_BASE_URL}/api/v1/alerts/{katulampa['id']}/cap"
    assert katulampa_warning["headline_en"].startswith("Flood alert SIAGA II (Siaga) at Bendung Katulampa")

    # The same words as the CAP index (which also lists the cleared one, Depok's "Berakhir: ...").
    feed = etree.fromstring(anonymous.get(f"{ALERTS}/cap", params={"tenant": "dki-jakarta"}).content)
    titles = {e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")}
    assert {w["headline_id"] for w in body["data"]} < titles
    assert any(t.startswith("Berakhir:") for t in titles)


def test_by_tenant_or_all(anonymous: TestClient, make_client: ClientFactory) -> None:
    badung = anonymous.get(WARNINGS, params={"tenant": "kab-badung"}).json()["data"]
    assert [(w["tenant"], w["station"], w["siaga"]) for w in badung] == [("kab-badung", BADUNG, 3)]
    everyone = anonymous.get(WARNINGS).json()["data"]
    assert {(w["tenant"], w["station"]) for w in everyone} == {
        ("dki-jakarta", "katulampa"), ("dki-jakarta", "manggarai"), ("kab-badung", BADUNG),
    }  # fmt: skip
    assert anonymous.get(WARNINGS, params={"tenant": "no-such-tenant"}).json() == {"data": [], "count": 0}
    assert anonymous.get(WARNINGS, params={"tenant": "Not An Id"}).status_code == 422
