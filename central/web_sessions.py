"""Browser sessions of the console: opened at sign-in, ended by sign-out, idleness or age.

The cookie carries a token of 32 random bytes (`secrets.token_urlsafe`); the database keeps
only its SHA-256 (`web_sessions.id`), as it keeps only a keyed hash of an API key, so a copy of
the database opens no session. SHA-256 without a pepper suffices here: the token is 256 random
bits, nothing to guess, and the hash only has to be one-way.

A session ends at the first of: sign-out, the idle limit (no request for `idle`), the absolute
limit (`expires_at`, fixed at sign-in: no use extends it), the user's password changing (all
their sessions), the user being disabled. Every sign-in makes a new token (no session fixation:
a token planted in a browser before sign-in never becomes a signed-in one).

The CSRF token of a session is HMAC-SHA256(pepper, "csrf:" + session id): derived, so nothing
more is stored, and unforgeable without the server's pepper. Every function takes `now`: no
clock is read here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.models import User
from central.reach_models import WebSession

#: `last_seen_at` is written at most this often per session: a page polling every few seconds
#: must not write the database at each request.
TOUCH_EVERY = timedelta(minutes=1)
#: What `secrets.token_urlsafe(32)` makes: 43 characters of base64url.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """How long a session lives unused (`idle`) and at most (`absolute`)."""

    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A session found valid, with what a request needs of its user (no ORM object outlives the lookup)."""

    id: str
    user_id: int
    name: str
    tenant: str
    role: str
    #: Whether `last_seen_at` is older than `TOUCH_EVERY` (the caller then calls `touch_session`).
    touch_due: bool


def session_id(token: str) -> str:
    """What the database stores of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(pepper: bytes, web_session_id: str) -> str:
    """The session's CSRF token: HMAC-SHA256(pepper, "csrf:" + session id), hex."""
    return hmac.new(pepper, f"csrf:{web_session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_matches(pepper: bytes, web_session_id: str, presented: str | None) -> bool:
    """Whether `presented` is the session's CSRF token (constant-time compare)."""
    if not presented:
        return False
    return hmac.compare_digest(csrf_token(pepper, web_session_id).encode(), presented.encode())


def open_session(session: Session, user: User, now: datetime, limits: SessionLimits) -> str:
    """A new session of `user`: returns the token for the cookie (stored only as its hash).
    The user's ended sessions are deleted on the way, so the table holds live ones and a few."""
    prune_sessions(session, user.id, now, limits)
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id=session_id(token),
            tenant_id=user.tenant_id,
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + limits.absolute,
            revoked_at=None,
        )
    )
    session.flush()
    return token


def find_session(session: Session, token: str, now: datetime, limits: SessionLimits) -> ActiveSession | None:
    """The session the cookie's token names, if it is still valid: not revoked, not idle for
    `limits.idle`, before its absolute end, and its user enabled and of the same tenant."""
    if not _TOKEN.match(token):
        return None
    row = session.execute(
        sa.select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.id == session_id(token))
    ).one_or_none()
    if row is None:
        return None
    web, user = row
    if (
        web.revoked_at is not None
        or now >= web.expires_at
        or now - web.last_seen_at >= limits.idle
        or user.disabled_at is not None
        or user.tenant_id != web.tenant_id
    ):
        return None
    return ActiveSession(
        id=web.id,
        user_id=user.id,
        name=user.name,
        tenant=user.tenant_id,
        role=user.role,
        touch_due=now - web.last_seen_at >= TOUCH_EVERY,
    )


def touch_session(session: Session, web_session_id: str, now: datetime) -> None:
    """Record a use now (the idle limit counts from it); a no-op within `TOUCH_EVERY` of the last."""
    session.execute(
        sa.update(WebSession)
        .where(WebSession.id == web_session_id, WebSession.last_seen_at <= now - TOUCH_EVERY)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def revoke_session(session: Session, web_session_id: str, now: datetime) -> bool:
    """Sign-out: end one session; False when it was ended already (or never was)."""
    result = session.execute(
        sa.update(WebSession)
        .where(WebSession.id == web_session_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def revoke_user_sessions(session: Session, user_id: int, now: datetime) -> int:
    """End every session of a user (password changed, user disabled); how many were open."""
    result = session.execute(
        sa.update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def prune_sessions(session: Session, user_id: int, now: datetime, limits: SessionLimits) -> None:
    """Delete a user's sessions that can never be used again (revoked, past their end, idle)."""
    session.execute(
        sa.delete(WebSession)
        .where(
            WebSession.user_id == user_id,
            sa.or_(
                WebSession.revoked_at.is_not(None),
                WebSession.expires_at <= now,
                WebSession.last_seen_at <= now - limits.idle,
            ),
        )
        .execution_options(synchronize_session=False)
    )
