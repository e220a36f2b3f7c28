"""The roster at the gateway: the centre's downlink replaces it only with a newer version, is
stored owner-only beside the outbox and loaded at the next start, revokes badges it leaves
out, and a refused roster never shows its keys in a log line."""

from __future__ import annotations

import logging
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from kinds.badge.edge import roster_store
from kinds.badge.items import BadgeRoster
from kinds.badge.tests.badge_edge_scenes import GW, T0, Gate, badges, config, roster, seconds


def _file(tmp_path: Path) -> Path:
    return roster_store.roster_path(tmp_path / "outbox.db", GW)


def test_a_roster_is_stored_owner_only_and_loaded_at_the_next_start(tmp_path: Path) -> None:
    staff = badges(3)
    gate = Gate(config(tmp_path))
    assert gate.procs["sc-bkpsdm-1"].site.resolver.version == 0 and not _file(tmp_path).exists()
    gate.downlink(roster(4, staff))
    path = _file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert BadgeRoster.model_validate_json(path.read_bytes()) == roster(4, staff)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    again = Gate(config(tmp_path))  # the gateway restarted, no uplink
    assert again.procs["sc-dishub-1"].site is not gate.procs["sc-dishub-1"].site
    assert again.procs["sc-dishub-1"].site.resolver.version == 4
    again.send("sc-bkpsdm-1", T0, [(staff[0].advert(T0), -60)])
    assert again.procs["sc-bkpsdm-1"].collector.adverts[("bkpsdm", "badge")] == 1


def test_only_a_newer_version_replaces_the_roster(tmp_path: Path) -> None:
    staff = badges(3)
    gate = Gate(config(tmp_path))
    gate.downlink(roster(5, staff))
    gate.downlink(roster(5, staff[:1]))
    gate.downlink(roster(2, staff[:1]))
    counts = gate.procs["sc-bkpsdm-1"].collector
    assert counts.roster_updates == {"applied": 1, "stale": 2, "invalid": 0} and counts.roster_version == 5
    assert BadgeRoster.model_validate_json(_file(tmp_path).read_bytes()).version == 5


def test_a_revoked_badge_is_unknown_and_checked_out_when_its_absence_runs_out(tmp_path: Path) -> None:
    staff = badges(2)
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    for at in seconds(T0, 120):
        gate.send("sc-bkpsdm-1", at, [(b.advert(at), -60) for b in staff])
    assert sorted((p.badge, p.event) for p in gate.presence()) == [(staff[0].id, "check_in"), (staff[1].id, "check_in")]
    gate.downlink(roster(2, staff[:1]))  # staff[1]'s badge revoked (lost)
    for at in seconds(T0 + timedelta(seconds=120), 400):
        gate.send("sc-bkpsdm-1", at, [(b.advert(at), -60) for b in staff])
    assert [(p.badge, p.event) for p in gate.presence()][2:] == [(staff[1].id, "check_out")]
    assert gate.presence()[-1].at <= T0 + timedelta(seconds=120)
    assert gate.procs["sc-bkpsdm-1"].collector.adverts[("bkpsdm", "unknown")] == 400


def test_a_refused_roster_changes_nothing_and_logs_no_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    staff = badges(2)
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    key = staff[0].key.hex()
    caplog.set_level(logging.DEBUG)
    broken = roster(2, staff).model_dump_json().replace(key, key[:-1] + "Z").encode()  # not hex
    missing = roster(3, staff).model_dump_json().replace('"k":10,', "").encode()  # an EID badge without K
    gate.downlink(broken)
    gate.downlink(missing)
    gate.downlink(b'{"type": "badge_roster", "kind": "badge"')
    counts = gate.procs["sc-bkpsdm-1"].collector
    assert counts.roster_updates["invalid"] == 3 and counts.roster_version == 1
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "badge roster refused" in text
    assert key not in text and key[:-1] not in text and staff[1].key.hex() not in text


def test_a_damaged_roster_file_starts_the_gateway_without_one(tmp_path: Path) -> None:
    _file(tmp_path).write_text('{"type": "badge_roster", "version": ')
    gate = Gate(config(tmp_path))
    assert gate.procs["sc-bkpsdm-1"].site.resolver.version == 0
