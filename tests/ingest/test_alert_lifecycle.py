"""The alert lifecycle on both databases: who and when at every step, the event log, closing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.alerts import acknowledge, close
from central.db import Alert, AlertEvent, writer
from central.errors import AlertAlreadyCleared, AlertAlreadyClosed, AlertNotCleared, AlertNotFound
from kinds.awlr.ingest.points import SqlPointSink
from ingest.service import ApplyResult, apply_batch
from ingest.testing import batch, siaga_change, summary
from contract.uplink_batch import UplinkBatch

T0 = datetime(2025, 1, 20, 0, 0, tzinfo=timezone.utc)
NOW = datetime(2025, 2, 1, 12, 0, tzinfo=timezone.utc)


def apply(engine: Engine, b: UplinkBatch) -> ApplyResult:
    with Session(writer(engine)) as s, s.begin():
        return apply_batch(s, b, SqlPointSink(s), now=NOW)


def the_alert(engine: Engine, alert_type: str = "siaga") -> Alert:
    """The newest alert of `alert_type`."""
    with Session(engine) as s:
        alert = s.scalars(sa.select(Alert).where(Alert.type == alert_type).order_by(Alert.id.desc())).first()
        assert alert is not None
        return alert


def events(engine: Engine) -> list[AlertEvent]:
    with Session(engine) as s:
        return list(s.scalars(sa.select(AlertEvent).order_by(AlertEvent.seq)))


Action = Callable[[Session, int, str, datetime], Alert]


def act(engine: Engine, fn: Action, alert_id: int, by: str, at: datetime) -> Alert:
    with Session(writer(engine)) as s, s.begin():
        alert = fn(s, alert_id, by, at)
        s.expunge(alert)
        return alert


def test_a_full_episode_records_who_and_when_at_every_step(engine: Engine) -> None:
    apply(engine, batch([siaga_change("katulampa", T0, 3, 95.0, siaga_from=4, seq=1)]))
    alert = the_alert(engine)
    acked = act(engine, acknowledge, alert.id, "Petugas Pusdalops", NOW + timedelta(minutes=1))
    assert (acked.status, acked.acknowledged_by, acked.acknowledged_at) == (
        "acknowledged",
        "Petugas Pusdalops",
        NOW + timedelta(minutes=1),
    )
    apply(engine, batch([siaga_change("katulampa", T0 + timedelta(minutes=20), 2, 160.0, siaga_from=3, seq=2)]))
    apply(engine, batch([siaga_change("katulampa", T0 + timedelta(hours=3), 4, 70.0, siaga_from=2, seq=3)]))
    cleared = the_alert(engine)
    assert (cleared.status, cleared.cleared_at, cleared.cleared_by, cleared.clear_reason) == (
        "cleared",
        T0 + timedelta(hours=3),
        "gateway:gw-ciliwung",
        "level_normal",
    )
    closed = act(engine, close, alert.id, "Kepala Pusdalops", NOW + timedelta(hours=1))
    closed_at = NOW + timedelta(hours=1)
    assert (closed.status, closed.closed_by, closed.closed_at) == ("closed", "Kepala Pusdalops", closed_at)

    log = events(engine)
    assert [(e.kind, e.who, e.revision) for e in log] == [
        ("opened", "gateway:gw-ciliwung", 1),
        ("acknowledged", "Petugas Pusdalops", 1),
        ("escalated", "gateway:gw-ciliwung", 2),  # Siaga 3 -> 2 re-activates the acknowledged alert
        ("cleared", "gateway:gw-ciliwung", 3),
        ("closed", "Kepala Pusdalops", 3),  # operator bookkeeping: no new public revision
    ]
    assert [e.at for e in log] == [
        T0,
        NOW + timedelta(minutes=1),
        T0 + timedelta(minutes=20),
        T0 + timedelta(hours=3),
        NOW + timedelta(hours=1),
    ]
    assert [e.seq for e in log] == sorted(e.seq for e in log)
    # Each event holds the alert as it was right after the change.
    assert [e.payload["alert"]["status"] for e in log] == ["active", "acknowledged", "active", "cleared", "closed"]
    assert log[2].payload["alert"]["siaga"] == 2 and log[2].payload["alert"]["acknowledged_by"] is None


def test_close_needs_a_cleared_alert_and_keeps_the_first_closer(engine: Engine) -> None:
    apply(engine, batch([siaga_change("depok", T0, 3, 210.0, siaga_from=4, seq=1)]))
    alert = the_alert(engine)
    with pytest.raises(AlertNotCleared, match="active"):
        act(engine, close, alert.id, "x", NOW)
    act(engine, acknowledge, alert.id, "a", NOW)
    with pytest.raises(AlertNotCleared, match="acknowledged"):
        act(engine, close, alert.id, "x", NOW)
    apply(engine, batch([siaga_change("depok", T0 + timedelta(hours=1), 4, 180.0, siaga_from=3, seq=2)]))
    with pytest.raises(AlertAlreadyCleared):
        act(engine, acknowledge, alert.id, "late", NOW)
    first = act(engine, close, alert.id, "first", NOW)
    again = act(engine, close, alert.id, "second", NOW + timedelta(minutes=5))
    assert (again.closed_by, again.closed_at) == ("first", first.closed_at)
    with pytest.raises(AlertAlreadyClosed):
        act(engine, acknowledge, alert.id, "late", NOW)
    with pytest.raises(AlertNotFound):
        act(engine, close, 424242, "x", NOW)
    assert [e.kind for e in events(engine)] == ["opened", "acknowledged", "cleared", "closed"]


def test_a_closed_alert_does_not_block_a_new_episode(engine: Engine) -> None:
    apply(engine, batch([siaga_change("depok", T0, 3, 210.0, siaga_from=4, seq=1)]))
    apply(engine, batch([siaga_change("depok", T0 + timedelta(hours=1), 4, 180.0, siaga_from=3, seq=2)]))
    assert (the_alert(engine).siaga, the_alert(engine).peak_siaga) == (4, 3)
    act(engine, close, the_alert(engine).id, "x", NOW)
    apply(engine, batch([siaga_change("depok", T0 + timedelta(hours=2), 2, 280.0, siaga_from=4, seq=3)]))
    with Session(engine) as s:
        assert s.scalars(sa.select(Alert.status).order_by(Alert.id)).all() == ["closed", "active"]


def test_a_summary_back_at_siaga_4_clears_an_alert_whose_change_was_lost(engine: Engine) -> None:
    apply(engine, batch([siaga_change("manggarai", T0, 3, 760.0, siaga_from=4, seq=1)]))
    # The "back to 4" change never arrived; the next summary says Siaga 4 with a normal level.
    result = apply(engine, batch([summary("manggarai", T0 + timedelta(hours=2), 700.0, siaga=4)]))
    assert result.alerts == {"cleared": 1}
    alert = the_alert(engine)
    # Shown as the station is now, not at Siaga 3 as when it opened; the peak remembers that.
    assert (alert.status, alert.clear_reason, alert.last_level_cm, alert.siaga, alert.peak_siaga) == ("cleared", "level_normal", 701.0, 4, 3)
    assert alert.cleared_at == T0 + timedelta(hours=2, minutes=10) - timedelta(seconds=1)


def test_a_summary_does_not_clear_what_the_river_and_gateway_disagree_on(engine: Engine) -> None:
    apply(engine, batch([siaga_change("manggarai", T0 + timedelta(hours=1), 3, 760.0, siaga_from=4, seq=1)]))
    # Older than the change (delivered late from an outbox): not a reason to clear.
    assert apply(engine, batch([summary("manggarai", T0, 700.0, siaga=4)])).alerts == {}
    # A gateway restarted mid-flood starts at Siaga 4 before its hysteresis catches up; the
    # reading says otherwise, so the alert stays.
    assert apply(engine, batch([summary("manggarai", T0 + timedelta(hours=2), 780.0, siaga=4)])).alerts == {}
    # A window without any good reading proves nothing either.
    assert apply(engine, batch([summary("manggarai", T0 + timedelta(hours=3), None, siaga=4)])).alerts == {}
    assert the_alert(engine).status == "active"


def test_revisions_count_public_changes_only(engine: Engine) -> None:
    apply(engine, batch([siaga_change("katulampa", T0, 3, 95.0, siaga_from=4, seq=1)]))
    alert = the_alert(engine)
    act(engine, acknowledge, alert.id, "a", NOW)
    assert the_alert(engine).revision == 1
    apply(engine, batch([siaga_change("katulampa", T0 + timedelta(minutes=5), 2, 160.0, siaga_from=3, seq=2)]))
    apply(engine, batch([siaga_change("katulampa", T0 + timedelta(minutes=50), 3, 140.0, siaga_from=2, seq=3)]))
    assert the_alert(engine).revision == 3
    assert [e.kind for e in events(engine)] == ["opened", "acknowledged", "escalated", "updated"]
