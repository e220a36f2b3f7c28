"""CAP 1.2 messages of every alert type and msgType, validated against the OASIS XSD; the Atom index."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from cap_schema import CAP, text, validate_cap
from fastapi.testclient import TestClient
from lxml import etree
from river_story import T0
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import writer
from kinds.awlr.ingest.forecast import RiverNetwork
from kinds.awlr.ingest.offline import alerting_rules, check_offline
from kinds.awlr.ingest.points import SqlPointSink
from ingest.service import apply_batch
from ingest.testing import batch, rate_of_rise, siaga_change, summary
from core.config import TepiConfig

API = "/api/v1/alerts"
H = timedelta(hours=1)
ATOM = "{http://www.w3.org/2005/Atom}"


def flood_season(engine: Engine, config: TepiConfig) -> None:
    """On top of the river story: every alert type through every step a public message has."""
    network = RiverNetwork.from_config(config)
    steps = [
        siaga_change("depok", T0 + 5 * H, 3, 210.0, siaga_from=4, seq=21),  # forecast Manggarai from Depok
        siaga_change("katulampa", T0 + 6 * H, 1, 230.0, siaga_from=2, seq=22),  # worse: refines it
        rate_of_rise("katulampa", T0 + 6.5 * H, True, 240.0, rate_cm_per_h=120.0, seq=23),
        rate_of_rise("katulampa", T0 + 7 * H, False, 235.0, rate_cm_per_h=10.0, seq=24),
        siaga_change("katulampa", T0 + 8 * H, 4, 70.0, siaga_from=1, seq=25),  # clears; windows extend
        siaga_change("depok", T0 + 10.5 * H, 2, 280.0, siaga_from=3, seq=26),  # confirms Depok's forecast
        siaga_change("depok", T0 + 12 * H, 4, 180.0, siaga_from=2, seq=27),
        summary("manggarai", T0 + 20 * H, 640.0),  # normal past the window: cancels Manggarai's
    ]
    for item in steps:
        with Session(writer(engine)) as s, s.begin():
            apply_batch(s, batch([item]), SqlPointSink(s), network=network)
    later = datetime.now(timezone.utc) + timedelta(days=1)
    with Session(writer(engine)) as s, s.begin():
        check_offline(s, alerting_rules(config), later, watching_since=later - timedelta(days=2))
        # Katulampa is back: a window its clock took after its offline alert opened, a day after it fell silent.
        apply_batch(s, batch([summary("katulampa", T0 + 48 * H, 40.0)]), SqlPointSink(s), now=later)


@pytest.fixture
def season(client: TestClient, engine: Engine, default_config: TepiConfig) -> list[dict]:
    flood_season(engine, default_config)
    return client.get(API, params={"limit": 100}).json()["data"]


def cap(client: TestClient, alert_id: int, revision: int | None = None) -> bytes:
    r = client.get(f"{API}/{alert_id}/cap", params={"revision": revision} if revision else {})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/cap+xml")
    return r.content


def test_every_revision_of_every_alert_is_valid_cap(client: TestClient, season: list[dict]) -> None:
    seen: set[tuple[str, str]] = set()
    for alert in season:
        identifiers: list[str] = []
        for revision in range(1, alert["revision"] + 1):
            doc = validate_cap(cap(client, alert["id"], revision))
            kind = text(doc, "msgType")
            seen.add((alert["type"], kind))
            ident = text(doc, "identifier")
            assert ident == f"urn:tepi:dki-jakarta:alert:{alert['id']}:{revision}"
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", text(doc, "sent")), "WIB offset"
            assert (text(doc, "status"), text(doc, "scope"), text(doc, "sender")) == (
                "Actual",
                "Public",
                "dki-jakarta@tepi.local",
            )
            if revision == 1:
                assert kind == "Alert" and doc.find(f"{CAP}references") is None
            else:
                assert kind in ("Update", "Cancel")
                refs = text(doc, "references").split(" ")
                assert [r.split(",")[1] for r in refs] == identifiers  # every earlier revision, in order
            identifiers.append(ident)
            infos = doc.findall(f"{CAP}info")
            assert [i.findtext(f"{CAP}language") for i in infos] == ["id-ID", "en-US"]
            for info in infos:
                assert info.findtext(f"{CAP}headline") and info.findtext(f"{CAP}description")
                assert info.findtext(f"{CAP}area/{CAP}areaDesc")
                lat, lon_radius = info.findtext(f"{CAP}area/{CAP}circle", "").split(",")
                assert float(lat) < 0 and lon_radius.endswith(" 2")
        if alert["status"] in ("cleared", "closed"):
            assert kind == "Cancel", alert
    assert {
        ("siaga", "Alert"),
        ("siaga", "Update"),
        ("siaga", "Cancel"),
        ("rate_of_rise", "Alert"),
        ("rate_of_rise", "Cancel"),
        ("offline", "Alert"),
        ("offline", "Cancel"),
        ("forecast", "Alert"),
        ("forecast", "Update"),
        ("forecast", "Cancel"),
    } <= seen


def by(season: list[dict], station: str, alert_type: str) -> dict:
    return next(a for a in season if a["station"] == station and a["type"] == alert_type)


def test_mapping_of_urgency_severity_certainty(client: TestClient, season: list[dict]) -> None:
    katulampa = by(season, "katulampa", "siaga")
    # Revision 3 is Siaga 1 (story: opened at 3, escalated to 2; then 1 here).
    awas = validate_cap(cap(client, katulampa["id"], 3))
    assert [text(awas, f"info/{f}") for f in ("urgency", "severity", "certainty", "responseType")] == [
        "Immediate",
        "Extreme",
        "Observed",
        "Evacuate",
    ]
    assert "SIAGA I" in text(awas, "info/headline") and "200 cm" in text(awas, "info/description")
    assert text(awas, "info/category") == "Met" and text(awas, "info/event") == "Banjir"
    over = validate_cap(cap(client, katulampa["id"]))
    assert (text(over, "msgType"), text(over, "info/urgency"), text(over, "info/responseType")) == (
        "Cancel",
        "Past",
        "AllClear",
    )

    manggarai = by(season, "manggarai", "forecast")
    first = validate_cap(cap(client, manggarai["id"], 1))
    assert [text(first, f"info/{f}") for f in ("urgency", "severity", "certainty")] == ["Expected", "Minor", "Likely"]
    assert text(first, "info/onset") == "2025-01-20T17:00:00+07:00"  # Depok T0+5h + 5 h, in WIB
    refined = validate_cap(cap(client, manggarai["id"], 2))
    assert text(refined, "info/severity") == "Severe"  # Katulampa at Siaga 1 upstream
    assert "Bendung Katulampa" in text(refined, "info/headline")
    cancelled = validate_cap(cap(client, manggarai["id"]))
    assert manggarai["clear_reason"] == "cancelled" and text(cancelled, "msgType") == "Cancel"
    assert by(season, "depok", "forecast")["clear_reason"] == "confirmed"

    offline = validate_cap(cap(client, by(season, "depok", "offline")["id"]))
    assert [text(offline, f"info/{f}") for f in ("category", "urgency", "severity")] == ["Infra", "Unknown", "Unknown"]


def test_a_revision_reads_the_same_every_time_and_acks_do_not_change_it(
    client: TestClient, season: list[dict]
) -> None:
    alert = by(season, "depok", "offline")
    before = cap(client, alert["id"])
    assert client.post(f"{API}/{alert['id']}/ack", json={"note": "cek modem"}).status_code == 200
    assert cap(client, alert["id"]) == before
    assert client.get(f"{API}/{alert['id']}/cap", params={"revision": 9}).json()["code"] == "revision_not_found"
    assert client.get(f"{API}/999999/cap").status_code == 404


def test_atom_feed_indexes_the_alerts_not_yet_closed(client: TestClient, season: list[dict]) -> None:
    closing = by(season, "katulampa", "rate_of_rise")
    assert client.post(f"{API}/{closing['id']}/close").status_code == 200
    r = client.get(f"{API}/cap", params={"tenant": "dki-jakarta"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = etree.fromstring(r.content)
    assert feed.tag == f"{ATOM}feed" and feed.findtext(f"{ATOM}id")
    entries = feed.findall(f"{ATOM}entry")
    listed = {e.find(f"{ATOM}link").get("href").rsplit("/", 2)[-2] for e in entries}  # type: ignore[union-attr]
    expected = {str(a["id"]) for a in season if a["id"] != closing["id"] and a["status"] != "closed"}
    assert listed == expected and str(closing["id"]) not in listed
    for entry in entries:
        link = entry.find(f"{ATOM}link")
        assert link is not None and link.get("type") == "application/cap+xml"
        doc = validate_cap(client.get(link.get("href", "")).content)
        assert entry.findtext(f"{ATOM}id") == text(doc, "identifier")
        assert entry.findtext(f"{ATOM}title") == text(doc, "info/headline")
    only_depok = etree.fromstring(client.get(f"{API}/cap", params={"station": "depok"}).content)
    assert len(only_depok.findall(f"{ATOM}entry")) == sum(1 for a in season if a["station"] == "depok")
