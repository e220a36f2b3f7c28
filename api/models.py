"""Public request and response shapes of the HTTP API (what `/docs` shows).

Every timestamp is timezone-aware and serialised in UTC (`...Z`); clients in WIB, WITA or WIT
convert for display. Database rows never leave the API directly: these models decide what is
public.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from api.names import canonical_name


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]

AlertStatus = Literal["active", "acknowledged", "cleared", "closed"]
AlertType = Literal["siaga", "rate_of_rise", "offline", "forecast", "gateway_health"]
Severity = Literal["critical", "major", "minor", "warning"]
#: `open` is active or acknowledged: everything not yet cleared.
AlertStatusFilter = Literal["active", "acknowledged", "cleared", "closed", "open"]
EventKind = Literal[
    "opened", "updated", "escalated", "acknowledged", "cleared", "closed", "forecast_refined", "cancelled"
]
ClearReason = Literal["level_normal", "rise_over", "data_returned", "confirmed", "cancelled", "drops_stopped"]


#: The trend as `kinds.awlr.api.trend` finds it; the same words wherever a station shows it.
TREND_DESCRIPTION = (
    "Where the level is going: rising or falling at 5 cm/h or more, else steady; from a least-squares line through "
    "the summary windows of the 30 minutes up to the newest reading. Null when the data are too thin for a line "
    "(fewer than 3 windows, or windows covering less than 15 minutes)."
)
TREND_RATE_DESCRIPTION = "The rate behind `trend` in cm/h (negative: falling), rounded to whole cm/h; null with it."


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ThresholdsPublic(_Public):
    siaga3_cm: float = Field(description="Lower bound of Siaga 3 (Waspada).")
    siaga2_cm: float = Field(description="Lower bound of Siaga 2 (Siaga).")
    siaga1_cm: float = Field(description="Lower bound of Siaga 1 (Awas).")
    source: str = Field(description="Where these thresholds were published.")


class StationPublic(_Public):
    id: str
    name: str
    river: str
    tenant: str
    lat: float
    lon: float
    thresholds: ThresholdsPublic
    last_level_cm: float | None = Field(description="Newest level received; null before the first.")
    siaga: int | None = Field(ge=1, le=4, description="Siaga level of the newest reading: 4 normal .. 1 awas.")
    siaga_label: str | None = Field(description='As BPBD and PetaBencana.id write it, e.g. "SIAGA IV".')
    last_seen_at: UtcDatetime | None = Field(description="Device time of the newest reading.")
    trend: Trend | None = Field(description=TREND_DESCRIPTION)
    trend_cm_per_h: float | None = Field(description=TREND_RATE_DESCRIPTION)


class StationsPublic(_Public):
    data: list[StationPublic]
    count: int = Field(description="Stations of the tenant, over all pages.")
    limit: int
    offset: int


class LevelBucket(_Public):
    start: UtcDatetime
    end: UtcDatetime
    mean_cm: float | None = Field(
        description="Count-weighted mean of the good readings, rounded to the station's resolution; null if none."
    )
    min_cm: float | None
    max_cm: float | None
    count: int = Field(description="Good readings (passed QC) behind the statistics.")
    qc_good: int = Field(default=0, description="Readings QC passed as good (the same as count).")
    qc_suspect: int = Field(default=0, description="Readings QC flagged suspect (not in the statistics).")
    qc_fail: int = Field(default=0, description="Readings QC failed.")
    qc_missing: int = Field(default=0, description="Readings numbered by the device but never received.")


class LevelSeries(_Public):
    station: str
    tenant: str
    start: UtcDatetime = Field(
        description="Start of the first bucket: the requested start (or the aligned default), moved forward by "
        "whole buckets past any time before the station's first reading."
    )
    end: UtcDatetime = Field(description="End of the last bucket (may be later than the requested end).")
    every_s: int
    source: Literal["sql", "tsdb"] = Field(description="Which level store answered.")
    thresholds: ThresholdsPublic = Field(description="The station's Siaga bounds, to draw on the chart.")
    data: list[LevelBucket] = Field(description="Buckets with data, oldest first; empty buckets are left out.")


class ForecastPublic(_Public):
    upstream_station: str = Field(description="The upstream station whose rise caused the forecast.")
    upstream_siaga: int = Field(ge=1, le=3, description="Worst Siaga level reached upstream.")
    upstream_level_cm: float | None = Field(description="Upstream level when it reached that Siaga level.")
    expected_from: UtcDatetime = Field(description="Earliest expected arrival here (upstream time + min travel).")
    expected_until: UtcDatetime = Field(
        description="Latest expected arrival here (last upstream high water + max travel)."
    )


class AlertPublic(_Public):
    id: int
    tenant: str
    station: str
    type: AlertType = Field(
        description="siaga: a Siaga threshold crossed; rate_of_rise: a fast rise; offline: no data from the "
        "station; forecast: water from upstream expected here; gateway_health: the gateway's site broker dropped "
        "device readings (filed under the gateway's first station; the gateway, counts and interval are in the "
        "events' detail); operational, never in the public CAP feed."
    )
    severity: Severity
    siaga: int = Field(ge=1, le=4, description="Siaga level of the station at the latest update.")
    siaga_label: str
    peak_siaga: int = Field(ge=1, le=4, description="Worst Siaga level reached during the episode.")
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


class AlertsPublic(_Public):
    data: list[AlertPublic]
    count: int = Field(description="Alerts matching the filter, over all pages.")
    limit: int
    offset: int


class AlertEventPublic(_Public):
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


class AlertEventsPublic(_Public):
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


class ActionRequest(BaseModel):
    """Body of acknowledging or closing; who acts is the authenticated user, never the body."""

    model_config = ConfigDict(extra="forbid")

    note: Note = Field(default=None, description="Optional remark, kept in the alert's history (personal data).")


#: Acknowledging and closing take the same body.
ActorRequest = AckRequest = ActionRequest

Role = Literal["admin", "disaster_office", "fisher", "staff_admin", "viewer"]
Trend = Literal["rising", "falling", "steady"]
#: Stripped, NFC, no control or invisible formatting characters (`api.names`): 422 saying which.
UserName = Annotated[str, AfterValidator(canonical_name)]


class MePublic(_Public):
    """The authenticated caller."""

    user_id: int
    name: str
    tenant: str
    role: Role
    key_id: str


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: UserName = Field(
        description="Unique within the tenant, also against names that read the same (case, width, spacing); "
        "stored NFC-normalised; control and invisible formatting characters (Unicode Cc, Cf, Zl, Zp, Co, Cs, "
        "Cn) are refused."
    )
    role: Role


class UserPublic(_Public):
    id: int
    tenant: str = Field(validation_alias=AliasChoices("tenant_id", "tenant"))
    name: str
    role: Role
    created_at: UtcDatetime
    disabled_at: UtcDatetime | None


class UsersPublic(_Public):
    data: list[UserPublic]
    count: int
    limit: int
    offset: int


class ApiKeyPublic(_Public):
    """A key as listings show it: never the key itself."""

    id: str
    tenant: str = Field(validation_alias=AliasChoices("tenant_id", "tenant"))
    user_id: int
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None


class ApiKeysPublic(_Public):
    data: list[ApiKeyPublic]
    count: int
    limit: int
    offset: int


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The key: shown this once, stored only as a keyed hash.")


class PublicStation(_Public):
    """What anyone may know of a river station: where the water is and where it is going."""

    tenant: str
    station: str
    name: str
    river: str
    level_cm: float | None = Field(description="Newest level received; null before the first.")
    siaga: int | None = Field(ge=1, le=4, description="4 normal .. 1 awas.")
    siaga_label: str | None = Field(description='e.g. "SIAGA IV".')
    trend: Trend | None = Field(description=TREND_DESCRIPTION)
    trend_cm_per_h: float | None = Field(description=TREND_RATE_DESCRIPTION)
    updated_at: UtcDatetime | None = Field(description="Device time of the newest reading.")


class PublicStations(_Public):
    data: list[PublicStation]
    count: int
    limit: int
    offset: int


class HealthPublic(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"]


class ErrorPublic(BaseModel):
    detail: str
    code: str = Field(description="Stable machine-readable reason, e.g. alert_cleared.")


_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SHORT_DURATION = re.compile(r"^(\d+)([smhd]?)$")  # no unit: seconds
# A "+" in a query string decodes to a space; "2025-01-20T07:00:00 07:00" meant "+07:00".
_LOST_PLUS = re.compile(r"^(\S+T\S+?) (\d{2}(:?\d{2})?)$")

MIN_EVERY = timedelta(minutes=1)
MAX_EVERY = timedelta(days=1)
DEFAULT_SPAN = timedelta(hours=24)
#: Bounds of query timestamps: beyond them arithmetic on defaults would overflow, and no gauge has data.
EARLIEST = datetime(1970, 1, 2, tzinfo=timezone.utc)
LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)


def _parse_every(value: object) -> object:
    """Accept Prometheus-style `10m`/`1h`/`1d` as well as ISO 8601 `PT10M` and plain seconds."""
    if isinstance(value, str):
        m = _SHORT_DURATION.match(value.strip())
        if m:
            return timedelta(seconds=int(m.group(1)) * _UNIT_S[m.group(2) or "s"])
    return value


def _restore_plus(value: object) -> object:
    if isinstance(value, str):
        m = _LOST_PLUS.match(value.strip())
        if m:
            return f"{m.group(1)}+{m.group(2)}"
    return value


QueryDatetime = Annotated[UtcDatetime, BeforeValidator(_restore_plus)]


class LevelQuery(BaseModel):
    """`?start=&end=&every=` of a level history; defaults: the last 24 h in 10-minute buckets."""

    start: QueryDatetime | None = Field(
        default=None,
        description="ISO 8601 with offset, e.g. 2025-01-20T07:00:00+07:00, kept as given. Default: end - 24 h, "
        "moved back to a whole multiple of `every` from midnight, station time (10-minute buckets at :00, :10, ...; "
        "daily ones at local midnight, 00:00 WIB, WITA or WIT).",
    )
    end: QueryDatetime | None = Field(default=None, description="ISO 8601 with offset; default now.")
    every: Annotated[timedelta, BeforeValidator(_parse_every)] = Field(
        default=timedelta(minutes=10), description="Bucket width, 1m to 1d: 10m, 1h, 1d, PT15M or seconds."
    )

    @model_validator(mode="after")
    def _check(self) -> "LevelQuery":
        for t in (self.start, self.end):
            if t is not None and not EARLIEST <= t <= LATEST:
                raise ValueError(f"start and end must lie between {EARLIEST.year} and {LATEST.year}")
        if not MIN_EVERY <= self.every <= MAX_EVERY:
            raise ValueError("every must be between 1 minute and 1 day")
        if self.every.microseconds:
            raise ValueError("every must be a whole number of seconds")
        if self.start is not None and self.end is not None and not self.start < self.end:
            raise ValueError("start must be before end")
        return self

    def resolved(self, now: datetime) -> tuple[datetime, datetime]:
        """(start, end) with defaults applied; start is cut to whole seconds, as buckets are."""
        end = self.end or now
        start = self.start or end - DEFAULT_SPAN
        return start.replace(microsecond=0), end
