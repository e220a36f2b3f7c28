"""Catches, the market and contact requests: the queries behind `routes_catches`.

Every query is scoped to the caller's tenant, and a fisher's to their own catches; a catch
outside that scope is `CatchNotFound`, exactly as a missing one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.accounts import Principal
from central.errors import InvalidInput
from central.models import User
from contract.clock import utcnow
from kinds.fishfinder.api.catch_aggregates import CatchRow, aggregate, week_window
from kinds.fishfinder.api.catch_models import (
    CatchAggregatesPublic,
    CatchCreate,
    CatchesPublic,
    CatchGroupPublic,
    CatchPublic,
    ContactCreated,
    ContactPublic,
    ContactsPublic,
    MarketOfferPublic,
    MarketPublic,
)
from kinds.fishfinder.api.errors import CatchNotFound, TooManyContacts, VesselNotFound
from kinds.fishfinder.catches import MAX_CONTACTS_PER_CATCH, Catch, CatchContactRequest, check_catch_time
from kinds.fishfinder.state import Vessel

#: Widest aggregate window: a year and a bit, so one request reads a bounded number of rows.
MAX_AGGREGATE_DAYS = 371


def _page(session: Session, stmt: sa.Select, limit: int, offset: int) -> tuple[int, list]:  # type: ignore[type-arg]
    total = session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return int(total), list(session.execute(stmt.limit(limit).offset(offset)))


def record_catch(session: Session, principal: Principal, body: CatchCreate) -> CatchPublic:
    now = utcnow()
    try:
        check_catch_time(body.caught_at, now)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with session.begin():
        if body.vessel is not None:
            vessel = session.get(Vessel, body.vessel)
            if vessel is None or vessel.tenant_id != principal.tenant or vessel.owner_user != principal.user_id:
                raise VesselNotFound(body.vessel)
        row = Catch(
            tenant_id=principal.tenant,
            fisher_id=principal.user_id,
            vessel_id=body.vessel,
            species=body.species,
            weight_kg=body.weight_kg,
            lat=body.lat,
            lon=body.lon,
            caught_at=body.caught_at,
            price_idr_per_kg=body.price_idr_per_kg,
            port=body.port,
            for_sale=body.for_sale,
            created_at=now,
        )
        session.add(row)
        session.flush()
        return CatchPublic.model_validate(row)


def _own(principal: Principal) -> sa.ColumnElement[bool]:
    return sa.and_(Catch.tenant_id == principal.tenant, Catch.fisher_id == principal.user_id)


def own_catches(session: Session, principal: Principal, limit: int, offset: int) -> CatchesPublic:
    stmt = sa.select(Catch).where(_own(principal)).order_by(Catch.caught_at.desc(), Catch.id.desc())
    total, rows = _page(session, stmt, limit, offset)
    return CatchesPublic(data=[CatchPublic.model_validate(r[0]) for r in rows], count=total, limit=limit, offset=offset)


def own_catch(session: Session, principal: Principal, catch_id: int) -> CatchPublic:
    row = session.scalars(sa.select(Catch).where(_own(principal), Catch.id == catch_id)).one_or_none()
    if row is None:
        raise CatchNotFound(catch_id)
    return CatchPublic.model_validate(row)


def market(session: Session, tenant: str, species: str | None, limit: int, offset: int) -> MarketPublic:
    """The tenant's catches for sale, newest first: no fisher, vessel or position."""
    stmt = sa.select(
        Catch.id, Catch.species, Catch.weight_kg, Catch.price_idr_per_kg, Catch.port, Catch.caught_at
    ).where(Catch.tenant_id == tenant, Catch.for_sale.is_(True))
    if species is not None:
        stmt = stmt.where(Catch.species == species)
    total, rows = _page(session, stmt.order_by(Catch.caught_at.desc(), Catch.id.desc()), limit, offset)
    data = [MarketOfferPublic.model_validate(r._mapping) for r in rows]
    return MarketPublic(data=data, count=total, limit=limit, offset=offset)


def contact_fisher(session: Session, principal: Principal, catch_id: int, message: str) -> ContactCreated:
    """Store a message to the fisher of a catch for sale in the caller's tenant."""
    with session.begin():
        offered = session.scalars(
            sa.select(Catch).where(Catch.id == catch_id, Catch.tenant_id == principal.tenant, Catch.for_sale.is_(True))
        ).one_or_none()
        if offered is None:
            raise CatchNotFound(catch_id)
        sent = session.scalar(
            sa.select(sa.func.count())
            .select_from(CatchContactRequest)
            .where(CatchContactRequest.catch_id == catch_id, CatchContactRequest.from_user_id == principal.user_id)
        )
        if (sent or 0) >= MAX_CONTACTS_PER_CATCH:
            raise TooManyContacts(MAX_CONTACTS_PER_CATCH)
        row = CatchContactRequest(
            tenant_id=principal.tenant,
            catch_id=catch_id,
            from_user_id=principal.user_id,
            message=message,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return ContactCreated(id=row.id, catch_id=catch_id, created_at=row.created_at)


def own_contacts(session: Session, principal: Principal, limit: int, offset: int) -> ContactsPublic:
    """Messages about the caller's own catches, newest first, with the sender's user name."""
    stmt = (
        sa.select(
            CatchContactRequest.id,
            CatchContactRequest.catch_id,
            User.name.label("from_name"),
            CatchContactRequest.message,
            CatchContactRequest.created_at,
        )
        .join(Catch, Catch.id == CatchContactRequest.catch_id)
        .join(User, User.id == CatchContactRequest.from_user_id)
        .where(_own(principal))
        .order_by(CatchContactRequest.created_at.desc(), CatchContactRequest.id.desc())
    )
    total, rows = _page(session, stmt, limit, offset)
    data = [ContactPublic.model_validate(r._mapping) for r in rows]
    return ContactsPublic(data=data, count=total, limit=limit, offset=offset)


def _rows(session: Session, tenant: str, since: datetime, until: datetime) -> Iterator[CatchRow]:
    """The catches of the window that have a position: one retention erased has no cell."""
    stmt = sa.select(
        Catch.fisher_id, Catch.species, Catch.lat, Catch.lon, Catch.caught_at, Catch.weight_kg, Catch.price_idr_per_kg
    ).where(Catch.tenant_id == tenant, Catch.caught_at >= since, Catch.caught_at < until, Catch.lat.is_not(None))
    for r in session.execute(stmt.execution_options(yield_per=2000)):
        yield CatchRow(*r)


def catch_aggregates(session: Session, tenant: str, since: datetime, until: datetime) -> CatchAggregatesPublic:
    try:
        start, end = week_window(since, until)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if (end - start).days > MAX_AGGREGATE_DAYS:
        raise InvalidInput(f"the window spans more than {MAX_AGGREGATE_DAYS} days; ask for less")
    groups, suppressed = aggregate(_rows(session, tenant, start, end))
    return CatchAggregatesPublic(
        since=start,
        until=end,
        suppressed_groups=suppressed,
        data=[CatchGroupPublic.model_validate(g) for g in groups],
    )
