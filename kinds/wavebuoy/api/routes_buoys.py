"""`/buoys`: the tenant's wave buoys with their latest observation."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import Field
from sqlalchemy.orm import Session

from api import permissions
from api.deps import PageLimit, PageOffset, SessionDep, require_roles
from api.models import ErrorPublic, PublicModel, UtcDatetime
from api.routes import AUTH_ERRORS, IDENTIFIER
from central.accounts import Principal
from kinds.wavebuoy.state import WaveBuoy

router = APIRouter()

BuoyReader = Annotated[Principal, Depends(require_roles(*permissions.BUOY_READERS))]
BuoyId = Annotated[str, Path(max_length=63, pattern=IDENTIFIER, examples=["wb-benoa"])]


class BuoyPublic(PublicModel):
    id: str
    name: str
    lat: float = Field(description="Where the buoy is moored (WGS 84).")
    lon: float
    observed_at: UtcDatetime | None = Field(description="Time of the latest good observation (the buoy's clock); null before any.")
    hs_m: float | None = Field(description="Significant wave height, metres.")
    tp_s: float | None = Field(description="Peak wave period, seconds.")
    wave_dir_deg: float | None = Field(description="Mean direction the waves come from, degrees true.")
    wind_kn: float | None = Field(description="Wind speed, knots.")
    wind_dir_deg: float | None = Field(description="Direction the wind comes from, degrees true.")
    gust_kn: float | None = Field(description="Highest gust, knots.")
    small_boat_limit_exceeded: bool | None = Field(
        description="Whether the sea at the buoy was above the tenant's small-boat limits (BMKG: waves over 1.25 m or "
        "wind over 15 kn) at its latest limit event; null before any."
    )


class BuoysPublic(PublicModel):
    data: list[BuoyPublic]
    count: int
    limit: int
    offset: int


class BuoyNotFound(HTTPException):
    def __init__(self, buoy_id: str) -> None:
        super().__init__(404, f"buoy {buoy_id!r} does not exist")


def _public(b: WaveBuoy) -> BuoyPublic:
    return BuoyPublic(
        id=b.id, name=b.name, lat=b.lat, lon=b.lon, observed_at=b.observed_at, hs_m=b.hs_m, tp_s=b.tp_s,
        wave_dir_deg=b.wave_dir_deg, wind_kn=b.wind_kn, wind_dir_deg=b.wind_dir_deg, gust_kn=b.gust_kn,
        small_boat_limit_exceeded=b.limit_exceeded,
    )


def list_buoys(session: Session, tenant: str, limit: int, offset: int) -> BuoysPublic:
    where = WaveBuoy.tenant_id == tenant
    total = session.scalar(sa.select(sa.func.count()).select_from(WaveBuoy).where(where)) or 0
    rows = session.scalars(sa.select(WaveBuoy).where(where).order_by(WaveBuoy.id).limit(limit).offset(offset))
    return BuoysPublic(data=[_public(b) for b in rows], count=int(total), limit=limit, offset=offset)


@router.get(
    "/buoys",
    response_model=BuoysPublic,
    tags=["buoys"],
    summary="The tenant's wave buoys with their latest observation",
    responses=AUTH_ERRORS,
)
def read_buoys(session: SessionDep, principal: BuoyReader, limit: PageLimit = 100, offset: PageOffset = 0) -> BuoysPublic:
    return list_buoys(session, principal.tenant, limit, offset)


@router.get(
    "/buoys/{buoy_id}",
    response_model=BuoyPublic,
    tags=["buoys"],
    summary="One of the tenant's wave buoys with its latest observation",
    responses={**AUTH_ERRORS, 404: {"model": ErrorPublic, "description": "No such buoy in the caller's tenant."}},
)
def read_buoy(buoy_id: BuoyId, session: SessionDep, principal: BuoyReader) -> BuoyPublic:
    buoy = session.scalars(sa.select(WaveBuoy).where(WaveBuoy.tenant_id == principal.tenant, WaveBuoy.id == buoy_id)).one_or_none()
    if buoy is None:
        raise BuoyNotFound(buoy_id)
    return _public(buoy)
