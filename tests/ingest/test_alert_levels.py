"""Open alerts show the river as it is now (issue 18: an alert showed 202.4 cm while the river stood
at 250 cm), without a new public revision for every summary, and never move back to older data."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.services.alerts import alert_public
from central.db import Alert, AlertEvent, writer
from kinds.awlr.ingest.points import SqlPointSink
from ingest.service import apply_batch
from ingest.testing import batch, rate_of_rise, siaga_change, summary
from kinds.awlr.items import LevelSummary, RateOfRise, SiagaChange

T0 = datetime(2025, 1, 20, 18, 0, tzinfo=timezone.utc)
NOW = datetime(2025, 2, 1, 12, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)


def apply(engine: Engine, *items: LevelSummary | SiagaChange | RateOfRise) -> None:
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, batch(list(items)), SqlPointSink(s), now=NOW)


def minute_window(k: int, mean_cm: float) -> LevelSummary:
    """Katulampa's 1-minute window k from T0 (Siaga 1 above 200 cm): last reading mean + 1 cm at k:59."""
    return summary("katulampa", T0 + k * MINUTE, mean_cm, window_s=60, count=6, siaga=1, first_seq=100 + 6 * k)


def alerts(engine: Engine) -> dict[str, Alert]:
    with Session(engine) as s:
        return {a.type: a for a in s.scalars(sa.select(Alert).where(Alert.station_id == "katulampa"))}


def kinds(engine: Engine) -> list[tuple[str, str, int]]:
    with Session(engine) as s:
        rows = s.execute(sa.select(AlertEvent.alert_type, AlertEvent.kind, AlertEvent.revision).order_by(AlertEvent.seq))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_an_open_alert_follows_the_river_without_new_revisions(engine: Engine) -> None:
    apply(
        engine,
        siaga_change("katulampa", T0, 1, 202.4, siaga_from=2, seq=1),
        rate_of_rise("katulampa", T0, True, 202.4, rate_cm_per_h=110.0, seq=2),
    )
    for k in range(1, 26):  # 110 cm/h for 25 minutes, a batch a minute
        apply(engine, minute_window(k, 202.4 + 110 * k / 60))
    now = alerts(engine)
    newest = 202.4 + 110 * 25 / 60 + 1.0
    for alert_type in ("siaga", "rate_of_rise"):
        assert (now[alert_type].last_level_cm, now[alert_type].last_level_at) == (
            newest, T0 + 26 * MINUTE - timedelta(seconds=1)
        ), alert_type
        assert now[alert_type].revision == 1
        assert now[alert_type].updated_at == T0, "the alert itself did not change"
    assert kinds(engine) == [("siaga", "opened", 1), ("rate_of_rise", "opened", 1)], "no CAP message a minute"
    with Session(engine) as s:
        opened = s.scalars(sa.select(AlertEvent).where(AlertEvent.alert_type == "siaga")).one()
    assert opened.payload["alert"]["last_level_cm"] == 202.4, "the opening message keeps its level"
    shown = alert_public(now["siaga"])
    assert (shown.last_level_cm, shown.last_level_at) == (newest, T0 + 26 * MINUTE - timedelta(seconds=1))


def test_older_data_delivered_late_never_moves_the_level_back(engine: Engine) -> None:
    apply(engine, siaga_change("katulampa", T0, 1, 202.4, siaga_from=2, seq=1))
    apply(engine, minute_window(10, 220.0))
    apply(engine, minute_window(5, 210.0))  # a window from the outbox, five minutes older
    alert = alerts(engine)["siaga"]
    assert (alert.last_level_cm, alert.last_level_at) == (221.0, T0 + 11 * MINUTE - timedelta(seconds=1))

    # A fast rise seen at minute 8, delivered after the newest reading: its opening message says
    # what happened then; the alert shows the river now.
    apply(engine, rate_of_rise("katulampa", T0 + 8 * MINUTE, True, 215.0, seq=3))
    with Session(engine) as s:
        opened = s.scalars(sa.select(AlertEvent).where(AlertEvent.alert_type == "rate_of_rise")).one()
    assert opened.payload["alert"]["last_level_cm"] == 215.0
    rise = alerts(engine)["rate_of_rise"]
    assert (rise.last_level_cm, rise.last_level_at) == (221.0, T0 + 11 * MINUTE - timedelta(seconds=1))

def test_a_cleared_alert_keeps_the_level_it_cleared_at(engine: Engine) -> None:
    apply(engine, siaga_change("katulampa", T0, 3, 95.0, siaga_from=4, seq=1))
    apply(engine, siaga_change("katulampa", T0 + 30 * MINUTE, 4, 70.0, siaga_from=3, seq=2))
    apply(engine, summary("katulampa", T0 + 40 * MINUTE, 60.0, window_s=600, first_seq=50))
    alert = alerts(engine)["siaga"]
    assert (alert.status, alert.last_level_cm, alert.last_level_at) == ("cleared", 70.0, T0 + 30 * MINUTE)
