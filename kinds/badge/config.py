"""The badge kind's configuration: the top-level `offices:` section (which offices a deployment
has, whose they are, where they stand and whether they require rotating identifiers) and the
`attendance:` section (each tenant's civil-service hours, holidays and time zone).

`BadgeDeployment` adds them to the generic model (`core.config_model.CoreConfig`), composed into
`core.config.TepiConfig` through the registry (`kinds.config_models`). A scanner is a device of
kind `badge` whose `platform` is an office of this section.

Working hours default to the Indonesian civil service's 37.5 hours over five days: Perpres
21/2023 on ASN working days and hours sets Monday to Friday, 37 h 30 min a week without breaks,
from 07:30 local time, with a 60-minute break (Friday 90), and leaves the detail to each agency;
Monday to Thursday 07:30-16:00 and Friday 07:30-16:30 is what that makes. A tenant's
`attendance:` entry may change them (e.g. Ramadan's 32 h 30 min from 08:00).
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from core.config_model import ConfigError, ConfigSection, CoreConfig, DeviceConfig, Identifier, unique_ids

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def parse_span(text: str) -> tuple[time, time]:
    """`"07:30-16:00"` as (start, end); `ValueError` for anything else or an end not after the start."""
    m = _SPAN.match(text)
    if m is None:
        raise ValueError(f"working hours {text!r} are not HH:MM-HH:MM")
    start, end = time(int(m[1]), int(m[2])), time(int(m[3]), int(m[4]))
    if end <= start:
        raise ValueError(f"working hours {text!r} end before they start")
    return start, end


class WorkSchedule(ConfigSection):
    """Working hours per weekday (`"07:30-16:00"`); a weekday it does not name is a day off."""

    id: Identifier
    days: dict[Weekday, str]

    @field_validator("days")
    @classmethod
    def _spans(cls, days: dict[str, str]) -> dict[str, str]:
        if not days:
            raise ValueError("a schedule names at least one working day")
        for span in days.values():
            parse_span(span)
        return days

    def hours(self, weekday: int) -> tuple[time, time] | None:
        """(start, end) on `weekday` (Monday 0), None on a day off."""
        span = self.days.get(WEEKDAYS[weekday])  # type: ignore[call-overload]
        return None if span is None else parse_span(span)


#: Perpres 21/2023: 37.5 hours a week over five working days, breaks (60 min, Friday 90) not counted.
CIVIL_SERVICE_SCHEDULE = WorkSchedule(
    id="pns-5-hari",
    days={"mon": "07:30-16:00", "tue": "07:30-16:00", "wed": "07:30-16:00", "thu": "07:30-16:00", "fri": "07:30-16:30"},
)


class TenantAttendance(ConfigSection):
    """A tenant's attendance rules."""

    tenant: Identifier
    timezone: Literal["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"] = Field(
        default="Asia/Jakarta", description="WIB, WITA or WIT: the zone days and hours are counted in."
    )
    schedules: list[WorkSchedule] = [CIVIL_SERVICE_SCHEDULE]
    default_schedule: Identifier = CIVIL_SERVICE_SCHEDULE.id
    holidays: list[date] = Field(default=[], description="National holidays and collective leave (cuti bersama) of the tenant.")
    late_grace_min: int = Field(default=0, ge=0, le=120, description="Minutes after the start that still count as on time.")
    retention_days: int = Field(
        default=730, ge=30, le=3650,
        description="Days to keep presence events, security events and view audits (personal data, UU 27/2022).",
    )

    @model_validator(mode="after")
    def _schedule_ids(self) -> Self:
        ids = [s.id for s in self.schedules]
        unique_ids("schedule", ids)
        if self.default_schedule not in ids:
            raise ValueError(f"attendance of {self.tenant!r}: default_schedule {self.default_schedule!r} is none of {ids}")
        return self

    def schedule(self, schedule_id: str | None) -> WorkSchedule:
        wanted = schedule_id or self.default_schedule
        for s in self.schedules:
            if s.id == wanted:
                return s
        raise KeyError(wanted)


class OfficeConfig(ConfigSection):
    """An office whose scanners hear badges."""

    id: Identifier
    tenant: Identifier
    name: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    require_eid: bool = Field(
        default=True, description="Refuse static identifiers (iBeacon, Eddystone-UID): any phone clones one."
    )
    enter_dbm: float = Field(default=-75.0, ge=-110, le=0, description="Smoothed RSSI at or above which a badge is inside.")
    exit_dbm: float = Field(default=-85.0, ge=-120, le=0, description="Smoothed RSSI below which a badge is leaving (hysteresis).")
    summary_every_s: int = Field(default=300, ge=10, le=86400, description="How often the gateway sends the office's health summary.")

    @model_validator(mode="after")
    def _hysteresis(self) -> Self:
        if self.exit_dbm >= self.enter_dbm:
            raise ValueError(f"office {self.id!r}: exit_dbm must be below enter_dbm")
        return self


class BadgeDeployment(CoreConfig):
    """The configuration with offices and attendance rules (none unless declared)."""

    offices: list[OfficeConfig] = []
    attendance: list[TenantAttendance] = []

    @model_validator(mode="after")
    def _office_references(self) -> Self:
        tenants = {t.id for t in self.tenants}
        unique_ids("office", [o.id for o in self.offices])
        unique_ids("attendance tenant", [a.tenant for a in self.attendance])
        for o in self.offices:
            if o.tenant not in tenants:
                raise ValueError(f"office {o.id!r}: unknown tenant {o.tenant!r}")
        for a in self.attendance:
            if a.tenant not in tenants:
                raise ValueError(f"attendance: unknown tenant {a.tenant!r}")
        return self

    def office(self, office_id: str) -> OfficeConfig:
        for o in self.offices:
            if o.id == office_id:
                return o
        raise KeyError(office_id)

    def device_office(self, device: DeviceConfig) -> OfficeConfig:
        """The office a scanner hangs in; a `ConfigError` naming the device when none is declared."""
        try:
            return self.office(device.platform)
        except KeyError:
            raise ConfigError(f"device {device.id!r} ({device.kind}): platform {device.platform!r} is no configured office") from None

    def tenant_attendance(self, tenant_id: str) -> TenantAttendance:
        """The tenant's rules; the civil service's defaults where the file names none."""
        for a in self.attendance:
            if a.tenant == tenant_id:
                return a
        return TenantAttendance(tenant=tenant_id)

    def platform_tenant(self, platform: str) -> str | None:
        try:
            return self.office(platform).tenant
        except KeyError:
            return super().platform_tenant(platform)

    def platform_timezone(self, platform: str) -> str | None:
        try:
            office = self.office(platform)
        except KeyError:
            return super().platform_timezone(platform)
        return self.tenant_attendance(office.tenant).timezone

    def platform_positions(self, tenant: str) -> list[tuple[float, float]]:
        return [*super().platform_positions(tenant), *((o.lat, o.lon) for o in self.offices if o.tenant == tenant)]

    def with_summary_every(self, summary_every_s: int) -> Self:
        offices = [o.model_copy(update={"summary_every_s": max(10, min(o.summary_every_s, summary_every_s))}) for o in self.offices]
        return super().with_summary_every(summary_every_s).model_copy(update={"offices": offices})


#: What the registry adds to the configuration model for this kind (`kinds.config_models`).
CONFIG = BadgeDeployment
