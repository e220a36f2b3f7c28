"""The buoy kind's API side: `ROUTER`, mounted under `/api/v1` by `api.main` from the registry.

* `GET /buoys`: the caller's tenant's buoys with their latest observation;
* `GET /buoys/{buoy_id}`: one of them (another tenant's buoy is 404, like one that does not exist).

Who may call them is in `api.permissions` (`BUOY_READERS`: every role of the tenant; a moored
buoy's sea state is no one's personal data).
"""

from __future__ import annotations

from fastapi import APIRouter

from kinds.wavebuoy.api import routes_buoys, routes_marine

ROUTER = APIRouter()
ROUTER.include_router(routes_buoys.router)
ROUTER.include_router(routes_marine.router)

__all__ = ["ROUTER"]
