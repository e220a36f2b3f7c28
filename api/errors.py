"""API errors and how each becomes a JSON response: `{"detail": ..., "code": ...}`.

Services raise domain exceptions (ours or the central state's, `central.errors`); only this module knows HTTP status codes.
"""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from central.errors import (
    AlertAlreadyCleared,
    AlertAlreadyClosed,
    AlertNotCleared,
    AlertNotFound,
    InvalidInput,
    KeyNotFound,
    StoreError,
    TenantExists,
    TenantNotFound,
    UserExists,
    UserNotFound,
)

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Base of errors the API raises on purpose."""


class StartupError(RuntimeError):
    """The API (or a kind's side of it) cannot serve with this configuration or database."""


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
    """A query that is well-formed but not answerable (e.g. too many points). A subclass or an
    instance may name a more telling `code` (a route's `on_land`), so a client can word it."""

    code = "invalid_query"


class LevelStoreUnavailable(ApiError):
    """The time-series store did not answer or answered with an error."""


class NotAuthenticated(ApiError):
    """No credentials (`invalid` False) or credentials that name no valid key (`invalid` True): 401."""

    def __init__(self, detail: str, invalid: bool = False) -> None:
        super().__init__(detail)
        self.invalid = invalid

    @property
    def challenge(self) -> str:
        """The `WWW-Authenticate` value (RFC 6750)."""
        return 'Bearer realm="tepi", error="invalid_token"' if self.invalid else 'Bearer realm="tepi"'


class Forbidden(ApiError):
    """Authenticated, but the role may not do this: 403 (independent of any object, so nothing leaks).
    A subclass may name a more telling `code` (the badge kind's `not_linked`)."""

    code = "forbidden"


class RateLimited(ApiError):
    """Too many requests from one client; `retry_after_s` until the next is allowed."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__("too many requests; slow down")
        self.retry_after_s = retry_after_s


def _json(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail, "code": code})


#: Domain exceptions and the status and `code` they answer with.
_DOMAIN_ERRORS: dict[type[Exception], tuple[int, str]] = {
    StationNotFound: (404, "station_not_found"),
    AlertNotFound: (404, "alert_not_found"),
    AlertAlreadyCleared: (409, "alert_cleared"),
    AlertAlreadyClosed: (409, "alert_closed"),
    AlertNotCleared: (409, "alert_not_cleared"),
    RevisionNotFound: (404, "revision_not_found"),
}


def _handler(status: int, code: str):  # type: ignore[no-untyped-def]
    async def handle(_r: Request, exc: Exception) -> JSONResponse:
        return _json(status, code, str(exc))

    return handle


def install_error_handlers(app: FastAPI) -> None:
    """Map domain exceptions to status codes, so routes stay free of HTTP plumbing."""

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_r: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's field-by-field list, plus the `code` every other error carries.
        errors = [{k: v for k, v in e.items() if k != "url"} for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors), "code": "invalid_request"})

    for exc_type, (status, code) in _DOMAIN_ERRORS.items():
        app.add_exception_handler(exc_type, _handler(status, code))

    @app.exception_handler(InvalidQuery)
    async def _invalid_query(_r: Request, exc: InvalidQuery) -> JSONResponse:
        # The same shape as a request validation error, so every 422 reads alike.
        detail = [{"loc": ["query"], "msg": str(exc), "type": exc.code}]
        return JSONResponse(status_code=422, content={"detail": detail, "code": exc.code})

    @app.exception_handler(InvalidInput)
    async def _invalid_input(_r: Request, exc: InvalidInput) -> JSONResponse:
        detail = [{"loc": ["body"], "msg": str(exc), "type": "invalid_input"}]
        return JSONResponse(status_code=422, content={"detail": detail, "code": "invalid_request"})

    @app.exception_handler(NotAuthenticated)
    async def _unauthenticated(_r: Request, exc: NotAuthenticated) -> JSONResponse:
        response = _json(401, "not_authenticated", str(exc))
        response.headers["WWW-Authenticate"] = exc.challenge
        return response

    @app.exception_handler(Forbidden)
    async def _forbidden(_r: Request, exc: Forbidden) -> JSONResponse:
        return _json(403, exc.code, str(exc))

    @app.exception_handler(RateLimited)
    async def _rate_limited(_r: Request, exc: RateLimited) -> JSONResponse:
        response = _json(429, "rate_limited", str(exc))
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
        return response

    @app.exception_handler(TenantNotFound)
    @app.exception_handler(UserNotFound)
    @app.exception_handler(KeyNotFound)
    async def _admin_not_found(_r: Request, exc: Exception) -> JSONResponse:
        return _json(404, "not_found", str(exc))

    @app.exception_handler(UserExists)
    @app.exception_handler(TenantExists)
    async def _exists(_r: Request, exc: Exception) -> JSONResponse:
        return _json(409, "exists", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Unknown paths (404), wrong methods (405): the same {detail, code} as everything else. A
        # kind's own HTTPException may name its code (`code` attribute, e.g. leave_decided).
        code = getattr(exc, "code", None) or {404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, f"http_{exc.status_code}"
        )
        response = _json(exc.status_code, code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(LevelStoreUnavailable)
    async def _tsdb_down(_r: Request, exc: LevelStoreUnavailable) -> JSONResponse:
        log.warning("level store unavailable", extra={"error": str(exc)[:300]})
        return _json(503, "level_store_unavailable", "the time-series store is unavailable; try again later")

    @app.exception_handler(StoreError)
    @app.exception_handler(OperationalError)
    async def _db_down(_r: Request, exc: Exception) -> JSONResponse:
        log.warning("state database unavailable", extra={"error": type(exc).__name__})
        return _json(503, "database_unavailable", "the state database is unavailable; try again later")
