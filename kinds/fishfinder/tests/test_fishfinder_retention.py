"""Retention of the fish-finder's personal data beyond tracks: where a school was seen and where
a catch was made are erased after `position_days` (the catch's species, weight and price stay),
buyers' messages to fishers are deleted after `contact_message_days`. Over a real state store
(SQLite and PostgreSQL), through the central retention job, with an injected `now`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from api_people import DKI, ClientFactory
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import writer
from central.models import User
from central.retention import enforce_retention
from kinds.fishfinder.api.catch_service import catch_aggregates
from core.config import RetentionConfig
from kinds.fishfinder.catches import Catch, CatchContactRequest
from kinds.fishfinder.state import SchoolSighting, register_vessel

T0 = datetime(2026, 3, 2, 22, 0, tzinfo=timezone.utc)
D = timedelta(days=1)
WHERE = (-8.91, 115.14)


@pytest.fixture
def catch_and_school(engine: Engine, keys: dict[tuple[str, str], str]) -> int:
    """A vessel of Fisher DKI; a school it saw at T0; its catch of T0 for sale; a buyer's message
    about it at T0 and another 60 days later. Returns the catch's id."""
    with Session(writer(engine)) as s, s.begin():
        fisher = s.scalar(sa.select(User.id).where(User.name == "Fisher DKI"))
        buyer = s.scalar(sa.select(User.id).where(User.name == "Petugas Pusdalops"))
        assert fisher is not None and buyer is not None
        register_vessel(s, vessel_id="km-ret", tenant=DKI, name="KM Ret", home_port="Benoa", gateway_id="gw-km-ret",
                        now=T0, owner_user=fisher)
        s.add(SchoolSighting(item_id="school-1", tenant_id=DKI, vessel_id="km-ret", gateway="gw-km-ret", start=T0,
                             end=T0 + timedelta(minutes=3), lat=WHERE[0], lon=WHERE[1], top_m=20.0, bottom_m=31.5,
                             mean_sv_db=-52.0, pings=120))
        catch = Catch(tenant_id=DKI, fisher_id=fisher, vessel_id="km-ret", species="cakalang", weight_kg=85.5,
                      lat=WHERE[0], lon=WHERE[1], caught_at=T0, price_idr_per_kg=28000, port="Benoa", for_sale=True,
                      created_at=T0)
        s.add(catch)
        s.flush()
        for at in (T0, T0 + 60 * D):
            s.add(CatchContactRequest(tenant_id=DKI, catch_id=catch.id, from_user_id=buyer, message="Masih ada?",
                                      created_at=at))
        return catch.id


def _run(engine: Engine, now: datetime, policy: RetentionConfig | None = None) -> dict[str, int]:
    with Session(writer(engine)) as s, s.begin():
        return enforce_retention(s, now, policy or RetentionConfig())


def _state(engine: Engine) -> tuple[tuple[object, ...], tuple[object, ...], list[datetime]]:
    with Session(engine) as s:
        catch = s.execute(sa.select(Catch.species, Catch.weight_kg, Catch.price_idr_per_kg, Catch.lat, Catch.lon)).one()
        school = s.execute(sa.select(SchoolSighting.top_m, SchoolSighting.pings, SchoolSighting.lat, SchoolSighting.lon)).one()
        messages = list(s.scalars(sa.select(CatchContactRequest.created_at).order_by(CatchContactRequest.created_at)))
    return tuple(catch), tuple(school), messages


def _aggregated(engine: Engine) -> int:
    """Groups the fisheries office's aggregates of T0's week count, shown or suppressed."""
    with Session(engine) as s:
        found = catch_aggregates(s, DKI, T0 - 3 * D, T0 + 3 * D)
    return len(found.data) + found.suppressed_groups


def test_catch_and_school_positions_go_after_position_days_and_messages_after_contact_message_days(
    engine: Engine, catch_and_school: int, make_client: ClientFactory
) -> None:
    kept_catch, kept_school = ("cakalang", 85.5, 28000, *WHERE), (20.0, 120, *WHERE)
    assert RetentionConfig().contact_message_days == 90

    assert _run(engine, T0 + 90 * D).get("catch_contact_requests", 0) == 0, "90 days are kept"
    counts = _run(engine, T0 + 91 * D)
    assert counts["catch_contact_requests"] == 1 and "catch_positions" not in counts
    assert _state(engine) == (kept_catch, kept_school, [T0 + 60 * D])
    assert _run(engine, T0 + 151 * D)["catch_contact_requests"] == 1
    assert _state(engine) == (kept_catch, kept_school, [])

    assert _aggregated(engine) == 1, "one group (of one fisher: suppressed)"
    counts = _run(engine, T0 + 180 * D + timedelta(minutes=1))
    assert (counts.get("catch_positions", 0), counts.get("school_positions", 0)) == (0, 0), "the school ended 3 min after"
    counts = _run(engine, T0 + 181 * D)
    assert (counts.get("catch_positions", 0), counts["school_positions"]) == (0, 1)
    # A catch's position goes with its whole ISO week (T0 is a Monday, 22:00 UTC), never hour by
    # hour: the aggregates of that week would otherwise change as each hour's catches left them.
    next_monday = datetime(2026, 3, 9, tzinfo=timezone.utc)
    assert not _run(engine, next_monday + 180 * D - timedelta(seconds=1)).get("catch_positions")
    assert _run(engine, next_monday + 180 * D)["catch_positions"] == 1
    assert _state(engine) == (("cakalang", 85.5, 28000, None, None), (20.0, 120, None, None), [])
    assert not any(_run(engine, next_monday + 180 * D).values()), "a second pass finds nothing left"
    assert _aggregated(engine) == 0, "a catch without a position has no cell"

    mine = make_client(as_user=(DKI, "Fisher DKI"), level_store="sql").get("/api/v1/catches")
    assert mine.status_code == 200, mine.text
    assert [(c["id"], c["species"], c["lat"], c["lon"]) for c in mine.json()["data"]] == [
        (catch_and_school, "cakalang", None, None)
    ]


def test_contact_message_retention_is_configurable_and_checked(engine: Engine, catch_and_school: int) -> None:
    assert _run(engine, T0 + 8 * D, RetentionConfig(contact_message_days=7))["catch_contact_requests"] == 1
    assert _state(engine)[2] == [T0 + 60 * D]
    for bad in (0, -1, 36501):
        with pytest.raises(ValidationError, match="contact_message_days"):
            RetentionConfig(contact_message_days=bad)
