"""How the river's alerts are told: Siaga levels, CAP words in Indonesian and English, grades.

`RIVER_ALERT_WORDS` is the river's `api.services.alert_words.AlertWords`, registered when the
kind's API side is imported. Pure functions of an alert revision and the stations it concerns;
levels in whole centimetres, as gauge keepers report them.

Grades of a revision (urgency / severity / certainty / responseType):

  ========================  =========  ==========  =========  ============
  alert                     urgency    severity    certainty  responseType
  ========================  =========  ==========  =========  ============
  siaga, Siaga 1 (Awas)     Immediate  Extreme     Observed   Evacuate
  siaga, Siaga 2 (Siaga)    Immediate  Severe      Observed   Prepare
  siaga, Siaga 3 (Waspada)  Expected   Moderate    Observed   Monitor
  rate_of_rise              Expected   Minor       Observed   Monitor
  forecast, upstream S1     Expected   Severe      Likely     Prepare
  forecast, upstream S2     Expected   Moderate    Likely     Prepare
  forecast, upstream S3     Expected   Minor       Likely     Monitor
  offline                   Unknown    Unknown     Unknown    Monitor
  ========================  =========  ==========  =========  ============

Severity follows the alert's ThingsBoard severity (critical Extreme, major Severe, minor
Moderate, warning Minor); a forecast is one step below what the same Siaga level observed at
the station would be, since water may spread or be held on the way. An ended alert is graded
Past / AllClear by the generic CAP code. Category `Met` (CAP files hydrological floods under
Met); an offline gauge is `Infra`.
"""

from __future__ import annotations

from api.models import AlertPublic
from api.services.alert_words import Grade, Language, Place, Texts, local
from kinds.awlr.siaga import SiagaLevel

_CAP_SEVERITY = {"critical": "Extreme", "major": "Severe", "minor": "Moderate", "warning": "Minor"}


def _cm(value: float | None, lang: Language) -> str:
    if value is None:
        return "tidak diketahui" if lang == "id-ID" else "unknown"
    return f"{value:.0f} cm"


def _label(siaga: int) -> str:
    level = SiagaLevel(siaga)
    return f"{level.label} ({level.name_id})"


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


class RiverAlertWords:
    """The river's alerts: Siaga crossings, fast rises, silent gauges and forecasts from upstream."""

    alert_types = frozenset({"siaga", "rate_of_rise", "offline", "forecast"})

    def level_label(self, level: int) -> str:
        return SiagaLevel(level).label

    def texts(self, alert: AlertPublic, place: Place, upstream: Place | None, lang: Language) -> Texts:
        """Event, headline and description of one revision of `alert` in `lang`."""
        ended = alert.status in ("cleared", "closed")
        builder = {"siaga": _siaga, "rate_of_rise": _rise, "offline": _offline, "forecast": _forecast}[alert.type]
        return builder(alert, place, upstream, lang, ended)

    def grade(self, alert: AlertPublic, place: Place) -> Grade:
        """Urgency, severity, certainty and response of an open revision (table in the module doc)."""
        if alert.type == "offline":
            return Grade("Unknown", "Unknown", "Unknown", "Monitor")
        if alert.type == "siaga":
            urgency = "Immediate" if alert.siaga <= 2 else "Expected"
            response = {1: "Evacuate", 2: "Prepare"}.get(alert.siaga, "Monitor")
            return Grade(urgency, _CAP_SEVERITY[alert.severity], "Observed", response)
        if alert.type == "forecast":
            response = "Monitor" if alert.severity == "warning" else "Prepare"
            return Grade("Expected", _CAP_SEVERITY[alert.severity], "Likely", response)
        return Grade("Expected", _CAP_SEVERITY[alert.severity], "Observed", "Monitor")

    def category(self, alert: AlertPublic) -> str:
        return "Infra" if alert.type == "offline" else "Met"

    def area(self, place: Place, lang: Language) -> str:
        return f"{place.name}, Sungai {place.river}" if lang == "id-ID" else f"{place.name}, {place.river} river"

    def parameters(self, alert: AlertPublic, place: Place) -> list[tuple[str, str]]:
        out = [("SIAGA", alert.siaga_label)]
        if alert.last_level_cm is not None:
            out.append(("WATER_LEVEL_CM", f"{alert.last_level_cm:.1f}"))
        if alert.type in ("siaga", "forecast", "rate_of_rise"):
            out.append(("THRESHOLDS_CM", "/".join(f"{b:g}" for b in place.bounds)))
        if alert.forecast is not None:
            out.append(("UPSTREAM_STATION", alert.forecast.upstream_station))
        return out


RIVER_ALERT_WORDS = RiverAlertWords()
