"""A station's level trend from its stored summary windows (`kinds.awlr.api.trend` says how and why).

The windows come from the embedded series (`level_points`, with each window's start and end),
or, where summaries go to the TSDB and the embedded series has too few, from the level store in
1-minute buckets. The TSDB keeps a summary at its window's start only, so there each window is
taken to last until the next one starts (the gateway's windows follow each other while a
station reports), the newest one until the station's newest reading; a window followed by a gap
longer than `LONGEST_WINDOW` is given its bucket's minute. Where all windows are alike that
rule cannot bias the slope (a common shift of all times leaves a slope as it is); it matters
where the cadence changes within the span, as it does at Siaga 3. A TSDB that does not answer
costs the trend, not the page.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.errors import LevelStoreUnavailable
from kinds.awlr.api.models import LevelBucket
from kinds.awlr.api.levels import BucketPlan, LevelStore
from kinds.awlr.api.trend import SPAN, LevelTrend, LevelWindow, level_trend
from central.models import LevelPoint, Station

#: Windows are looked for this far before the station's newest reading: a window whose middle
#: lies in the span may start up to half its length before it (windows up to 2 x SPAN long).
LOOKBACK = 2 * SPAN
#: TSDB buckets: a minute, the shortest summary window.
TSDB_BUCKET = timedelta(minutes=1)
#: The longest summary window Tepi's defaults make (10 minutes at Siaga 4).
LONGEST_WINDOW = timedelta(minutes=10)


def station_trend(session: Session, store: LevelStore, station: Station) -> LevelTrend | None:
    """The trend as of the station's newest reading; None without a reading or with thin data."""
    until = station.last_seen_at
    if until is None:
        return None
    trend = level_trend(_stored_windows(session, station, until), until)
    if trend is not None or store.source != "tsdb":
        return trend
    try:
        return level_trend(_tsdb_windows(store, station, until), until)
    except LevelStoreUnavailable:
        return None


def _stored_windows(session: Session, station: Station, until: datetime) -> list[LevelWindow]:
    p = LevelPoint
    rows = session.execute(
        sa.select(p.window_start, p.window_end, p.mean_cm, p.count).where(
            p.station_id == station.id,
            p.window_start >= until - LOOKBACK,
            p.window_start <= until,
            p.mean_cm.is_not(None),
            p.count > 0,
        )
    ).all()
    return [LevelWindow(start, max(start, end), float(mean), int(count)) for start, end, mean, count in rows]


def _tsdb_windows(store: LevelStore, station: Station, until: datetime) -> list[LevelWindow]:
    every_s = TSDB_BUCKET.total_seconds()
    since = until - LOOKBACK
    start = datetime.fromtimestamp(math.floor(since.timestamp() / every_s) * every_s, since.tzinfo)
    plan = BucketPlan(start=start, every=TSDB_BUCKET, n=math.ceil((until - start) / TSDB_BUCKET) + 1)
    return tiled_windows(store.levels(station.tenant_id, station.id, plan), until)


def tiled_windows(buckets: list[LevelBucket], until: datetime) -> list[LevelWindow]:
    """Windows from TSDB buckets that each hold the windows starting in them (oldest first):
    each lasts until the next starts, the newest until `until` (module docstring)."""
    filled = [b for b in buckets if b.mean_cm is not None and b.count > 0]
    out: list[LevelWindow] = []
    for i, b in enumerate(filled):
        follows = filled[i + 1].start if i + 1 < len(filled) else max(until, b.start)
        end = follows if follows - b.start <= LONGEST_WINDOW else b.end
        assert b.mean_cm is not None  # filtered above
        out.append(LevelWindow(b.start, max(end, b.start), b.mean_cm, b.count))
    return out
