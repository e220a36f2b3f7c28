"""FastAPI dependencies as `Annotated` aliases, so routes declare what they need by type.

Authentication: `Authorization: Bearer tepi_<id>_<secret>` (see `central.accounts`); the role
aliases (`AlertReader`, ...) authenticate and then check the role against `api.permissions`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api import permissions
from api.errors import Forbidden, NotAuthenticated, RateLimited
from api.limits import RateLimiter, client_address
from central.accounts import Principal, authenticate
from api.services.stream import EventHub
from api.settings import Settings
from central.db import writer
from core.config import TepiConfig

#: Most items one page of any list holds, and the furthest offset (beyond it, narrow the filter).
MAX_PAGE = 500
MAX_OFFSET = 1_000_000


def get_session(request: Request) -> Iterator[Session]:
    """A read session per request, closed when the response is sent."""
    with Session(request.app.state.engine) as session:
        yield session


def get_write_session(request: Request) -> Iterator[Session]:
    """A session whose transactions take SQLite's write lock at BEGIN (no upgrade deadlock)."""
    with Session(writer(request.app.state.engine)) as session:
        yield session


def get_event_hub(request: Request) -> EventHub:
    hub: EventHub = request.app.state.event_hub
    return hub


def get_config(request: Request) -> TepiConfig:
    config: TepiConfig = request.app.state.config
    return config


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
WriteSessionDep = Annotated[Session, Depends(get_write_session)]
ConfigDep = Annotated[TepiConfig, Depends(get_config)]
EventHubDep = Annotated[EventHub, Depends(get_event_hub)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="tepi_<id>_<secret>",
    description="An API key of a tenant's user (`tepi admin key create`); /metrics takes the metrics token.",
)
metrics_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="MetricsToken",
    description="The platform operator's metrics token (TEPI_METRICS_TOKEN), for Prometheus.",
)
CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
MetricsCredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(metrics_bearer)]


def _principal(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal | None:
    if credentials is None:
        return None
    settings: Settings = request.app.state.settings
    # A session of its own, closed at once: a 5-minute SSE stream must not hold a connection.
    with Session(request.app.state.engine) as session:
        return authenticate(session, settings.pepper(), credentials.credentials)


def get_principal(request: Request, credentials: CredentialsDep) -> Principal:
    """The caller; 401 without credentials or with a key that is unknown, wrong or revoked."""
    if credentials is None:
        raise NotAuthenticated("an API key is required: Authorization: Bearer tepi_<id>_<secret>")
    principal = _principal(request, credentials)
    if principal is None:
        raise NotAuthenticated("invalid or revoked API key", invalid=True)
    return principal


def require_roles(*roles: str) -> Callable[..., Principal]:
    """A dependency: the caller, if their role is one of `roles`; 403 otherwise."""
    allowed = frozenset(roles)

    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"the {principal.role} role may not do this")
        return principal

    return dependency


def require_metrics_token(request: Request, credentials: MetricsCredentialsDep) -> None:
    """The metrics token (constant-time compare); an API key is valid but not allowed here: 403."""
    if credentials is None:
        raise NotAuthenticated("the metrics token is required: Authorization: Bearer <token>")
    settings: Settings = request.app.state.settings
    token = settings.metrics_token.get_secret_value() if settings.metrics_token is not None else None
    if token is not None and hmac.compare_digest(credentials.credentials.encode(), token.encode()):
        return
    if _principal(request, credentials) is not None:
        raise Forbidden("metrics span tenants: they take the platform's metrics token, not an API key")
    raise NotAuthenticated("invalid metrics token", invalid=True)


def client_ip(request: Request) -> str:
    """The connecting address, or the forwarded one when a configured trusted proxy connects."""
    settings: Settings = request.app.state.settings
    peer = request.client.host if request.client is not None else None
    return client_address(peer, request.headers.getlist("x-forwarded-for"), settings.trusted_proxies)


def public_rate_limit(request: Request) -> None:
    """Spend one of the client IP's tokens for a public endpoint; 429 with Retry-After when out."""
    limiter: RateLimiter = request.app.state.public_limiter
    wait = limiter.take(client_ip(request))
    if wait > 0:
        raise RateLimited(wait)


AnyRole = Annotated[Principal, Depends(require_roles(*permissions.ALL_ROLES))]
StationReader = Annotated[Principal, Depends(require_roles(*permissions.STATION_READERS))]
AlertReader = Annotated[Principal, Depends(require_roles(*permissions.ALERT_READERS))]
AlertActor = Annotated[Principal, Depends(require_roles(*permissions.ALERT_ACTORS))]
TenantAdmin = Annotated[Principal, Depends(require_roles(*permissions.USER_ADMINS))]
MetricsToken = Annotated[None, Depends(require_metrics_token)]
PublicRateLimit = Annotated[None, Depends(public_rate_limit)]

PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Items per page, at most {MAX_PAGE}.")]
PageOffset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]


def shows_actors(principal: Principal) -> bool:
    """Whether this caller may see who acted on alerts (personal data)."""
    return principal.role in permissions.ACTOR_NAME_READERS
