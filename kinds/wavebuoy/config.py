"""The buoy kind's configuration: the top-level `buoys:` section (which buoys a deployment has,
whose they are and where they are moored).

`BuoyDeployment` adds it to the generic model (`core.config_model.CoreConfig`), composed into
`core.config.TepiConfig` through the registry (`kinds.config_models`). Central keeps a row per
declared buoy (`kinds.wavebuoy.state.sync_registry`, run with the registry sync at start), so
ingest refuses observations of a buoy no tenant declared (`unknown_buoy`) or of another
tenant's buoy (`foreign_buoy`); a buoy removed from the file keeps its row and history.

The small-boat limits a buoy's events use are its tenant's (`tenants[].sea.small_boat_wave_m`,
`small_boat_wind_kn`), BMKG's 1.25 m and 15 kn where the tenant has no `sea:` section.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from core.config_model import ConfigError, ConfigSection, CoreConfig, DeviceConfig, Identifier, unique_ids

#: BMKG: waves above 1.25 m or wind above 15 knots are dangerous for fishing boats (the defaults
#: of `core.config_model.SeaConfig`, which a tenant's `sea:` section may change).
SMALL_BOAT_WAVE_M = 1.25
SMALL_BOAT_WIND_KN = 15.0


class BuoyConfig(ConfigSection):
    """A moored wave/weather buoy."""

    id: Identifier
    tenant: Identifier
    name: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    summary_every_s: int = Field(default=600, ge=1, le=86400, description="Length of the windows the gateway summarises.")


class BuoyDeployment(CoreConfig):
    """The configuration with the buoys (none unless declared)."""

    buoys: list[BuoyConfig] = []

    @model_validator(mode="after")
    def _buoy_references(self) -> Self:
        tenants = {t.id for t in self.tenants}
        unique_ids("buoy", [b.id for b in self.buoys])
        for b in self.buoys:
            if b.tenant not in tenants:
                raise ValueError(f"buoy {b.id!r}: unknown tenant {b.tenant!r}")
        return self

    def buoy(self, buoy_id: str) -> BuoyConfig:
        for b in self.buoys:
            if b.id == buoy_id:
                return b
        raise KeyError(buoy_id)

    def device_buoy(self, device: DeviceConfig) -> BuoyConfig:
        """The buoy a device is mounted on; a `ConfigError` naming the device when none is declared."""
        try:
            return self.buoy(device.platform)
        except KeyError:
            raise ConfigError(f"device {device.id!r} ({device.kind}): platform {device.platform!r} is no configured buoy") from None

    def platform_tenant(self, platform: str) -> str | None:
        try:
            return self.buoy(platform).tenant
        except KeyError:
            return super().platform_tenant(platform)

    def platform_positions(self, tenant: str) -> list[tuple[float, float]]:
        return [*super().platform_positions(tenant), *((b.lat, b.lon) for b in self.buoys if b.tenant == tenant)]

    def small_boat_limits(self, tenant_id: str) -> tuple[float, float]:
        """(wave m, wind kn) above which the sea is dangerous for the tenant's fishing boats."""
        for t in self.tenants:
            if t.id == tenant_id and t.sea is not None:
                return t.sea.small_boat_wave_m, t.sea.small_boat_wind_kn
        return SMALL_BOAT_WAVE_M, SMALL_BOAT_WIND_KN


    def with_summary_every(self, summary_every_s: int) -> Self:
        buoys = [b.model_copy(update={"summary_every_s": min(b.summary_every_s, summary_every_s)}) for b in self.buoys]
        return super().with_summary_every(summary_every_s).model_copy(update={"buoys": buoys})


#: What the registry adds to the configuration model for this kind (`kinds.config_models`).
CONFIG = BuoyDeployment
