"""The fish-finder's API side: `ROUTER`, mounted under `/api/v1` by `api.main` from the registry.

* `/catches`, `/catches/aggregates`, `/catches/contacts`, `/market`: what fishers land, the
  fisheries office's anonymised statistics, and a market without names (`routes_catches`);
* `/vessels`, `/vessels/{id}/track`, `/sos`: where the boats are, for their owners and the
  rescue, and distress incidents (`routes_sea`);
* `/routes`: a vessel's safe route by sea (`routes_route`), on each coastal tenant's region
  prepared at start by the router's lifespan (`sea_regions`);
* `/fishing-grounds`: where at least three boats found fish lately, as GeoJSON (`routes_grounds`).

Who may call what is in `api.permissions` (the fish-finder's block) and api/README.md.
"""

from __future__ import annotations

from fastapi import APIRouter

from kinds.fishfinder.api import routes_catches, routes_grounds, routes_route, routes_sea
from kinds.fishfinder.api.sea_regions import routing_lifespan

ROUTER = APIRouter(lifespan=routing_lifespan)
ROUTER.include_router(routes_catches.router)
ROUTER.include_router(routes_sea.router)
ROUTER.include_router(routes_route.router)
ROUTER.include_router(routes_grounds.router)

__all__ = ["ROUTER"]
