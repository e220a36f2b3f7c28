"""Public request and response shapes of the HTTP API (what `/docs` shows).

Every timestamp is timezone-aware and serialised in UTC (`...Z`); clients in WIB, WITA or WIT
convert for display. A time a client sends (`RequestDatetime`, in a query or a body) must lie
between `EARLIEST` and `LATEST`: Python's datetimes end at years 1 and 9999, so converting
`0001-01-01T00:00:00+14:00` to UTC, or adding a week to `9999-12-31`, overflowed into a 500.
Request bodies are `RequestBody`s: strict JSON types, no unknown fields. Database rows never
leave the API directly: these models decide what is public. The shapes of a kind's own
resources (a river station, its level history) are the kind's (`kinds/<name>/api/models.py`),
built on `PublicModel`, `UtcDatetime`, `RequestDatetime` and `RequestBody` from here.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)

from central.names import canonical_name
from core.config_model import TenantZone


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


#: What the API shows: a stored time, in UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]

#: Bounds of a time a client may send: no gauge, boat or catch has data outside them, and the
#: windows built on a request (a week's widening, a day's default span) stay far from Python's
#: limits (years 1 and 9999) and after the Unix epoch the time-series store counts from,
#: whatever the offset (at most +-14 h). The river's level history had these bounds already.
EARLIEST = datetime(1970, 1, 2, tzinfo=timezone.utc)
LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)
TIME_BOUNDS_MESSAGE = f"a time must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)"


def _within_bounds(value: datetime) -> datetime:
    # Comparing aware datetimes subtracts their offsets as a timedelta: no overflow at the ends.
    if not EARLIEST <= value <= LATEST:
        raise ValueError(TIME_BOUNDS_MESSAGE)
    return value


#: A time a client sends, in a query or a body: with a UTC offset, within [EARLIEST, LATEST]
#: (else 422 naming the field), converted to UTC. ISO 8601 strings stay accepted in a strict
#: `RequestBody` (JSON has no datetime type).
RequestDatetime = Annotated[AwareDatetime, Strict(False), AfterValidator(_within_bounds), AfterValidator(_to_utc)]

AlertStatus = Literal["active", "acknowledged", "cleared", "closed"]
AlertType = Literal["siaga", "rate_of_rise", "offline", "forecast", "gateway_health", "sos", "overdue", "marine"]
Severity = Literal["critical", "major", "minor", "warning"]
#: `open` is active or acknowledged: everything not yet cleared.
AlertStatusFilter = Literal["active", "acknowledged", "cleared", "closed", "open"]
EventKind = Literal[
    "opened", "updated", "escalated", "acknowledged", "cleared", "closed", "forecast_refined", "cancelled"
]
ClearReason = Literal["level_normal", "rise_over", "data_returned", "confirmed", "cancelled", "drops_stopped", "resolved", "conditions_eased", "area_unwatched"]


class PublicModel(BaseModel):
    """A response shape that may be read from a row's attributes."""

    model_config = ConfigDict(from_attributes=True)


class ForecastPublic(PublicModel):
    upstream_station: str = Field(description="The upstream station whose rise caused the forecast.")
    upstream_siaga: int = Field(ge=1, le=3, description="Worst Siaga level reached upstream.")
    upstream_level_cm: float | None = Field(description="Upstream level when it reached that Siaga level.")
    expected_from: UtcDatetime = Field(description="Earliest expected arrival here (upstream time + min travel).")
    expected_until: UtcDatetime = Field(
        description="Latest expected arrival here (last upstream high water + max travel)."
    )


class AlertPublic(PublicModel):
    id: int
    tenant: str
    kind: str = Field(default="awlr", description="The device kind the alert belongs to: awlr (river), fishfinder (boats).")
    subject: str | None = Field(
        default=None,
        description="What the alert is about: the station (awlr) or the vessel (fishfinder). Null for viewers on "
        "alerts of a kind other than the river (a vessel names a boat and its crew).",
    )
    station: str | None = Field(description="The river station; null for alerts that are about no station.")
    type: AlertType = Field(
        description="siaga: a Siaga threshold crossed; rate_of_rise: a fast rise; offline: no data from the "
        "station; forecast: water from upstream expected here; gateway_health: the gateway's site broker dropped "
        "device readings (filed under the gateway's first station; the gateway, counts and interval are in the "
        "events' detail); operational, never in the public CAP feed. Fish finder: sos, a boat's distress "
        "incident (see /sos); overdue, a vessel past its return or silent too long; neither is ever public. Wave buoy: marine, a sea area's "
        "waves or wind above small-boat limits (subject the area), public with a CAP message."
    )
    severity: Severity
    siaga: int | None = Field(
        ge=1,
        le=4,
        description="Siaga level of the station at the latest update; null for an alert about no station (a "
        "vessel's SOS or overdue alert: Siaga levels are a river's).",
    )
    siaga_label: str | None = Field(description='The level as the kind writes it, e.g. "SIAGA II"; null with `siaga`.')
    peak_siaga: int | None = Field(
        ge=1, le=4, description="Worst Siaga level reached during the episode; null with `siaga`."
    )
    rate_cm_per_h: float | None = Field(description="Rise rate at the latest update (rate_of_rise alerts).")
    status: AlertStatus
    revision: int = Field(description="Revision of the public (CAP) message of this alert.")
    opened_at: UtcDatetime
    updated_at: UtcDatetime
    acknowledged_at: UtcDatetime | None
    acknowledged_by: str | None = Field(
        description="The user who acknowledged (personal data): null for viewers and after the retention period."
    )
    cleared_at: UtcDatetime | None
    cleared_by: str | None = Field(description='"gateway:<id>" when data cleared it, "system" for ingest\'s checks.')
    clear_reason: ClearReason | None
    closed_at: UtcDatetime | None
    closed_by: str | None = Field(
        description="The user who closed it (personal data): null for viewers and after the retention period."
    )
    last_level_cm: float | None = Field(
        description="The station's level: its newest good reading while the alert is open (an update of the level "
        "alone is no new revision: the CAP message keeps the level of its revision), the level at the latest update "
        "once it is not."
    )
    last_level_at: UtcDatetime | None = Field(
        default=None, description="Device time of the reading behind last_level_cm; null where unknown."
    )
    forecast: ForecastPublic | None = Field(default=None, description="Forecast alerts: cause and arrival window.")
    last_arrival_at: UtcDatetime | None = Field(
        default=None, description="Offline alerts: when ingest last received anything from the station."
    )


class AlertsPublic(PublicModel):
    data: list[AlertPublic]
    count: int = Field(description="Alerts matching the filter, over all pages.")
    limit: int
    offset: int


class AlertEventPublic(PublicModel):
    """One change of an alert: what the live stream sends and the alert's history lists."""

    seq: int = Field(description="Position in the event log; the SSE id, to resume with Last-Event-ID.")
    alert_id: int
    kind: EventKind
    revision: int
    at: UtcDatetime = Field(description="When it happened: device time for the river, server time for people.")
    recorded_at: UtcDatetime
    who: str | None = Field(
        description='A person (null for viewers and after the retention period), "gateway:<id>" or "system".'
    )
    detail: dict[str, Any] = Field(description="What the change was about, by kind.")
    alert: AlertPublic = Field(description="The alert as it was right after this change.")


class AlertEventsPublic(PublicModel):
    data: list[AlertEventPublic]
    count: int = Field(description="Events of the alert, over all pages.")
    limit: int
    offset: int


#: Control characters other than tab and newline: no meaning in a name or note, and NUL breaks PostgreSQL text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _printable(value: str | None) -> str | None:
    if value is not None and _CONTROL.search(value):
        raise ValueError("control characters other than newline and tab are not allowed")
    return value or None


Note = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(_printable)]


class RequestBody(BaseModel):
    """A request body: no unknown fields, and JSON's own types only. FastAPI validates the
    parsed Python values, so pydantic's lax mode would take `true` for the number 1.0, `"12"`
    for 12 and `1` for true; strict mode refuses them (a JSON integer for a float field stays
    fine). Times are `RequestDatetime`, which accepts ISO 8601 strings."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ActionRequest(RequestBody):
    """Body of acknowledging or closing; who acts is the authenticated user, never the body."""

    note: Note = Field(default=None, description="Optional remark, kept in the alert's history (personal data).")


#: Acknowledging and closing take the same body.
ActorRequest = AckRequest = ActionRequest

Role = Literal["admin", "disaster_office", "employee", "fisher", "fisheries_office", "staff_admin", "viewer"]
#: Stripped, NFC, no control or invisible formatting characters (`central.names`): 422 saying which.
UserName = Annotated[str, AfterValidator(canonical_name)]


class MePublic(PublicModel):
    """The authenticated caller."""

    user_id: int
    name: str
    tenant: str
    tenant_name: str
    timezone: TenantZone = Field(description="IANA zone the tenant's times are shown in (WIB, WITA or WIT).")
    role: Role
    email: str | None = Field(description="Where escalations reach this user by email (personal data).")
    key_id: str | None = Field(description="The API key used; null when signed in to the console.")
    csrf_token: str | None = Field(
        description="With the console's session cookie: the token to send as `X-CSRF-Token` on POST, PUT, PATCH "
        "and DELETE. Null for API keys, which need none."
    )


class SignInRequest(RequestBody):
    """A person signing in to the console."""

    tenant: str = Field(max_length=63, description="The tenant's id, e.g. dki-jakarta (`GET /public/tenants`).")
    name: str = Field(max_length=200, description="The user's name, as the tenant's admin created it.")
    password: str = Field(max_length=1024)


class SessionUser(PublicModel):
    id: int
    name: str
    role: Role
    tenant: str


class SessionPublic(PublicModel):
    """A signed-in console session: the cookie carries it; the CSRF token goes in `X-CSRF-Token`."""

    user: SessionUser
    csrf_token: str


class TenantPublic(PublicModel):
    """A tenant as the sign-in form and the public page list it."""

    id: str
    name: str
    timezone: TenantZone


class UserCreate(RequestBody):
    name: UserName = Field(
        description="Unique within the tenant, also against names that read the same (case, width, spacing); "
        "stored NFC-normalised; control and invisible formatting characters (Unicode Cc, Cf, Zl, Zp, Co, Cs, "
        "Cn) are refused."
    )
    role: Role


class UserPublic(PublicModel):
    id: int
    tenant: str = Field(validation_alias=AliasChoices("tenant_id", "tenant"))
    name: str
    role: Role
    created_at: UtcDatetime
    disabled_at: UtcDatetime | None


class UsersPublic(PublicModel):
    data: list[UserPublic]
    count: int
    limit: int
    offset: int


class ApiKeyPublic(PublicModel):
    """A key as listings show it: never the key itself."""

    id: str
    tenant: str = Field(validation_alias=AliasChoices("tenant_id", "tenant"))
    user_id: int
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None


class ApiKeysPublic(PublicModel):
    data: list[ApiKeyPublic]
    count: int
    limit: int
    offset: int


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The key: shown this once, stored only as a keyed hash.")


class HealthPublic(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"]


class ErrorPublic(BaseModel):
    detail: str
    code: str = Field(description="Stable machine-readable reason, e.g. alert_cleared.")
