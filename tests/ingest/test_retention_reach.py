"""Retention of what reaching people leaves behind: a delivery's target (an email address, a
webhook URL) is personal data, kept `notification_days`; ended console sessions go a day after
they ended. Injected clock, both backends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.alerts import acknowledge, close
from central.db import Alert, writer
from central.models import User
from central.reach_models import NotificationDelivery, WebSession
from central.retention import ERASED, enforce_retention
from core.config import RetentionConfig
from ingest.service import apply_batch
from ingest.testing import batch, siaga_change
from kinds.awlr.ingest.points import SqlPointSink

DAY0 = datetime(2025, 1, 20, tzinfo=timezone.utc)
D = timedelta(days=1)
DKI = "dki-jakarta"
HEAD = "Kepala Pusdalops"


def run(engine: Engine, now: datetime, policy: RetentionConfig | None = None) -> dict[str, int]:
    with Session(writer(engine)) as s, s.begin():
        return enforce_retention(s, now, policy or RetentionConfig())


def alerts(engine: Engine) -> tuple[int, int]:
    """Katulampa's alert, closed on day 2, and Depok's, still active (nobody acknowledged it)."""
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, batch([siaga_change("katulampa", DAY0, 3, 95.0, siaga_from=4, seq=1)]), SqlPointSink(s), now=DAY0)
        apply_batch(s, batch([siaga_change("depok", DAY0, 3, 205.0, siaga_from=4, seq=2)]), SqlPointSink(s), now=DAY0)
        ids = {station: alert_id for station, alert_id in s.execute(sa.select(Alert.station_id, Alert.id))}
        acknowledge(s, ids["katulampa"], HEAD, DAY0 + timedelta(hours=1))
        apply_batch(s, batch([siaga_change("katulampa", DAY0 + D, 4, 60.0, siaga_from=3, seq=3)]), SqlPointSink(s), now=DAY0 + D)
        close(s, ids["katulampa"], HEAD, DAY0 + 2 * D)
    return ids["katulampa"], ids["depok"]


def owe(engine: Engine, alert_id: int, key: str, target: str, at: datetime) -> None:
    with Session(writer(engine)) as s, s.begin():
        s.add(NotificationDelivery(
            tenant_id=DKI, alert_id=alert_id, event_seq=None, dedupe_key=key, reason="escalation", step=0, channel="email",
            target=target, status="sent", attempts=1, created_at=at, next_attempt_at=at, sent_at=at,
        ))  # fmt: skip


def deliveries(engine: Engine) -> dict[str, str]:
    with Session(engine) as s:
        return {key: target for key, target in s.execute(sa.select(NotificationDelivery.dedupe_key, NotificationDelivery.target))}


def test_who_was_told_goes_after_notification_days_but_an_active_alerts_steps_stay_known(engine: Engine) -> None:
    closed, active = alerts(engine)
    owe(engine, closed, f"esc:{closed}:a:0:1:email", "kepala@bpbd.jakarta.go.id", DAY0)
    owe(engine, active, f"esc:{active}:a:0:1:email", "kepala@bpbd.jakarta.go.id", DAY0)
    owe(engine, closed, f"esc:{closed}:a:1:2:email", "wakil@bpbd.jakarta.go.id", DAY0 + 85 * D)

    assert run(engine, DAY0 + 89 * D)["notification_deliveries"] == 0  # not yet 90 days
    assert run(engine, DAY0 + 91 * D)["notification_deliveries"] == 2
    # The closed alert's old row is gone; the active alert's stays (or its escalation would start
    # over), its address erased; the newer row waits its own 90 days.
    assert deliveries(engine) == {f"esc:{active}:a:0:1:email": ERASED, f"esc:{closed}:a:1:2:email": "wakil@bpbd.jakarta.go.id"}
    assert run(engine, DAY0 + 92 * D)["notification_deliveries"] == 0  # nothing more to do
    assert run(engine, DAY0 + 31 * D + 85 * D, RetentionConfig(notification_days=30))["notification_deliveries"] == 1
    assert deliveries(engine) == {f"esc:{active}:a:0:1:email": ERASED}


def test_ended_console_sessions_go_a_day_after_they_ended(engine: Engine) -> None:
    now = DAY0 + 10 * D
    with Session(writer(engine)) as s, s.begin():
        user = User(tenant_id=DKI, name=HEAD, role="disaster_office", created_at=DAY0)
        s.add(user)
        s.flush()
        for sid, revoked, expires in [
            ("signed-out-2-days-ago", now - 2 * D, now + 5 * D),
            ("ended-2-days-ago", None, now - 2 * D),
            ("signed-out-an-hour-ago", now - timedelta(hours=1), now + 5 * D),
            ("in-use", None, now + 5 * D),
        ]:
            s.add(WebSession(id=sid, tenant_id=DKI, user_id=user.id, created_at=DAY0, last_seen_at=now - timedelta(hours=2),
                             expires_at=expires, revoked_at=revoked))  # fmt: skip
    assert run(engine, now)["web_sessions"] == 2
    with Session(engine) as s:
        assert set(s.scalars(sa.select(WebSession.id))) == {"signed-out-an-hour-ago", "in-use"}
    assert run(engine, now)["web_sessions"] == 0
