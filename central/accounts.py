"""API keys, users and tenants: central state that `tepi admin` and a tenant's admins (through the API) manage.

Why API keys (and not OAuth2 password flow with JWTs): the callers are a disaster office's
dashboards, the command centre's integrations and scripts, not people typing passwords into
this API. A key is revoked at once (checked on every request), needs no password store, no
token refresh and no clock agreement, and one indexed lookup verifies it.

Why HMAC-SHA256 with a server pepper (and not a slow KDF): a key is `tepi_<id>_<secret>` with
a 256-bit random secret, so guessing is hopeless and a slow KDF (which exists to make guessing
*low-entropy passwords* expensive) would only add latency to every request. The database keeps
HMAC-SHA256(pepper, key): a stolen database dump alone neither yields keys nor lets anyone
test guesses, because the pepper (TEPI_AUTH_PEPPER) lives only in the API's environment. The
public `<id>` finds the row; the digests are compared in constant time.

Keys are shown once, at creation; lost keys are revoked and replaced, never recovered.

People sign in to the console with a password instead (`central.passwords`: Argon2id, since a
password, unlike a key, can be guessed) and then carry a session cookie (`central.web_sessions`).
A key and a session give the same `Principal`: the same role and tenant scoping for both.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.db import writer
from central.errors import InvalidInput, KeyNotFound, TenantExists, TenantNotFound, UserExists, UserNotFound
from central.models import ROLES, ApiKey, Tenant, User
from central.names import canonical_name, lookalike_key
from central.notify.targets import TargetError
from central.notify.targets import check_email as check_email_target
from central.passwords import check_password, hash_password, needs_rehash, password_problem, verify_hash
from central.web_sessions import SessionLimits, open_session, revoke_user_sessions
from central.web_sessions import session_id as session_id_of
from contract.clock import utcnow
from core.config import TepiConfig

KEY_PREFIX = "tepi"
_KEY = re.compile(r"^tepi_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user of one tenant with one role, through one key or one console session."""

    user_id: int
    name: str
    tenant: str
    role: str
    key_id: str | None = None
    #: The web session (`web_sessions.id`) when the caller came with the console's cookie.
    session_id: str | None = None


def key_digest(pepper: bytes, key: str) -> str:
    """What the database stores of a key: hex HMAC-SHA256 under the server's pepper."""
    return hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()


def new_key() -> tuple[str, str]:
    """(public id, full key): 64 random bits of id, 256 of secret."""
    key_id = secrets.token_hex(8)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


def authenticate(session: Session, pepper: bytes, presented: str) -> Principal | None:
    """The principal of a presented key; None when malformed, unknown, wrong, revoked or disabled."""
    m = _KEY.match(presented)
    if m is None:
        return None
    row = session.execute(
        sa.select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.id == m.group(1))
    ).one_or_none()
    if row is None:
        return None
    key, user = row
    if not hmac.compare_digest(key.key_hash, key_digest(pepper, presented)):
        return None
    if key.revoked_at is not None or user.disabled_at is not None or key.tenant_id != user.tenant_id:
        return None
    return Principal(user_id=user.id, name=user.name, tenant=user.tenant_id, role=user.role, key_id=key.id)


def check_name(name: str) -> str:
    """A user's (or tenant's) name as stored: `central.names.canonical_name`, refusals as `InvalidInput`."""
    try:
        return canonical_name(name)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def create_tenant(session: Session, tenant_id: str, name: str) -> Tenant:
    """A new tenant (a regency or agency); the platform operator does this with `tepi admin`."""
    if not _TENANT_ID.match(tenant_id):
        raise InvalidInput("a tenant id is 1-63 of a-z, 0-9, '-' and '_', starting with a letter or digit")
    if session.get(Tenant, tenant_id) is not None:
        raise TenantExists(tenant_id)
    tenant = Tenant(id=tenant_id, name=check_name(name))
    session.add(tenant)
    session.flush()
    return tenant


def create_user(session: Session, tenant_id: str, name: str, role: str, now: datetime | None = None) -> User:
    """A user of `tenant_id` with `role`; names are unique within a tenant."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    if session.get(Tenant, tenant_id) is None:
        raise TenantNotFound(tenant_id)
    name = check_name(name)
    key = lookalike_key(name)
    # Existing names are compared as they are stored (never rewritten), so older look-alikes count too.
    taken = session.scalars(sa.select(User.name).where(User.tenant_id == tenant_id))
    if any(lookalike_key(other) == key for other in taken):
        raise UserExists(name)
    user = User(tenant_id=tenant_id, name=name, role=role, created_at=now or utcnow(), disabled_at=None)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # created concurrently under the same name
        raise UserExists(name) from exc
    return user


def get_user(session: Session, user_id: int, tenant: str | None = None) -> User:
    """The user; `UserNotFound` also for a user of another tenant than `tenant`."""
    user = session.get(User, user_id)
    if user is None or (tenant is not None and user.tenant_id != tenant):
        raise UserNotFound(user_id)
    return user


def find_user(session: Session, tenant_id: str, name: str) -> User:
    """The user of that exact name (as typed, or NFC-normalised as new names are stored)."""
    typed = name.strip()
    candidates = {typed, unicodedata.normalize("NFC", typed)}
    user = session.scalar(sa.select(User).where(User.tenant_id == tenant_id, User.name.in_(candidates)).limit(1))
    if user is None:
        raise UserNotFound(name)
    return user


def create_key(
    session: Session, pepper: bytes, user_id: int, now: datetime | None = None, *, tenant: str | None = None
) -> tuple[ApiKey, str]:
    """A new key of the user: (row, the key itself, which nothing stores: show it once)."""
    user = get_user(session, user_id, tenant)
    if user.disabled_at is not None:
        raise InvalidInput("the user is disabled")
    key_id, key = new_key()
    row = ApiKey(
        id=key_id,
        tenant_id=user.tenant_id,
        user_id=user.id,
        key_hash=key_digest(pepper, key),
        created_at=now or utcnow(),
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    return row, key


def revoke_key(session: Session, key_id: str, now: datetime | None = None, *, tenant: str | None = None) -> ApiKey:
    """Revoke a key (it stops working at the next request); revoking twice keeps the first time."""
    key = session.get(ApiKey, key_id)
    if key is None or (tenant is not None and key.tenant_id != tenant):
        raise KeyNotFound(key_id)
    if key.revoked_at is None:
        key.revoked_at = now or utcnow()
        session.flush()
    return key


def list_users(session: Session, tenant: str, limit: int, offset: int) -> tuple[list[User], int]:
    where = User.tenant_id == tenant
    total = session.scalar(sa.select(sa.func.count()).select_from(User).where(where)) or 0
    page = session.scalars(sa.select(User).where(where).order_by(User.id).limit(limit).offset(offset))
    return list(page), int(total)


def list_keys(
    session: Session, tenant: str, user_id: int | None, limit: int, offset: int
) -> tuple[list[ApiKey], int]:
    conditions = [ApiKey.tenant_id == tenant]
    if user_id is not None:
        get_user(session, user_id, tenant)
        conditions.append(ApiKey.user_id == user_id)
    total = session.scalar(sa.select(sa.func.count()).select_from(ApiKey).where(*conditions)) or 0
    page = session.scalars(
        sa.select(ApiKey).where(*conditions).order_by(ApiKey.created_at, ApiKey.id).limit(limit).offset(offset)
    )
    return list(page), int(total)


def demo_keys(session: Session, config: TepiConfig, pepper: bytes) -> dict[str, str]:
    """One fresh key per role per configured tenant: {"<tenant>/<role>": key}; tenants are made
    if missing. Only for the demo (`api.services.auth.create_demo_keys` checks the mode)."""
    keys: dict[str, str] = {}
    for t in config.tenants:
        if session.get(Tenant, t.id) is None:
            session.add(Tenant(id=t.id, name=t.name))
            session.flush()
        for role in ROLES:
            keys[f"{t.id}/{role}"] = demo_key(session, t.id, role, pepper)
    return keys


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A demo user's console sign-in, printed at the demo's start (demo data, never production's)."""

    tenant: str
    name: str
    password: str
    password_hash: str


def demo_logins(config: TepiConfig) -> list[DemoLogin]:
    """A fresh random password for the `demo-<role>` user of every role and configured tenant,
    hashed here, before any transaction: 21 hashes take about 2 s, while the demo's ingest writes."""
    wanted = [(t.id, f"demo-{role}") for t in config.tenants for role in ROLES]
    passwords = []
    for _tenant, name in wanted:
        password = secrets.token_urlsafe(12)
        while password_problem(password, name) is not None:  # a random 16 characters: hardly ever
            password = secrets.token_urlsafe(12)
        passwords.append(password)
    with ThreadPoolExecutor(max_workers=2) as pool:  # Argon2 releases the GIL
        hashes = list(pool.map(hash_password, passwords))
    return [DemoLogin(t, n, p, h) for (t, n), p, h in zip(wanted, passwords, hashes, strict=True)]


def store_demo_logins(session: Session, logins: list[DemoLogin], now: datetime) -> None:
    """Give the demo users (made if missing) their passwords; sessions of an earlier run end."""
    for login in logins:
        user = session.scalar(sa.select(User).where(User.tenant_id == login.tenant, User.name == login.name))
        if user is None:
            user = create_user(session, login.tenant, login.name, login.name.removeprefix("demo-"), now)
        user.password_hash, user.password_changed_at = login.password_hash, now
        revoke_user_sessions(session, user.id, now)
    session.flush()


def demo_key(session: Session, tenant: str, role: str, pepper: bytes) -> str:
    """A fresh key of the tenant's `demo-<role>` user (made if missing); its earlier keys are revoked,
    since a key cannot be shown again. The tenant must exist."""
    now = utcnow()
    name = f"demo-{role}"
    user = session.scalar(sa.select(User).where(User.tenant_id == tenant, User.name == name))
    if user is None:
        user = create_user(session, tenant, name, role, now)
    session.execute(
        sa.update(ApiKey)
        .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return create_key(session, pepper, user.id, now)[1]


def check_email(email: str) -> str:
    """An email address as stored (trimmed), or `InvalidInput` saying why not: the notifier's
    own rule (`central.notify.targets`), so an address stored here is one escalations can use."""
    try:
        return check_email_target(email.strip())
    except TargetError as exc:
        raise InvalidInput(str(exc)) from None


def set_email(session: Session, user: User, email: str | None) -> None:
    """Where escalations reach the user by email; None removes it."""
    user.email = check_email(email) if email is not None else None
    session.flush()


def set_password(session: Session, user: User, password: str, now: datetime) -> None:
    """Give `user` a console password (`InvalidInput` when `central.passwords` refuses it) and end
    every session of theirs: whoever signed in with the old password must sign in again.
    Hashing takes about 0.14 s and 64 MiB: call it off the event loop."""
    check_password(password, user.name)
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    revoke_user_sessions(session, user.id, now)
    session.flush()


def verify_password(user: User | None, password: str) -> bool:
    """Whether `password` signs `user` in: the user exists, is enabled, has a password and this is
    it. One Argon2id verification in every case (a dummy hash when there is nothing to compare),
    so the time taken does not tell an unknown or disabled user from a wrong password."""
    stored = user.password_hash if user is not None else None
    matched = verify_hash(stored, password)
    return matched and user is not None and user.disabled_at is None


def disable_user(session: Session, user_id: int, now: datetime) -> User:
    """Disable a user: their keys and sessions stop working at once; the row stays, as alert
    history names it. Disabling twice keeps the first time."""
    user = get_user(session, user_id)
    if user.disabled_at is None:
        user.disabled_at = now
    revoke_user_sessions(session, user.id, now)
    session.flush()
    return user


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A successful sign-in: who, and the new session's token for the cookie (shown once)."""

    principal: Principal
    token: str


def sign_in(engine: Engine, tenant: str, name: str, password: str, now: datetime, limits: SessionLimits) -> SignedIn | None:
    """A new console session for the user `name` of `tenant` if `password` is theirs; None for
    every failure alike (unknown tenant or user, disabled, no password, wrong password).

    Two short transactions around the slow part: the user is read, the password verified with
    no transaction open (SQLite's write lock is not held for 0.14 s of hashing), then the session
    is written, if the user and their hash are still as read. A hash made with older parameters
    is replaced on the way. Every sign-in makes a new token (no session fixation)."""
    with Session(engine) as session:
        user = _sign_in_user(session, tenant, name)
    # Closed before the slow part: the row's loaded attributes stay readable.
    if not verify_password(user, password) or user is None or user.password_hash is None:
        return None
    user_id, stored = user.id, user.password_hash
    fresh = hash_password(password) if needs_rehash(stored) else None
    with Session(writer(engine)) as session, session.begin():
        current = session.get(User, user_id)
        if current is None or current.disabled_at is not None or current.password_hash != stored:
            return None  # changed while the password was being checked
        if fresh is not None:
            current.password_hash = fresh
        token = open_session(session, current, now, limits)
        principal = Principal(
            user_id=current.id, name=current.name, tenant=current.tenant_id, role=current.role,
            session_id=session_id_of(token),
        )
    return SignedIn(principal=principal, token=token)


def _sign_in_user(session: Session, tenant: str, name: str) -> User | None:
    """The user a sign-in names: exactly (as typed or NFC), else the one whose name differs only
    in case (a phone capitalises the first letter); None when none, or several, match."""
    typed = name.strip()
    exact = {typed, unicodedata.normalize("NFC", typed)}
    rows = session.scalars(
        sa.select(User)
        .where(User.tenant_id == tenant, sa.or_(User.name.in_(exact), sa.func.lower(User.name) == typed.lower()))
        .limit(5)
    ).all()
    for user in rows:
        if user.name in exact:
            return user
    return rows[0] if len(rows) == 1 else None
