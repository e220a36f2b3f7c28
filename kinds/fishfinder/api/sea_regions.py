"""Each coastal tenant's routing region, prepared when the API starts, and the dependency routes
ask it from.

For every tenant with a `sea` section the fish-finder router's lifespan (FastAPI runs it inside
the app's own, before the first request): crops global-land-mask to the tenant's region
(`SeaMask.crop`, about a second and tens of kB; never the 0.9 GB globe), reads its hazards file
(GeoJSON polygons; an invalid one stops the start, naming the file and the feature), prepares the
routing grid (`SeaGrid.prepare`) and keeps a `SeaForecastFile`, re-read whenever the deployment
replaces it. A request then only plans. Crops are kept per process by box, so apps built again in
one process (tests) crop once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import numpy as np
from fastapi import Depends, FastAPI, Request
from shapely.geometry.base import BaseGeometry

from api.errors import StartupError
from core.config import TepiConfig
from core.config_model import SeaConfig
from core.sea_forecast import SeaForecast, SeaForecastFile, load_hazards
from kinds.fishfinder.sea_mask import Box, SeaMask, SeaMaskError
from kinds.fishfinder.sea_route import NoSeaRoute, SeaGrid
from kinds.fishfinder.sea_weather import Boat, ForecastGrid, plan_weather_route

log = logging.getLogger(__name__)
#: Cells of coastal clearance a route keeps off the shore (about 1 km).
CLEARANCE_CELLS = 1
#: The boat of the start-up's warm-up plan (any figures do).
WARM_UP_BOAT = Boat(speed_kn=6.0, wave_limit_m=1.25, wind_limit_kn=15.0)


@dataclass(eq=False)
class RoutingRegion:
    """One tenant's prepared sea: its grid, its hazards, its forecast file and the latest
    forecast laid on the grid (computed once per forecast the file gives)."""

    tenant: str
    sea: SeaConfig
    grid: SeaGrid
    hazards: list[BaseGeometry]
    forecast_file: SeaForecastFile
    _laid: tuple[SeaForecast, ForecastGrid] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def warm_up(self) -> None:
        """Lay the forecast the file holds now on the grid and plan one short route across open
        water, so the first request after start finds both ready (and the code paths loaded)."""
        forecast = self.forecast_file.read().forecast
        weather = self.forecast_grid(forecast) if forecast is not None else None
        cells = np.flatnonzero(self.grid.open_water & ~self.grid.hazard)
        if cells.size < 2:
            return
        (a, b) = self.grid.centres([int(cells[0]), int(cells[min(cells.size - 1, 50)])])
        with contextlib.suppress(NoSeaRoute):
            plan_weather_route(self.grid, a, b, datetime.now(timezone.utc), WARM_UP_BOAT, weather)

    def forecast_grid(self, forecast: SeaForecast) -> ForecastGrid:
        with self._lock:
            if self._laid is None or self._laid[0] is not forecast:
                self._laid = (forecast, ForecastGrid.of(self.grid, forecast))
            return self._laid[1]


def mask_cache_dir() -> Path:
    """Where cropped masks are kept between runs: `$TEPI_CACHE_DIR`, else the user's cache
    (`$XDG_CACHE_HOME/tepi`, `~/.cache/tepi`), `sea-mask/` in it."""
    base = os.environ.get("TEPI_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tepi")
    return Path(base) / "sea-mask"


@functools.lru_cache(maxsize=16)
def cropped(box: Box) -> SeaMask:
    """The land mask of `box`, cropped once per process (read-only) and kept on disk for the
    next start (`SeaMask.cached_crop`)."""
    mask = SeaMask.cached_crop(box, mask_cache_dir())
    mask.land.flags.writeable = False
    return mask


def prepare_region(tenant: str, sea: SeaConfig) -> RoutingRegion:
    """`StartupError` naming the tenant and the file for a hazards file or mask that cannot be used."""
    r = sea.region
    try:
        hazards = load_hazards(sea.hazards_file) if sea.hazards_file is not None else []
    except ValueError as exc:
        raise StartupError(f"tenant {tenant}: hazards file {exc}") from exc
    try:
        grid = SeaGrid.prepare(cropped(Box(r.south, r.north, r.west, r.east)), CLEARANCE_CELLS, hazards)
    except SeaMaskError as exc:
        raise StartupError(f"tenant {tenant}: {exc}") from exc
    return RoutingRegion(tenant, sea, grid, hazards, SeaForecastFile(sea.forecast_file))


#: Prepared and warmed regions by (tenant, its sea section, the hazards file's stamp), so apps
#: built again in one process with the same sea (tests build hundreds) share one: a region is
#: read-only but for the forecast laid on it, which is locked. A changed hazards file is read anew.
_PREPARED: dict[tuple[str, str, tuple[int, int] | None], RoutingRegion] = {}
_PREPARED_MAX = 16
_prepared_lock = threading.Lock()


def _stamp(path: Path | None) -> tuple[int, int] | None:
    try:
        st = os.stat(path) if path is not None else None
    except OSError:
        return None  # prepare_region says what is wrong with it
    return None if st is None else (st.st_mtime_ns, st.st_size)


def prepared_region(tenant: str, sea: SeaConfig) -> RoutingRegion:
    """`prepare_region`, warmed up, once per process for the same sea and hazards file."""
    key = (tenant, sea.model_dump_json(), _stamp(sea.hazards_file))
    with _prepared_lock:
        region = _PREPARED.get(key)
    if region is None:
        region = prepare_region(tenant, sea)
        region.warm_up()
        with _prepared_lock:
            while len(_PREPARED) >= _PREPARED_MAX:
                _PREPARED.pop(next(iter(_PREPARED)))
            _PREPARED[key] = region
    return region


def prepare_regions(config: TepiConfig) -> dict[str, RoutingRegion]:
    return {t.id: prepared_region(t.id, t.sea) for t in config.tenants if t.sea is not None}


@asynccontextmanager
async def routing_lifespan(app: FastAPI) -> AsyncIterator[None]:
    regions = prepare_regions(app.state.config)
    app.state.fishfinder_routing = regions
    log.info(
        "sea routing ready",
        extra={"tenants": sorted(regions), "mask_bytes": sum(r.grid.mask.nbytes for r in regions.values())},
    )
    yield


def get_regions(request: Request) -> dict[str, RoutingRegion]:
    regions: dict[str, RoutingRegion] = request.app.state.fishfinder_routing
    return regions


RegionsDep = Annotated[dict[str, RoutingRegion], Depends(get_regions)]
