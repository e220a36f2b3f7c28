"""A vessel's sailing figures (speed, fuel use, wave and wind limits) are bounded when it is
registered, enrolled from the command line or a fleet file, and when `tepi admin vessel set`
changes them later."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from central.db import writer
from kinds.fishfinder.state import Vessel, register_vessel
from tepi.admin_cli import admin_app
from tepi.vessel_cli import read_fleet

NOW = datetime(2026, 12, 7, 6, tzinfo=timezone.utc)


def _admin(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(admin_app, list(args))
    return result.exit_code, result.output


def _figures(engine: Engine, vessel_id: str) -> tuple[float, float, float, float]:
    with Session(engine) as s:
        v = s.get(Vessel, vessel_id)
        assert v is not None
        return v.speed_kn, v.fuel_l_per_h, v.wave_limit_m, v.wind_limit_kn


@pytest.mark.parametrize(
    ("figure", "value", "says"),
    [
        ("wave_limit_m", 50.0, "wave_limit_m 50.0 is beyond 9 m: BMKG's \"ekstrem\" waves end at 9 m"),
        ("wind_limit_kn", 500.0, "wind_limit_kn 500.0 is beyond 64 kn: hurricane force (Beaufort 12)"),
        ("speed_kn", 61.0, "speed_kn 61.0 is beyond 60 kn"),
        ("fuel_l_per_h", 2001.0, "fuel_l_per_h 2001.0 is beyond 2000 l/h"),
        ("wave_limit_m", -1.0, "wave_limit_m must be zero or more"),
        ("wind_limit_kn", float("nan"), "wind_limit_kn must be zero or more"),
    ],
)
def test_registering_a_vessel_refuses_figures_beyond_their_bounds(engine: Engine, figure: str, value: float, says: str) -> None:
    with Session(writer(engine)) as s, s.begin():
        with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(")", r"\)")):
            register_vessel(s, vessel_id="km-batas", tenant="kab-badung", name="KM Batas", home_port="benoa",
                            gateway_id="gw-km-batas", now=NOW, **{figure: value})  # fmt: skip
        register_vessel(s, vessel_id="km-batas", tenant="kab-badung", name="KM Batas", home_port="benoa", gateway_id="gw-km-batas",
                        now=NOW, speed_kn=60, fuel_l_per_h=2000, wave_limit_m=9, wind_limit_kn=64)  # fmt: skip
    assert _figures(engine, "km-batas") == (60.0, 2000.0, 9.0, 64.0)


def test_vessel_add_refuses_absurd_limits_naming_the_option_and_its_bound(tmp_path: Path) -> None:
    """Checked before anything is opened: no database or broker files are needed to refuse it."""
    code, out = _admin(CliRunner(), "vessel", "add", "km-uji", "-t", "kab-badung", "-n", "KM Uji", "--home-port", "benoa",
                       "--mqtt-dir", str(tmp_path), "--wave-limit-m", "50", "--wind-limit-kn", "500")  # fmt: skip
    assert code == 2, out
    assert "--wave-limit-m 50.0 is beyond 9 m" in out
    code, out = _admin(CliRunner(), "vessel", "add", "km-uji", "-t", "kab-badung", "-n", "KM Uji", "--home-port", "benoa",
                       "--mqtt-dir", str(tmp_path), "--wind-limit-kn", "500")  # fmt: skip
    assert code == 2 and "--wind-limit-kn 500.0 is beyond 64 kn: hurricane force" in out, out


def test_a_fleet_file_row_with_absurd_limits_is_rejected_by_its_line(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.csv"
    fleet.write_text(
        "id,tenant,name,home_port,speed_kn,fuel_l_per_h,wave_limit_m,wind_limit_kn\n"
        "km-a,kab-badung,A,Benoa,8,12,1.5,18\n"
        "km-b,kab-badung,B,Benoa,8,12,50,18\n"
        "km-c,kab-badung,C,Benoa,8,12,1.5,500\n"
        "km-d,kab-badung,D,Benoa,600,12,1.5,18\n"
    )
    boats, rejected = read_fleet(fleet)
    assert [b.vessel for _, b in boats] == ["km-a"]
    assert rejected == [
        f"{fleet}:3 (vessel 'km-b'): wave_limit_m 50.0 is beyond 9 m: BMKG's \"ekstrem\" waves end at 9 m; 0 means the tenant's small-boat limit",
        f"{fleet}:4 (vessel 'km-c'): wind_limit_kn 500.0 is beyond 64 kn: hurricane force (Beaufort 12) begins at 64 kn; 0 means the tenant's small-boat limit",
        f"{fleet}:5 (vessel 'km-d'): speed_kn 600.0 is beyond 60 kn: no small fishing boat cruises faster (a Tepi bound)",
    ]


def test_vessel_set_changes_only_the_figures_given_within_bounds_and_logs_no_vessel(
    operator: CliRunner, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with Session(writer(engine)) as s, s.begin():
        register_vessel(s, vessel_id="km-ubah", tenant="kab-badung", name="KM Ubah", home_port="benoa", gateway_id="gw-km-ubah",
                        now=NOW, speed_kn=6, fuel_l_per_h=10, wave_limit_m=1.25, wind_limit_kn=15)  # fmt: skip
    code, out = _admin(operator, "vessel", "add", "km-ubah", "-t", "kab-badung", "-n", "KM Ubah", "--home-port", "benoa",
                       "--mqtt-dir", "unused", "--speed-kn", "6", "--fuel-l-per-h", "10", "--wave-limit-m", "2", "--wind-limit-kn", "15")  # fmt: skip
    assert code == 1 and "registered already with another wave_limit_m: nothing changed" in out, out  # why `set` exists
    with caplog.at_level(logging.DEBUG, logger="kinds.fishfinder.state"):
        code, out = _admin(operator, "vessel", "set", "km-ubah", "--wave-limit-m", "2", "--wind-limit-kn", "18")
    assert code == 0, out
    assert "vessel km-ubah: wave_limit_m 1.25 -> 2, wind_limit_kn 15 -> 18" in out
    assert _figures(engine, "km-ubah") == (6.0, 10.0, 2.0, 18.0)
    audit = [r for r in caplog.records if r.levelno >= logging.INFO and r.name == "kinds.fishfinder.state"]
    assert [(r.getMessage(), r.tenant, r.figures) for r in audit] == [  # type: ignore[attr-defined]
        ("vessel sailing figures changed", "kab-badung", ["wave_limit_m", "wind_limit_kn"])
    ]
    assert all("km-ubah" not in str(vars(r)) for r in audit)  # a vessel id is personal data: not at INFO

    code, out = _admin(operator, "vessel", "set", "km-ubah", "--wave-limit-m", "2")
    assert (code, "nothing changed" in out) == (0, True), out
    for args, says in [
        (("--wave-limit-m", "50"), "--wave-limit-m 50.0 is beyond 9 m"),
        (("--wind-limit-kn", "500"), "--wind-limit-kn 500.0 is beyond 64 kn"),
        (("--speed-kn", "-3"), "--speed-kn must be zero or more"),
        ((), "nothing to set"),
    ]:
        code, out = _admin(operator, "vessel", "set", "km-ubah", *args)
        assert code == 2 and says in out, (args, out)
    assert _figures(engine, "km-ubah") == (6.0, 10.0, 2.0, 18.0)
    code, out = _admin(operator, "vessel", "set", "km-nowhere", "--speed-kn", "7")
    assert code == 1 and "vessel 'km-nowhere' is not registered" in out, out
