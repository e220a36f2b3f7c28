"""FastAPI dependencies as `Annotated` aliases, so routes declare what they need by type.

Authentication: `Authorization: Bearer tepi_<id>_<secret>` for machines (see `central.accounts`),
or the console's session cookie for people (`central.web_sessions`); the bearer key wins when
both come. The role aliases (`AlertReader`, ...) authenticate and then check the role against
`api.permissions`: a key and a session of the same user get the same answers.

A request authenticated by the cookie with an unsafe method (POST, PUT, PATCH, DELETE) must
also carry the session's CSRF token in `X-CSRF-Token`, and, when it has an `Origin`, come from
the app's own origin: 403 otherwise (api/README.md says why all three, with SameSite=Strict).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

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
from central.web_sessions import SessionLimits, csrf_matches, find_session, touch_session
from contract.clock import utcnow
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


def request_time(request: Request) -> datetime:
    """Now, by the app's clock (`app.state.clock`, `contract.clock.utcnow`; tests set their own)."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def session_limits(settings: Settings) -> SessionLimits:
    return SessionLimits(idle=timedelta(seconds=settings.session_idle_s), absolute=timedelta(seconds=settings.session_max_s))


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


def cookie_principal(request: Request) -> Principal | None:
    """The user of the console session the cookie names, if it is valid; its last use recorded
    (at most once a minute). Like `_principal`, on sessions of its own closed at once."""
    settings: Settings = request.app.state.settings
    token = request.cookies.get(settings.session_cookie)
    if not token:
        return None
    now = request_time(request)
    with Session(request.app.state.engine) as session:
        active = find_session(session, token, now, session_limits(settings))
    if active is None:
        return None
    if active.touch_due:
        with Session(writer(request.app.state.engine)) as session, session.begin():
            touch_session(session, active.id, now)
    return Principal(
        user_id=active.user_id, name=active.name, tenant=active.tenant, role=active.role, session_id=active.id
    )


#: Methods that change nothing (RFC 9110): no CSRF token asked.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def own_origins(request: Request) -> set[str]:
    """Origins the console is served from: the public base URL's, and the request's own host."""
    base = urlsplit(request.app.state.public_base_url)
    origins = {f"{base.scheme}://{base.netloc}".lower()}
    host = request.headers.get("host")
    if host:
        origins.add(f"{request.url.scheme}://{host}".lower())
    return origins


def check_origin(request: Request) -> None:
    """403 for a request whose `Origin` is present and another site's (a browser always sends it
    on cross-origin and unsafe requests; machines and same-origin GETs may send none)."""
    origin = request.headers.get("origin")
    if origin is not None and origin.lower() not in own_origins(request):
        raise Forbidden("cross-origin request refused")


def check_csrf(request: Request, principal: Principal) -> None:
    """For a cookie-authenticated unsafe request: the Origin check, then the CSRF token."""
    if principal.session_id is None or request.method in SAFE_METHODS:
        return
    check_origin(request)
    settings: Settings = request.app.state.settings
    if not csrf_matches(settings.pepper(), principal.session_id, request.headers.get("x-csrf-token")):
        raise Forbidden("CSRF token missing or wrong")


def get_principal(request: Request, credentials: CredentialsDep) -> Principal:
    """The caller: by API key (bearer) when one is sent, else by the console's session cookie;
    401 without either or when the one used is unknown, wrong, revoked or expired; 403 for a
    cookie-authenticated unsafe request without its CSRF token or from another origin."""
    if credentials is not None:
        principal = _principal(request, credentials)
        if principal is None:
            raise NotAuthenticated("invalid or revoked API key", invalid=True)
        return principal
    principal = cookie_principal(request)
    if principal is None:
        settings: Settings = request.app.state.settings
        if request.cookies.get(settings.session_cookie):
            raise NotAuthenticated("the session has ended (signed out, expired or revoked): sign in again", invalid=True)
        raise NotAuthenticated("sign in, or send an API key: Authorization: Bearer tepi_<id>_<secret>")
    check_csrf(request, principal)
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
