"""A buoy whose clock runs ahead, through ingest's real service (`ingest.service.apply_batch`),
on SQLite and PostgreSQL: its future items are refused and counted (`future_timestamp`), its
correct readings after them keep it on the map, and a future observation already kept (from
before the rule) is replaced by the next reading that arrives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import create_engine, prepare_database, writer
from core.config import TepiConfig
from ingest.service import apply_batch
from ingest.testing import batch
from kinds.wavebuoy.items import Observation, SeaStateSummary, sea_state_id
from kinds.wavebuoy.state import WaveBuoy, latest_observations

TENANT, GW, BUOY = "kab-badung", "gw-benoa", "wb-benoa-selatan"
#: Arrival times an hour back, so that "later" arrivals are still in the past of the wall clock
#: (against which the kind's `screen` judges points).
NOW = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
BALI = (114.4, -9.2, 115.8, -8.0)


class Written(list):
    """A point sink keeping what it is given."""

    write = list.extend


@pytest.fixture
def engine(database_url: str, default_config: TepiConfig) -> Iterator[Engine]:
    """A state store with Badung's buoy south of Benoa."""
    eng = create_engine(database_url)
    prepare_database(eng, default_config)
    with Session(writer(eng)) as s, s.begin():
        s.add(WaveBuoy(id=BUOY, tenant_id=TENANT, name="Pelampung Benoa Selatan", lat=-8.85, lon=115.25))
    yield eng
    eng.dispose()


def _summary(at: datetime, hs: float) -> SeaStateSummary:
    start = at - timedelta(minutes=10)
    obs = Observation(at=at, hs_m=hs, tp_s=9.0, wave_dir_deg=190.0, wind_kn=12.0, wind_dir_deg=120.0, gust_kn=15.0)
    return SeaStateSummary(
        id=sea_state_id(GW, BUOY, start), buoy=BUOY, device=BUOY, window_start=start, window_end=at, count=10, qc_suspect=0,
        qc_fail=0, hs_max_m=hs, hs_mean_m=hs, tp_mean_s=9.0, wave_dir_mean_deg=190.0, wind_max_kn=12.0, wind_mean_kn=11.0,
        wind_dir_mean_deg=120.0, gust_max_kn=15.0, last=obs,
    )


def _apply(engine: Engine, item: SeaStateSummary, now: datetime) -> tuple[Any, Written]:
    points = Written()
    with Session(writer(engine)) as s, s.begin():
        return apply_batch(s, batch([item], tenant=TENANT, gateway=GW, sent_at=now), points, now=now), points


def _latest(engine: Engine, now: datetime) -> list[tuple[str, float]]:
    with Session(engine) as s:
        return [(o.buoy, o.hs_m) for o in latest_observations(s, TENANT, BALI, timedelta(hours=2), now)]


def test_an_item_from_the_future_is_refused_and_correct_readings_keep_the_buoy(engine: Engine) -> None:
    ahead, ahead_points = _apply(engine, _summary(NOW + timedelta(hours=3), 2.9), NOW)
    assert dict(ahead.rejected) == {"future_timestamp": 1} and ahead.stored == 0 and ahead_points == []
    at_edge, _ = _apply(engine, _summary(NOW + timedelta(minutes=4), 1.1), NOW)  # clocks a little apart: kept
    assert not at_edge.rejected
    later = NOW + timedelta(minutes=10)
    good, points = _apply(engine, _summary(later, 1.4), later)
    assert not good.rejected and good.stored == 1 and len(points) == 1
    assert _latest(engine, later) == [(BUOY, 1.4)]


def test_a_future_observation_kept_before_the_rule_is_replaced_by_the_next_reading(engine: Engine) -> None:
    with Session(writer(engine)) as s, s.begin():  # as ingest kept it before it refused such items
        buoy = s.get(WaveBuoy, BUOY)
        assert buoy is not None
        buoy.observed_at, buoy.received_at, buoy.hs_m = NOW + timedelta(days=1), NOW - timedelta(hours=1), 3.3
    assert _latest(engine, NOW) == []  # a reading from tomorrow is no reading of now
    result, _ = _apply(engine, _summary(NOW - timedelta(minutes=1), 1.6), NOW)
    assert not result.rejected
    assert _latest(engine, NOW) == [(BUOY, 1.6)]
    with Session(engine) as s:
        assert s.scalar(sa.select(WaveBuoy.received_at).where(WaveBuoy.id == BUOY)) == NOW
