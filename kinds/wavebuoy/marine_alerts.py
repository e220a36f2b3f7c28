"""`marine` alerts: a tenant's alert sea areas whose forecast or buoys are above small-boat limits.

One alert per sea area (kind `wavebuoy`, type `marine`, subject the forecast area's id, no
station), through `central.incidents` / `central.alerts`, so listing, acknowledging, closing,
the event stream, metrics and CAP work as for every alert. The areas watched are the tenant's
`sea.alert_areas`, or every area of its forecast meeting `sea.region` when that list is empty.

For each area at `now` the sources are the forecast hour covering `now` (when the forecast is
current) and the newest reading of each buoy inside the area no older than `BUOY_FRESH`:

* any source above the limits: the alert opens, or is updated when its category, severity or
  source changed (`kinds.wavebuoy.marine.change`): at once when that is worse (escalated when
  the severity is: an acknowledged alert is active again) or clearly lower; a lower state that
  is not clearly lower, or the same danger told by another source, only once it has been seen
  in `STEP_DOWN_CHECKS` checks in a row spanning `STEP_DOWN_HOLD` (each update is a public CAP
  Update: see the module doc of `kinds.wavebuoy.marine`);
* the forecast hour known and every source `eased` (below the limits by the margin of
  `kinds.wavebuoy.marine`): the alert clears (`conditions_eased`);
* an open alert of an area no longer watched (gone from `sea.alert_areas`, or from a current
  forecast) clears (`area_unwatched`), its message saying Tepi no longer watches the area;
* otherwise (between the margin and the limits, or no current forecast) nothing changes: a
  stale or missing forecast never clears an alert, as it never says the sea is calm (nor that
  an area is gone); such checks are counted (`MarineWatch.unjudged`) and logged.

Alerts are the tenant's own (`central.alerts.open_subject_alert` takes the tenant):
neighbouring regencies watch the same forecast area with their own limits and alerts.

Every public event's detail carries what its CAP message tells (area name and polygon, the
deciding values, their source, the zone), so a revision's message is rebuilt from its event
alone, even after the forecast file changed.

`MarineWatch.poll` is meant for the kind's ingest poll (about every second): it checks at most
every `CHECK_EVERY_S`. It first reads the forecast files (up to 20 MB each, parsed with shapely)
and the buoys and judges every area, holding no lock; only then does it take `lock_event_log`
(which every alert writer on PostgreSQL waits for) for the writes. Several workers may check at
once: each reads the open alert and its last event after taking the lock, so the second finds
nothing left to do; on SQLite the database's single writer and the one-open-alert index do the
same, and a check that loses that race rolls back only its own savepoint. Ingest runs the poll
in a transaction of its own (`ingest.consumer.IngestWorker.poll_kinds`), so its failure never
takes another kind's poll (the boats' SOS answers) with it.

The step-down counts live in the worker's memory: a restarted worker counts again (a step-down
comes later, the safe side), and with several workers the one whose count is reached first
publishes it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from shapely.geometry import Point
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.alerts import SYSTEM, finish, open_subject_alert
from central.db import lock_event_log
from central.incidents import raise_subject_alert
from central.models import ALERT_TYPE_MARINE, OPEN_STATUSES, Alert, AlertEvent
from core.config import TepiConfig
from core.config_model import SeaConfig
from core.sea_forecast import SeaArea, SeaForecast, SeaForecastFile
from kinds.wavebuoy.marine import (
    DOWN, SAME, BuoyReading, BuoySource, Conditions, SmallBoatLimits, change, judge, no_buoys, ring_lat_lon,
    rings_lat_lon,
)
from kinds.wavebuoy.state import latest_observations

log = logging.getLogger(__name__)

KIND = "wavebuoy"
CHECK_EVERY_S = 60.0
#: A buoy reading older than this says nothing about now (buoys report every 30-60 minutes).
BUOY_FRESH = timedelta(hours=2)
#: `Alert.clear_reason` of a marine alert whose area's conditions fell below the limits.
CONDITIONS_EASED = "conditions_eased"
#: `Alert.clear_reason` of a marine alert whose area is no longer watched (left the tenant's
#: `sea.alert_areas`, or a current forecast no longer has it).
AREA_UNWATCHED = "area_unwatched"
#: A lower state (or another source) is published once seen in this many checks in a row...
STEP_DOWN_CHECKS = 3
#: ...spanning at least this long: past a new buoy report (every 10-60 min) and into the next
#: forecast hour, so one wobble of either is never published.
STEP_DOWN_HOLD = timedelta(hours=1)
FORECAST, OBSERVED = "forecast", "observed"


@dataclass(frozen=True, slots=True)
class Reading:
    """One source's conditions for an area: the forecast hour or a buoy's reading."""

    source: str
    conditions: Conditions
    #: The forecast hour's start, or the buoy's observation time.
    at: datetime
    buoy: str | None = None


def buoy_readings(
    session: Session, tenant: str, bbox: tuple[float, float, float, float], max_age: timedelta, now: datetime
) -> list[BuoyReading]:
    """The newest reading of each of the tenant's buoys in the box (the kind's state), as the
    marine checks and answers read them."""
    return [
        BuoyReading(o.buoy, o.lat, o.lon, o.at, o.hs_m, o.wind_kn, o.name)
        for o in latest_observations(session, tenant, bbox, max_age, now)
    ]


def limits_of(sea: SeaConfig) -> SmallBoatLimits:
    return SmallBoatLimits(sea.small_boat_wave_m, sea.small_boat_wind_kn)


def alert_areas(sea: SeaConfig, forecast: SeaForecast) -> list[SeaArea]:
    """The areas whose conditions raise alerts: the configured ones this forecast has, or every
    area meeting the tenant's region."""
    if sea.alert_areas:
        return [a for a in (forecast.area(i) for i in sea.alert_areas) if a is not None]
    r = sea.region
    return forecast.areas_meeting(r.south, r.north, r.west, r.east)


def _rank(r: Reading) -> tuple[int, int, float]:
    """Sort key, most telling first: above the limits, worse severity, observed before forecast, higher wave."""
    order = ("critical", "major", "minor", "warning", None)
    return (not r.conditions.above_limits, order.index(r.conditions.severity), r.source != OBSERVED, -r.conditions.wave_m)  # type: ignore[return-value]


def deciding(readings: Sequence[Reading]) -> Reading | None:
    """The reading an alert tells: the worst above the limits (an observation before a forecast
    of the same severity); None when there are none."""
    return min(readings, key=_rank) if readings else None


def _detail(area: SeaArea, reading: Reading, forecast: SeaForecast | None, sea: SeaConfig) -> dict[str, Any]:
    c = reading.conditions
    return {
        "area": area.id,
        "area_name": area.name,
        "polygon": [list(p) for p in ring_lat_lon(area)],
        "polygons": [[list(p) for p in ring] for ring in rings_lat_lon(area)],
        "source": reading.source,
        "buoy": reading.buoy,
        "at": reading.at.isoformat(),
        "wave_m": c.wave_m,
        "wind_kn": c.wind_kn,
        "category": c.category.code,
        "above_limits": c.above_limits,
        "reasons": list(c.reasons),
        "limits": {"wave_m": sea.small_boat_wave_m, "wind_kn": sea.small_boat_wind_kn},
        "forecast_issued": forecast.issued.isoformat() if forecast is not None else None,
        "timezone": sea.timezone,
    }


def _last_detail(session: Session, alert_id: int) -> dict[str, Any]:
    payload = session.scalar(
        sa.select(AlertEvent.payload).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.seq.desc()).limit(1)
    )
    return (payload or {}).get("detail") or {}


class StepDowns:
    """Lower states seen per (tenant, area): since when, in how many checks in a row."""

    def __init__(self, checks: int = STEP_DOWN_CHECKS, hold: timedelta = STEP_DOWN_HOLD) -> None:
        self.checks, self.hold = checks, hold
        self._seen: dict[tuple[str, str], tuple[datetime, int]] = {}

    def held(self, key: tuple[str, str], now: datetime) -> bool:
        """Count one more check with a lower state; True once it has held long enough."""
        since, n = self._seen.get(key, (now, 0))
        self._seen[key] = (since, n + 1)
        return n + 1 >= self.checks and now - since >= self.hold

    def reset(self, key: tuple[str, str]) -> None:
        self._seen.pop(key, None)


def check_area(
    session: Session, tenant: str, sea: SeaConfig, area: SeaArea, readings: Sequence[Reading],
    forecast_known: bool, forecast: SeaForecast | None, now: datetime, steps: StepDowns | None = None,
) -> str | None:
    """Open, update or clear the area's alert from its readings; returns what happened
    ('opened', 'updated', 'escalated', 'cleared') or None. The caller holds `lock_event_log`.
    `steps` remembers lower states between checks (None: every lower state is published at once)."""
    key = (tenant, area.id)
    steps = steps if steps is not None else StepDowns(checks=1, hold=timedelta(0))
    alert = open_subject_alert(session, KIND, area.id, ALERT_TYPE_MARINE, tenant=tenant)
    top = deciding(readings)
    if top is not None and top.conditions.above_limits:
        severity = top.conditions.severity
        assert severity is not None
        detail = _detail(area, top, forecast, sea)
        if alert is not None:
            last = _last_detail(session, alert.id)
            how = change((alert.severity, last.get("category"), last.get("source")), top.conditions, top.source)
            if how == SAME or (how == DOWN and not steps.held(key, now)):
                if how == SAME:
                    steps.reset(key)
                return None  # no new public revision every minute, nor at every wobble
        steps.reset(key)
        _, transition = raise_subject_alert(
            session, tenant=tenant, kind=KIND, subject=area.id, alert_type=ALERT_TYPE_MARINE,
            severity=severity, at=now, who=SYSTEM, detail=detail,
        )
        return transition.value
    steps.reset(key)
    if alert is not None and forecast_known and top is not None and all(r.conditions.eased for r in readings):
        finish(session, alert, now, SYSTEM, CONDITIONS_EASED, detail=_detail(area, top, forecast, sea))
        return "cleared"
    return None


def readings_for(area: SeaArea, forecast: SeaForecast | None, buoys: Sequence[BuoyReading], limits: SmallBoatLimits, now: datetime) -> list[Reading]:
    """The area's readings at `now`: its forecast hour (`forecast` current or None) and its fresh buoys."""
    out = []
    hour = area.hour_at(now) if forecast is not None else None
    if hour is not None:
        out.append(Reading(FORECAST, judge(hour.wave_m, hour.wind_kn, limits), hour.start))
    for b in buoys:
        if now - BUOY_FRESH <= b.observed_at <= now + timedelta(minutes=5) and area.geometry.covers(Point(b.lon, b.lat)):
            try:
                out.append(Reading(OBSERVED, judge(b.wave_m, b.wind_kn, limits), b.observed_at, b.buoy))
            except ValueError:
                continue  # an impossible value stored by mistake: no reading, never a crash
    return out


@dataclass
class AreaCheck:
    """One area judged, ready to be written: its readings and whether its forecast hour is known."""

    area: SeaArea
    readings: list[Reading]
    forecast_known: bool


@dataclass
class TenantCheck:
    """One tenant's areas judged before any lock is taken (`judge_tenant`), written by
    `apply_tenant`. `current` is the forecast usable now (None: missing, broken or stale)."""

    tenant: str
    sea: SeaConfig
    current: SeaForecast | None
    problem: str | None
    areas: list[AreaCheck] = field(default_factory=list)


def judge_tenant(session: Session, tenant: str, sea: SeaConfig, file: SeaForecastFile, buoys: BuoySource, now: datetime) -> TenantCheck:
    """Read the tenant's forecast file and buoys and judge each alert area; writes nothing."""
    read = file.read()
    current, problem = read.usable_at(now)
    out = TenantCheck(tenant, sea, current, problem)
    # The polygons of an expired forecast still say where its areas are (for buoys); only its hours are void.
    known = current or read.forecast
    if known is None:
        return out
    areas = alert_areas(sea, known)
    if not areas:
        return out
    west, south, east, north = (
        min(a.geometry.bounds[0] for a in areas), min(a.geometry.bounds[1] for a in areas),
        max(a.geometry.bounds[2] for a in areas), max(a.geometry.bounds[3] for a in areas),
    )
    observed = buoys(session, tenant, (west, south, east, north), BUOY_FRESH, now)
    limits = limits_of(sea)
    for area in areas:
        readings = readings_for(area, current, observed, limits, now)
        out.areas.append(AreaCheck(area, readings, current is not None and area.hour_at(now) is not None))
    return out


def apply_tenant(session: Session, check: TenantCheck, now: datetime, steps: StepDowns | None = None) -> dict[str, str]:
    """Write what `check` found (the caller holds `lock_event_log`); area -> what happened to its
    alert. Alerts of areas no longer watched clear, but only against a current forecast."""
    out: dict[str, str] = {}
    for a in check.areas:
        what = check_area(session, check.tenant, check.sea, a.area, a.readings, a.forecast_known, check.current, now, steps)
        if what is not None:
            out[a.area.id] = what
    if check.current is None:
        return out  # a missing or stale forecast says nothing of which areas exist
    watched = {a.area.id for a in check.areas}
    for alert in session.scalars(
        sa.select(Alert).where(
            Alert.tenant_id == check.tenant, Alert.kind == KIND, Alert.type == ALERT_TYPE_MARINE,
            Alert.status.in_(OPEN_STATUSES), Alert.subject.not_in(watched),
        ).order_by(Alert.id)
    ):
        last = _last_detail(session, alert.id)
        finish(session, alert, now, SYSTEM, AREA_UNWATCHED, detail={**last, "forecast_issued": check.current.issued.isoformat()})
        out[alert.subject] = "cleared"
    return out


def check_tenant(
    session: Session, tenant: str, sea: SeaConfig, file: SeaForecastFile, buoys: BuoySource, now: datetime
) -> dict[str, str]:
    """Check every alert area of one tenant at once (judge, then write); area -> what happened to its alert."""
    return apply_tenant(session, judge_tenant(session, tenant, sea, file, buoys, now), now)


class MarineWatch:
    """The marine checks of every tenant with a sea section, for one ingest worker: each tenant's
    forecast file (re-read when it changes) and where the buoys' readings come from."""

    def __init__(
        self, seas: dict[str, SeaConfig], buoys: BuoySource = no_buoys, every_s: float = CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seas = seas
        self.files = {t: SeaForecastFile(sea.forecast_file) for t, sea in seas.items()}
        self.buoys = buoys
        self.every_s = every_s
        self._clock = clock
        self._next = 0.0
        self.steps = StepDowns()
        #: Checks of a tenant with open marine alerts but no current forecast (missing, broken or
        #: stale), by tenant: those alerts stay open (the safe side), and the deployment is told.
        self.unjudged: Counter[str] = Counter()

    @classmethod
    def from_config(cls, config: TepiConfig | None, buoys: BuoySource = no_buoys, **options: Any) -> MarineWatch:
        seas = {t.id: t.sea for t in config.tenants if t.sea is not None} if config is not None else {}
        return cls(seas, buoys, **options)

    def poll(self, session: Session, now: datetime) -> dict[str, str]:
        """Check, unless the last check was less than `every_s` ago; '<tenant>/<area>' -> what happened."""
        if self._clock() < self._next:
            return {}
        self._next = self._clock() + self.every_s
        return self.check(session, now)

    def check(self, session: Session, now: datetime) -> dict[str, str]:
        """Check every tenant now: first read and judge (no lock), then write each tenant's
        alerts in a savepoint under `lock_event_log`; a tenant whose check another worker won
        (the one-open-alert index) is left to that worker, the others still count."""
        if not self.seas:
            return {}
        checks = [judge_tenant(session, tenant, sea, self.files[tenant], self.buoys, now) for tenant, sea in self.seas.items()]
        lock_event_log(session)
        out: dict[str, str] = {}
        for check in checks:
            try:
                with session.begin_nested():
                    done = apply_tenant(session, check, now, self.steps)
            except IntegrityError:
                log.debug("another ingest worker changed the marine alerts first", extra={"tenant": check.tenant})
                continue
            out.update({f"{check.tenant}/{area}": what for area, what in done.items()})
            if check.current is None and self._has_open(session, check.tenant):
                self.unjudged[check.tenant] += 1
                log.warning(
                    "marine alerts kept open without a current forecast",
                    extra={"tenant": check.tenant, "problem": check.problem, "checks": self.unjudged[check.tenant]},
                )
        if out:
            log.warning("marine alerts changed", extra={"changes": out})
        return out

    @staticmethod
    def _has_open(session: Session, tenant: str) -> bool:
        return session.scalar(
            sa.select(sa.func.count()).select_from(Alert).where(
                Alert.tenant_id == tenant, Alert.kind == KIND, Alert.type == ALERT_TYPE_MARINE, Alert.status.in_(OPEN_STATUSES)
            )
        ) > 0
