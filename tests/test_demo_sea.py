"""The demo's forecasts are valid forecast files that tell the day the demo's story needs."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from core.config import load_config
from core.sea_forecast import SeaForecastFile, parse_sea_forecast
from tepi.demo_sea import FORECAST_HOURS, demo_forecast, with_demo_forecasts

NOW = datetime(2026, 12, 6, 22, 0, tzinfo=timezone.utc)  # 06:00 WITA, when the boats go out


def test_the_demo_forecast_is_current_from_the_start_and_south_of_bali_goes_from_slight_at_dawn_to_rough() -> None:
    fc = parse_sea_forecast(json.dumps(demo_forecast("kab-badung", NOW)))
    assert fc.is_current(NOW) and (fc.valid_until - fc.valid_from).total_seconds() == FORECAST_HOURS * 3600
    south = fc.area("samudra-hindia-selatan-bali")
    strait = fc.area("selat-badung")
    assert south is not None and strait is not None
    morning = south.hour_at(NOW)
    afternoon = south.hour_at(datetime(2026, 12, 7, 7, 0, tzinfo=timezone.utc))  # 15:00 WITA
    assert morning is not None and afternoon is not None
    assert morning.category.code == "rendah" and afternoon.category.code == "tinggi"
    assert all(h.wave_m <= 1.25 and h.wind_kn <= 15 for h in strait.hours())


def test_every_coastal_tenant_of_the_shipped_configuration_gets_a_current_forecast(tmp_path: Path) -> None:
    config = with_demo_forecasts(load_config(), tmp_path, NOW)
    coastal = [t for t in config.tenants if t.sea is not None]
    assert {t.id for t in coastal} == {"kab-badung", "kab-indramayu"}
    for tenant in coastal:
        assert tenant.sea is not None and tenant.sea.forecast_file is not None
        forecast, problem = SeaForecastFile(tenant.sea.forecast_file).read().usable_at(NOW)
        assert problem is None and forecast is not None and forecast.areas
