"""What a message says: an email's subject and plain text, a webhook's JSON body and signature.

Indonesian first, then English; times in the tenant's zone with its abbreviation (WIB, WITA,
WIT); a link to the console's alerts page. Never who acknowledged or closed (personal data), and
never a secret. Pure: the facts come in, text goes out.

Webhooks are signed as Stripe and GitHub sign theirs: `X-Tepi-Signature: sha256=<hex>`, the
HMAC-SHA256 of `<X-Tepi-Timestamp>.<body>` keyed with the subscription's signing secret (its
hex text, as given once when the subscription was made). The secret is derived, never stored:
HMAC-SHA256(TEPI_AUTH_PEPPER, "webhook:<subscription id>").
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from central.notify.rules import REASON_ESCALATION

#: Alert types in people's words (Indonesian, English).
TYPE_WORDS: dict[str, tuple[str, str]] = {
    "siaga": ("Peringatan banjir", "Flood warning"),
    "rate_of_rise": ("Kenaikan air cepat", "Fast rise of the water"),
    "offline": ("Stasiun tidak mengirim data", "Station silent"),
    "forecast": ("Banjir kiriman diperkirakan", "Flood expected from upstream"),
    "gateway_health": ("Gangguan gateway", "Gateway losing readings"),
    "sos": ("SOS kapal", "Vessel SOS"),
    "overdue": ("Kapal belum kembali", "Vessel overdue"),
    "marine": ("Laut berbahaya bagi kapal kecil", "Sea dangerous for small boats"),
}
#: What happened, per event kind.
EVENT_WORDS: dict[str, tuple[str, str]] = {
    "opened": ("Peringatan baru", "New alert"),
    "escalated": ("Memburuk", "Worse"),
    "updated": ("Tingkat memburuk", "Level worse"),
    "cleared": ("Berakhir", "Cleared"),
    "cancelled": ("Dibatalkan", "Cancelled"),
}
#: Subject prefixes of messages that are not about a new or worse danger.
_PREFIX = {"cleared": "Berakhir: ", "cancelled": "Dibatalkan: ", REASON_ESCALATION: "Belum ditanggapi: "}


def siaga_label(level: int) -> str:
    """A river level as BPBD writes it, e.g. "SIAGA II" (as `kinds.awlr.siaga.SiagaLevel.label`)."""
    return f"SIAGA {('I', 'II', 'III', 'IV')[level - 1]}" if 1 <= level <= 4 else f"level {level}"


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """The alert as a message tells it."""

    alert_id: int
    tenant: str
    tenant_name: str
    #: IANA zone the tenant reads its times in.
    zone: str
    alert_type: str
    subject: str
    station: str | None
    #: The station's name, else the subject (a vessel, a sea area).
    place: str
    severity: str
    #: The station's Siaga level; None for an alert about no station.
    siaga: int | None
    status: str
    opened_at: datetime
    #: When the change told happened (the event's time; for an escalation, since when unacknowledged).
    at: datetime
    level_cm: float | None = None


@dataclass(frozen=True, slots=True)
class Occasion:
    """Why this message: a subscription's event, or an escalation step."""

    delivery_id: int
    reason: str
    event: str | None = None
    step: int = 0
    after_min: float | None = None


def local_time(at: datetime, zone: str) -> str:
    """e.g. `07/12/2025 14:05 WIB`."""
    return at.astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y %H:%M %Z")


def headline(facts: AlertFacts) -> str:
    """The level for a Siaga alert ("SIAGA II"), else the type in Indonesian, then the place."""
    what = siaga_label(facts.siaga) if facts.alert_type == "siaga" and facts.siaga is not None else _words(TYPE_WORDS, facts.alert_type)[0]
    return f"{what} — {facts.place}"


def email_subject(facts: AlertFacts, occasion: Occasion) -> str:
    """e.g. `[Tepi] SIAGA II — Bendung Katulampa`, `[Tepi] Berakhir: SIAGA III — Pos Depok`."""
    prefix = _PREFIX.get(occasion.reason if occasion.reason == REASON_ESCALATION else occasion.event or "", "")
    return f"[Tepi] {prefix}{headline(facts)}"


def email_text(facts: AlertFacts, occasion: Occasion, console_url: str) -> str:
    """The plain-text body: Indonesian, then English."""
    when = local_time(facts.at, facts.zone)
    type_id, type_en = _words(TYPE_WORDS, facts.alert_type)
    level = facts.siaga is not None and facts.alert_type != "siaga"
    lines_id = [f"{headline(facts)} ({type_id})"]
    lines_en = [f"{headline(facts)} ({type_en})"]
    if occasion.reason == REASON_ESCALATION:
        minutes = _minutes(occasion.after_min)
        lines_id.append(
            f"Peringatan ini belum ditanggapi sejak {when}. Anda orang ke-{occasion.step + 1} dalam rantai eskalasi "
            f"{facts.tenant_name} (setiap {minutes} menit tanpa tanggapan, orang berikutnya dihubungi). Mohon tanggapi di konsol."
        )
        lines_en.append(
            f"Nobody has acknowledged this alert since {when}. You are person {occasion.step + 1} of "
            f"{facts.tenant_name}'s escalation chain (every {minutes} minutes without acknowledgement, the next person is told). "
            "Please acknowledge it in the console."
        )
    else:
        event_id, event_en = _words(EVENT_WORDS, occasion.event or "")
        lines_id.append(f"{event_id}, {when}.")
        lines_en.append(f"{event_en}, {when}.")
    if level:
        lines_id.append(f"Tingkat sungai: {siaga_label(facts.siaga)}.")  # type: ignore[arg-type]
        lines_en.append(f"River level: {siaga_label(facts.siaga)}.")  # type: ignore[arg-type]
    if facts.level_cm is not None:
        lines_id.append(f"Tinggi muka air: {facts.level_cm:.0f} cm.")
        lines_en.append(f"Water level: {facts.level_cm:.0f} cm.")
    lines_id.append(f"Dibuka {local_time(facts.opened_at, facts.zone)}; status: {facts.status}.")
    lines_en.append(f"Opened {local_time(facts.opened_at, facts.zone)}; status: {facts.status}.")
    lines_id.append(f"Lihat di konsol: {console_url}")
    lines_en.append(f"Open the console: {console_url}")
    why = (
        ("Anda menerima pesan ini karena berlangganan peringatan; ubah langganan di konsol.",
         "You receive this because you subscribed to alerts; change subscriptions in the console.")
        if occasion.reason != REASON_ESCALATION
        else ("Anda menerima pesan ini sebagai bagian dari rantai eskalasi.", "You receive this as part of the escalation chain.")
    )
    footer = [
        "-- ",
        f"Tepi, {facts.tenant_name}. Pesan otomatis / automatic message, #{occasion.delivery_id}.",
        why[0],
        why[1],
    ]
    return "\n".join([*lines_id, "", *lines_en, "", *footer]) + "\n"


def webhook_body(facts: AlertFacts, occasion: Occasion, console_url: str) -> bytes:
    """The JSON a webhook receives (UTF-8, compact): the alert, why, and a one-line text in each
    language that an SMS or WhatsApp gateway can forward as is."""
    event_id, event_en = _words(EVENT_WORDS, occasion.event or "")
    if occasion.reason == REASON_ESCALATION:
        event_id, event_en = "Belum ditanggapi", "Not acknowledged"
    when = local_time(facts.at, facts.zone)
    type_id, type_en = _words(TYPE_WORDS, facts.alert_type)
    document = {
        "delivery": occasion.delivery_id,
        "reason": occasion.reason,
        "event": occasion.event,
        "escalation_step": occasion.step if occasion.reason == REASON_ESCALATION else None,
        "alert": {
            "id": facts.alert_id,
            "tenant": facts.tenant,
            "type": facts.alert_type,
            "subject": facts.subject,
            "station": facts.station,
            "place": facts.place,
            "severity": facts.severity,
            "siaga": facts.siaga,
            "siaga_label": siaga_label(facts.siaga) if facts.siaga is not None else None,
            "status": facts.status,
            "opened_at": _utc(facts.opened_at),
            "at": _utc(facts.at),
            "level_cm": facts.level_cm,
        },
        "text": {
            "id": f"[Tepi] {event_id}: {headline(facts)} ({type_id}), {when}. {console_url}",
            "en": f"[Tepi] {event_en}: {headline(facts)} ({type_en}), {when}. {console_url}",
        },
        "url": console_url,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def signing_secret(pepper: bytes, subscription_id: int) -> str:
    """The secret a webhook subscription's messages are signed with (hex), derived from the
    server's pepper: shown once when the subscription is made, never stored."""
    return hmac.new(pepper, f"webhook:{subscription_id}".encode(), hashlib.sha256).hexdigest()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`X-Tepi-Signature`: `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def _words(table: dict[str, tuple[str, str]], key: str) -> tuple[str, str]:
    return table.get(key, (key, key))


def _minutes(after_min: float | None) -> str:
    if after_min is None:
        return "?"
    return f"{after_min:g}"


def _utc(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
