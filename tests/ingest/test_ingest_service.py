"""apply_batch on both databases: idempotency, alert lifecycle, tenant isolation, ordering."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.alerts import acknowledge
from central.db import Alert, LevelPoint, ProcessedMessage, Station, writer
from ingest.errors import StoreError
from kinds.awlr.ingest.points import SqlPointSink
from ingest.service import ApplyResult, Screening, apply_batch, apply_screened
from kinds.awlr.ingest.summaries import SummaryPoints
from ingest.testing import batch, rate_of_rise, siaga_change, summary
from contract.envelope import encode_uplink
from kinds.awlr.items import outbox_body
from contract.uplink_batch import MessageError, UplinkBatch, decode_batch, encode_batch

T0 = datetime(2025, 1, 20, 0, 0, tzinfo=timezone.utc)


def apply(engine: Engine, b: UplinkBatch) -> ApplyResult:
    with Session(writer(engine)) as s, s.begin():
        return apply_batch(s, b, SqlPointSink(s))


def count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def alerts(engine: Engine) -> list[Alert]:
    with Session(engine) as s:
        return list(s.scalars(sa.select(Alert).order_by(Alert.id)))


def station(engine: Engine, station_id: str) -> Station:
    with Session(engine) as s:
        st = s.get(Station, station_id)
        assert st is not None
        return st


def test_same_batch_twice_is_stored_once(engine: Engine) -> None:
    """Summaries are idempotent in the store (`kinds.awlr.ingest.summaries`): a redelivery writes the same
    points again, and the store keeps one of each; no key per summary is kept."""
    b = batch([summary("katulampa", T0 + timedelta(minutes=10 * i), 40.0 + i) for i in range(3)])
    first = apply(engine, b)
    second = apply(engine, b)
    assert (first.stored, first.points) == (3, 3)
    assert (second.stored, second.points) == (3, 3)
    assert count(engine, LevelPoint) == 3
    assert count(engine, ProcessedMessage) == 0
    assert station(engine, "katulampa").last_level_cm == pytest.approx(43.0)


def test_events_twice_are_applied_once(engine: Engine) -> None:
    b = batch([siaga_change("katulampa", T0, 3, 95.0, siaga_from=4, seq=1), summary("katulampa", T0, 95.0, siaga=3)])
    first = apply(engine, b)
    second = apply(engine, b)
    assert (first.stored, first.duplicates) == (2, 0)
    assert (second.stored, second.duplicates) == (1, 1)  # the summary is written again, harmlessly
    assert count(engine, ProcessedMessage) == 1
    assert len(alerts(engine)) == 1 and count(engine, LevelPoint) == 1


def test_duplicate_inside_one_batch_and_regenerated_item_are_stored_once(engine: Engine) -> None:
    s1 = summary("depok", T0, 130.0)
    # A gateway that regenerates the same window after a restart produces the same id.
    regenerated = summary("depok", T0, 131.0)
    assert s1.id == regenerated.id
    result = apply(engine, batch([s1, regenerated]))
    assert result.points == 2
    with Session(engine) as s:
        assert s.scalars(sa.select(LevelPoint.mean_cm)).all() == [130.0]


def test_station_state_follows_the_newest_reading_not_the_latest_delivery(engine: Engine) -> None:
    apply(engine, batch([summary("manggarai", T0 + timedelta(hours=1), 700.0)]))
    apply(engine, batch([summary("manggarai", T0, 650.0)]))  # late: from the outbox backlog
    st = station(engine, "manggarai")
    assert st.last_level_cm == pytest.approx(701.0)  # last_cm of the newer window
    assert st.last_seen_at == T0 + timedelta(hours=1, minutes=10) - timedelta(seconds=1)
    assert st.last_seen_at.tzinfo is not None and st.last_seen_at.utcoffset() == timedelta(0)
    assert st.last_siaga == 4


def test_one_active_alert_per_station_is_updated_not_duplicated(engine: Engine) -> None:
    apply(engine, batch([siaga_change("katulampa", T0, 3, 95.0, siaga_from=4, seq=1)]))
    apply(engine, batch([siaga_change("katulampa", T0 + timedelta(minutes=20), 2, 160.0, siaga_from=3, seq=2)]))
    result = apply(
        engine, batch([siaga_change("katulampa", T0 + timedelta(minutes=40), 3, 140.0, siaga_from=2, seq=3)])
    )
    assert result.alerts == {"updated": 1}
    (alert,) = alerts(engine)
    assert alert.status == "active"
    assert (alert.siaga, alert.peak_siaga) == (3, 2)
    assert alert.last_level_cm == 140.0
    assert alert.opened_at == T0
    assert alert.updated_at == T0 + timedelta(minutes=40)
    assert station(engine, "katulampa").last_siaga == 3


def test_return_to_siaga_4_clears_and_next_rise_opens_a_new_alert(engine: Engine) -> None:
    apply(engine, batch([siaga_change("depok", T0, 3, 210.0, siaga_from=4, seq=1)]))
    cleared = apply(engine, batch([siaga_change("depok", T0 + timedelta(hours=2), 4, 190.0, siaga_from=3, seq=2)]))
    assert cleared.alerts == {"cleared": 1}
    (alert,) = alerts(engine)
    assert alert.status == "cleared"
    assert alert.cleared_at == T0 + timedelta(hours=2)
    apply(engine, batch([siaga_change("depok", T0 + timedelta(hours=5), 2, 280.0, siaga_from=4, seq=3)]))
    old, new = alerts(engine)
    assert (old.status, new.status, new.siaga) == ("cleared", "active", 2)


def test_escalation_reopens_an_acknowledged_alert(engine: Engine) -> None:
    apply(engine, batch([siaga_change("katulampa", T0, 3, 90.0, siaga_from=4, seq=1)]))
    with Session(writer(engine)) as s, s.begin():
        acknowledge(s, alerts(engine)[0].id, "petugas-jaga", T0 + timedelta(minutes=5))
    assert alerts(engine)[0].status == "acknowledged"
    result = apply(
        engine, batch([siaga_change("katulampa", T0 + timedelta(minutes=30), 1, 230.0, siaga_from=3, seq=2)])
    )
    assert result.alerts == {"escalated": 1}
    (alert,) = alerts(engine)
    assert (alert.status, alert.siaga, alert.acknowledged_by) == ("active", 1, None)


def test_late_siaga_change_does_not_reopen_a_cleared_alert(engine: Engine) -> None:
    rise = siaga_change("manggarai", T0, 3, 760.0, siaga_from=4, seq=1)
    fall = siaga_change("manggarai", T0 + timedelta(hours=3), 4, 700.0, siaga_from=3, seq=2)
    apply(engine, batch([fall]))  # delivered first: the rise was stuck in an outbox
    result = apply(engine, batch([rise]))
    assert (result.stored, result.stale_changes) == (1, 1)
    assert alerts(engine) == []
    # Inside one batch the order of delivery does not matter either.
    later_rise = siaga_change("manggarai", T0 + timedelta(hours=4), 2, 860.0, siaga_from=4, seq=3)
    later_fall = siaga_change("manggarai", T0 + timedelta(hours=6), 4, 700.0, siaga_from=2, seq=4)
    result = apply(engine, batch([later_fall, later_rise]))
    assert result.alerts == {"opened": 1, "cleared": 1}
    (alert,) = alerts(engine)
    assert alert.status == "cleared"


def test_rate_of_rise_opens_a_warning_before_any_threshold_and_clears(engine: Engine) -> None:
    # Katulampa 80 -> 140 cm in 22 min (domain facts): the rise alarms while still below Siaga 3.
    start = rate_of_rise("katulampa", T0, True, 70.0, rate_cm_per_h=160.0, seq=1)
    result = apply(engine, batch([start]))
    assert result.alerts == {"opened": 1}
    (rise,) = alerts(engine)
    assert (rise.type, rise.severity, rise.status) == ("rate_of_rise", "warning", "active")
    assert (rise.siaga, rise.rate_cm_per_h) == (4, 160.0)
    # Siaga 3 follows: a separate alert of its own type, the rise alert is updated, not duplicated.
    apply(engine, batch([siaga_change("katulampa", T0 + timedelta(minutes=10), 3, 95.0, siaga_from=4, seq=2)]))
    apply(
        engine, batch([rate_of_rise("katulampa", T0 + timedelta(minutes=15), True, 110.0, rate_cm_per_h=170.0, seq=3)])
    )
    by_type = {a.type: a for a in alerts(engine)}
    assert set(by_type) == {"rate_of_rise", "siaga"}
    assert (by_type["siaga"].severity, by_type["siaga"].siaga) == ("minor", 3)
    assert (by_type["rate_of_rise"].siaga, by_type["rate_of_rise"].peak_siaga) == (3, 3)
    assert by_type["rate_of_rise"].rate_cm_per_h == 170.0
    # The rise ends; the Siaga alert stays open.
    end = rate_of_rise("katulampa", T0 + timedelta(minutes=40), False, 140.0, rate_cm_per_h=20.0, seq=4)
    assert apply(engine, batch([end])).alerts == {"cleared": 1}
    by_type = {a.type: a.status for a in alerts(engine)}
    assert by_type == {"rate_of_rise": "cleared", "siaga": "active"}
    # The station keeps the gateway's Siaga level; a rise event only moves the level.
    st = station(engine, "katulampa")
    assert (st.last_level_cm, st.last_siaga) == (140.0, 3)


def test_late_rate_of_rise_start_does_not_reopen(engine: Engine) -> None:
    apply(engine, batch([rate_of_rise("depok", T0 + timedelta(hours=1), False, 250.0, seq=2)]))
    result = apply(engine, batch([rate_of_rise("depok", T0, True, 180.0, seq=1)]))
    assert (result.stored, result.stale_changes, result.alerts) == (1, 1, {})
    assert alerts(engine) == []


def test_window_without_good_readings_keeps_qc_counts_not_state(engine: Engine) -> None:
    apply(engine, batch([summary("depok", T0, 150.0)]))
    result = apply(engine, batch([summary("depok", T0 + timedelta(minutes=10), None, count=6)]))
    assert (result.stored, result.points) == (1, 1)
    with Session(engine) as s:
        doubtful = s.scalars(sa.select(LevelPoint).order_by(LevelPoint.window_start.desc())).first()
        assert doubtful is not None
        assert (doubtful.mean_cm, doubtful.count, doubtful.qc_suspect) == (None, 0, 6)
    st = station(engine, "depok")
    assert st.last_level_cm == 151.0  # the last good reading, not nothing


def test_unknown_tenant_is_rejected_whole_and_counted(engine: Engine) -> None:
    b = batch([summary("katulampa", T0, 40.0), summary("depok", T0, 130.0)], tenant="kab-tidak-ada")
    result = apply(engine, b)
    assert result.stored == 0
    assert result.rejected == {"unknown_tenant": 2}
    assert count(engine, ProcessedMessage) == 0
    assert count(engine, LevelPoint) == 0


def test_station_of_another_tenant_or_unknown_station_is_rejected_alone(engine: Engine) -> None:
    # kab-badung is a configured tenant, but katulampa belongs to dki-jakarta.
    foreign = apply(engine, batch([summary("katulampa", T0, 40.0)], tenant="kab-badung", gateway="gw-badung"))
    assert (foreign.stored, foreign.rejected) == (0, {"foreign_station": 1})
    mixed = apply(engine, batch([summary("katulampa", T0, 40.0), summary("no-such-gauge", T0, 1.0)]))
    assert (mixed.stored, mixed.rejected) == (1, {"unknown_station": 1})
    with Session(engine) as s:
        assert s.scalars(sa.select(LevelPoint.tenant_id)).all() == ["dki-jakarta"]
    assert station(engine, "katulampa").last_level_cm is not None


def test_non_finite_values_are_rejected_before_they_reach_a_store(engine: Engine) -> None:
    raw = encode_batch(batch([summary("depok", T0, 130.0)])).replace(b'"mean_cm":130.0', b'"mean_cm":NaN')
    assert b"NaN" in raw
    result = apply(engine, decode_batch(raw))
    assert result.rejected == {"non_finite": 1}
    assert count(engine, LevelPoint) == 0


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_gateway_summary_with_a_non_finite_value_is_counted_not_stored_as_null(engine: Engine, value: float) -> None:
    """The gateway sends such a summary as an object (no record holds it) and must not write
    the value as null, which ingest would store as a valid summary without that statistic."""
    bad = summary("depok", T0, 130.0, gateway="gw-ciliwung").model_copy(update={"last_cm": value})
    body = outbox_body(bad, "gw-ciliwung")
    assert body[:1] == b"{"
    result = apply(engine, decode_batch(encode_uplink("dki-jakarta", "gw-ciliwung", [body], T0)))
    assert (result.stored, result.rejected) == (0, {"non_finite": 1})
    assert count(engine, LevelPoint) == 0


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json",
        b"{}",
        b'{"v": 1, "tenant": "dki-jakarta", "gateway": "g", "sent_at": "2025-01-01T00:00:00", "items": []}',
    ],
)
def test_malformed_payload_is_a_message_error(payload: bytes) -> None:
    with pytest.raises(MessageError):
        decode_batch(payload)


class FailingSink:
    def __init__(self) -> None:
        self.calls = 0

    def write(self, points: Sequence[SummaryPoints]) -> None:
        from ingest.errors import PointWriteError

        self.calls += 1
        raise PointWriteError("tsdb down")


def test_failed_point_write_rolls_back_everything(engine: Engine) -> None:
    from ingest.errors import PointWriteError

    b = batch([siaga_change("depok", T0, 3, 210.0, siaga_from=4), summary("depok", T0, 210.0, siaga=3)])
    sink = FailingSink()
    with pytest.raises(PointWriteError), Session(writer(engine)) as s, s.begin():
        apply_batch(s, b, sink)
    assert sink.calls == 1
    assert count(engine, ProcessedMessage) == 0
    assert alerts(engine) == []
    # Retried later (the broker redelivers), it is stored as new, not as a duplicate.
    assert apply(engine, b).stored == 2


def test_summaries_dropped_at_the_edge_are_accounted_once_and_change_no_state(engine: Engine) -> None:
    from contract.gateway_items import SummariesDropped

    report = SummariesDropped(
        id="gw-ciliwung:manggarai:dropped:1737331200000", station="manggarai", device="awlr-manggarai", count=531,
        first_window_start=T0, last_window_start=T0 + timedelta(hours=88),
    )
    first = apply(engine, batch([report]))
    again = apply(engine, batch([report]))
    assert first.dropped_at_edge == {"manggarai": 531} and first.stored == 1
    assert again.dropped_at_edge == {} and again.duplicates == 1
    assert count(engine, LevelPoint) == 0 and alerts(engine) == []
    assert station(engine, "manggarai").last_level_cm is None


def test_batches_screened_group_by_group_apply_as_one_call(engine: Engine) -> None:
    """The consumer screens a batch's messages in groups (writing each group's points while it
    decodes the next) and applies them at once: items keep their places across the groups."""
    t = T0 + timedelta(hours=5)
    first = batch([siaga_change("depok", t, 3, 151.0, siaga_from=4), summary("depok", t, 150.0)])
    second = batch([summary("depok", t, 180.0), summary("nowhere", t, 10.0)])  # same window, later
    with Session(writer(engine)) as s, s.begin():
        screening = Screening(s)
        screened = screening.add([first]) + screening.add([second])
        assert [b.base for b in screened] == [0, 2]
        assert [sum(map(len, b.points)) for b in screened] == [1, 1]  # "nowhere" is no station
        result = apply_screened(s, screened)
    assert result.stored_by_type == {"summary": 2, "siaga_change": 1}
    assert result.rejected == {"unknown_station": 1}
    # Of two readings at the same time, the later arrival wins, as in one group.
    assert station(engine, "depok").last_level_cm == 181.0
    assert [a.type for a in alerts(engine)] == ["siaga"]


def test_a_station_moved_to_another_tenant_between_screening_and_apply_is_retried(engine: Engine) -> None:
    """PostgreSQL reads what others commit between statements: a station screened as the
    gateway's tenant's and moved meanwhile must not take that gateway's state."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writer transaction reads one snapshot; the race is PostgreSQL's")
    t = T0 + timedelta(hours=6)
    b = batch([summary("depok", t, 150.0), siaga_change("depok", t, 3, 151.0, siaga_from=4)])
    with pytest.raises(StoreError, match="moved to another tenant"), Session(writer(engine)) as s, s.begin():
        screened = Screening(s).add([b])
        with engine.begin() as admin:
            admin.execute(sa.update(Station).where(Station.id == "depok").values(tenant_id="kab-badung"))
        apply_screened(s, screened)
    assert station(engine, "depok").last_level_cm is None, "rolled back: nothing of the batch applied"
