"""How `marine` alerts are told: CAP words in Indonesian and English, grades, the sea area's polygon.

`MARINE_ALERT_WORDS` is registered with `api.services.alert_words` when the kind's marine routes
are imported. A marine alert is about a sea area, not a station: its place (name, polygon, zone)
and the conditions a revision tells (wave, wind, BMKG category, forecast or observed) come from
the detail its event recorded (`kinds.wavebuoy.marine_alerts`), so every revision's message is
rebuilt byte for byte after the forecast file changed. As BMKG's own warnings, the event is
"Gelombang Tinggi" (high waves), category Met, for the public.

Grades of an open revision:

  ===================  =========  ==========  =========  ============
  source               urgency    severity    certainty  responseType
  ===================  =========  ==========  =========  ============
  forecast hour        Expected   by alert    Likely     Avoid
  buoy observation     Immediate  by alert    Observed   Avoid
  ===================  =========  ==========  =========  ============

Severity follows the alert's (`kinds.wavebuoy.marine`: critical Extreme from sangat tinggi,
major Severe for tinggi, minor Moderate for sedang, warning Minor for wind alone); the response
is Avoid, since conditions above small-boat limits mean a small boat should not sail. An ended
alert is Past / AllClear (the generic CAP code).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from api.models import AlertPublic
from api.services.alert_words import DEFAULT_ZONE, ZONES, Grade, Language, Place, Texts, local
from core.sea_forecast import WAVE_CATEGORIES

_CAP_SEVERITY = {"critical": "Extreme", "major": "Severe", "minor": "Moderate", "warning": "Minor"}
_CATEGORY = {c.code: c for c in WAVE_CATEGORIES}


@dataclass(frozen=True, slots=True)
class SeaAreaPlace(Place):
    """A sea area as a revision's event recorded it, with the conditions that revision tells."""

    reading: Mapping[str, Any] = field(default_factory=dict)


def _num(value: Any, unit: str, lang: Language) -> str:
    if value is None:
        return "tidak diukur" if lang == "id-ID" else "not measured"
    return f"{value:g} {unit}"


def _category(code: Any, lang: Language) -> str:
    c = _CATEGORY.get(code)
    if c is None:
        return "?"
    return c.label_id if lang == "id-ID" else c.label_en


def _when(p: SeaAreaPlace) -> str:
    at = p.reading.get("at")
    return local(datetime.fromisoformat(at) if at else None, p.zone)


class MarineAlertWords:
    """Sea areas above small-boat limits, forecast or observed by a buoy."""

    alert_types = frozenset({"marine"})
    #: A sea area is a public place: viewers see it and the events' detail (no person, no boat in it).
    public_subject = True

    def level_label(self, level: int) -> str:
        return ""  # a sea area has no level: marine alerts carry none (no station)

    def subject_place(self, alert: AlertPublic, detail: Mapping[str, Any]) -> Place | None:
        # Every part of the area (events before `polygons` existed carry the largest, `polygon`).
        rings = detail.get("polygons") or ([detail["polygon"]] if detail.get("polygon") else [])
        if not rings or not detail.get("area"):
            return None
        polygons = tuple(tuple((float(lat), float(lon)) for lat, lon in ring) for ring in rings)
        corners = polygons[0][:-1]
        return SeaAreaPlace(
            id=str(detail["area"]),
            name=str(detail.get("area_name") or detail["area"]),
            river="",
            lat=sum(p[0] for p in corners) / len(corners),
            lon=sum(p[1] for p in corners) / len(corners),
            bounds=(),
            zone=ZONES.get(str(detail.get("timezone")), DEFAULT_ZONE),
            polygons=polygons,
            reading=dict(detail),
        )

    def texts(self, alert: AlertPublic, place: Place, upstream: Place | None, lang: Language) -> Texts:
        assert isinstance(place, SeaAreaPlace)
        r = place.reading
        wave, wind = _num(r.get("wave_m"), "m", lang), _num(r.get("wind_kn"), "knot" if lang == "id-ID" else "kn", lang)
        limits = r.get("limits") or {}
        lw = _num(limits.get("wave_m"), "m", lang)
        lv = _num(limits.get("wind_kn"), "knot" if lang == "id-ID" else "kn", lang)
        cat = _category(r.get("category"), lang)
        observed = r.get("source") == "observed"
        ended = alert.status in ("cleared", "closed")
        if ended and alert.clear_reason == "area_unwatched":  # kinds.wavebuoy.marine_alerts.AREA_UNWATCHED
            if lang == "id-ID":
                return Texts(
                    "Gelombang Tinggi",
                    f"Berakhir: {place.name} tidak lagi dipantau",
                    f"Peringatan untuk {place.name} diakhiri karena wilayah ini tidak lagi dipantau (dihapus dari wilayah "
                    "peringatan atau dari prakiraan), bukan karena laut sudah tenang. Ikuti prakiraan maritim BMKG.",
                )
            return Texts(
                "High waves",
                f"Ended: {place.name} no longer watched",
                f"The warning for {place.name} ends because this area is no longer watched (removed from the alert "
                "areas or from the forecast), not because the sea is calm. Follow BMKG's maritime forecast.",
            )
        if lang == "id-ID":
            source = f"Pelampung gelombang {r.get('buoy')} mengukur" if observed else "Prakiraan untuk jam mulai"
            if ended:
                return Texts(
                    "Gelombang Tinggi",
                    f"Berakhir: gelombang tinggi di {place.name}",
                    f"Kondisi di {place.name} kembali di bawah batas aman perahu nelayan (gelombang {lw}, angin {lv}): "
                    f"gelombang {wave} ({cat}), angin {wind}, {_when(place)}.",
                )
            return Texts(
                "Gelombang Tinggi",
                f"Gelombang tinggi di {place.name}: {wave} ({cat}), angin {wind}",
                f"{source} {_when(place)}: tinggi gelombang {wave} (kategori {cat}), kecepatan angin {wind} di "
                f"{place.name}, di atas batas aman perahu nelayan (gelombang {lw}, angin {lv}). Nelayan dengan perahu "
                "kecil diimbau tidak melaut.",
            )
        source = f"Wave buoy {r.get('buoy')} measured at" if observed else "Forecast for the hour from"
        if ended:
            return Texts(
                "High waves",
                f"Ended: high waves in {place.name}",
                f"Conditions in {place.name} are back below small-boat limits (waves {lw}, wind {lv}): waves {wave} "
                f"({cat}), wind {wind}, {_when(place)}.",
            )
        return Texts(
            "High waves",
            f"High waves in {place.name}: {wave} ({cat}), wind {wind}",
            f"{source} {_when(place)}: waves {wave} ({cat}), wind {wind} in {place.name}, above small-boat limits "
            f"(waves {lw}, wind {lv}). Fishers with small boats should not go to sea.",
        )

    def grade(self, alert: AlertPublic, place: Place) -> Grade:
        """Urgency, severity, certainty and response (table in the module doc)."""
        observed = isinstance(place, SeaAreaPlace) and place.reading.get("source") == "observed"
        if observed:
            return Grade("Immediate", _CAP_SEVERITY[alert.severity], "Observed", "Avoid")
        return Grade("Expected", _CAP_SEVERITY[alert.severity], "Likely", "Avoid")

    def category(self, alert: AlertPublic) -> str:
        return "Met"

    def area(self, place: Place, lang: Language) -> str:
        return place.name

    def parameters(self, alert: AlertPublic, place: Place) -> list[tuple[str, str]]:
        assert isinstance(place, SeaAreaPlace)
        r = place.reading
        out = [("SEA_AREA", place.id), ("SOURCE", str(r.get("source")))]
        if r.get("buoy"):
            out.append(("BUOY", str(r["buoy"])))
        out.append(("WAVE_HEIGHT_M", f"{r.get('wave_m')}"))
        if r.get("wind_kn") is not None:
            out.append(("WIND_SPEED_KN", f"{r['wind_kn']}"))
        out.append(("BMKG_WAVE_CATEGORY", str(r.get("category"))))
        return out


MARINE_ALERT_WORDS = MarineAlertWords()
