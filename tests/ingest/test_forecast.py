"""Downstream arrival forecasts: windows and decisions (pure), then the alerts on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import Alert, AlertEvent, writer
from kinds.awlr.ingest.forecast import (
    ForecastState,
    Reach,
    RiverNetwork,
    UpstreamChange,
    arrival_window,
    confirms,
    plan_forecast,
    should_cancel,
)
from kinds.awlr.ingest.points import SqlPointSink
from ingest.service import ApplyResult, apply_batch
from ingest.testing import batch, siaga_change, summary
from core.config import TepiConfig
from kinds.awlr.items import LevelSummary, SiagaChange
from contract.uplink_batch import UplinkBatch

T0 = datetime(2025, 1, 20, 0, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)


def reach(config: TepiConfig, upstream: str, downstream: str) -> Reach:
    (r,) = [r for r in RiverNetwork.from_config(config).below(upstream) if r.downstream == downstream]
    return r


def test_windows_follow_the_published_travel_times(default_config: TepiConfig) -> None:
    assert arrival_window(T0, reach(default_config, "katulampa", "manggarai")) == (T0 + 6 * H, T0 + 12 * H)
    assert arrival_window(T0, reach(default_config, "katulampa", "depok")) == (T0 + 4 * H, T0 + 5 * H)
    assert arrival_window(T0, reach(default_config, "depok", "manggarai")) == (T0 + 5 * H, T0 + 7 * H)
    network = RiverNetwork.from_config(default_config)
    assert [r.upstream for r in network.above("manggarai")] == ["katulampa", "depok"]
    assert network.below("manggarai") == ()


def test_plans_open_refine_extend(default_config: TepiConfig) -> None:
    r = reach(default_config, "katulampa", "manggarai")
    opened = plan_forecast(None, UpstreamChange("katulampa", T0, 4, 3, 95.0), r)
    assert opened is not None
    assert (opened.kind, opened.window, opened.upstream_siaga, opened.severity) == (
        "open",
        (T0 + 6 * H, T0 + 12 * H),
        3,
        "warning",
    )
    state = ForecastState(3, opened.window)
    worse = plan_forecast(state, UpstreamChange("katulampa", T0 + H, 3, 2, 160.0), r)
    assert worse is not None
    assert (worse.kind, worse.window, worse.upstream_siaga, worse.severity) == (
        "refine",
        (T0 + 6 * H, T0 + 13 * H),
        2,
        "minor",
    )
    # Back to normal at T0+3h: the last high water passed upstream then, so until moves to +12 h.
    calm = plan_forecast(ForecastState(2, worse.window), UpstreamChange("katulampa", T0 + 3 * H, 2, 4, 70.0), r)
    assert calm is not None
    assert (calm.kind, calm.window, calm.upstream_siaga) == ("extend", (T0 + 6 * H, T0 + 15 * H), None)
    # An easing upstream opens nothing, and a change inside the window changes nothing.
    assert plan_forecast(None, UpstreamChange("katulampa", T0, 2, 3, 140.0), r) is None
    assert plan_forecast(state, UpstreamChange("katulampa", T0 - H, 4, 3, 90.0), r) is None


def test_cancel_and_confirm_decisions() -> None:
    until = T0 + 12 * H
    assert should_cancel(until, upstream_in_alert=False, downstream_seen_until=until)
    assert not should_cancel(until, upstream_in_alert=False, downstream_seen_until=until - timedelta(seconds=1))
    assert not should_cancel(until, upstream_in_alert=True, downstream_seen_until=until + H)
    assert not should_cancel(until, upstream_in_alert=False, downstream_seen_until=None)  # silent: cannot tell
    assert confirms(T0, T0 + 5 * H) and not confirms(T0, T0 - H)


def apply(engine: Engine, config: TepiConfig, *items: LevelSummary | SiagaChange) -> ApplyResult:
    b: UplinkBatch = batch(list(items))
    with Session(writer(engine)) as s, s.begin():
        return apply_batch(s, b, SqlPointSink(s), network=RiverNetwork.from_config(config))


def forecasts(engine: Engine) -> dict[str, Alert]:
    with Session(engine) as s:
        return {a.station_id: a for a in s.scalars(sa.select(Alert).where(Alert.type == "forecast").order_by(Alert.id))}


def kinds(engine: Engine) -> list[tuple[str, str, str]]:
    with Session(engine) as s:
        cols = (AlertEvent.station_id, AlertEvent.alert_type, AlertEvent.kind)
        rows = s.execute(sa.select(*cols).order_by(AlertEvent.seq))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_upstream_siaga_3_forecasts_every_station_below_then_refines(
    engine: Engine, default_config: TepiConfig
) -> None:
    apply(engine, default_config, siaga_change("katulampa", T0, 3, 95.0, siaga_from=4, seq=1))
    f = forecasts(engine)
    assert set(f) == {"depok", "manggarai"}
    m = f["manggarai"]
    assert (m.status, m.severity, m.upstream_station_id, m.upstream_siaga, m.upstream_level_cm) == (
        "active",
        "warning",
        "katulampa",
        3,
        95.0,
    )
    assert (m.expected_from, m.expected_until) == (T0 + 6 * H, T0 + 12 * H)
    assert (f["depok"].expected_from, f["depok"].expected_until) == (T0 + 4 * H, T0 + 5 * H)
    assert (m.siaga, m.opened_at) == (4, T0)  # Manggarai itself still normal
    # Streamed in cause-then-effect order, one transaction.
    assert kinds(engine) == [
        ("katulampa", "siaga", "opened"),
        ("depok", "forecast", "opened"),
        ("manggarai", "forecast", "opened"),
    ]

    apply(engine, default_config, siaga_change("katulampa", T0 + H, 2, 160.0, siaga_from=3, seq=2))
    m = forecasts(engine)["manggarai"]
    assert (m.severity, m.upstream_siaga, m.upstream_level_cm, m.revision) == ("minor", 2, 160.0, 2)
    assert (m.expected_from, m.expected_until) == (T0 + 6 * H, T0 + 13 * H)
    assert kinds(engine)[-3:] == [
        ("katulampa", "siaga", "escalated"),
        ("depok", "forecast", "forecast_refined"),
        ("manggarai", "forecast", "forecast_refined"),
    ]


def test_the_downstream_rising_confirms_its_forecast(engine: Engine, default_config: TepiConfig) -> None:
    apply(engine, default_config, siaga_change("katulampa", T0, 3, 95.0, siaga_from=4, seq=1))
    result = apply(engine, default_config, siaga_change("depok", T0 + 4.5 * H, 3, 215.0, siaga_from=4, seq=2))
    depok = forecasts(engine)["depok"]
    assert (depok.status, depok.clear_reason, depok.cleared_at, depok.siaga) == (
        "cleared",
        "confirmed",
        T0 + 4.5 * H,
        3,
    )
    assert result.alerts["cleared"] == 1
    # Depok is upstream of Manggarai too: its own rise refines nothing (still Siaga 3) but keeps
    # the window open until Depok's water has passed.
    m = forecasts(engine)["manggarai"]
    assert (m.status, m.upstream_station_id) == ("active", "katulampa")
    assert m.expected_until == T0 + 12 * H


def test_forecast_is_cancelled_when_upstream_clears_and_the_window_passes_quietly(
    engine: Engine, default_config: TepiConfig
) -> None:
    apply(engine, default_config, siaga_change("katulampa", T0, 3, 95.0, siaga_from=4, seq=1))
    apply(engine, default_config, siaga_change("katulampa", T0 + 2 * H, 4, 70.0, siaga_from=3, seq=2))
    m = forecasts(engine)["manggarai"]
    assert (m.status, m.expected_until) == ("active", T0 + 14 * H)  # water passing until T0+2h arrives by +12 h
    # Manggarai reports, normal, until just before the end of the window: still open.
    apply(engine, default_config, summary("manggarai", T0 + 13 * H, 640.0, window_s=3600))
    assert forecasts(engine)["manggarai"].status == "active"
    apply(engine, default_config, summary("manggarai", T0 + 14 * H, 645.0, window_s=3600))
    m = forecasts(engine)["manggarai"]
    assert (m.status, m.clear_reason, m.cleared_by, m.cleared_at) == ("cleared", "cancelled", "system", T0 + 14 * H)
    assert ("manggarai", "forecast", "cancelled") in kinds(engine)
    # Depok never reported: its forecast stays open ("cannot tell" is not "all clear").
    assert forecasts(engine)["depok"].status == "active"


def test_forecast_stays_while_upstream_is_still_in_alert(engine: Engine, default_config: TepiConfig) -> None:
    apply(engine, default_config, siaga_change("katulampa", T0, 3, 95.0, siaga_from=4, seq=1))
    apply(engine, default_config, summary("depok", T0 + 6 * H, 150.0))
    assert forecasts(engine)["depok"].status == "active"


def test_without_a_network_there_are_no_forecasts(engine: Engine) -> None:
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, batch([siaga_change("katulampa", T0, 2, 160.0, siaga_from=4)]), SqlPointSink(s))
    assert forecasts(engine) == {}
