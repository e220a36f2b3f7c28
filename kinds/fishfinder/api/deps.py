"""The fish-finder's role dependencies, as `Annotated` aliases over `api.deps.require_roles`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from api import permissions
from api.deps import require_roles
from api.routes import IDENTIFIER
from central.accounts import Principal

CatchRecorder = Annotated[Principal, Depends(require_roles(*permissions.CATCH_RECORDERS))]
CatchStatistician = Annotated[Principal, Depends(require_roles(*permissions.CATCH_STATISTICIANS))]
MarketUser = Annotated[Principal, Depends(require_roles(*permissions.MARKET_USERS))]
VesselReader = Annotated[Principal, Depends(require_roles(*permissions.VESSEL_READERS))]
VesselSkipper = Annotated[Principal, Depends(require_roles(*permissions.VESSEL_SKIPPERS))]
SosCaller = Annotated[Principal, Depends(require_roles(*permissions.SOS_CALLERS))]
SosReader = Annotated[Principal, Depends(require_roles(*permissions.SOS_READERS))]
RoutePlanner = Annotated[Principal, Depends(require_roles(*permissions.ROUTE_PLANNERS))]
SosResponder = Annotated[Principal, Depends(require_roles(*permissions.SOS_RESPONDERS))]
GroundReader = Annotated[Principal, Depends(require_roles(*permissions.GROUND_READERS))]

#: Serial ids are 32-bit on PostgreSQL: larger numbers are no id at all (422, not a database error).
SerialId = Annotated[int, Path(ge=1, le=2**31 - 1)]
VesselId = Annotated[str, Path(max_length=63, pattern=IDENTIFIER, examples=["km-sinar-laut"])]
#: A fishing ground's id: the south-west corner of its peak cell (`kinds.fishfinder.grounds.cell_name`).
GroundId = Annotated[str, Path(pattern=r"^fg-[ns][0-9]{4}-[ew][0-9]{5}$", examples=["fg-s0885-e11516"])]
