"""API errors and how each becomes a JSON response: `{"detail": ..., "code": ...}`.

Services raise domain exceptions (ours or ingest's); only this module knows HTTP status codes.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from ingest.errors import AlertAlreadyCleared, AlertAlreadyClosed, AlertNotCleared, AlertNotFound, StoreError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Base of errors the API raises on purpose."""


class StationNotFound(ApiError):
    def __init__(self, station_id: str) -> None:
        super().__init__(f"station {station_id!r} does not exist")
        self.station_id = station_id


class RevisionNotFound(ApiError):
    def __init__(self, alert_id: int, revision: int) -> None:
        super().__init__(f"alert {alert_id} has no revision {revision}")
        self.alert_id = alert_id
        self.revision = revision


class InvalidQuery(ApiError):
    """A query that is well-formed but not answerable (e.g. too many points)."""


class LevelStoreUnavailable(ApiError):
    """The time-series store did not answer or answered with an error."""


def _json(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail, "code": code})


def install_error_handlers(app: FastAPI) -> None:
    """Map domain exceptions to status codes, so routes stay free of HTTP plumbing."""

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_r: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's field-by-field list, plus the `code` every other error carries.
        errors = [{k: v for k, v in e.items() if k != "url"} for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors), "code": "invalid_request"})

    @app.exception_handler(StationNotFound)
    async def _station_not_found(_r: Request, exc: StationNotFound) -> JSONResponse:
        return _json(404, "station_not_found", str(exc))

    @app.exception_handler(AlertNotFound)
    async def _alert_not_found(_r: Request, exc: AlertNotFound) -> JSONResponse:
        return _json(404, "alert_not_found", str(exc))

    @app.exception_handler(AlertAlreadyCleared)
    async def _alert_cleared(_r: Request, exc: AlertAlreadyCleared) -> JSONResponse:
        return _json(409, "alert_cleared", str(exc))

    @app.exception_handler(AlertAlreadyClosed)
    async def _alert_closed(_r: Request, exc: AlertAlreadyClosed) -> JSONResponse:
        return _json(409, "alert_closed", str(exc))

    @app.exception_handler(AlertNotCleared)
    async def _alert_not_cleared(_r: Request, exc: AlertNotCleared) -> JSONResponse:
        return _json(409, "alert_not_cleared", str(exc))

    @app.exception_handler(RevisionNotFound)
    async def _revision_not_found(_r: Request, exc: RevisionNotFound) -> JSONResponse:
        return _json(404, "revision_not_found", str(exc))

    @app.exception_handler(InvalidQuery)
    async def _invalid_query(_r: Request, exc: InvalidQuery) -> JSONResponse:
        return _json(422, "invalid_query", str(exc))

    @app.exception_handler(LevelStoreUnavailable)
    async def _tsdb_down(_r: Request, exc: LevelStoreUnavailable) -> JSONResponse:
        log.warning("level store unavailable", extra={"error": str(exc)[:300]})
        return _json(503, "level_store_unavailable", "the time-series store is unavailable; try again later")

    @app.exception_handler(StoreError)
    @app.exception_handler(OperationalError)
    async def _db_down(_r: Request, exc: Exception) -> JSONResponse:
        log.warning("state database unavailable", extra={"error": type(exc).__name__})
        return _json(503, "database_unavailable", "the state database is unavailable; try again later")
