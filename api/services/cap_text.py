"""What a CAP message says in words, in Indonesian (id-ID) and English (en-US).

Pure functions of an alert revision and the stations it concerns. Times are local (WIB, WITA,
WIT), as the disaster office and residents read them; levels in whole centimetres, as gauge
keepers report them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from api.models import AlertPublic
from kinds.awlr.siaga import SiagaLevel

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
    """A station as a message names and locates it."""

    id: str
    name: str
    river: str
    lat: float
    lon: float
    bounds: tuple[float, float, float]
    zone: LocalZone = DEFAULT_ZONE

    def area(self, lang: Language) -> str:
        return f"{self.name}, Sungai {self.river}" if lang == "id-ID" else f"{self.name}, {self.river} river"


@dataclass(frozen=True, slots=True)
class Texts:
    event: str
    headline: str
    description: str


def local(at: datetime | None, zone: LocalZone) -> str:
    if at is None:
        return "?"
    return f"{at.astimezone(zone.tz):%Y-%m-%d %H:%M} {zone.abbreviation}"


def _cm(value: float | None, lang: Language) -> str:
    if value is None:
        return "tidak diketahui" if lang == "id-ID" else "unknown"
    return f"{value:.0f} cm"


def _label(siaga: int) -> str:
    level = SiagaLevel(siaga)
    return f"{level.label} ({level.name_id})"


def texts(alert: AlertPublic, place: Place, upstream: Place | None, lang: Language) -> Texts:
    """Event, headline and description of one revision of `alert` in `lang`."""
    ended = alert.status in ("cleared", "closed")
    builder = {
        "siaga": _siaga,
        "rate_of_rise": _rise,
        "offline": _offline,
        "forecast": _forecast,
    }[alert.type]
    return builder(alert, place, upstream, lang, ended)


def _siaga(a: AlertPublic, p: Place, _u: Place | None, lang: Language, ended: bool) -> Texts:
    b3, b2, b1 = (f"{b:.0f}" for b in p.bounds)
    peak = _label(a.peak_siaga)
    if lang == "id-ID":
        if ended:
            return Texts(
                "Banjir",
                f"Berakhir: siaga banjir di {p.name}",
                f"Tinggi muka air di {p.name} kembali normal (SIAGA IV): {_cm(a.last_level_cm, lang)} pada "
                f"{local(a.cleared_at, p.zone)}, di bawah batas Siaga 3 ({b3} cm). Tingkat tertinggi dalam "
                f"episode ini: {peak}.",
            )
        bound = p.bounds[3 - a.siaga]
        return Texts(
            "Banjir",
            f"{_label(a.siaga)} di {p.name}, Sungai {p.river}: {_cm(a.last_level_cm, lang)}",
            f"Tinggi muka air di {p.name} {_cm(a.last_level_cm, lang)} pada {local(a.updated_at, p.zone)}, "
            f"mencapai batas Siaga {a.siaga} ({bound:.0f} cm). Batas Siaga 3/2/1: {b3}/{b2}/{b1} cm. "
            f"Tingkat tertinggi dalam episode ini: {peak}.",
        )
    if ended:
        return Texts(
            "Flood",
            f"Ended: flood alert at {p.name}",
            f"The water level at {p.name} is back to normal (SIAGA IV): {_cm(a.last_level_cm, lang)} at "
            f"{local(a.cleared_at, p.zone)}, below the Siaga 3 threshold ({b3} cm). Worst level in this "
            f"episode: {peak}.",
        )
    bound = p.bounds[3 - a.siaga]
    return Texts(
        "Flood",
        f"Flood alert {_label(a.siaga)} at {p.name}, {p.river} river: {_cm(a.last_level_cm, lang)}",
        f"The water level at {p.name} was {_cm(a.last_level_cm, lang)} at {local(a.updated_at, p.zone)}, at or "
        f"above the Siaga {a.siaga} threshold ({bound:.0f} cm). Siaga 3/2/1 thresholds: {b3}/{b2}/{b1} cm. "
        f"Worst level in this episode: {peak}.",
    )


def _rise(a: AlertPublic, p: Place, _u: Place | None, lang: Language, ended: bool) -> Texts:
    b3 = f"{p.bounds[0]:.0f}"
    rate = f"{a.rate_cm_per_h:.0f}" if a.rate_cm_per_h is not None else "?"
    if lang == "id-ID":
        if ended:
            return Texts(
                "Banjir",
                f"Berakhir: kenaikan cepat muka air di {p.name}",
                f"Kenaikan cepat muka air di {p.name} berakhir pada {local(a.cleared_at, p.zone)}; "
                f"tinggi muka air {_cm(a.last_level_cm, lang)} ({_label(a.siaga)}).",
            )
        return Texts(
            "Banjir",
            f"Kenaikan cepat muka air di {p.name}: {rate} cm/jam",
            f"Muka air di {p.name} naik {rate} cm/jam; {_cm(a.last_level_cm, lang)} pada "
            f"{local(a.updated_at, p.zone)} ({_label(a.siaga)}). Batas Siaga 3: {b3} cm. Kenaikan cepat "
            "sering mendahului status siaga di hilir.",
        )
    if ended:
        return Texts(
            "Flood",
            f"Ended: rapid river rise at {p.name}",
            f"The rapid rise at {p.name} ended at {local(a.cleared_at, p.zone)}; the level is "
            f"{_cm(a.last_level_cm, lang)} ({_label(a.siaga)}).",
        )
    return Texts(
        "Flood",
        f"Rapid river rise at {p.name}: {rate} cm/h",
        f"The river at {p.name} is rising {rate} cm/h; {_cm(a.last_level_cm, lang)} at "
        f"{local(a.updated_at, p.zone)} ({_label(a.siaga)}). Siaga 3 threshold: {b3} cm. A rapid rise often "
        "comes before an alert level downstream.",
    )


def _offline(a: AlertPublic, p: Place, _u: Place | None, lang: Language, ended: bool) -> Texts:
    last = _cm(a.last_level_cm, lang)
    if lang == "id-ID":
        if ended:
            return Texts(
                "Gangguan Pos Pantau",
                f"Data dari pos {p.name} kembali diterima",
                f"Data dari {p.name} kembali diterima sejak {local(a.cleared_at, p.zone)}.",
            )
        return Texts(
            "Gangguan Pos Pantau",
            f"Pos {p.name} tidak mengirim data",
            f"Tepi tidak menerima data dari {p.name} sejak {local(a.last_arrival_at, p.zone)}. Tinggi muka air "
            f"terakhir yang diketahui: {last} ({_label(a.siaga)}). Pantau langsung atau hubungi penjaga pos.",
        )
    if ended:
        return Texts(
            "Gauge Outage",
            f"Data from the {p.name} gauge again",
            f"Data from {p.name} is arriving again since {local(a.cleared_at, p.zone)}.",
        )
    return Texts(
        "Gauge Outage",
        f"No data from the {p.name} gauge",
        f"Tepi has received nothing from {p.name} since {local(a.last_arrival_at, p.zone)}. Last known level: "
        f"{last} ({_label(a.siaga)}). Watch the river directly or call the gauge keeper.",
    )


def _forecast(a: AlertPublic, p: Place, u: Place | None, lang: Language, ended: bool) -> Texts:
    f = a.forecast
    up_name = u.name if u is not None else (f.upstream_station if f else "?")
    up_label = SiagaLevel(f.upstream_siaga).label if f else "?"
    up_level = _cm(f.upstream_level_cm if f else None, lang)
    start = local(f.expected_from if f else None, p.zone)
    until = local(f.expected_until if f else None, p.zone)
    b3 = f"{p.bounds[0]:.0f}"
    if lang == "id-ID":
        if ended and a.clear_reason == "confirmed":
            return Texts(
                "Banjir",
                f"Prakiraan terbukti: {p.name} kini {_label(a.siaga)}",
                f"Air dari hulu telah tiba: {p.name} mencapai {_label(a.siaga)} pada {local(a.cleared_at, p.zone)}. "
                "Ikuti peringatan siaga pos ini.",
            )
        if ended:
            return Texts(
                "Banjir",
                f"Dibatalkan: prakiraan banjir di {p.name}",
                f"Tinggi muka air di {p.name} tidak mencapai batas Siaga 3 ({b3} cm) sampai akhir jendela "
                f"perkiraan ({until}).",
            )
        return Texts(
            "Banjir",
            f"Prakiraan banjir di {p.name}: air dari {up_name} ({up_label})",
            f"{up_name} mencapai {up_level} ({up_label}). Menurut waktu tempuh yang dipublikasikan, air "
            f"diperkirakan tiba di {p.name} antara {start} dan {until}. Batas Siaga 3 di {p.name}: {b3} cm; "
            f"tinggi muka air terakhir: {_cm(a.last_level_cm, lang)}.",
        )
    if ended and a.clear_reason == "confirmed":
        return Texts(
            "Flood",
            f"Forecast confirmed: {p.name} now at {_label(a.siaga)}",
            f"The water from upstream has arrived: {p.name} reached {_label(a.siaga)} at "
            f"{local(a.cleared_at, p.zone)}. Follow this station's flood alert.",
        )
    if ended:
        return Texts(
            "Flood",
            f"Cancelled: flood forecast for {p.name}",
            f"The water level at {p.name} stayed below the Siaga 3 threshold ({b3} cm) until the end of the "
            f"expected window ({until}).",
        )
    return Texts(
        "Flood",
        f"Flood forecast for {p.name}: water from {up_name} ({up_label})",
        f"{up_name} reached {up_level} ({up_label}). From published travel times, the water is expected at "
        f"{p.name} between {start} and {until}. Siaga 3 threshold at {p.name}: {b3} cm; last level: "
        f"{_cm(a.last_level_cm, lang)}.",
    )
