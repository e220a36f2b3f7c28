"""The river's API side: `ROUTER`, mounted under `/api/v1` by `api.main` from the registry.

It serves the river's own resources (stations with their level, Siaga level and trend; level
history; the public view) and, on import, tells the generic alert and CAP code how the river's
alerts are worded (`kinds.awlr.api.alert_words`).
"""

from __future__ import annotations

from fastapi import APIRouter

from api.services.alert_words import register_alert_words
from kinds.awlr.api import routes_public, routes_stations
from kinds.awlr.api.alert_words import RIVER_ALERT_WORDS
from kinds.awlr.api.lifespan import level_store_lifespan

ROUTER = APIRouter(lifespan=level_store_lifespan)
ROUTER.include_router(routes_stations.router)
ROUTER.include_router(routes_public.router)

register_alert_words(RIVER_ALERT_WORDS)

__all__ = ["ROUTER"]
