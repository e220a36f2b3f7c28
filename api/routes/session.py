"""`/session`: people sign in to the console and out again; `/public/tenants`: whom they sign in to.

Machines keep API keys (`Authorization: Bearer`); people sign in with a name and password and
get a session cookie (`central.web_sessions`). api/README.md tells why cookie, SameSite=Strict,
CSRF token and Origin check. Every failure of a sign-in answers the same 401, so the answer
does not tell which tenants or names exist, and takes the same time (`central.accounts.sign_in`
verifies against a dummy hash when there is nothing to verify). Failed sign-ins are limited
(`SignInGuard`): a guesser is slowed, and must wait `Retry-After`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from api.deps import (
    ConfigDep,
    PublicRateLimit,
    SessionDep,
    SettingsDep,
    check_csrf,
    check_origin,
    client_ip,
    cookie_principal,
    request_time,
    session_limits,
)
from api.errors import NotAuthenticated, RateLimited
from api.limits import RateLimiter
from api.models import ErrorPublic, SessionPublic, SessionUser, SignInRequest, TenantPublic
from api.routes import BODY_ERRORS, PUBLIC_ERRORS, cacheable
from api.settings import Settings
from central.accounts import sign_in
from central.db import writer
from central.models import Tenant
from central.names import lookalike_key
from central.web_sessions import csrf_token, revoke_session
from core.config import TepiConfig
from core.config_model import TenantZone

log = logging.getLogger(__name__)

router = APIRouter(tags=["session"])

#: The one answer to every failed sign-in.
SIGN_IN_FAILED = "wrong tenant, name or password"
DEFAULT_TIMEZONE: TenantZone = "Asia/Jakarta"
_TENANT_LIST = TypeAdapter(list[TenantPublic])


class SignInBusy(HTTPException):
    """Too many sign-ins already wait for a verification: try again in a moment (503)."""

    code = "sign_in_busy"

    def __init__(self) -> None:
        super().__init__(503, "too many sign-ins at once; try again in a moment", headers={"Retry-After": "1"})


@dataclass(frozen=True, slots=True)
class SignInTry:
    """A sign-in holding its tries (see `SignInGuard.begin`)."""

    ip: str
    who: str


class SignInGuard:
    """What stands between a guesser and the password hashes.

    Tries are counted per client IP, per (tenant, name) from one client IP, and per (tenant,
    name) from all clients together, the last with a much higher ceiling: a guesser from one
    address is slowed at once, guessing from many is bounded, and a stranger cannot lock a
    person out by failing as them from a few addresses. A correct password does not pass an
    exhausted limit: its 429 would otherwise tell a guesser which guess was right.

    Each try is spent before its password is verified, and given back once it turns out right
    (`end`): counting failures only after their 0.14 s verification let thirty guesses sent at
    once all be verified. Verifications run a bounded number at once (each takes 64 MiB: forty
    at once would take 2.5 GiB); beyond `waiting` more in line, 503 at once rather than a queue
    a flood could keep real sign-ins in."""

    def __init__(
        self, by_ip: RateLimiter, by_user_ip: RateLimiter, by_user: RateLimiter, concurrency: int, waiting: int
    ) -> None:
        self.by_ip = by_ip
        self.by_user_ip = by_user_ip
        self.by_user = by_user
        self.hashing = anyio.CapacityLimiter(concurrency)
        self._most = concurrency + waiting
        self._lock = threading.Lock()
        self._in_flight = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> SignInGuard:
        return cls(
            by_ip=RateLimiter(settings.login_ip_per_min / 60, settings.login_ip_burst),
            by_user_ip=RateLimiter(settings.login_user_per_min / 60, settings.login_user_burst),
            by_user=RateLimiter(settings.login_user_total_per_min / 60, settings.login_user_total_burst),
            concurrency=settings.login_concurrency,
            waiting=settings.login_waiting,
        )

    @property
    def in_flight(self) -> int:
        """Sign-ins holding their tries now: verifying, or waiting for a verification."""
        return self._in_flight

    def _buckets(self, attempt: SignInTry) -> tuple[tuple[RateLimiter, str], ...]:
        return ((self.by_ip, attempt.ip), (self.by_user_ip, f"{attempt.ip}\x00{attempt.who}"), (self.by_user, attempt.who))

    def begin(self, ip: str, who: str) -> SignInTry:
        """Spend a try of each limit, all or none: 429 (`RateLimited`) when one has none left,
        503 (`SignInBusy`) when too many sign-ins are in line already (nothing spent)."""
        attempt = SignInTry(ip, who)
        buckets = self._buckets(attempt)
        with self._lock:
            wait = max(limiter.wait(key) for limiter, key in buckets)
            if wait > 0:
                raise RateLimited(wait)
            if self._in_flight >= self._most:
                raise SignInBusy()
            for limiter, key in buckets:
                limiter.take(key)
            self._in_flight += 1
        return attempt

    def end(self, attempt: SignInTry, *, failed: bool) -> None:
        """The try is over: a failed one stays spent; one that succeeded (or never got to
        verify, the database down) is given back."""
        with self._lock:
            self._in_flight -= 1
            if not failed:
                for limiter, key in self._buckets(attempt):
                    limiter.refund(key)


def _who(tenant: str, name: str) -> str:
    """The key a name's failures count under: as uniqueness compares names (case, width, spacing)."""
    try:
        name = lookalike_key(name)
    except ValueError:
        name = name.strip().casefold()
    return f"{tenant}\x00{name}"


def cookie_is_secure(request: Request) -> bool:
    """Secure unless the app's public base URL is plain http (the demo on loopback)."""
    return urlsplit(request.app.state.public_base_url).scheme != "http"


def tenant_timezone(config: TepiConfig, tenant: str) -> TenantZone:
    """The zone a tenant's times are shown in: its configuration's, else WIB."""
    zone: TenantZone = next((t.timezone for t in config.tenants if t.id == tenant), DEFAULT_TIMEZONE)
    return zone


@router.post(
    "/session",
    response_model=SessionPublic,
    summary="Sign in to the console: a session cookie and its CSRF token",
    description="For people in a browser; machines use API keys. Sets the HttpOnly, SameSite=Strict session "
    "cookie; send the `csrf_token` as `X-CSRF-Token` on every POST, PUT, PATCH and DELETE. Any failure answers "
    "the same 401; repeated failures from a client, for a name from a client, or for a name from all clients "
    "answer 429 with `Retry-After`; too many sign-ins at once, 503 with `Retry-After`.",
    responses={
        **BODY_ERRORS,
        401: {"model": ErrorPublic, "description": "Wrong tenant, name or password (which one is not said)."},
        403: {"model": ErrorPublic, "description": "The request came from another site (`Origin`)."},
        429: PUBLIC_ERRORS[429],
        503: PUBLIC_ERRORS[503],
    },
)
async def create_session(body: SignInRequest, request: Request, response: Response, settings: SettingsDep) -> SessionPublic:
    check_origin(request)  # no signing a victim's browser in to the attacker's account from another site
    guard: SignInGuard = request.app.state.sign_in_guard
    attempt = guard.begin(client_ip(request), _who(body.tenant, body.name))
    try:
        signed_in = await anyio.to_thread.run_sync(
            sign_in,
            request.app.state.engine,
            body.tenant,
            body.name,
            body.password,
            request_time(request),
            session_limits(settings),
            limiter=guard.hashing,  # off the event loop, and a bounded number at once
        )
    except BaseException:
        guard.end(attempt, failed=False)  # no verdict (the database down, the client gone): nothing spent
        raise
    guard.end(attempt, failed=signed_in is None)
    if signed_in is None:
        log.info("sign-in refused")  # no name: who tried is personal data, and guesses are noise
        raise NotAuthenticated(SIGN_IN_FAILED)
    user = signed_in.principal
    log.info("signed in", extra={"user_id": user.user_id, "tenant": user.tenant})
    response.set_cookie(
        settings.session_cookie,
        signed_in.token,
        max_age=settings.session_max_s,
        path="/",
        secure=cookie_is_secure(request),
        httponly=True,
        samesite="strict",
    )
    response.headers["Cache-Control"] = "no-store"
    assert user.session_id is not None  # a sign-in always makes a session
    return SessionPublic(
        user=SessionUser(id=user.user_id, name=user.name, role=user.role, tenant=user.tenant),  # type: ignore[arg-type]
        csrf_token=csrf_token(settings.pepper(), user.session_id),
    )


@router.delete(
    "/session",
    status_code=204,
    response_class=Response,
    summary="Sign out: the session ends and its cookie is cleared",
    description="With a valid session cookie this needs the `X-CSRF-Token`, like every change; without one "
    "(already signed out, expired) it just clears the cookie.",
    responses={403: {"model": ErrorPublic, "description": "CSRF token missing or wrong, or another site's request."}},
)
def delete_session(request: Request, settings: SettingsDep) -> Response:
    principal = cookie_principal(request)
    if principal is not None and principal.session_id is not None:
        check_csrf(request, principal)
        with Session(writer(request.app.state.engine)) as session, session.begin():
            revoke_session(session, principal.session_id, request_time(request))
        log.info("signed out", extra={"user_id": principal.user_id, "tenant": principal.tenant})
    response = Response(status_code=204)
    response.delete_cookie(
        settings.session_cookie, path="/", secure=cookie_is_secure(request), httponly=True, samesite="strict"
    )
    return response


@router.get(
    "/public/tenants",
    response_model=list[TenantPublic],
    summary="The tenants (regencies, agencies) with their time zones (public)",
    description="For the console's sign-in form and public page: ids, names and zones only. Cacheable and rate "
    "limited per client IP, like `/public/stations`.",
    responses=PUBLIC_ERRORS,
)
def read_public_tenants(
    request: Request, session: SessionDep, config: ConfigDep, settings: SettingsDep, _limited: PublicRateLimit
) -> Response:
    def tenants() -> bytes:
        rows = session.execute(sa.select(Tenant.id, Tenant.name).order_by(Tenant.id)).all()
        return _TENANT_LIST.dump_json(
            [TenantPublic(id=i, name=n, timezone=tenant_timezone(config, i)) for i, n in rows]
        )

    body = request.app.state.public_cache.get_or_compute(("tenants",), tenants)
    return cacheable(request, body, "application/json", settings.public_max_age_s)

