"""Downstream arrival forecasts, as pure functions: the river network, windows and decisions.

When an upstream gauge reaches Siaga 3 or worse, the same water reaches the gauges below it
after the published travel time (Katulampa -> Manggarai 6-12 h). No hydraulics here: the
window is the published range, which is what the disaster office already plans with.

A forecast alert for a downstream station carries one window `[from, until]`:

* it opens when an upstream station gets worse to Siaga 3..1 at time t: `[t + min, t + max]`;
* later upstream changes widen it (the union): a worse upstream level *refines* the forecast
  (new cause, maybe a higher severity); a milder one, or the upstream falling back to Siaga 4
  at time t, only moves `until` to `t + max`, since the high water that passed upstream until t
  is still on its way;
* it is *confirmed* when the downstream station itself raises (or escalates) a Siaga alert at
  or after the forecast opened;
* it is *cancelled* when no upstream station of it is in alert any more and the downstream
  station has reported past `until` without rising. Device time, not wall-clock: a replayed or
  backlogged past is judged by what the river did then.

`kinds.awlr.ingest.forecast_alerts` applies these decisions to the state store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from core.config import TepiConfig

Window = tuple[datetime, datetime]

#: ThingsBoard severity of a forecast by the Siaga level upstream: one step below what the same
#: level observed at the station would be, since the water may spread or be held on the way.
FORECAST_SEVERITY = {1: "major", 2: "minor", 3: "warning"}


@dataclass(frozen=True, slots=True)
class Reach:
    """The river between a gauge and one gauge downstream of it, with the published travel time."""

    upstream: str
    downstream: str
    travel_min: timedelta
    travel_max: timedelta
    source: str


@dataclass(frozen=True)
class RiverNetwork:
    """Which gauges lie below which, from the `downstream` lists of the configuration."""

    reaches: tuple[Reach, ...] = ()
    _below: Mapping[str, tuple[Reach, ...]] = field(default_factory=dict, repr=False)
    _above: Mapping[str, tuple[Reach, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, reaches: tuple[Reach, ...]) -> RiverNetwork:
        below: dict[str, list[Reach]] = {}
        above: dict[str, list[Reach]] = {}
        for r in reaches:
            below.setdefault(r.upstream, []).append(r)
            above.setdefault(r.downstream, []).append(r)
        return cls(
            reaches,
            {k: tuple(v) for k, v in below.items()},
            {k: tuple(v) for k, v in above.items()},
        )

    @classmethod
    def from_config(cls, config: TepiConfig) -> RiverNetwork:
        return cls.of(
            tuple(
                Reach(
                    upstream=s.id,
                    downstream=d.station,
                    travel_min=timedelta(hours=d.travel_hours[0]),
                    travel_max=timedelta(hours=d.travel_hours[1]),
                    source=d.source,
                )
                for s in config.stations
                for d in s.downstream
            )
        )

    def below(self, station: str) -> tuple[Reach, ...]:
        """Reaches from `station` to the gauges downstream of it."""
        return self._below.get(station, ())

    def above(self, station: str) -> tuple[Reach, ...]:
        """Reaches from the gauges upstream of `station` to it."""
        return self._above.get(station, ())

    def and_below(self, stations: Iterable[str]) -> set[str]:
        """These stations and the ones directly below them: whose forecasts their data can settle."""
        out = set(stations)
        return out | {r.downstream for s in list(out) for r in self.below(s)}


def arrival_window(event_at: datetime, reach: Reach) -> Window:
    """When water seen upstream at `event_at` is expected at the downstream gauge of `reach`."""
    return event_at + reach.travel_min, event_at + reach.travel_max


def union(a: Window, b: Window) -> Window:
    return min(a[0], b[0]), max(a[1], b[1])


@dataclass(frozen=True, slots=True)
class ForecastState:
    """What an open forecast alert says now."""

    upstream_siaga: int
    window: Window


@dataclass(frozen=True, slots=True)
class UpstreamChange:
    """A Siaga change at the upstream end of a reach (hysteresis applied by the gateway)."""

    station: str
    at: datetime
    siaga_from: int | None
    siaga_to: int
    level_cm: float


PlanKind = Literal["open", "refine", "extend"]


@dataclass(frozen=True, slots=True)
class ForecastPlan:
    """What to do to the downstream forecast: open it, refine it (worse cause), extend its window."""

    kind: PlanKind
    window: Window
    #: The cause to show: set for open and refine, None when the cause stays as it was.
    upstream_siaga: int | None = None
    severity: str | None = None


def plan_forecast(current: ForecastState | None, change: UpstreamChange, reach: Reach) -> ForecastPlan | None:
    """The forecast change that an upstream Siaga change implies; None when there is none.

    Only a worsening opens a forecast: an upstream easing from Siaga 2 to 3 says nothing new
    about a downstream station whose forecast was already confirmed or cancelled.
    """
    window = arrival_window(change.at, reach)
    in_alert = change.siaga_to <= 3
    worse_than_before = change.siaga_from is None or change.siaga_to < change.siaga_from
    if current is None:
        if in_alert and worse_than_before:
            return ForecastPlan("open", window, change.siaga_to, FORECAST_SEVERITY[change.siaga_to])
        return None
    if in_alert and change.siaga_to < current.upstream_siaga:
        return ForecastPlan(
            "refine", union(current.window, window), change.siaga_to, FORECAST_SEVERITY[change.siaga_to]
        )
    # Milder, or back to normal: the water that passed until now still arrives until t + max.
    extended = (current.window[0], max(current.window[1], window[1]))
    if extended != current.window:
        return ForecastPlan("extend", extended)
    return None


def confirms(forecast_opened_at: datetime, downstream_raised_at: datetime) -> bool:
    """A downstream Siaga alert confirms a forecast only if it rose after the forecast was made;
    a rise before it (local rain, delivered late) is not the forecast water arriving."""
    return downstream_raised_at >= forecast_opened_at


def should_cancel(expected_until: datetime, upstream_in_alert: bool, downstream_seen_until: datetime | None) -> bool:
    """The forecast water did not come: upstream is calm and the downstream gauge has reported
    past the end of the window (without rising, or the forecast would be confirmed already).

    A silent downstream gauge keeps the forecast open: "we cannot tell" is not "all clear".
    """
    return not upstream_in_alert and downstream_seen_until is not None and downstream_seen_until >= expected_until
