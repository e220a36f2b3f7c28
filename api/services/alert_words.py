"""How an alert is told: what the generic CAP and alert code asks a kind to word.

An alert is central state (`central.models.Alert`) and its CAP message is generic (`api.services.cap`),
but what it says (a river's "SIAGA II (Siaga) di Katulampa", its urgency and severity, the
gauge's thresholds as parameters) belongs to the kind whose alert it is. Each kind's API side
registers one `AlertWords` for its alert types when it is imported (as kinds register their
record marks with `contract`); the API never imports a kind by name, and the first lookup loads
every registered kind's API side through the registry (`kinds.api_router`).

Times in messages are local (WIB, WITA, WIT), as disaster offices and residents read them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

import kinds

if TYPE_CHECKING:
    from api.models import AlertPublic

Language = Literal["id-ID", "en-US"]
LANGUAGES: tuple[Language, ...] = ("id-ID", "en-US")


@dataclass(frozen=True, slots=True)
class LocalZone:
    """An Indonesian time zone: none of them has daylight saving, so a fixed offset is exact."""

    offset: timedelta
    abbreviation: str

    @property
    def tz(self) -> timezone:
        return timezone(self.offset, self.abbreviation)


ZONES = {
    "Asia/Jakarta": LocalZone(timedelta(hours=7), "WIB"),
    "Asia/Makassar": LocalZone(timedelta(hours=8), "WITA"),
    "Asia/Jayapura": LocalZone(timedelta(hours=9), "WIT"),
}
DEFAULT_ZONE = ZONES["Asia/Jakarta"]


@dataclass(frozen=True, slots=True)
class Place:
    """A station as a message names and locates it (its stored name, river, position and bounds),
    or the subject of an alert about no station as its kind places it (`AlertWords.subject_place`:
    a sea area, river and bounds empty). With `polygons` the message's area is those polygons
    (one `<polygon>` each: the parts of a MultiPolygon) instead of a circle around (lat, lon)."""

    id: str
    name: str
    river: str
    lat: float
    lon: float
    bounds: tuple[float, ...]
    zone: LocalZone = DEFAULT_ZONE
    #: Rings of (lat, lon) pairs, first = last, at least four each: CAP's `<polygon>`s (WGS 84).
    polygons: tuple[tuple[tuple[float, float], ...], ...] | None = None


@dataclass(frozen=True, slots=True)
class Texts:
    """The words of one CAP `info` block."""

    event: str
    headline: str
    description: str


@dataclass(frozen=True, slots=True)
class Grade:
    """CAP's urgency, severity, certainty and responseType of one revision."""

    urgency: str
    severity: str
    certainty: str
    response: str


def local(at: datetime | None, zone: LocalZone) -> str:
    """`at` as people at the station read it, e.g. "2025-01-20 11:00 WIB"; "?" when unknown."""
    if at is None:
        return "?"
    return f"{at.astimezone(zone.tz):%Y-%m-%d %H:%M} {zone.abbreviation}"


class AlertWords(Protocol):
    """What a kind says about its alerts (the alert types in `alert_types`)."""

    alert_types: frozenset[str]

    def level_label(self, level: int) -> str:
        """The name of the alert's level as the kind's users write it (e.g. "SIAGA II")."""
        ...

    def texts(self, alert: AlertPublic, place: Place, upstream: Place | None, lang: Language) -> Texts: ...

    def grade(self, alert: AlertPublic, place: Place) -> Grade:
        """Urgency, severity, certainty and response while the alert is open (the CAP code
        makes an ended one Past / AllClear); `place` is the revision's (its station, or the
        subject's place with what the revision recorded)."""
        ...

    def category(self, alert: AlertPublic) -> str:
        """CAP's category, e.g. "Met" or "Infra"."""
        ...

    def area(self, place: Place, lang: Language) -> str:
        """CAP's areaDesc of the alert's station."""
        ...

    def parameters(self, alert: AlertPublic, place: Place) -> list[tuple[str, str]]:
        """Machine-readable values for receivers that act on numbers rather than words."""
        ...

    # Optional, for alert types about no station (`Alert.station_id` null), which have a message
    # only if their words have it:
    #
    # def subject_place(self, alert: AlertPublic, detail: Mapping[str, Any]) -> Place | None:
    #     """Where the revision is about, from what its event recorded (`detail`): the message is
    #     rebuilt from the event alone, so it reads the same after the kind's own files changed."""
    #
    # public_subject: bool  # the subject is a public place (a sea area), not a boat: viewers see it


def subject_place(words: AlertWords, alert: AlertPublic, detail: Mapping[str, Any]) -> Place | None:
    """The place of an alert about no station as its kind's words tell it; None when they do not."""
    place_of = getattr(words, "subject_place", None)
    return place_of(alert, detail) if place_of is not None else None


_WORDS: dict[str, AlertWords] = {}
_loaded = False
_lock = threading.Lock()


def register_alert_words(words: AlertWords) -> None:
    """Make `words` the wording of its alert types; a type worded twice is a programming error."""
    for alert_type in words.alert_types:
        other = _WORDS.get(alert_type)
        if other is not None and other is not words:
            raise ValueError(f"alert type {alert_type!r} is already worded by {other!r}")
    for alert_type in words.alert_types:
        _WORDS[alert_type] = words


def alert_words(alert_type: str) -> AlertWords | None:
    """The wording of `alert_type`, or None when no kind of this build words it."""
    global _loaded
    if not _loaded:
        with _lock:
            if not _loaded:
                for name in kinds.kind_names():
                    kinds.api_router(name)  # importing a kind's API side registers its words
                _loaded = True
    return _WORDS.get(alert_type)


def level_label(alert_type: str, level: int) -> str:
    """The level of an alert about a station as its kind names it; "level <n>" for a type no
    kind words (a gateway's health alert, filed under a station, carries the station's level but
    is no kind's). An alert about no station (a vessel's) has no level to name
    (`api.services.alerts.public_from_values`)."""
    words = alert_words(alert_type)
    return words.level_label(level) if words is not None else f"level {level}"
