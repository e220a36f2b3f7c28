"""Console passwords and sessions in the central state: the policy, the Argon2id hashes, rehashing
at sign-in, and the session rules at given times (no clock read, no sleeping)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from api_people import DKI, HEAD, OFFICER
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import central.passwords as passwords
from central.accounts import demo_logins, find_user, set_password, sign_in, store_demo_logins, verify_password
from central.db import User, writer
from central.models import ROLES
from central.errors import InvalidInput
from central.reach_models import WebSession
from central.web_sessions import (
    SessionLimits,
    csrf_matches,
    csrf_token,
    find_session,
    revoke_session,
    session_id,
)
from core.config import TepiConfig

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
LIMITS = SessionLimits(idle=timedelta(hours=12), absolute=timedelta(days=7))
PASSWORD = "banjir kiriman dari bogor"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("pendek sekali", None),
        ("short one", "at least 12 characters"),
        ("aaaaaaaaaaaaaaaa", "5 different characters"),
        ("abababababab12", "5 different characters"),
        ("081234567890", "digits only"),
        ("Password123!", "most common"),
        ("P@ssw0rd2026!", None),  # leetspeak is not in the short list: the length does the work
        ("Bismillah2026!", "most common"),
        ("passwordpassword", "most common"),  # a common word repeated
        ("Password2026Password!", "most common"),
        ("sayang sayang 123", "most common"),
        ("admin2026password", "most common"),  # common words joined, digits between
        ("kopi tubruk admin enak", None),  # a common word among others: a passphrase
        ("passwordnya bocor", None),
        ("qwertyuiopas", "most common"),
        ("lkjhgfdsapoiu", "most common"),
        ("petugaspusdalops1", "user's name"),
        ("Pusdalops 2026 siaga", "user's name"),
        ("x" * 1025, "at most 1024"),
    ],
)
def test_the_password_policy(password: str, why: str | None) -> None:
    problem = passwords.password_problem(password, OFFICER)
    assert (problem is None) == (why is None), problem
    if why is not None:
        assert why in problem  # type: ignore[operator]


def test_a_refused_password_is_invalid_input_and_changes_nothing(engine: Engine, keys: dict) -> None:
    with Session(writer(engine)) as s, s.begin():
        user = find_user(s, DKI, OFFICER)
        with pytest.raises(InvalidInput, match="at least 12"):
            set_password(s, user, "kependekan", T0)
        assert user.password_hash is None and user.password_changed_at is None


def test_the_hash_is_argon2id_with_rfc_9106s_low_memory_profile(engine: Engine, keys: dict) -> None:
    with Session(writer(engine)) as s, s.begin():
        set_password(s, find_user(s, DKI, OFFICER), PASSWORD, T0)
    with Session(engine) as s:
        user = find_user(s, DKI, OFFICER)
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert PASSWORD not in user.password_hash and user.password_changed_at == T0
        assert verify_password(user, PASSWORD) and not verify_password(user, PASSWORD.upper())
        assert not verify_password(None, PASSWORD)


def test_the_dummy_hash_costs_what_a_real_one_does() -> None:
    """Verified when there is nothing to verify: made with today's parameters, or its time would differ."""
    assert passwords.DUMMY_HASH.startswith("$argon2id$")
    assert not passwords.needs_rehash(passwords.DUMMY_HASH)
    assert not passwords.verify_hash(None, "anything at all")


def test_a_password_is_compared_normalised() -> None:
    """The same password typed with a composed or a decomposed accent matches (NFKC)."""
    stored = passwords.hash_password("kopi tubruk caf\u00e9 enak")
    assert passwords.verify_hash(stored, "kopi tubruk cafe\u0301 enak")


def test_an_old_hash_is_replaced_at_sign_in(engine: Engine, keys: dict) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    with Session(writer(engine)) as s, s.begin():
        find_user(s, DKI, OFFICER).password_hash = weak.hash(PASSWORD)
    assert sign_in(engine, DKI, OFFICER, PASSWORD, T0, LIMITS) is not None
    with Session(engine) as s:
        renewed = find_user(s, DKI, OFFICER).password_hash
    assert renewed is not None and renewed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert sign_in(engine, DKI, OFFICER, PASSWORD, T0, LIMITS) is not None


def test_sign_in_takes_the_name_in_another_case(engine: Engine, keys: dict) -> None:
    """A phone capitalises the first letter, or does not."""
    with Session(writer(engine)) as s, s.begin():
        set_password(s, find_user(s, DKI, OFFICER), PASSWORD, T0)
    signed = sign_in(engine, DKI, OFFICER.lower(), PASSWORD, T0, LIMITS)
    assert signed is not None and signed.principal.name == OFFICER
    assert sign_in(engine, DKI, f"  {OFFICER} ", PASSWORD, T0, LIMITS) is not None
    assert sign_in(engine, "kab-badung", OFFICER, PASSWORD, T0, LIMITS) is None


def test_the_database_keeps_only_the_tokens_hash(engine: Engine, keys: dict) -> None:
    with Session(writer(engine)) as s, s.begin():
        set_password(s, find_user(s, DKI, OFFICER), PASSWORD, T0)
    signed = sign_in(engine, DKI, OFFICER, PASSWORD, T0, LIMITS)
    assert signed is not None
    with Session(engine) as s:
        rows = s.scalars(sa.select(WebSession)).all()
    assert [r.id for r in rows] == [session_id(signed.token)] and signed.token not in rows[0].id
    assert (rows[0].created_at, rows[0].expires_at) == (T0, T0 + LIMITS.absolute)


def test_session_rules_at_given_times(engine: Engine, keys: dict) -> None:
    with Session(writer(engine)) as s, s.begin():
        user = find_user(s, DKI, HEAD)
        set_password(s, user, PASSWORD, T0)
    signed = sign_in(engine, DKI, HEAD, PASSWORD, T0, LIMITS)
    assert signed is not None
    token = signed.token
    with Session(engine) as s:
        assert find_session(s, token, T0 + timedelta(hours=11), LIMITS) is not None
        assert find_session(s, token, T0 + timedelta(hours=12), LIMITS) is None  # idle since T0
        assert find_session(s, token[:-1] + ("A" if token[-1] != "A" else "B"), T0, LIMITS) is None
        assert find_session(s, "not a token", T0, LIMITS) is None
        active = find_session(s, token, T0 + timedelta(seconds=59), LIMITS)
        assert active is not None and not active.touch_due
        active = find_session(s, token, T0 + timedelta(minutes=1), LIMITS)
        assert active is not None and active.touch_due
    with Session(writer(engine)) as s, s.begin():
        assert revoke_session(s, session_id(token), T0 + timedelta(minutes=2))
        assert not revoke_session(s, session_id(token), T0 + timedelta(minutes=3))  # once
    with Session(engine) as s:
        assert find_session(s, token, T0 + timedelta(minutes=4), LIMITS) is None


def test_a_sign_in_clears_the_users_ended_sessions(engine: Engine, keys: dict) -> None:
    with Session(writer(engine)) as s, s.begin():
        set_password(s, find_user(s, DKI, OFFICER), PASSWORD, T0)
    for day in range(10):  # one sign-in a day, never signing out
        assert sign_in(engine, DKI, OFFICER, PASSWORD, T0 + timedelta(days=day), LIMITS) is not None
    with Session(engine) as s:
        user_id = s.scalar(sa.select(User.id).where(User.name == OFFICER, User.tenant_id == DKI))
        left = s.scalar(sa.select(sa.func.count()).select_from(WebSession).where(WebSession.user_id == user_id))
    assert left == 1  # the others were idle for more than 12 hours


def test_the_csrf_token_belongs_to_its_session_and_pepper() -> None:
    pepper = b"a-pepper-of-at-least-32-characters-long"
    token = csrf_token(pepper, "a" * 64)
    assert len(token) == 64 and csrf_matches(pepper, "a" * 64, token)
    assert not csrf_matches(pepper, "b" * 64, token)
    assert not csrf_matches(b"another-pepper-of-at-least-32-characters", "a" * 64, token)
    assert not csrf_matches(pepper, "a" * 64, None) and not csrf_matches(pepper, "a" * 64, "")


def test_demo_users_sign_in_with_the_passwords_the_demo_prints(engine: Engine, default_config: TepiConfig) -> None:
    config = default_config.model_copy(update={"tenants": default_config.tenants[:1]})
    logins = demo_logins(config)
    assert {login.name for login in logins} == {f"demo-{role}" for role in ROLES}
    with Session(writer(engine)) as s, s.begin():
        store_demo_logins(s, logins, T0)
    for login in logins[:2]:
        assert passwords.password_problem(login.password, login.name) is None
        signed = sign_in(engine, login.tenant, login.name, login.password, T0, LIMITS)
        assert signed is not None and signed.principal.role == login.name.removeprefix("demo-")
    # The next start's passwords replace them, and end the sessions of the last run.
    with Session(writer(engine)) as s, s.begin():
        store_demo_logins(s, demo_logins(config)[:1], T0 + timedelta(hours=1))
    assert sign_in(engine, logins[0].tenant, logins[0].name, logins[0].password, T0, LIMITS) is None
