"""`GET /marine-conditions`, the tenants' forecast files for the app's lifetime, and, on import,
the wording of `marine` alerts for the CAP code (`kinds.wavebuoy.api.alert_words`).

Every role of the tenant may read it: sea conditions are public safety information.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request

from api import permissions
from api.deps import ConfigDep, SessionDep, require_roles
from api.models import RequestDatetime
from api.routes import AUTH_ERRORS
from api.services.alert_words import register_alert_words
from central.accounts import Principal
from core.sea_forecast import SeaForecastFile
from kinds.wavebuoy.api import marine_service
from kinds.wavebuoy.api.alert_words import MARINE_ALERT_WORDS
from kinds.wavebuoy.api.marine_models import MarineConditions
from kinds.wavebuoy.marine import BuoySource
from kinds.wavebuoy.marine_alerts import buoy_readings

MarineReader = Annotated[Principal, Depends(require_roles(*permissions.MARINE_READERS))]


#: Where buoy readings come from (the kind's state: the newest reading of each buoy in a box).
BUOYS: BuoySource = buoy_readings


@asynccontextmanager
async def forecast_files_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One `SeaForecastFile` per tenant with a sea section, re-read whenever the file changes."""
    app.state.wavebuoy_forecasts = {t.id: SeaForecastFile(t.sea.forecast_file) for t in app.state.config.tenants if t.sea is not None}
    yield


def get_forecast_files(request: Request) -> dict[str, SeaForecastFile]:
    files: dict[str, SeaForecastFile] = request.app.state.wavebuoy_forecasts
    return files


def request_time() -> datetime:
    """The time a request without `at` is answered for: now. A dependency, so a test can set the
    clock (`app.dependency_overrides`) instead of racing the hour."""
    return datetime.now(timezone.utc)


router = APIRouter(lifespan=forecast_files_lifespan)
register_alert_words(MARINE_ALERT_WORDS)


@router.get(
    "/marine-conditions",
    response_model=MarineConditions,
    tags=["sea"],
    summary="Forecast sea areas and buoys in a box, with BMKG wave categories and the small-boat verdict",
    responses=AUTH_ERRORS,  # 422 (FastAPI's validation shape): a bad or too large bbox, or a bad time
)
def read_marine_conditions(
    session: SessionDep,
    config: ConfigDep,
    principal: MarineReader,
    now: Annotated[datetime, Depends(request_time)],
    files: Annotated[dict[str, SeaForecastFile], Depends(get_forecast_files)],
    bbox: Annotated[
        str | None,
        Query(
            max_length=200,
            description="west,south,east,north in degrees (RFC 7946 order), at most "
            f"{marine_service.MAX_BBOX_DEG:g} degrees a side; default: the tenant's sea region.",
            examples=["114.9,-9.4,115.8,-8.5"],
        ),
    ] = None,
    at: Annotated[RequestDatetime | None, Query(description="With a UTC offset; default now.")] = None,
) -> MarineConditions:
    tenant = next((t for t in config.tenants if t.id == principal.tenant), None)
    sea = tenant.sea if tenant is not None else None
    when = at if at is not None else now
    return marine_service.marine_conditions(session, principal.tenant, sea, files, BUOYS, bbox, when)
