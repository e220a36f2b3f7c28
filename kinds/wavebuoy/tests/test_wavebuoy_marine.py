"""Marine conditions judged for small boats (pure): BMKG categories, the small-boat limits with
their reasons, severities, the clearing margin, and a forecast's areas at a time."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from wavebuoy_marine_seas import forecast_doc

from core.sea_forecast import parse_sea_forecast
from kinds.wavebuoy.marine import SmallBoatLimits, area_conditions, judge, ring_lat_lon, worst

BMKG = SmallBoatLimits()  # 1.25 m, 15 kn
T0 = datetime(2026, 12, 7, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("wave", "wind", "code", "above", "severity", "eased"),
    [
        (0.3, 5.0, "tenang", False, None, True),
        (1.0, 12.0, "rendah", False, None, True),
        (1.25, 15.0, "sedang", False, None, False),  # on the limits: not above, not eased either
        (1.2, 14.0, "rendah", False, None, False),  # within the margin below the limits
        (1.12, 13.5, "rendah", False, None, True),  # 90 % of both limits
        (1.0, 16.0, "rendah", True, "warning", False),  # wind alone
        (1.6, 10.0, "sedang", True, "minor", False),
        (3.0, 25.0, "tinggi", True, "major", False),
        (4.5, 30.0, "sangat_tinggi", True, "critical", False),
        (7.0, 45.0, "ekstrem", True, "critical", False),
    ],
)
def test_conditions_against_bmkg_small_boat_limits(wave, wind, code, above, severity, eased) -> None:
    c = judge(wave, wind, BMKG)
    assert (c.category.code, c.above_limits, c.severity, c.eased) == (code, above, severity, eased)
    assert len(c.reasons) == (wave > 1.25) + (wind > 15.0)


def test_reasons_say_which_limit_and_by_how_much() -> None:
    c = judge(3.0, 25.0, BMKG)
    assert c.reasons == (
        "wave 3 m above the small-boat limit of 1.25 m (Rough)",
        "wind 25 kn above the small-boat limit of 15 kn",
    )
    assert c.category.label_id == "Tinggi"


def test_a_tenant_with_stricter_limits_is_warned_earlier() -> None:
    strict = SmallBoatLimits(wave_m=1.0, wind_kn=12.0)
    c = judge(1.1, 10.0, strict)
    assert c.above_limits and c.severity == "warning" and c.category.code == "rendah"


def test_a_buoy_without_wind_is_judged_on_its_waves() -> None:
    assert judge(0.8, None, BMKG).eased
    assert judge(0.8, float("nan"), BMKG).wind_kn is None
    assert judge(2.0, None, BMKG).reasons == ("wave 2 m above the small-boat limit of 1.25 m (Moderate)",)


@pytest.mark.parametrize(("wave", "wind"), [(-0.1, 5.0), (float("nan"), 5.0), (float("inf"), 5.0), (1.0, -1.0), (1.0, float("inf"))])
def test_impossible_values_are_refused(wave: float, wind: float) -> None:
    with pytest.raises(ValueError):
        judge(wave, wind, BMKG)


@pytest.mark.parametrize(("wave", "wind"), [(0.0, 15.0), (1.25, 0.0), (float("nan"), 15.0), (-1.0, 15.0)])
def test_impossible_limits_are_refused(wave: float, wind: float) -> None:
    with pytest.raises(ValueError):
        SmallBoatLimits(wave, wind)


def test_each_area_gets_the_hour_valid_at_the_time() -> None:
    doc = forecast_doc(T0, 6, {"selat-badung": (0.8, 10.0), "perairan-selatan-bali": (2.8, 22.0)})
    # South of Bali worsens from the fourth hour.
    for hour in doc["features"][1]["properties"]["hours"][3:]:
        hour.update(wave_m=4.2, wind_kn=32.0)
    fc = parse_sea_forecast(json.dumps(doc))
    now = {a.area.id: a for a in area_conditions(fc, T0 + timedelta(minutes=90), BMKG)}
    assert now["selat-badung"].conditions is not None and not now["selat-badung"].conditions.above_limits
    south = now["perairan-selatan-bali"]
    assert south.hour is not None and south.hour.start == T0 + timedelta(hours=1)
    assert south.conditions is not None and south.conditions.severity == "major"
    later = {a.area.id: a for a in area_conditions(fc, T0 + timedelta(hours=3, minutes=1), BMKG)}
    assert later["perairan-selatan-bali"].conditions.category.code == "sangat_tinggi"  # type: ignore[union-attr]
    outside = area_conditions(fc, T0 + timedelta(hours=7), BMKG)
    assert all(a.hour is None and a.conditions is None for a in outside)  # nothing known: never calm
    with pytest.raises(ValueError):
        area_conditions(fc, datetime(2026, 12, 7, 1), BMKG)


def test_worst_severity() -> None:
    assert worst([None, "minor", "critical", "warning"]) == "critical"
    assert worst([None, None]) is None


def test_an_area_polygon_reads_lat_lon_closed_for_cap() -> None:
    fc = parse_sea_forecast(json.dumps(forecast_doc(T0, 1, {"selat-badung": (0.8, 10.0)})))
    ring = ring_lat_lon(fc.areas[0])
    assert ring[0] == ring[-1] == (-8.78, 115.28)
    assert all(-9 < lat < -8 and 115 < lon < 116 for lat, lon in ring)
