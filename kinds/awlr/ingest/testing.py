"""Builders of valid river (`awlr`) uplink items for tests, demos and benchmarks of ingest and
the API.

Ids are made with the same functions as the gateway's (`contract.ids`, `kinds.awlr.summary_columns`), so a builder's item is
recognised as a duplicate exactly when a real gateway's would be.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from contract.clock import utcnow
from contract.ids import event_id
from kinds.awlr.items import LevelSummary, QcCounts, RateOfRise, SiagaChange
from kinds.awlr.summary_columns import summary_id
from contract.uplink_batch import UplinkBatch


def summary(
    station: str,
    window_start: datetime,
    mean_cm: float | None,
    *,
    gateway: str = "gw-ciliwung",
    device: str | None = None,
    window_s: int = 600,
    spread_cm: float = 2.0,
    count: int = 10,
    siaga: int = 4,
    first_seq: int = 0,
) -> LevelSummary:
    """A summary of `count` readings around `mean_cm` in the window starting at `window_start`.

    `mean_cm=None` makes a window in which QC passed none of the `count` readings (all suspect).
    """
    end = window_start + timedelta(seconds=window_s)
    good = mean_cm is not None
    return LevelSummary(
        id=summary_id(gateway, station, window_start, first_seq),
        station=station,
        device=device or f"awlr-{station}",
        window_start=window_start,
        window_end=end,
        count=count if good else 0,
        min_cm=mean_cm - spread_cm if mean_cm is not None else None,
        max_cm=mean_cm + spread_cm if mean_cm is not None else None,
        mean_cm=mean_cm,
        last_cm=mean_cm + spread_cm / 2 if mean_cm is not None else None,
        qc=QcCounts(good=count, suspect=0) if good else QcCounts(good=0, suspect=count),
        last_ts=end - timedelta(seconds=1),
        first_seq=first_seq,
        last_seq=first_seq + count - 1,
        siaga=siaga,
    )


def siaga_change(
    station: str,
    ts: datetime,
    siaga_to: int,
    level_cm: float,
    *,
    siaga_from: int | None = None,
    seq: int = 1,
    gateway: str = "gw-ciliwung",
    device: str | None = None,
) -> SiagaChange:
    """A Siaga change event as the gateway sends it when a station crosses a threshold."""
    return SiagaChange(
        id=event_id(gateway, station, "siaga", ts, seq),
        station=station,
        device=device or f"awlr-{station}",
        ts=ts,
        seq=seq,
        level_cm=level_cm,
        siaga_from=siaga_from,
        siaga_to=siaga_to,
    )


def rate_of_rise(
    station: str,
    ts: datetime,
    active: bool,
    level_cm: float,
    *,
    rate_cm_per_h: float | None = 90.0,
    threshold_cm_per_h: float = 60.0,
    seq: int = 1,
    gateway: str = "gw-ciliwung",
    device: str | None = None,
) -> RateOfRise:
    """A fast-rise start (`active`) or end, as the gateway sends it."""
    return RateOfRise(
        id=event_id(gateway, station, "rise", ts, seq),
        station=station,
        device=device or f"awlr-{station}",
        ts=ts,
        seq=seq,
        level_cm=level_cm,
        rate_cm_per_h=rate_cm_per_h,
        threshold_cm_per_h=threshold_cm_per_h,
        active=active,
    )


def batch(
    items: Sequence[Any],
    *,
    tenant: str = "dki-jakarta",
    gateway: str = "gw-ciliwung",
    sent_at: datetime | None = None,
) -> UplinkBatch:
    """An uplink batch of `items` (item models of any kind, or their JSON objects), as one MQTT
    message carries it."""
    objects = [json.loads(i.model_dump_json()) if isinstance(i, BaseModel) else i for i in items]
    return UplinkBatch(tenant=tenant, gateway=gateway, sent_at=sent_at or utcnow(), items=objects)
