"""The roster downlink when the centre's state is not what the gateways expect, on SQLite and
PostgreSQL: a badge whose key does not open with the worker's secret is left out (counted,
logged without its key) while the batch is stored and the rest of the roster goes; a gateway
holding a newer version than its tenant's (a restored database) gets one above it; and no repr
of a roster downlink shows an identity key; and `issue_badge` takes only k 8..12."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from badge_central_world import (
    GW_HAURGEULIS, GW_KANTOR, HAURGEULIS, INDRAMAYU, KANTOR, NIP_DINI, NIP_EKO, SEAL, T0, health, prepared, presence, send, staff,
)
from prometheus_client import REGISTRY
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import create_engine, writer
from contract.downlink import KindDownlink, decode_downlink
from ingest.service import apply_batches
from ingest.testing import batch
from kinds.badge.issuing import MAX_ROSTER_VERSION, IssuedBadge, issue_badge, revoke_badge, roster_version
from kinds.badge.items import BadgeRoster
from kinds.badge.keys import KeySeal
from kinds.badge.staff import NewEmployee, add_employee
from kinds.badge.state import PresenceEvent

NIP_FITRI = "199305052018012003"
#: The secret of another installation (or one rotated without resealing the keys).
OTHER_SEAL = KeySeal("another-installation-s-badge-key-secret-987654321")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url)
    prepared(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def badges(engine: Engine) -> dict[str, IssuedBadge]:
    return staff(engine)


def _left_out() -> float:
    return REGISTRY.get_sample_value("tepi_ingest_badge_roster_left_out_total", {"reason": "key_not_opened"}) or 0.0


def _roster(downlink: object) -> BadgeRoster:
    return BadgeRoster.model_validate(json.loads(downlink.payload))  # type: ignore[attr-defined]


def test_a_badge_whose_key_does_not_open_is_left_out_and_the_batch_and_roster_still_go(
    engine: Engine, badges: dict[str, IssuedBadge], caplog: pytest.LogCaptureFixture
) -> None:
    with Session(writer(engine)) as s, s.begin():
        add_employee(s, INDRAMAYU, NewEmployee(nip=NIP_FITRI, name="Fitri Handayani", office=KANTOR), T0 - timedelta(days=3), [])
        foreign = issue_badge(s, INDRAMAYU, NIP_FITRI, T0 - timedelta(days=3), OTHER_SEAL)
        foreign_id, foreign_key = foreign.badge.id, foreign.identity_key
    assert foreign_key is not None
    dini, eko = badges[NIP_DINI].badge.id, badges[NIP_EKO].badge.id
    t, before = T0 + timedelta(minutes=5), _left_out()
    kantor = batch([presence(KANTOR, GW_KANTOR, dini, "check_in", T0), presence(KANTOR, GW_KANTOR, eko, "check_in", T0),
                    health(KANTOR, GW_KANTOR, t, 0)], tenant=INDRAMAYU, gateway=GW_KANTOR, sent_at=t)  # fmt: skip
    other = batch([presence(HAURGEULIS, GW_HAURGEULIS, foreign_id, "check_in", T0)], tenant=INDRAMAYU, gateway=GW_HAURGEULIS, sent_at=t)

    with caplog.at_level(logging.WARNING, logger="kinds.badge.ingest.roster"), Session(writer(engine)) as s, s.begin():
        result = apply_batches(s, [kantor, other], None, now=t, badge_seal=SEAL)

    assert (result.stored, result.rejected_total) == (4, 0), "every gateway's items stored, the unopenable badge's presence too"
    with Session(engine) as s:
        assert sorted(s.scalars(sa.select(PresenceEvent.badge_id))) == sorted([dini, eko, foreign_id])
    [downlink] = result.downlinks
    roster = _roster(downlink)
    assert (downlink.gateway, roster.version) == (GW_KANTOR, 3)
    assert sorted(b.badge for b in roster.badges) == sorted([dini, eko]), "the rest of the roster goes, without that badge"
    assert _left_out() == before + 1
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.left_out == [foreign_id]  # type: ignore[attr-defined]
    said = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert foreign_key.hex() not in said and badges[NIP_DINI].identity_key.hex() not in said  # type: ignore[union-attr]


def test_a_gateway_holding_a_newer_roster_than_its_tenant_s_gets_one_above_it(engine: Engine, badges: dict[str, IssuedBadge]) -> None:
    """The state database restored from a backup taken at roster version 2, after the gateway
    had received version 7: without the jump it would refuse every roster up to 7."""
    eko = badges[NIP_EKO].badge.id
    t = T0 + timedelta(minutes=5)
    [downlink] = send(engine, [health(KANTOR, GW_KANTOR, t, 7)], now=t).downlinks
    assert _roster(downlink).version == 8 and len(_roster(downlink).badges) == 2
    with Session(engine) as s:
        assert roster_version(s, INDRAMAYU) == 8
    behind = send(engine, [health(HAURGEULIS, GW_HAURGEULIS, t, 2)], gateway=GW_HAURGEULIS, now=t).downlinks
    assert [_roster(d).version for d in behind] == [8], "a gateway behind gets the same, raised, version"

    with Session(writer(engine)) as s, s.begin():
        revoke_badge(s, INDRAMAYU, eko, t + timedelta(minutes=1))
    t2 = t + timedelta(minutes=5)
    [revoked] = send(engine, [health(KANTOR, GW_KANTOR, t2, 8)], now=t2).downlinks
    assert _roster(revoked).version == 9 and eko not in {b.badge for b in _roster(revoked).badges}, "the revocation arrives"
    assert send(engine, [health(KANTOR, GW_KANTOR, t2 + timedelta(minutes=5), 9)], now=t2 + timedelta(minutes=5)).downlinks == []


def test_a_version_beyond_what_the_centre_can_hold_is_stored_and_not_answered(engine: Engine, badges: dict[str, IssuedBadge]) -> None:
    t = T0 + timedelta(minutes=5)
    result = send(engine, [health(KANTOR, GW_KANTOR, t, MAX_ROSTER_VERSION)], now=t)
    assert (result.stored, result.downlinks) == (1, [])
    with Session(engine) as s:
        assert roster_version(s, INDRAMAYU) == 2


def test_no_repr_of_a_roster_downlink_shows_an_identity_key(engine: Engine, badges: dict[str, IssuedBadge]) -> None:
    key = badges[NIP_DINI].identity_key
    assert key is not None
    t = T0 + timedelta(minutes=5)
    [downlink] = send(engine, [health(KANTOR, GW_KANTOR, t, 0)], now=t).downlinks
    assert key.hex().encode() in downlink.payload, "the gateway does get the key"
    received = decode_downlink(downlink.payload)
    assert isinstance(received, KindDownlink) and received.type == "badge_roster"
    for shown in (repr(downlink), str(downlink), repr(received), str(received), repr(_roster(downlink))):
        assert key.hex() not in shown, shown


def test_issue_badge_takes_k_8_to_12_only(engine: Engine) -> None:
    with Session(writer(engine)) as s, s.begin():
        add_employee(s, INDRAMAYU, NewEmployee(nip=NIP_FITRI, name="Fitri Handayani", office=KANTOR), T0, [])
        for k in (7, 13, 15):
            with pytest.raises(ValueError, match=f"k {k} is outside 8..12"):
                issue_badge(s, INDRAMAYU, NIP_FITRI, T0, SEAL, k=k)
        assert issue_badge(s, INDRAMAYU, NIP_FITRI, T0, SEAL, k=8).badge.k == 8
