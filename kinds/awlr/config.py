"""The river kind's configuration: its stations (published Siaga thresholds, QC, alerting) and
the storm scenario its simulator plays, as the top-level `stations:` and `simulation:` sections.

`RiverConfig` adds them to the generic model (`core.config_model.CoreConfig`) and checks what
they refer to (a station's tenant, its downstream stations, the simulated stations);
`core.config.TepiConfig`, the model every file is validated against, is composed of it through
the registry (`kinds.config_models`), so the YAML a deployment writes is what it always was.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from core.config_model import ConfigError, ConfigSection, CoreConfig, DeviceConfig, Identifier, RegistryStation, unique_ids
from kinds.awlr.qc_config import QcConfig


class SiagaThresholds(ConfigSection):
    """Lower bounds (cm) of Siaga 3, 2 and 1; anything below `siaga3` is Siaga 4 (normal).

    A level equal to a bound belongs to the higher alert, which is the safe side where the
    published tables overlap (e.g. Katulampa "≤80" vs "80–150").
    """

    siaga3: float
    siaga2: float
    siaga1: float
    source: str = Field(min_length=3, description="Where these numbers were published.")

    @model_validator(mode="after")
    def _increasing(self) -> Self:
        if not (self.siaga3 < self.siaga2 < self.siaga1):
            raise ValueError("thresholds must increase: siaga3 < siaga2 < siaga1")
        return self

    def bounds(self) -> tuple[float, float, float]:
        return (self.siaga3, self.siaga2, self.siaga1)


class Downstream(ConfigSection):
    station: Identifier
    travel_hours: tuple[float, float] = Field(description="Published (min, max) travel time.")
    source: str = Field(min_length=3)


class AlertingConfig(ConfigSection):
    """How the edge turns good readings into alarms and how often it reports."""

    raise_after: int = Field(default=2, ge=1, le=60, description="Consecutive good readings at a level before it is raised.")
    clear_margin_cm: float = Field(default=5.0, ge=0, description="A level clears only below its bound minus this.")
    rate_of_rise_cm_per_h: float = Field(
        default=60.0, gt=0, description="Slope over `rate_of_rise_window_s` that warns of a rise before a threshold is crossed."
    )
    rate_of_rise_window_s: float = Field(default=1800.0, ge=60, description="The long window: calm, catches a sustained rise.")
    rate_of_rise_short_cm_per_h: float = Field(
        default=100.0, gt=0, description="Slope over `rate_of_rise_short_window_s` that warns: higher, as a short fit is noisier."
    )
    rate_of_rise_short_window_s: float = Field(
        default=600.0, ge=60, description="The short window: sees a sudden rise soon (kinds.awlr.edge.rise_tracker explains both)."
    )
    rate_of_rise_clear_margin_cm_per_h: float = Field(
        default=10.0, ge=0, description="The warning ends once every slope is below its threshold less this."
    )
    summary_every_s: int = Field(default=600, ge=1, le=86400, description="Summary interval at Siaga 4.")
    summary_every_s_alert: int = Field(default=60, ge=1, le=86400, description="Summary interval at Siaga 3 or worse.")
    offline_after_intervals: int = Field(
        default=3, ge=1, le=1000, description="Summary intervals without any uplink before central raises an offline alert."
    )

    @model_validator(mode="after")
    def _intervals(self) -> Self:
        if self.summary_every_s_alert > self.summary_every_s:
            raise ValueError("summary_every_s_alert must not exceed summary_every_s")
        if not self.rate_of_rise_short_window_s < self.rate_of_rise_window_s:
            raise ValueError("rate_of_rise_short_window_s must be shorter than rate_of_rise_window_s")
        return self


class StationConfig(ConfigSection):
    """A river gauge site, with the published thresholds that the disaster office acts on."""

    id: Identifier
    name: str
    river: str
    tenant: Identifier
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    timezone: Literal["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"] = "Asia/Jakarta"
    thresholds: SiagaThresholds
    sensor_span_cm: tuple[float, float] = Field(
        description="What the sensor can physically report; outside it a reading is rejected."
    )
    resolution_cm: float = Field(
        default=0.1,
        gt=0,
        le=100,
        description="The smallest level step the station reports; the API rounds levels to it, so a mean shows "
        "no more digits than the gauge has. Default 0.1 cm: what the AWLR wire format carries ($PTAWL and JSON "
        "levels have one decimal, kinds/awlr/wire.py).",
    )
    downstream: list[Downstream] = []
    qc: QcConfig = QcConfig()
    alerting: AlertingConfig = AlertingConfig()

    @model_validator(mode="after")
    def _span(self) -> Self:
        lo, hi = self.sensor_span_cm
        if not lo < hi:
            raise ValueError("sensor_span_cm must be (low, high) with low < high")
        if self.qc.user_span_cm is not None and not (lo <= self.qc.user_span_cm[0] and self.qc.user_span_cm[1] <= hi):
            raise ValueError("qc.user_span_cm must lie within sensor_span_cm")
        return self


class StationScenario(ConfigSection):
    """How the simulator drives one station: dry-season base level and this storm's peak."""

    base_cm: float
    peak_cm: float
    noise_cm: float = Field(default=1.0, ge=0)


class SimulationConfig(ConfigSection):
    """A storm scenario for `firmware_sim`; times are simulated time."""

    interval_s: float = Field(default=60.0, gt=0, description="Seconds between readings of one device.")
    lookback_h: float = Field(default=12.0, ge=0, description="The simulated clock starts this far in the past and catches up with real time.")
    storm_start_h: float = Field(default=0.5, ge=0, description="Hours after the simulated start that the wave begins at the most upstream station.")
    rise_h: float = Field(default=1.5, gt=0)
    fall_h: float = Field(default=6.0, gt=0)
    spike_probability: float = Field(default=0.005, ge=0, le=1)
    dropout_probability: float = Field(default=0.005, ge=0, le=1)
    garbage_probability: float = Field(default=0.002, ge=0, le=1)
    seed: int = 7
    stations: dict[Identifier, StationScenario]


class RiverConfig(CoreConfig):
    """The configuration with the river's sections: `stations` (none when left out: a deployment
    of other kinds only, such as attendance, has no river) and `simulation` (for `tepi sim` and the demo)."""

    stations: list[StationConfig] = Field(default_factory=list)
    simulation: SimulationConfig | None = None

    @model_validator(mode="after")
    def _river_references(self) -> Self:
        tenants = {t.id for t in self.tenants}
        stations = {s.id for s in self.stations}
        unique_ids("station", [s.id for s in self.stations])
        for s in self.stations:
            if s.tenant not in tenants:
                raise ValueError(f"station {s.id!r}: unknown tenant {s.tenant!r}")
            for ds in s.downstream:
                if ds.station not in stations:
                    raise ValueError(f"station {s.id!r}: downstream station {ds.station!r} is not configured")
        if self.simulation is not None:
            for sid in self.simulation.stations:
                if sid not in stations:
                    raise ValueError(f"simulation: unknown station {sid!r}")
        return self

    def station(self, station_id: str) -> StationConfig:
        for s in self.stations:
            if s.id == station_id:
                return s
        raise KeyError(station_id)

    def device_station(self, device: DeviceConfig) -> StationConfig:
        """The river station a device is mounted on, for kinds whose platform is a station;
        a `ConfigError` naming the device when the configuration has no such station."""
        try:
            return self.station(device.platform)
        except KeyError:
            raise ConfigError(
                f"device {device.id!r} ({device.kind}): platform {device.platform!r} is no configured station"
            ) from None

    def registry_stations(self) -> list[RegistryStation]:
        return [
            *super().registry_stations(),
            *(
                RegistryStation(
                    id=s.id, tenant=s.tenant, name=s.name, river=s.river, lat=s.lat, lon=s.lon,
                    bounds_cm=s.thresholds.bounds(), bounds_source=s.thresholds.source,
                )
                for s in self.stations
            ),
        ]

    def platform_tenant(self, platform: str) -> str | None:
        try:
            return self.station(platform).tenant
        except KeyError:
            return super().platform_tenant(platform)

    def platform_timezone(self, platform: str) -> str | None:
        try:
            return self.station(platform).timezone
        except KeyError:
            return super().platform_timezone(platform)

    def platform_positions(self, tenant: str) -> list[tuple[float, float]]:
        return [*super().platform_positions(tenant), *((s.lat, s.lon) for s in self.stations if s.tenant == tenant)]

    def with_summary_every(self, summary_every_s: int) -> Self:
        stations = [
            s.model_copy(update={"alerting": s.alerting.model_copy(update={
                "summary_every_s": summary_every_s,
                "summary_every_s_alert": min(summary_every_s, s.alerting.summary_every_s_alert),
            })})
            for s in self.stations
        ]
        return super().with_summary_every(summary_every_s).model_copy(update={"stations": stations})


#: What the registry adds to the configuration model for this kind (`kinds.config_models`).
CONFIG = RiverConfig
