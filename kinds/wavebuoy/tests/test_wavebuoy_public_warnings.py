"""A sea area's `marine` warning on the public page's list (`GET /public/warnings`), as its CAP message words it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from api_people import BADUNG_TENANT
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

# The Badung sea app of the marine API tests (imported by name, as this folder is on the path).
from test_wavebuoy_marine_api import NOW, SEAS, forecast_path, sea_client, sea_config  # noqa: F401
from wavebuoy_marine_seas import forecast_doc, write_forecast

from central.db import writer
from core.config import TepiConfig
from kinds.wavebuoy.marine_alerts import MarineWatch

WARNINGS = "/api/v1/public/warnings"


def test_a_sea_area_warning_is_listed_while_in_force(
    sea_client: TestClient, engine: Engine, sea_config: TepiConfig, forecast_path: Path  # noqa: F811
) -> None:
    watch = MarineWatch.from_config(sea_config, every_s=0)
    write_forecast(forecast_path, forecast_doc(NOW - timedelta(hours=1), 24, {**SEAS, "perairan-selatan-bali": (4.5, 35.0)}))
    with Session(writer(engine)) as s, s.begin():
        watch.poll(s, NOW)
    anyone = TestClient(sea_client.app)
    anyone.portal = sea_client.portal  # the same running app, without the officer's key
    [sea] = [w for w in anyone.get(WARNINGS, params={"tenant": BADUNG_TENANT}).json()["data"] if w["type"] == "marine"]
    assert (sea["station"], sea["area"], sea["place"], sea["siaga"], sea["severity"]) == (
        None, "perairan-selatan-bali", "Perairan Selatan Bali", None, "critical"
    )  # fmt: skip
    assert sea["category"] == {"code": "sangat_tinggi", "label_id": "Sangat Tinggi", "label_en": "Very rough"}  # the page's badge
    assert sea["headline_id"].startswith("Gelombang tinggi di Perairan Selatan Bali: 4.5 m (Sangat Tinggi)")
    assert sea["headline_en"].startswith("High waves in Perairan Selatan Bali")

    calm = {**SEAS, "perairan-selatan-bali": (0.9, 10.0)}
    write_forecast(forecast_path, forecast_doc(NOW - timedelta(hours=1), 24, calm))  # the alert clears
    with Session(writer(engine)) as s, s.begin():
        watch.poll(s, NOW)
    assert [w for w in anyone.get(WARNINGS, params={"tenant": BADUNG_TENANT}).json()["data"] if w["type"] == "marine"] == []
