"""The resolver: advertisements to roster badges, an EID classified by how many periods it is
off the badge's clock at the reading's time (current and drift window, replay, ahead, unknown),
its batched EIDs identical to the specification's one-at-a-time computation."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from kinds.badge import adverts, eid
from kinds.badge.edge.resolver import (
    AHEAD_S, HISTORY_S, MALFORMED, NOT_BADGE, REFRESH_S, STATIC, UNKNOWN, Resolver, eids_for_periods, offset, roster_entries,
)
from kinds.badge.items import BadgeRoster, RosterBadge
from kinds.badge.tests.badge_edge_scenes import EPOCH, K, T0, UUID, badges, roster


@pytest.mark.parametrize("k", [0, 4, 10, 15])
def test_batched_eids_are_the_specifications(k: int) -> None:
    key = os.urandom(16)
    first = max(1, (65_536 * 3 - 40 * (1 << k)) >> k)  # across a temporary-key boundary
    got = eids_for_periods(key, k, first, first + 80)
    assert [int(x).to_bytes(8, "little") for x in got] == [eid.eid(key, k, p << k) for p in range(first, first + 81)]


def _resolver(at_s: float, members: list | None = None) -> Resolver:  # type: ignore[type-arg]
    r = Resolver.from_roster(roster(7, members or badges(3, statics=1)))
    r.advance(at_s)
    return r


def test_eids_resolve_to_their_badge_and_how_far_off_they_are() -> None:
    staff = badges(3, statics=1)
    t = T0.timestamp() + 12_345.6
    r = _resolver(t, staff)
    at = T0 + timedelta(seconds=12_345.6)
    for b in staff[:3]:
        for off in (0, -1, 1, -2, 2, -(86_400 >> K), -(48 * 3600 >> K), 12, AHEAD_S >> K):
            entry, period, tx = r.resolve(b.advert(at, off))
            assert entry is not None and entry.badge == b.id and tx == -59
            assert offset(entry, period, t) == off
    for off in (-(HISTORY_S >> K) - 10, (AHEAD_S >> K) + (REFRESH_S >> K) + 10):  # beyond what is held: unknown
        assert r.resolve(staff[0].advert(at, off))[:2] == (None, UNKNOWN)


def test_static_ids_unknown_badges_other_devices_and_garbage() -> None:
    staff = badges(1, statics=2)
    r = _resolver(T0.timestamp(), staff)
    entry, period, _ = r.resolve(adverts.ibeacon_advert(UUID, 100, 1, -60))
    assert entry is not None and entry.badge == staff[2].id and period == STATIC
    assert r.resolve(adverts.ibeacon_advert(UUID, 100, 7, -60))[:2] == (None, UNKNOWN)
    assert r.resolve(adverts.uid_advert(bytes(10), bytes(6), -60))[:2] == (None, UNKNOWN)
    assert r.resolve(adverts.eid_advert(os.urandom(8), -60))[:2] == (None, UNKNOWN)
    assert r.resolve(bytes.fromhex("0201060303aafe"))[:2] == (None, NOT_BADGE)
    assert r.resolve(bytes.fromhex("05ff4c00"))[:2] == (None, MALFORMED)


def test_no_roster_resolves_nothing_at_version_zero() -> None:
    r = Resolver.from_roster(None)
    r.advance(T0.timestamp())
    assert r.version == 0 and r.resolve(badges(1)[0].advert(T0))[:2] == (None, UNKNOWN)


def test_the_window_moves_with_reading_time() -> None:
    b = badges(1)[0]
    r = _resolver(T0.timestamp(), [b])
    later = T0 + timedelta(days=3)
    assert r.resolve(b.advert(later))[:2] == (None, UNKNOWN)  # three days ahead of the table
    r.advance(later.timestamp())
    entry, period, _ = r.resolve(b.advert(later))
    assert entry is not None and offset(entry, period, later.timestamp()) == 0
    assert r.resolve(b.advert(T0))[:2] == (None, UNKNOWN)  # three days back: beyond the history


def test_a_roster_with_a_badge_twice_or_fields_missing_is_refused_without_its_key() -> None:
    key = "00112233445566778899aabbccddeeff"
    twice = BadgeRoster(version=1, badges=[RosterBadge(badge="b000000000001", format="eid", identity_key=key, k=K, epoch=EPOCH)] * 2)
    with pytest.raises(ValueError, match="twice") as exc:
        roster_entries(twice)
    assert key not in str(exc.value)
    missing = BadgeRoster(version=1, badges=[RosterBadge(badge="b000000000001", format="eid", identity_key=key, k=K)])
    with pytest.raises(ValueError, match="epoch") as exc:
        roster_entries(missing)
    assert key not in str(exc.value)
    clone = BadgeRoster(version=1, badges=[
        RosterBadge(badge=f"b00000000000{i}", format="ibeacon", uuid=UUID.hex(), major=1, minor=2) for i in (1, 2)
    ])
    with pytest.raises(ValueError, match="static identifier"):
        roster_entries(clone)
