"""kinds/badge/sample.yaml is a valid deployment of an Indramayu office, and its schedules make
the civil service's week (Perpres 21/2023)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

import kinds
from core.config import TepiConfig, compose_config_model
from kinds.badge.config import CIVIL_SERVICE_SCHEDULE, BadgeDeployment, WorkSchedule

SAMPLE = Path(__file__).resolve().parents[1] / "sample.yaml"


def with_sample_office(default_config: TepiConfig) -> dict[str, Any]:
    """The default deployment with the sample merged in, under a gateway of Indramayu's."""
    data = default_config.model_dump(mode="json", exclude_defaults=True)
    sample = yaml.safe_load(SAMPLE.read_text())
    data["attendance"] = sample["attendance"]
    data["offices"] = sample["offices"]
    data["devices"] = sample["devices"]
    data["gateway"] |= {"id": "gw-bkpsdm", "tenant": "kab-indramayu"}
    for t in data["tenants"]:
        t.pop("sea", None)  # no sea files to check here
    return data


def weekly_hours(schedule: WorkSchedule, break_min: int, friday_break_min: int) -> float:
    total = timedelta()
    for weekday in range(7):
        hours = schedule.hours(weekday)
        if hours is not None:
            start, end = (datetime.combine(date(2026, 1, 5), t) for t in hours)
            total += end - start - timedelta(minutes=friday_break_min if weekday == 4 else break_min)
    return total.total_seconds() / 3600


@pytest.fixture(scope="module")
def deployment(default_config: TepiConfig) -> BadgeDeployment:
    """Validated by the model of every registered kind's sections, the badge kind's included
    (added here while `kinds.KINDS` does not name it yet)."""
    models = kinds.config_models()
    model = compose_config_model(models if BadgeDeployment in models else [*models, BadgeDeployment])
    return model.model_validate(with_sample_office(default_config))


def test_the_sample_office_and_its_scanners(deployment: BadgeDeployment) -> None:
    office = deployment.office("bkpsdm")
    assert office.tenant == "kab-indramayu" and office.require_eid
    scanners = [d for d in deployment.devices if d.kind == "badge"]
    assert len(scanners) == 2 and {deployment.device_office(d).id for d in scanners} == {"bkpsdm"}
    assert {d.transport for d in scanners} == {"mqtt"}
    assert deployment.platform_timezone("bkpsdm") == "Asia/Jakarta"


def test_the_sample_holidays_are_2026s_25_days(deployment: BadgeDeployment) -> None:
    rules = deployment.tenant_attendance("kab-indramayu")
    assert len(rules.holidays) == len(set(rules.holidays)) == 17 + 8  # national + cuti bersama
    assert all(d.year == 2026 for d in rules.holidays)
    assert date(2026, 3, 20) in rules.holidays and date(2026, 8, 17) in rules.holidays


def test_schedules_make_the_civil_service_week(deployment: BadgeDeployment) -> None:
    """37 h 30 min without the 60-minute breaks (Friday 90); in Ramadan 32 h 30 min without the
    30-minute breaks (Friday 60), from 08:00."""
    rules = deployment.tenant_attendance("kab-indramayu")
    assert rules.schedule(None) == rules.schedule("pns-5-hari")
    assert rules.schedule("pns-5-hari").days == CIVIL_SERVICE_SCHEDULE.days
    assert weekly_hours(CIVIL_SERVICE_SCHEDULE, 60, 90) == 37.5
    ramadan = rules.schedule("pns-ramadan")
    assert weekly_hours(ramadan, 30, 60) == 32.5
    assert {ramadan.hours(d)[0].isoformat() for d in range(5)} == {"08:00:00"}
