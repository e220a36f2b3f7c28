"""CAP 1.2 messages and the Atom feed that indexes them, built with ElementTree (pure).

One alert is one CAP *incident*; each public revision of it (see `central.alerts.PUBLIC_KINDS`)
is one CAP message with a stable identifier `urn:tepi:<tenant>:alert:<id>:<revision>`, so the
same revision always reads the same, and receivers can tell a new message from a repeat.

* msgType: revision 1 is `Alert`; later revisions are `Update`; a revision in which the alert
  cleared (level normal, data back, forecast confirmed or cancelled) is `Cancel`. Update and
  Cancel reference every earlier revision (`sender,identifier,sent`).
* `sent` is when the revision was recorded, in the station's local time with its offset
  (+07:00 for WIB); `onset` is when the river did it (device time).
* urgency / severity / certainty / responseType, category, the words (event, headline,
  description), areaDesc and parameters beyond `TEPI_ALERT_TYPE` and `STATION` are the alert's
  kind's (`api.services.alert_words`; the river's in `kinds/awlr/api/alert_words.py`); any
  Cancel is urgency Past, responseType AllClear. An alert type no kind words has no message.
* `expires`: 6 h after `sent` (PetaBencana's default for flood reports), and for an open
  forecast no earlier than the end of its arrival window.
* Area: the kind's `areaDesc`, and the place's polygons where it has them (a sea area: one
  `<polygon>` per part, coordinates with 5 decimals, about 1 m), else a circle of `radius_km`
  around the station.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from api.models import AlertPublic
from api.services.alert_words import LANGUAGES, AlertWords, Grade, LocalZone, Place, alert_words

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MEDIA_TYPE = "application/cap+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"
EXPIRES_AFTER = timedelta(hours=6)


class Unworded(LookupError):
    """No kind of this build words alerts of this type, so no message can be written for them."""


def words_of(alert: AlertPublic) -> AlertWords:
    words = alert_words(alert.type)
    if words is None:
        raise Unworded(f"no kind words alerts of type {alert.type!r}")
    return words


def grade(alert: AlertPublic, place: Place) -> Grade:
    """The kind's grade of the revision; an ended alert is Past, AllClear."""
    g = words_of(alert).grade(alert, place)
    if alert.status in ("cleared", "closed"):
        g = Grade("Past", g.severity, g.certainty, "AllClear")
    return g


def msg_type(alert: AlertPublic) -> str:
    if alert.status in ("cleared", "closed"):
        return "Cancel"
    return "Alert" if alert.revision == 1 else "Update"


def identifier(tenant: str, alert_id: int, revision: int) -> str:
    return f"urn:tepi:{tenant}:alert:{alert_id}:{revision}"


def cap_time(at: datetime, zone: LocalZone) -> str:
    """CAP's dateTime: whole seconds and a numeric offset, never `Z` (e.g. 2025-01-20T11:00:00+07:00)."""
    return at.astimezone(zone.tz).replace(microsecond=0).isoformat()


@dataclass(frozen=True, slots=True)
class Publisher:
    """Who the messages come from: `sender` must be globally unique (a domain-based id)."""

    sender: str
    sender_name: str
    radius_km: float = 2.0


def _sub(parent: ET.Element, tag: str, text: str | None = None, ns: str = CAP_NS) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        el.text = text
    return el


def build_cap(
    alert: AlertPublic,
    sent: datetime,
    earlier: Sequence[datetime],
    place: Place,
    upstream: Place | None,
    publisher: Publisher,
    web: str | None = None,
) -> bytes:
    """The CAP 1.2 message of one revision of `alert` (UTF-8 XML with declaration).

    `sent` is this revision's recording time, `earlier` those of revisions 1 .. n-1, oldest
    first, which an Update or Cancel references.
    """
    zone = place.zone
    words = words_of(alert)
    root = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(root, "identifier", identifier(alert.tenant, alert.id, alert.revision))
    _sub(root, "sender", publisher.sender)
    _sub(root, "sent", cap_time(sent, zone))
    _sub(root, "status", "Actual")
    kind = msg_type(alert)
    _sub(root, "msgType", kind)
    _sub(root, "scope", "Public")
    if kind == "Cancel":
        _sub(root, "note", f"Tepi alert {alert.id} {alert.type} cleared: {alert.clear_reason or 'ended'}")
    if kind != "Alert" and earlier:
        refs = (
            f"{publisher.sender},{identifier(alert.tenant, alert.id, n)},{cap_time(at, zone)}"
            for n, at in enumerate(earlier, start=1)
        )
        _sub(root, "references", " ".join(refs))
    _sub(root, "incidents", f"urn:tepi:{alert.tenant}:alert:{alert.id}")
    g = grade(alert, place)
    onset = alert.forecast.expected_from if alert.forecast is not None else alert.opened_at
    expires = sent + EXPIRES_AFTER
    if alert.forecast is not None and kind != "Cancel":
        expires = max(expires, alert.forecast.expected_until)
    for lang in LANGUAGES:
        said = words.texts(alert, place, upstream, lang)
        info = _sub(root, "info")
        _sub(info, "language", lang)
        _sub(info, "category", words.category(alert))
        _sub(info, "event", said.event)
        _sub(info, "responseType", g.response)
        _sub(info, "urgency", g.urgency)
        _sub(info, "severity", g.severity)
        _sub(info, "certainty", g.certainty)
        _sub(info, "onset", cap_time(onset, zone))
        _sub(info, "expires", cap_time(expires, zone))
        _sub(info, "senderName", publisher.sender_name)
        _sub(info, "headline", said.headline)
        _sub(info, "description", said.description)
        if web:
            _sub(info, "web", web)
        for name, value in _parameters(alert, place, words):
            param = _sub(info, "parameter")
            _sub(param, "valueName", name)
            _sub(param, "value", value)
        area = _sub(info, "area")
        _sub(area, "areaDesc", words.area(place, lang))
        if place.polygons:
            for ring in place.polygons:
                _sub(area, "polygon", polygon_text(ring))
        else:
            _sub(area, "circle", f"{place.lat},{place.lon} {publisher.radius_km:g}")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS)


def polygon_text(ring: Sequence[tuple[float, float]]) -> str:
    """A CAP `<polygon>`: "lat,lon" pairs with 5 fixed decimals (about 1 m; `:g`'s 6 significant
    digits would move 115.12345 to 115.123, about 140 m)."""
    return " ".join(f"{lat:.5f},{lon:.5f}" for lat, lon in ring)


def _parameters(alert: AlertPublic, place: Place, words: AlertWords) -> list[tuple[str, str]]:
    """Machine-readable values for receivers that act on numbers rather than words."""
    about = [("STATION", place.id)] if alert.station is not None else []
    return [("TEPI_ALERT_TYPE", alert.type), *about, *words.parameters(alert, place)]


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One alert in the Atom index: its current CAP message and where to fetch it."""

    identifier: str
    title: str
    summary: str
    updated: datetime
    cap_url: str
    alert_type: str
    zone: LocalZone


def build_feed(entries: Sequence[FeedEntry], self_url: str, feed_id: str, updated: datetime) -> bytes:
    """An Atom feed listing `entries` with links to their CAP messages (the usual CAP index).

    Atom elements carry attributes, which ElementTree's `default_namespace` refuses, so the
    feed declares its namespace on the root and its elements are written unprefixed.
    """
    root = ET.Element("feed", {"xmlns": ATOM_NS})
    ET.SubElement(root, "id").text = feed_id
    ET.SubElement(root, "title").text = "Tepi: peringatan dini / early warnings (CAP 1.2)"
    ET.SubElement(root, "updated").text = updated.replace(microsecond=0).isoformat()
    ET.SubElement(ET.SubElement(root, "author"), "name").text = "Tepi"
    ET.SubElement(root, "link", {"rel": "self", "href": self_url, "type": ATOM_MEDIA_TYPE})
    for e in entries:
        entry = ET.SubElement(root, "entry")
        ET.SubElement(entry, "id").text = e.identifier
        ET.SubElement(entry, "title").text = e.title
        ET.SubElement(entry, "updated").text = cap_time(e.updated, e.zone)
        ET.SubElement(entry, "summary").text = e.summary
        ET.SubElement(entry, "category", {"term": e.alert_type})
        ET.SubElement(entry, "link", {"rel": "alternate", "type": CAP_MEDIA_TYPE, "href": e.cap_url})
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
