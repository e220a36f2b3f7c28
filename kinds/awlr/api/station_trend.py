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

A page of stations (`station_trends`) asks the same of each, in a few queries for all of them
rather than one (or, from the TSDB, seven) per station: 500 stations took 500 queries and a
third of a second before the rivers page could draw. Stations are taken in spells of
`last_seen_at` (`_spells`): one spell's windows are read at once, over its whole span, then cut
per station to exactly what `station_trend` reads, so the answers are the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.errors import LevelStoreUnavailable
from kinds.awlr.api.models import LevelBucket
from kinds.awlr.api.levels import BucketMean, BucketPlan, LevelStore, PromLevelStore
from kinds.awlr.api.trend import SPAN, LevelTrend, LevelWindow, level_trend
from central.models import LevelPoint, Station

#: Windows are looked for this far before the station's newest reading: a window whose middle
#: lies in the span may start up to half its length before it (windows up to 2 x SPAN long).
LOOKBACK = 2 * SPAN
#: TSDB buckets: a minute, the shortest summary window.
TSDB_BUCKET = timedelta(minutes=1)
#: The longest summary window Tepi's defaults make (10 minutes at Siaga 4).
LONGEST_WINDOW = timedelta(minutes=10)
#: Stations whose newest readings lie this close together are read in one query: the query
#: then spans at most LOOKBACK + SPELL, twice what one station needs (reporting stations are
#: minutes apart; a station silent for a week gets a spell, and a query, of its own).
SPELL = LOOKBACK


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


def station_trends(session: Session, store: LevelStore, stations: Sequence[Station]) -> dict[str, LevelTrend | None]:
    """Station id -> what `station_trend` answers for it, for a page of stations at once."""
    trends: dict[str, LevelTrend | None] = {s.id: None for s in stations}
    for spell in _spells([s for s in stations if s.last_seen_at is not None]):
        windows = _stored_windows_of(session, spell)
        for s in spell:
            trends[s.id] = level_trend(windows.get(s.id, []), _until(s))
    if not isinstance(store, PromLevelStore):  # the embedded series, read above, is all there is
        return trends
    thin = [s for s in stations if s.last_seen_at is not None and trends[s.id] is None]
    for tenant in sorted({s.tenant_id for s in thin}):
        for spell in _spells([s for s in thin if s.tenant_id == tenant]):
            try:
                trends.update(_tsdb_trends(store, tenant, spell))
            except LevelStoreUnavailable:
                pass  # as for one station: no trend rather than no page
    return trends


def _spells(stations: Sequence[Station]) -> list[list[Station]]:
    """Stations with a reading, by `last_seen_at`, cut wherever one's newest reading is more than
    `SPELL` after the first of its group."""
    out: list[list[Station]] = []
    for s in sorted(stations, key=lambda s: (_until(s), s.id)):
        if out and _until(s) - _until(out[-1][0]) <= SPELL:
            out[-1].append(s)
        else:
            out.append([s])
    return out


def _until(station: Station) -> datetime:
    """The newest reading of a station known to have one."""
    assert station.last_seen_at is not None
    return station.last_seen_at


def _stored_windows_of(session: Session, spell: Sequence[Station]) -> dict[str, list[LevelWindow]]:
    """Station id -> the windows `_stored_windows` reads for it, in one query for the spell."""
    p = LevelPoint
    bounds = {s.id: (_until(s) - LOOKBACK, _until(s)) for s in spell}
    rows = session.execute(
        sa.select(p.station_id, p.window_start, p.window_end, p.mean_cm, p.count).where(
            p.station_id.in_(bounds),
            p.window_start >= min(since for since, _ in bounds.values()),
            p.window_start <= max(until for _, until in bounds.values()),
            p.mean_cm.is_not(None),
            p.count > 0,
        )
    ).all()
    out: dict[str, list[LevelWindow]] = {}
    for station_id, start, end, mean, count in rows:
        since, until = bounds[station_id]
        if since <= start <= until:
            out.setdefault(station_id, []).append(LevelWindow(start, max(start, end), float(mean), int(count)))
    return out


def _tsdb_trends(store: PromLevelStore, tenant: str, spell: Sequence[Station]) -> dict[str, LevelTrend | None]:
    """The TSDB's trends of a spell of the tenant's stations, in one query: each station's buckets
    are cut to its own `_tsdb_plan`, so each gets what `_tsdb_windows` would have read."""
    plans = {s.id: _tsdb_plan(_until(s)) for s in spell}
    start = min(p.start for p in plans.values())
    end = max(p.end for p in plans.values())
    means = store.bucket_means(tenant, BucketPlan(start=start, every=TSDB_BUCKET, n=round((end - start) / TSDB_BUCKET)))
    trends: dict[str, LevelTrend | None] = {}
    for s in spell:
        plan = plans[s.id]
        buckets = [b for b in means.get(s.id, []) if plan.start <= b.start < plan.end]
        trends[s.id] = level_trend(tiled_windows(buckets, _until(s)), _until(s))
    return trends


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


def _tsdb_plan(until: datetime) -> BucketPlan:
    """The whole minutes from before `until - LOOKBACK` to past `until`."""
    every_s = TSDB_BUCKET.total_seconds()
    since = until - LOOKBACK
    start = datetime.fromtimestamp(math.floor(since.timestamp() / every_s) * every_s, since.tzinfo)
    return BucketPlan(start=start, every=TSDB_BUCKET, n=math.ceil((until - start) / TSDB_BUCKET) + 1)


def _tsdb_windows(store: LevelStore, station: Station, until: datetime) -> list[LevelWindow]:
    return tiled_windows(store.levels(station.tenant_id, station.id, _tsdb_plan(until)), until)


def tiled_windows(buckets: Sequence[LevelBucket | BucketMean], until: datetime) -> list[LevelWindow]:
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
