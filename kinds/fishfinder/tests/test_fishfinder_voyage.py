"""The simulated fishing trips: at sea all the way, back home at the end, the same whatever the
pace, and plausible instruments. Land is judged by the GLOBE 30″ mask (global-land-mask)."""

from __future__ import annotations

import dataclasses
import functools
import math
from datetime import date, datetime, time, timedelta, timezone

import numpy as np
import pytest
import shapely

from kinds.fishfinder.sim import harbours as hb
from kinds.fishfinder.sim.voyage import (
    DEFAULT_FLEET,
    PHASES,
    BoatDay,
    TrackArrays,
    VoyagePlan,
    plan_fleet,
    phase_names,
    plan_voyage,
)
from kinds.fishfinder.values import Depth, Fix, WaterTemp

DAY = date(2025, 3, 3)
EARTH_R = 6_371_008.8
SAMPLE_M = 100.0


@functools.cache
def is_land():
    """The mask (~0.9 GB in memory, ~5 s to load) is loaded once per test session, on first use."""
    from global_land_mask import globe

    return globe.is_land


def haversine_m(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.subtract(lon2, lon1)) / 2) ** 2
    return 2 * EARTH_R * np.arcsin(np.sqrt(a))


def every_100_m(lat, lon):
    """Points every 100 m along a polyline (its vertices joined by straight lines in lat/lon)."""
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    along = np.r_[0.0, np.cumsum(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]))]
    at = np.r_[np.arange(0.0, along[-1], SAMPLE_M), along[-1]]
    return np.interp(at, along, lat), np.interp(at, along, lon)


def land_points(lat, lon):
    la, lo = every_100_m(lat, lon)
    land = is_land()(la, lo)
    return list(zip(np.round(la[land], 4), np.round(lo[land], 4)))


def boat_for(harbour: str, ground: str, fishing_h: float = 4.0) -> BoatDay:
    return BoatDay(f"test-{harbour}-{ground}", hb.HARBOURS[harbour].tenant, harbour, ground, time(5, 0), fishing_h)


def full_track(plan: VoyagePlan) -> TrackArrays:
    """Every second from departure, and the moment of arrival."""
    return plan.sample(np.append(np.arange(0.0, plan.duration_s, 1.0), plan.duration_s))


# --- harbours and lanes -------------------------------------------------------------------------

# Kabupaten Badung spans 08°14′17″-08°50′57″ S, 115°05′02″-115°15′09″ E (STPN Press 2015,
# https://online.flipbuilder.com/STPNPress/zrcm/files/basic-html/page168.html).
BADUNG_LAT = (-(8 + 50 / 60 + 57 / 3600), -(8 + 14 / 60 + 17 / 3600))
BADUNG_LON = (115 + 5 / 60 + 2 / 3600, 115 + 15 / 60 + 9 / 3600)


def test_badung_harbours_lie_in_badung_and_have_a_source():
    for h in hb.HARBOURS.values():
        assert "http" in h.source, h.key
        if h.tenant == hb.TENANT_BADUNG:
            assert BADUNG_LAT[0] <= h.quay[0] <= BADUNG_LAT[1], h.key
            assert BADUNG_LON[0] <= h.quay[1] <= BADUNG_LON[1], h.key


def test_voyages_start_at_sea_just_off_the_quay():
    for h in hb.HARBOURS.values():
        assert not is_land()(*h.offing), h.key
        assert haversine_m(*h.quay, *h.offing) < 1500.0, h.key


@pytest.mark.parametrize("harbour,ground", sorted(hb.ROUTES))
def test_lanes_and_grounds_are_at_sea(harbour: str, ground: str):
    wp = np.array(hb.outbound_waypoints(harbour, ground))
    assert land_points(wp[:, 0], wp[:, 1]) == []
    # The ground and the whole area between it and the last waypoint, on a ~100 m grid.
    g = hb.GROUNDS[ground]
    kx = EARTH_R * math.cos(math.radians(g.centre[0])) * math.pi / 180
    ky = EARTH_R * math.pi / 180
    ring = [(g.centre[1] + g.radius_m * math.cos(a) / kx, g.centre[0] + g.radius_m * math.sin(a) / ky)
            for a in np.linspace(0, 2 * math.pi, 90)]
    hull = shapely.MultiPoint([*ring, (wp[-1, 1], wp[-1, 0])]).convex_hull
    x0, y0, x1, y1 = hull.bounds
    gx, gy = np.meshgrid(np.arange(x0, x1, SAMPLE_M / kx), np.arange(y0, y1, SAMPLE_M / ky))
    inside = shapely.contains_xy(hull, gx, gy)
    assert inside.sum() > 100
    assert not is_land()(gy[inside], gx[inside]).any()


def test_lanes_are_unknown_between_unjoined_places():
    with pytest.raises(ValueError, match="no route"):
        hb.route("karangsong", "selatan-bukit")


# --- the trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("harbour,ground", sorted(hb.ROUTES))
def test_voyage_stays_at_sea(harbour: str, ground: str):
    for seed in (1, 2):
        plan = plan_voyage(boat_for(harbour, ground), DAY, np.random.default_rng(seed))
        s = full_track(plan)
        assert land_points(s.lat, s.lon) == []


def test_boats_return_to_their_harbour_after_fishing_on_their_ground():
    for plan in plan_fleet(DAY, np.random.default_rng(7)):
        s = full_track(plan)
        off = plan.harbour.offing
        assert haversine_m(s.lat[0], s.lon[0], *off) < 10.0, plan.boat_id
        assert haversine_m(s.lat[-1], s.lon[-1], *off) < 10.0, plan.boat_id
        names = phase_names(s.phase)
        assert names[0] == "harbour" and names[-1] == "harbour", plan.boat_id
        fishing = s.phase == PHASES.index("fishing")
        hours = fishing.sum() / 3600.0
        scheduled = next(b.fishing_h for b in DEFAULT_FLEET if b.boat_id == plan.boat_id)
        assert scheduled <= hours <= scheduled + 0.5, plan.boat_id
        gap = haversine_m(s.lat[fishing], s.lon[fishing], *plan.ground.centre)
        assert gap.max() <= plan.ground.radius_m, plan.boat_id
        assert (s.sog_kn[fishing] < 4.5).all(), plan.boat_id
        # Outbound before fishing before return.
        first = {p: names.index(p) for p in ("outbound", "fishing", "return")}
        assert first["outbound"] < first["fishing"] < first["return"], plan.boat_id


def test_fleet_has_two_tenants_with_their_own_harbours_grounds_and_departures():
    plans = plan_fleet(DAY, np.random.default_rng(3))
    assert {p.tenant for p in plans} == {hb.TENANT_BADUNG, hb.TENANT_INDRAMAYU}
    for p in plans:
        assert p.harbour.tenant == p.tenant and p.ground.tenant == p.tenant
        assert p.departure.tzinfo is not None and p.departure.utcoffset() == timedelta(0)
    assert len({p.departure for p in plans}) == len(plans)
    for tenant in (hb.TENANT_BADUNG, hb.TENANT_INDRAMAYU):
        assert len({p.ground.key for p in plans if p.tenant == tenant}) >= 2


def test_departure_is_the_local_morning_time_with_a_little_jitter():
    for p in plan_fleet(DAY, np.random.default_rng(11)):
        boat = next(b for b in DEFAULT_FLEET if b.boat_id == p.boat_id)
        zone = timezone(timedelta(hours=p.sea_area.utc_offset_h))
        scheduled = datetime.combine(DAY, boat.departure_local, zone)
        assert abs((p.departure - scheduled).total_seconds()) <= 1800


def test_same_seed_same_trip_and_a_different_seed_a_different_one():
    a = full_track(plan_voyage(boat_for("benoa", "selat-badung"), DAY, np.random.default_rng(5)))
    b = full_track(plan_voyage(boat_for("benoa", "selat-badung"), DAY, np.random.default_rng(5)))
    c = full_track(plan_voyage(boat_for("benoa", "selat-badung"), DAY, np.random.default_rng(6)))
    np.testing.assert_array_equal(a.lat, b.lat)
    np.testing.assert_array_equal(a.depth_m, b.depth_m)
    assert a.lat.size != c.lat.size or not np.array_equal(a.lat, c.lat)


def test_readings_depend_on_simulated_time_only_not_on_the_pace():
    plan = plan_voyage(boat_for("karangsong", "utara-karangsong"), DAY, np.random.default_rng(9))
    every_second = full_track(plan)
    rng = np.random.default_rng(0)
    picked = rng.choice(every_second.t_s.size, 500, replace=False)  # any order, any spacing
    fast = plan.sample(every_second.t_s[picked])
    for name in ("lat", "lon", "sog_kn", "depth_m", "temp_c"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(every_second, name)[picked])
    ts = plan.departure + timedelta(seconds=int(every_second.t_s[picked[0]]))
    fix, depth, temp = plan.readings_at(ts)
    assert (fix.lat, fix.lon, depth.depth_m, temp.temp_c) == (
        every_second.lat[picked[0]], every_second.lon[picked[0]],
        every_second.depth_m[picked[0]], every_second.temp_c[picked[0]],
    )


def test_readings_stream_covers_the_trip_with_utc_values():
    plan = plan_voyage(boat_for("jimbaran", "teluk-jimbaran", 1.0), DAY, np.random.default_rng(2))
    out = list(plan.readings(step_s=10.0))
    assert len(out) == math.floor(plan.duration_s / 10.0) + 1
    fix, depth, temp = out[0]
    assert isinstance(fix, Fix) and isinstance(depth, Depth) and isinstance(temp, WaterTemp)
    assert fix.ts == plan.departure and fix.ts.utcoffset() == timedelta(0)
    assert [f.ts for f, _, _ in out[:3]] == [plan.departure + timedelta(seconds=10 * i) for i in range(3)]
    assert fix.ts == depth.ts == temp.ts


def test_reported_speed_and_course_agree_with_the_positions():
    plan = plan_voyage(boat_for("kedonganan", "selatan-bukit"), DAY, np.random.default_rng(4))
    s = plan.sample(np.arange(0.0, plan.duration_s, 10.0))
    d = haversine_m(s.lat[:-1], s.lon[:-1], s.lat[1:], s.lon[1:])
    sog_from_fixes = d / 10.0 / (1852 / 3600)
    running = (s.phase[:-1] == PHASES.index("outbound")) & (s.phase[:-1] == s.phase[1:])
    running &= np.abs(np.diff(s.cog_deg)) < 10.0  # not across a waypoint
    assert running.sum() > 100
    np.testing.assert_allclose(sog_from_fixes[running], s.sog_kn[:-1][running], rtol=0.1)
    dy = np.radians(s.lat[1:] - s.lat[:-1])
    dx = np.radians(s.lon[1:] - s.lon[:-1]) * np.cos(np.radians(s.lat[:-1]))
    bearing = np.degrees(np.arctan2(dx, dy)) % 360
    diff = (bearing[running] - s.cog_deg[:-1][running] + 180) % 360 - 180
    assert np.abs(diff).max() < 5.0


def test_depth_is_shallow_inshore_deeper_offshore_and_temperature_tropical():
    deep = {}
    for plan in plan_fleet(DAY, np.random.default_rng(8)):
        s = full_track(plan)
        assert (s.depth_m > 0).all() and np.isfinite(s.depth_m).all()
        assert ((s.temp_c >= 27.0) & (s.temp_c <= 30.0)).all()
        assert s.temp_c.std() > 0.02  # it does vary
        assert s.depth_m[0] < 15.0, plan.boat_id
        fishing = s.phase == PHASES.index("fishing")
        assert np.median(s.depth_m[fishing]) > 2 * s.depth_m[0], plan.boat_id
        deep.setdefault(plan.sea_area.key, []).append(np.median(s.depth_m[fishing]))
    # Off south Bali the sea floor drops away; the Java Sea is a shallow shelf (mean 46 m).
    assert min(deep["south-bali"]) > max(deep["java-sea-indramayu"])
    assert max(deep["java-sea-indramayu"]) < 60.0


def test_moored_before_departure_and_after_arrival():
    plan = plan_voyage(boat_for("benoa", "lepas-nusa-dua"), DAY, np.random.default_rng(1))
    s = plan.sample([-600.0, plan.duration_s + 600.0])
    assert phase_names(s.phase) == ["moored", "moored"]
    assert (s.sog_kn == 0).all() and np.isnan(s.cog_deg).all()
    fix, _, _ = plan.readings_at(plan.departure - timedelta(hours=1))
    assert fix.cog_deg is None and fix.sog_kn == 0.0


@pytest.mark.parametrize(
    "change,match",
    [
        (dict(tenant=hb.TENANT_INDRAMAYU), "cannot sail"),
        (dict(harbour="pengambengan"), "unknown harbour"),
        (dict(ground="selat-badung"), "no route"),
        (dict(fishing_h=0.0), "fishing_h"),
        (dict(fishing_h=float("nan")), "fishing_h"),
        (dict(transit_kn=(9.0, 7.0)), "transit_kn"),
    ],
)
def test_bad_boat_day_is_a_value_error(change, match):
    boat = boat_for("kedonganan", "selatan-bukit")
    boat = dataclasses.replace(boat, **change)
    with pytest.raises(ValueError, match=match):
        plan_voyage(boat, DAY, np.random.default_rng(1))


def test_bad_call_is_a_value_error():
    boat = boat_for("kedonganan", "selatan-bukit")
    with pytest.raises(ValueError, match="Generator"):
        plan_voyage(boat, DAY, 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="date"):
        plan_voyage(boat, datetime(2025, 3, 3, tzinfo=timezone.utc), np.random.default_rng(1))
    with pytest.raises(ValueError, match="unique"):
        plan_fleet(DAY, np.random.default_rng(1), [boat, boat])
    plan = plan_voyage(boat, DAY, np.random.default_rng(1))
    with pytest.raises(ValueError, match="finite"):
        plan.sample([0.0, float("nan")])
    with pytest.raises(ValueError, match="timezone-aware"):
        plan.readings_at(datetime(2025, 3, 3, 6, 0))
    with pytest.raises(ValueError, match="step_s"):
        next(plan.readings(step_s=0))
