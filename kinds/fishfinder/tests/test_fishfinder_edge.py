"""The fish-finder's gateway side on a simulated trip: the boat simulator's lines through the
kind's decoder and a boat processor, compared with the simulator's own truth."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

from contract.downlink import KindDownlink
from core.config import DeviceConfig, parse_config
from gateway.errors import FrameRejected
from gateway.model import RawFrame
from kinds.fishfinder.edge import KIND
from kinds.fishfinder.edge.processor import CANCEL_REPEAT, SEA_WINDOW_S, SOS_REPEAT_S, BoatProcessor
from kinds.fishfinder.edge.reading import reading_of
from kinds.fishfinder.edge.track import EARTH_RADIUS_M
from kinds.fishfinder.items import DistressCall, SchoolSighting, SeaSummary, SosStatus, Track
from kinds.fishfinder.sim.boat import BoatInstruments, SosPress
from kinds.fishfinder.sim.voyage import DEFAULT_FLEET, PHASES, plan_fleet
from kinds.fishfinder.values import Depth, Distress, Fix, WaterTemp

DAY = date(2026, 3, 1)
KRS = next(b for b in DEFAULT_FLEET if b.boat_id == "perahu-krs-01")  # the bottom stays within range
DEVICE = DeviceConfig(id="ff-krs", kind="fishfinder", platform="perahu-krs-01", transport="serial")
TEPI = parse_config({
    "tenants": [{"id": "jatim", "name": "Jawa Timur"}], "stations": [], "devices": [DEVICE.model_dump()],
    "gateway": {"id": "gw-krs", "tenant": "jatim"},
})


def boat(seed: int = 5, presses=()) -> BoatInstruments:
    return BoatInstruments(plan_fleet(DAY, np.random.default_rng(seed), (KRS,))[0], 11, presses=presses)


def fishing_start(b: BoatInstruments) -> int:
    secs = np.arange(0, b.last_second, 30)
    phase = b.plan.sample(secs.astype(float)).phase
    return int(secs[np.flatnonzero(phase == PHASES.index("fishing"))[0]])


def run(b: BoatInstruments, first: int, count: int, garble: float = 0.0) -> tuple[BoatProcessor, list, Counter, list]:
    """The trip's lines as serial frames through the kind and one processor, as the gateway does."""
    proc = KIND.processor(TEPI, DEVICE)
    items: list = []
    rejected: Counter[str] = Counter()
    values: list = []
    for block in range(first, first + count, 60):
        n = min(60, first + count - block)
        sent, second = 0, -1
        for line in b.lines(block, n, garble_fraction=garble):
            if line.second != second:
                sent, second = 0, line.second
            sent += len(line.wire)  # received as its last byte arrives on a 38,400-baud line
            rx = b.timestamp(block + line.second) + timedelta(seconds=sent / 3840)
            decoded = KIND.decode(RawFrame("serial", line.wire, DEVICE.id, rx), DEVICE, proc, TEPI.gateway)
            rejected.update(r.reason for r in decoded.rejected)
            for r in decoded.readings:
                try:
                    proc.accept(r)
                except FrameRejected as rej:
                    rejected[rej.reason] += 1
                    continue
                values.append(r.value)
        items += proc.process()
    items += proc.due(datetime.max.replace(tzinfo=timezone.utc))
    return proc, items, rejected, values


@pytest.fixture(scope="module")
def trip():
    b = boat()
    first = fishing_start(b)
    return b, first, 1800, *run(b, first, 1800)


def metres(lat1, lon1, lat2, lon2) -> float:
    k = math.pi / 180 * EARTH_RADIUS_M
    return math.hypot((lon2 - lon1) * k * math.cos(math.radians(lat1)), (lat2 - lat1) * k)


def test_the_track_is_within_the_thinning_bound_of_every_fix(trip):
    b, first, count, proc, items, _, values = trip
    points = [p for t in items if isinstance(t, Track) for p in t.points]
    t_kept = np.array([p[0] / 1e6 for p in points])
    assert np.all(np.diff(t_kept) > 0), "tracks follow each other without overlap"
    fixes = [v for v in values if isinstance(v, Fix)]
    assert len(points) < len(fixes) / 5, (len(points), len(fixes))
    worst = 0.0
    for f in fixes:
        t = f.ts.timestamp()
        i = int(np.searchsorted(t_kept, t))
        if i == 0 or i == len(t_kept):
            assert i != len(t_kept) or t <= t_kept[-1] + 1e-6
            continue
        a, c = points[i - 1], points[i]
        w = (t - t_kept[i - 1]) / (t_kept[i] - t_kept[i - 1])
        worst = max(worst, metres(f.lat, f.lon, a[1] + w * (c[1] - a[1]), a[2] + w * (c[2] - a[2])))
    assert worst <= proc.thinner.tolerance_m + 0.5, worst


def test_schools_found_match_the_simulator_truth(trip):
    b, first, count, _, items, _, _ = trip
    found = [s for s in items if isinstance(s, SchoolSighting)]
    truth = [s for s in b.schools(first, count) if s.full_rate]

    def overlaps(d, o) -> bool:
        return d.start <= o.end and o.start <= d.end and d.top_m < o.bottom_m and o.top_m < d.bottom_m

    assert len(truth) >= 20
    precision = sum(any(overlaps(d, o) for o in truth) for d in found) / len(found)
    recall = sum(any(overlaps(d, o) for d in found) for o in truth) / len(truth)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall, len(found), len(truth))
    located = [d for d in found if d.lat is not None]
    assert len(located) == len(found)


def test_sea_summaries_equal_numpy_on_the_same_values(trip):
    _, _, _, _, items, _, values = trip
    summaries = [s for s in items if isinstance(s, SeaSummary)]
    assert len(summaries) >= 3
    for s in summaries:
        lo, hi = s.window_start.timestamp(), s.window_end.timestamp()
        assert hi - lo == SEA_WINDOW_S
        depth = np.array([v.depth_m for v in values if isinstance(v, Depth) and lo <= v.ts.timestamp() < hi])
        temp = np.array([v.temp_c for v in values if isinstance(v, WaterTemp) and lo <= v.ts.timestamp() < hi])
        assert s.depth_count == depth.size and s.temp_count == temp.size
        assert s.depth_min_m == depth.min() and s.depth_max_m == depth.max()
        assert s.depth_mean_m == pytest.approx(depth.mean(), rel=1e-12)
        assert s.temp_min_c == temp.min() and s.temp_max_c == temp.max()
        assert s.temp_mean_c == pytest.approx(temp.mean(), rel=1e-12)


def test_every_item_is_stored_at_its_priority_with_a_body_that_validates(trip):
    items = trip[4]
    kinds = Counter(type(i).__name__ for i in items)
    assert kinds["Track"] and kinds["SeaSummary"] and kinds["SchoolSighting"]
    for item in items:
        stored = KIND.stored(item, "gw-krs")
        assert type(item).model_validate_json(stored.body) == item
        assert stored.priority == {"Track": 2, "SeaSummary": 2, "SchoolSighting": 1}[type(item).__name__]


def test_garbled_nmea_is_counted_by_reason_and_never_fatal():
    b = boat()
    first = fishing_start(b)
    _, items, rejected, values = run(b, first, 300, garble=0.05)
    assert sum(rejected.values()) > 50, rejected
    assert {"checksum"} <= set(rejected), rejected
    assert any(isinstance(v, Fix) for v in values) and items


def test_a_journalled_reading_comes_back_as_it_was():
    ts = datetime(2026, 3, 1, 6, tzinfo=timezone.utc)
    for value in (Fix(ts, -6.9, 112.7, 4.5, None), Depth(ts, 31.25), WaterTemp(ts, 28.5), Distress(ts, 3, "sinking", True, None, None)):
        r = reading_of("ff-krs", value)
        assert KIND.from_journal(r.device, r.seq, ts, KIND.journal_body(r)) == r
    with pytest.raises(ValueError):
        KIND.from_journal("ff-krs", 0, ts, b"\x00\x01")


def _status(press: int, status: str) -> KindDownlink:
    body = SosStatus(vessel="perahu-krs-01", press=press, incident=7, status=status, at=datetime.now(timezone.utc)).model_dump_json()
    return KindDownlink("fishfinder", "sos_status", body.encode())


def test_an_sos_is_called_at_once_repeated_every_minute_until_acknowledged():
    b = boat()
    first = fishing_start(b)
    press_at = b.timestamp(first + 20)
    b = boat(presses=(SosPress(press_at, "sinking"),))
    proc, items, _, _ = run(b, first, 200)
    calls = [i for i in items if isinstance(i, DistressCall)]
    assert [(c.press, c.repeat, c.active, c.nature) for c in calls] == [(1, 0, True, "sinking")]
    assert KIND.stored(calls[0], "gw").priority == 0 and calls[0].lat is not None
    sos_tracks = [t for t in items if isinstance(t, Track) and t.distress]
    assert len(sos_tracks) >= 5 and all(KIND.stored(t, "gw").priority == 0 for t in sos_tracks)
    # Spaced by the gateway's own clock from when it first saw the press, whatever GNSS says.
    seen = press_at + timedelta(hours=3)
    assert proc.tick(seen) == []
    repeat = proc.tick(seen + timedelta(seconds=SOS_REPEAT_S + 1))
    assert [(c.repeat, c.id != calls[0].id) for c in repeat] == [(1, True)]
    assert proc.tick(seen + timedelta(seconds=SOS_REPEAT_S + 30)) == []
    # A gateway that was off sends one repeat, the next number: numbers are never reused.
    assert [c.repeat for c in proc.tick(seen + timedelta(seconds=5 * SOS_REPEAT_S + 1))] == [2]
    assert proc.on_downlink(_status(1, "received"))[0].status == "received"
    assert [c.repeat for c in proc.tick(seen + timedelta(seconds=6 * SOS_REPEAT_S + 2))] == [3]
    acknowledged = proc.on_downlink(_status(1, "acknowledged"))
    assert b"help acknowledged" in (KIND.alarm(acknowledged[0]) or b"")
    assert proc.tick(seen + timedelta(seconds=60 * SOS_REPEAT_S)) == []
    other_boat = _status(1, "acknowledged").body.replace(b"perahu-krs-01", b"perahu-lain-02")
    assert proc.on_downlink(KindDownlink("fishfinder", "sos_status", other_boat)) == []


def test_a_cancel_stops_the_repeats_and_is_sent_once():
    b = boat()
    first = fishing_start(b)
    press_at = b.timestamp(first + 10)
    b = boat(presses=(SosPress(press_at, release=press_at + timedelta(seconds=40)),))
    proc, items, _, _ = run(b, first, 120)
    calls = [(c.repeat, c.active) for c in items if isinstance(c, DistressCall)]
    assert calls == [(0, True), (CANCEL_REPEAT, False)]
    assert proc.tick(press_at + timedelta(seconds=10 * SOS_REPEAT_S)) == []
