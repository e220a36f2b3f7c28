"""Request and response shapes of the river's API: stations, level history, the public view.

As in `api.models`, timestamps are timezone-aware and serialised in UTC, and these models, not
database rows, decide what is public.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BeforeValidator, BaseModel, Field, model_validator

from api.models import PublicModel, RequestDatetime, UtcDatetime

Trend = Literal["rising", "falling", "steady"]

#: The trend as `kinds.awlr.api.trend` finds it; the same words wherever a station shows it.
TREND_DESCRIPTION = (
    "Where the level is going: rising or falling at 5 cm/h or more, else steady; from a least-squares line through "
    "the summary windows of the 30 minutes up to the newest reading. Null when the data are too thin for a line "
    "(fewer than 3 windows, or windows covering less than 15 minutes)."
)
TREND_RATE_DESCRIPTION = "The rate behind `trend` in cm/h (negative: falling), rounded to whole cm/h; null with it."


class ThresholdsPublic(PublicModel):
    siaga3_cm: float = Field(description="Lower bound of Siaga 3 (Waspada).")
    siaga2_cm: float = Field(description="Lower bound of Siaga 2 (Siaga).")
    siaga1_cm: float = Field(description="Lower bound of Siaga 1 (Awas).")
    source: str = Field(description="Where these thresholds were published.")


class StationPublic(PublicModel):
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


class StationsPublic(PublicModel):
    data: list[StationPublic]
    count: int = Field(description="Stations of the tenant, over all pages.")
    limit: int
    offset: int


class LevelBucket(PublicModel):
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


class LevelSeries(PublicModel):
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


class PublicStation(PublicModel):
    """What anyone may know of a river station: where the water is and where it is going."""

    tenant: str
    station: str
    name: str
    river: str
    lat: float = Field(description="Where the gauge is (WGS 84), as its CAP messages' area says anyway: for a map.")
    lon: float
    level_cm: float | None = Field(description="Newest level received; null before the first.")
    siaga: int | None = Field(ge=1, le=4, description="4 normal .. 1 awas.")
    siaga_label: str | None = Field(description='e.g. "SIAGA IV".')
    trend: Trend | None = Field(description=TREND_DESCRIPTION)
    trend_cm_per_h: float | None = Field(description=TREND_RATE_DESCRIPTION)
    updated_at: UtcDatetime | None = Field(description="Device time of the newest reading.")


class PublicStations(PublicModel):
    data: list[PublicStation]
    count: int
    limit: int
    offset: int


class WarningCategory(PublicModel):
    """BMKG's wave category a sea area's warning tells (core.sea_forecast.WAVE_CATEGORIES)."""

    code: str = Field(examples=["sangat_tinggi"])
    label_id: str = Field(examples=["Sangat Tinggi"])
    label_en: str = Field(examples=["Very rough"])


class PublicWarning(PublicModel):
    """A public warning in force, as its CAP message tells it (`kinds.awlr.api.public_warnings`)."""

    id: int = Field(description="The alert's id, as in its CAP message's URL.")
    tenant: str
    type: str = Field(description="siaga, rate_of_rise, forecast, offline (rivers); marine (sea areas); ...")
    severity: str = Field(description="critical, major, minor or warning (CAP: Extreme, Severe, Moderate, Minor).")
    station: str | None = Field(description="The river station; null for a warning about no station (a sea area).")
    area: str | None = Field(description="The sea area (or other public place) of a warning about no station.")
    place: str = Field(description="The station's or area's name.")
    siaga: int | None = Field(ge=1, le=4, description="Siaga level at the revision; null for a warning about no station.")
    siaga_label: str | None = Field(description='e.g. "SIAGA II"; null with `siaga`.')
    category: WarningCategory | None = Field(
        default=None, description="A sea area's warning (marine): BMKG's wave category at the revision; null for others."
    )
    headline_id: str = Field(description="The CAP message's headline in Indonesian.")
    headline_en: str = Field(description="The CAP message's headline in English.")
    since: UtcDatetime = Field(description="When the warning was first issued.")
    updated_at: UtcDatetime = Field(description="When its current revision was issued.")
    cap_url: str = Field(description="Its CAP 1.2 message (public).")


class PublicWarnings(PublicModel):
    data: list[PublicWarning] = Field(description="Newest revision first.")
    count: int


_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SHORT_DURATION = re.compile(r"^(\d+)([smhd]?)$")  # no unit: seconds
# A "+" in a query string decodes to a space; "2025-01-20T07:00:00 07:00" meant "+07:00".
_LOST_PLUS = re.compile(r"^(\S+T\S+?) (\d{2}(:?\d{2})?)$")

MIN_EVERY = timedelta(minutes=1)
MAX_EVERY = timedelta(days=1)
DEFAULT_SPAN = timedelta(hours=24)


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


#: Within `api.models.EARLIEST` and `LATEST` (else 422): beyond them arithmetic on defaults would
#: overflow, and no gauge has data.
QueryDatetime = Annotated[RequestDatetime, BeforeValidator(_restore_plus)]


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
