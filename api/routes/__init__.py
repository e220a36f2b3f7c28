"""One APIRouter per resource; `api.main` mounts them under `/api/v1`.

Shared here: the documented error responses (so the OpenAPI document lists every status an
endpoint can answer, which the fuzz test holds it to) and the cacheable-response helper.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request, Response

from api.limits import etag, if_none_match
from api.models import ErrorPublic

IDENTIFIER = r"^[a-z0-9][a-z0-9_-]{0,62}$"
#: A tenant or station id in a query string.
IdentifierQuery = Annotated[str | None, Query(max_length=63, pattern=IDENTIFIER)]

DB_ERRORS: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorPublic, "description": "The state database (or time-series store) is unavailable."},
}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorPublic,
        "description": "No API key or console session, or one that is unknown, revoked or expired.",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": 'Bearer realm="tepi"'}},
    },
    403: {
        "model": ErrorPublic,
        "description": "The caller's role may not do this; or a change by session cookie without its CSRF token, "
        "or from another origin.",
    },
    **DB_ERRORS,
}
PUBLIC_ERRORS: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` validator still matches."},
    429: {
        "model": ErrorPublic,
        "description": "Too many requests from this client.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    },
    **DB_ERRORS,
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorPublic, "description": "The request body cannot be parsed (e.g. not UTF-8)."},
    413: {"model": ErrorPublic, "description": "The request body is larger than the limit."},
}


def cacheable(request: Request, body: bytes, media_type: str, max_age_s: int) -> Response:
    """A public, cacheable answer with a strong ETag; 304 when the client's copy is current."""
    tag = etag(body)
    headers = {"ETag": tag, "Cache-Control": f"public, max-age={max_age_s}"}
    if if_none_match(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)
