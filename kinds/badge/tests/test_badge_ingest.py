"""The badge kind through ingest's real service (`ingest.service.apply_batch`), on SQLite and
PostgreSQL: presence and security events stored once with the badge's holder, badges and
offices that are not the sender's counted as rejections, and the roster sent to a gateway that
holds an older one (without the badges revoked since)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from badge_central_world import (
    BADUNG, GW_BADUNG, GW_HAURGEULIS, GW_KANTOR, HAURGEULIS, KANTOR, MANGUPURA, NIP_DINI, NIP_EKO, NIP_WAYAN, SEAL, T0,
    health, issued_before_eid_required, prepared, presence, security, send, staff,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import create_engine, writer
from kinds.badge.issuing import IssuedBadge, issue_badge, revoke_badge
from kinds.badge.items import BadgeRoster
from kinds.badge.state import Office, PresenceEvent, SecurityEventRecord


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url)
    prepared(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def badges(engine: Engine) -> dict[str, IssuedBadge]:
    return staff(engine)


def _rows(engine: Engine, model: type) -> list:
    with Session(engine) as s:
        return list(s.scalars(sa.select(model).order_by(model.at)))


def test_a_presence_is_stored_once_with_the_badge_s_holder(engine: Engine, badges: dict[str, IssuedBadge]) -> None:
    dini = badges[NIP_DINI].badge
    arrive = presence(KANTOR, GW_KANTOR, dini.id, "check_in", T0)
    first = send(engine, [arrive, presence(KANTOR, GW_KANTOR, dini.id, "check_out", T0 + timedelta(hours=8, minutes=35))])
    again = send(engine, [arrive])  # the gateway resends after a lost acknowledgement

    assert (first.stored, first.rejected_total) == (2, 0)
    assert (again.stored, again.duplicates) == (0, 1)
    rows = _rows(engine, PresenceEvent)
    assert [(r.event, r.at, r.employee_id, r.office_id, r.gateway) for r in rows] == [
        ("check_in", T0, dini.employee_id, KANTOR, GW_KANTOR),
        ("check_out", T0 + timedelta(hours=8, minutes=35), dini.employee_id, KANTOR, GW_KANTOR),
    ]


def test_unknown_foreign_and_revoked_badges_and_foreign_offices_are_counted_not_stored(
    engine: Engine, badges: dict[str, IssuedBadge]
) -> None:
    eko, wayan = badges[NIP_EKO].badge, badges[NIP_WAYAN].badge
    with Session(writer(engine)) as s, s.begin():
        revoke_badge(s, "kab-indramayu", eko.id, T0 + timedelta(minutes=10))

    result = send(engine, [
        presence(KANTOR, GW_KANTOR, "b000000000000", "check_in", T0),  # no one issued it
        presence(KANTOR, GW_KANTOR, wayan.id, "check_in", T0),  # Badung's badge at Indramayu's gateway
        security(KANTOR, GW_KANTOR, "b000000000001", "eid_replayed", T0),
        presence(MANGUPURA, GW_KANTOR, badges[NIP_DINI].badge.id, "check_in", T0),  # Badung's office
        presence("kantor-fiktif", GW_KANTOR, badges[NIP_DINI].badge.id, "check_in", T0),
        presence(KANTOR, GW_KANTOR, eko.id, "check_in", T0),  # before the revocation: his
        presence(KANTOR, GW_KANTOR, eko.id, "check_out", T0 + timedelta(minutes=20)),  # after it
    ])

    assert dict(result.rejected) == {
        "unknown_badge": 2, "foreign_badge": 1, "foreign_office": 1, "unknown_office": 1, "revoked_badge": 1,
    }  # fmt: skip
    assert result.stored == 1 and dict(+result.stored_by_type) == {"presence": 1}
    assert [(r.badge_id, r.event) for r in _rows(engine, PresenceEvent)] == [(eko.id, "check_in")]
    assert _rows(engine, SecurityEventRecord) == []
    assert send(engine, [presence(MANGUPURA, GW_BADUNG, wayan.id, "check_in", T0)], tenant=BADUNG).stored == 1


def test_a_static_badge_s_presence_at_an_office_requiring_eid_is_refused(engine: Engine) -> None:
    with Session(writer(engine)) as s, s.begin():
        from kinds.badge.staff import NewEmployee, add_employee

        add_employee(s, "kab-indramayu", NewEmployee(nip=NIP_DINI, name="Dini", office=KANTOR), T0, [])
        static = issued_before_eid_required(s, KANTOR, lambda: issue_badge(s, "kab-indramayu", NIP_DINI, T0, SEAL, fmt="ibeacon"))
    result = send(engine, [presence(KANTOR, GW_KANTOR, static, "check_in", T0 + timedelta(hours=1))])
    assert dict(result.rejected) == {"static_badge_at_eid_office": 1} and _rows(engine, PresenceEvent) == []


def test_a_gateway_s_security_event_is_stored_with_the_badge_s_holder(engine: Engine, badges: dict[str, IssuedBadge]) -> None:
    dini = badges[NIP_DINI].badge
    result = send(engine, [security(KANTOR, GW_KANTOR, dini.id, "eid_replayed", T0)] * 2)
    assert result.stored == 1 and result.duplicates == 1
    [row] = _rows(engine, SecurityEventRecord)
    assert (row.reason, row.source, row.employee_id, row.eid_period_offset, row.office_id) == (
        "eid_replayed", "gateway", dini.employee_id, -96, KANTOR,
    )


def _rosters(result: object) -> list[tuple[str, BadgeRoster]]:
    return [(d.gateway, BadgeRoster.model_validate(json.loads(d.payload))) for d in result.downlinks]  # type: ignore[attr-defined]


def test_a_gateway_behind_gets_the_current_roster_once_and_a_revoked_badge_leaves_it(
    engine: Engine, badges: dict[str, IssuedBadge]
) -> None:
    dini, eko = badges[NIP_DINI], badges[NIP_EKO]
    t = T0 + timedelta(minutes=5)
    behind = send(engine, [health(KANTOR, GW_KANTOR, t, 0)], now=t)

    [(gateway, roster)] = _rosters(behind)
    assert gateway == GW_KANTOR and roster.version == 2, "two badges issued in Indramayu"
    assert {b.badge: b.format for b in roster.badges} == {dini.badge.id: "eid", eko.badge.id: "eid"}
    keys = {b.badge: b.identity_key for b in roster.badges}
    assert keys[dini.badge.id] == dini.identity_key.hex(), "the gateway gets the key the badge was programmed with"
    assert send(engine, [health(KANTOR, GW_KANTOR, t + timedelta(minutes=1), 0)], now=t + timedelta(minutes=1)).downlinks == [], (
        "just sent: not again until RESEND_AFTER"
    )
    assert send(engine, [health(KANTOR, GW_KANTOR, t + timedelta(minutes=10), 2)], now=t + timedelta(minutes=10)).downlinks == []

    with Session(writer(engine)) as s, s.begin():
        revoke_badge(s, "kab-indramayu", eko.badge.id, t + timedelta(minutes=11))
    t2 = t + timedelta(minutes=15)
    [(_, newer)] = _rosters(send(engine, [health(KANTOR, GW_KANTOR, t2, 2)], now=t2))
    assert newer.version == 3 and [b.badge for b in newer.badges] == [dini.badge.id]
    lost = _rosters(send(engine, [health(KANTOR, GW_KANTOR, t2 + timedelta(minutes=5), 2)], now=t2 + timedelta(minutes=5)))
    assert [r.version for _, r in lost] == [3], "a roster not yet reflected is sent again after RESEND_AFTER"


def test_one_roster_per_gateway_however_many_of_its_offices_report(engine: Engine, badges: dict[str, IssuedBadge]) -> None:
    t = T0 + timedelta(minutes=5)
    result = send(engine, [health(KANTOR, GW_KANTOR, t, 1), health(HAURGEULIS, GW_KANTOR, t, 1)], now=t)
    assert [g for g, _ in _rosters(result)] == [GW_KANTOR]
    other = send(engine, [health(HAURGEULIS, GW_HAURGEULIS, t + timedelta(minutes=1), 0)], gateway=GW_HAURGEULIS, now=t)
    assert [g for g, _ in _rosters(other)] == [GW_HAURGEULIS], "another gateway gets its own"
    with Session(engine) as s:
        office = s.get(Office, HAURGEULIS)
        assert office is not None and (office.gateway, office.roster_version_heard, office.roster_version_sent) == (GW_HAURGEULIS, 0, 2)


def test_an_old_summary_replayed_after_an_outage_changes_nothing(engine: Engine, badges: dict[str, IssuedBadge]) -> None:
    t = T0 + timedelta(hours=2)
    send(engine, [health(KANTOR, GW_KANTOR, t, 2)], now=t)
    late = send(engine, [health(KANTOR, GW_KANTOR, t - timedelta(hours=1), 0)], now=t + timedelta(minutes=1))
    assert late.stored == 1 and late.downlinks == []
    with Session(engine) as s:
        office = s.get(Office, KANTOR)
        assert office is not None and (office.last_seen_at, office.roster_version_heard) == (t, 2)


def test_no_roster_before_any_badge_is_issued(database_url: str) -> None:
    eng = create_engine(database_url)
    try:
        prepared(eng)
        assert send(eng, [health(KANTOR, GW_KANTOR, T0, 0)], now=T0).downlinks == []
        with Session(writer(eng)) as s, s.begin():
            from kinds.badge.staff import NewEmployee, add_employee

            add_employee(s, "kab-indramayu", NewEmployee(nip=NIP_DINI, name="Dini", office=KANTOR), T0, [])
            issued_before_eid_required(s, KANTOR, lambda: issue_badge(s, "kab-indramayu", NIP_DINI, T0, SEAL, fmt="uid"))
        [(_, roster)] = _rosters(send(eng, [health(KANTOR, GW_KANTOR, T0 + timedelta(minutes=5), 0)], now=T0 + timedelta(minutes=5)))
        assert [(b.format, b.identity_key, len(b.namespace or ""), len(b.instance or "")) for b in roster.badges] == [("uid", None, 20, 12)]
    finally:
        eng.dispose()
