"""Gateways' health reports at ingest: one row per gateway, the newest (by uptime within a run of
the gateway, by arrival across a restart or a clock step);
reports about another gateway, of another tenant's gateway, or from the future are refused and
counted. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import writer
from central.reach_models import GatewayHealth as Row
from contract.gateway_items import DeviceHealth, GatewayHealth
from contract.uplink_batch import MessageError, UplinkBatch
from ingest import gateway_health
from ingest.service import ApplyResult, apply_batches
from ingest.testing import batch, summary
from kinds.awlr.ingest.points import SqlPointSink

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(hours=1)  # reports are from the hour before, unless a test says otherwise
GW = "gw-ciliwung"


def report(minute: float, gateway: str = GW, **fields: object) -> GatewayHealth:
    at = T0 + timedelta(minutes=minute)
    values: dict[str, object] = {
        "id": f"{gateway}:gateway_health:{int(at.timestamp() * 1000)}", "gateway": gateway, "at": at, "every_s": 300.0,
        "uptime_s": 600.0 + 60 * minute, "outbox_items": 7, "outbox_bytes": 5000, "link_up": True, "rejected_frames": 3,
        "rejected_by_reason": {"garbage": 1, "not_json": 2},
        "devices": [DeviceHealth(device="awlr-depok", kind="awlr", platform="depok", last_seen_at=at - timedelta(seconds=20),
                                 frames=40, rejected_frames=2, battery_v=12.4)],
    }
    return GatewayHealth.model_validate(values | fields)


def apply(engine: Engine, *batches: UplinkBatch, now: datetime = NOW) -> ApplyResult:
    with Session(writer(engine)) as s, s.begin():
        return apply_batches(s, list(batches), SqlPointSink(s), now=now)


def rows(engine: Engine) -> list[Row]:
    with Session(engine) as s:
        return list(s.scalars(sa.select(Row).order_by(Row.tenant_id, Row.gateway)))


def test_a_report_makes_the_gateways_row_and_a_newer_one_replaces_it(engine: Engine) -> None:
    first = apply(engine, batch([report(0)]))
    assert (first.stored, first.stored_by_type["gateway_health"], first.rejected_total) == (1, 1, 0)
    (row,) = rows(engine)
    assert (row.tenant_id, row.gateway, row.report_id, row.reported_at, row.received_at) == ("dki-jakarta", GW, report(0).id, T0, NOW)
    assert (row.uptime_s, row.outbox_items, row.outbox_bytes, row.link_up, row.report_every_s) == (600.0, 7, 5000, True, 300.0)
    assert (row.rejected_frames, row.rejected_by_reason) == (3, {"garbage": 1, "not_json": 2})
    assert row.devices == [{
        "device": "awlr-depok", "kind": "awlr", "platform": "depok", "last_seen_at": "2026-12-07T02:59:40Z",
        "frames": 40, "rejected_frames": 2, "battery_v": 12.4, "battery_pct": None,
    }]

    later = NOW + timedelta(minutes=5)
    newer = apply(engine, batch([report(5, link_up=False, outbox_items=2**40, outbox_bytes=3 * 2**31, devices=[])]), now=later)
    assert newer.stored == 1
    (row,) = rows(engine)
    assert (row.reported_at, row.received_at, row.link_up, row.outbox_items, row.outbox_bytes, row.devices) == (
        T0 + timedelta(minutes=5), later, False, 2**40, 3 * 2**31, []
    ), "counts past 32 bits are stored as they are"


def test_a_report_older_than_the_stored_one_changes_nothing(engine: Engine) -> None:
    apply(engine, batch([report(10)]))
    late = apply(engine, batch([report(5)]), batch([report(10)]))  # delivered late, and the stored one again
    assert (late.stored, late.duplicates, late.rejected_total) == (0, 2, 0)
    # Several in one call (a worker's batch of messages): the newest wins whatever the order.
    mixed = apply(engine, batch([report(20, outbox_items=1)]), batch([report(15, outbox_items=9)]))
    assert (mixed.stored, mixed.duplicates) == (1, 1)
    (row,) = rows(engine)
    assert (row.reported_at, row.outbox_items) == (T0 + timedelta(minutes=20), 1)


def test_an_older_report_does_not_overwrite_one_another_worker_stored_meanwhile(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    apply(engine, batch([report(10)]))
    # This worker looked before the other one committed: it believes no row is there.
    monkeypatch.setattr(gateway_health, "_stored", lambda session, gateways: {})
    apply(engine, batch([report(5, outbox_items=99)]))
    (row,) = rows(engine)
    assert (row.reported_at, row.outbox_items) == (T0 + timedelta(minutes=10), 7)


def test_a_restarted_gateway_with_its_clock_behind_is_heard(engine: Engine) -> None:
    """Restarted with its clock two hours behind (a flat RTC battery, NTP not yet answered): its
    reports are older by its clock than the one stored, yet the newest; the row follows them, so
    the gateway does not look silent while it reports. Later reports of the same run follow by
    uptime, and a late one of that run is still refused."""
    apply(engine, batch([report(10)]))
    later = NOW + timedelta(minutes=3)
    restarted = apply(engine, batch([report(-110, uptime_s=40.0, outbox_items=0)]), now=later)
    assert restarted.stored == 1
    (row,) = rows(engine)
    assert (row.reported_at, row.received_at, row.uptime_s, row.outbox_items) == (T0 - timedelta(minutes=110), later, 40.0, 0)

    next_one = apply(engine, batch([report(-105, uptime_s=340.0)]), now=later + timedelta(minutes=5))
    late_one = apply(engine, batch([report(-108, uptime_s=160.0)]), now=later + timedelta(minutes=6))
    assert (next_one.stored, late_one.stored, late_one.duplicates) == (1, 0, 1)
    (row,) = rows(engine)
    assert (row.reported_at, row.uptime_s) == (T0 - timedelta(minutes=105), 340.0)


def test_a_clock_stepped_back_while_running_does_not_silence_the_gateway(engine: Engine) -> None:
    """NTP sets a fast clock back by ten minutes: uptime, not the clock, says what is newer."""
    apply(engine, batch([report(10)]))
    stepped = report(15, at=T0 + timedelta(minutes=5))  # five minutes on, uptime 1500 s, clock 10 min back
    assert apply(engine, batch([stepped])).stored == 1
    (row,) = rows(engine)
    assert (row.reported_at, row.uptime_s) == (T0 + timedelta(minutes=5), 1500.0)


def test_in_one_call_a_restarts_report_after_the_last_of_the_run_before_wins(engine: Engine) -> None:
    result = apply(engine, batch([report(10)]), batch([report(-110, uptime_s=40.0)]))
    assert (result.stored, result.duplicates) == (1, 1)
    assert rows(engine)[0].uptime_s == 40.0


@pytest.mark.parametrize(
    ("new", "old", "replaces"),
    [
        ((10, 1200.0), (5, 900.0), True),  # one run, later
        ((5, 900.0), (10, 1200.0), False),  # one run, delivered late
        ((10, 1200.0), (10, 1200.0), False),  # the same report again
        ((5, 1500.0), (10, 1200.0), True),  # one run, the clock stepped back 10 min
        ((-110, 40.0), (10, 1200.0), True),  # another run, its clock behind
        ((12, 30.0), (10, 1200.0), True),  # another run, its clock right
        ((10.5, 1230.0), (10, 1200.0), True),  # one run, 30 s on
    ],
)
def test_which_report_is_newest(new: tuple[float, float], old: tuple[float, float], replaces: bool) -> None:
    def at(minute: float, uptime: float) -> gateway_health.Reported:
        return gateway_health.Reported(T0 + timedelta(minutes=minute), uptime)

    assert gateway_health.supersedes(at(*new), at(*old)) is replaces


def test_reports_about_another_gateway_or_of_another_tenants_gateway_or_from_the_future_are_refused(engine: Engine) -> None:
    apply(engine, batch([report(0)]))
    refused = apply(
        engine,
        batch([report(1, gateway="gw-other")]),  # a gateway speaks for itself only
        batch([report(2)], tenant="kab-badung"),  # gw-ciliwung is DKI Jakarta's
        batch([report(125)]),  # an hour ahead of ingest's clock
        batch([report(3)], tenant="no-such-tenant"),
    )
    assert refused.rejected == {"gateway_mismatch": 1, "foreign_gateway": 1, "future_report": 1, "unknown_tenant": 1}
    assert refused.stored == 0
    assert [(r.tenant_id, r.gateway, r.reported_at) for r in rows(engine)] == [("dki-jakarta", GW, T0)]
    # Within the allowed skew (a gateway's clock a little ahead) it is taken.
    assert apply(engine, batch([report(64)])).stored == 1


def test_each_tenants_gateways_have_their_own_rows(engine: Engine) -> None:
    result = apply(engine, batch([report(0)]), batch([report(0, gateway="gw-badung")], tenant="kab-badung", gateway="gw-badung"))
    assert result.stored == 2
    assert [(r.tenant_id, r.gateway) for r in rows(engine)] == [("dki-jakarta", GW), ("kab-badung", "gw-badung")]


def test_a_report_beside_river_data_leaves_the_data_alone(engine: Engine) -> None:
    result = apply(engine, batch([summary("depok", T0, 140.0), report(0)]))
    assert result.stored_by_type["gateway_health"] == 1 and result.points == 1 and result.rejected_total == 0


def test_an_invalid_report_makes_its_message_malformed(engine: Engine) -> None:
    bad = report(0).model_dump(mode="json") | {"outbox_items": -1}
    with pytest.raises(MessageError, match="invalid gateway item"):
        apply(engine, batch([bad]))
    assert rows(engine) == []
