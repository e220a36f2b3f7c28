"""`tepi demo` on a fresh machine: no Mosquitto installed, so the embedded amqtt broker."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tepi.demo import (
    DEMO_HEALTH_EVERY_S, LOCK_NAME, DemoError, alert_line, bind_api_port, claim_workdir, clear_workdir, demo_notify_settings,
    serve_api, with_demo_health,
)
from tepi.demo_boats import BoatSummary
from tepi.demo_office import demo_day, office_gateway_config, office_line, sample_attendance, with_demo_office
from core.processes import free_port


def _without_mosquitto() -> dict[str, str]:
    path = os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "mosquitto").exists())
    assert shutil.which("mosquitto", path=path) is None
    return {**os.environ, "PATH": path, "COLUMNS": "240"}


def test_demo_without_mosquitto_raises_a_siaga_alert(tmp_path: Path) -> None:
    """amqtt has no shared subscriptions: a `$share/...` ingest subscription matched nothing
    there, and the demo forwarded every item but raised no alert."""
    env = {**_without_mosquitto(), "COLUMNS": "80"}
    proc = subprocess.run(
        [sys.executable, "-m", "tepi.cli", "demo", "--until-alert", "--no-boats", "--duration", "300",
         "--port", str(free_port()), "--workdir", str(tmp_path / "demo")],
        env=env, capture_output=True, text=True, timeout=400,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "on embedded amqtt" in proc.stderr
    # Addresses whole on one line, wider than the terminal or not (COLUMNS 80): they are copied.
    assert re.search(r"API http://127\.0\.0\.1:\d+/api/v1 \(docs at http://127\.0\.0\.1:\d+/docs\)", proc.stderr), proc.stderr[:2000]
    # The closing table lists the alert with its status.
    assert re.search(r"katulampa: SIAGA I+\b.*, active", proc.stderr), proc.stderr[-3000:]


def test_the_demo_table_shows_each_alerts_status_and_why_it_cleared() -> None:
    base = {"station": "katulampa", "siaga": 3, "siaga_label": "SIAGA III", "peak_siaga": 3, "clear_reason": None}
    assert alert_line({**base, "status": "active"}) == "katulampa: SIAGA III, active"
    cleared = {**base, "siaga": 4, "siaga_label": "SIAGA IV", "peak_siaga": 1, "status": "cleared", "clear_reason": "level_normal"}
    assert alert_line(cleared) == "katulampa: SIAGA IV (peak SIAGA I), cleared: level_normal"
    sos = {"kind": "fishfinder", "subject": "jukung-kdg-01", "station": None, "type": "sos", "siaga": None,
           "siaga_label": None, "peak_siaga": None, "status": "acknowledged"}
    assert alert_line(sos) == "jukung-kdg-01: sos, acknowledged", "no Siaga level for a vessel's alert"


def test_demo_boat_sos_is_acknowledged_and_sounds_on_board_without_mosquitto(tmp_path: Path) -> None:
    """The boats' story on the embedded broker: a school found, a catch reported by the demo
    fisher, the SOS acknowledged by the disaster office through the API and heard on board."""
    proc = subprocess.run(
        [sys.executable, "-m", "tepi.cli", "demo", "--until-sos-acknowledged", "--duration", "240",
         "--port", str(free_port()), "--workdir", str(tmp_path / "demo")],
        env=_without_mosquitto(), capture_output=True, text=True, timeout=400,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    err = proc.stderr
    assert "on embedded amqtt" in err
    assert "school found by jukung-kdg-01" in err and "catch reported by the demo fisher" in err and "(HTTP 201)" in err, err[-3000:]
    assert re.search(r"SOS incident \d+ acknowledged by the disaster office \(HTTP 200\)", err), err[-3000:]
    # The three Badung boats fish south of the Bukit: a ground is published, and the way there planned.
    ground = re.search(r"fishing\s+ground\s+(fg-\S+)\s+published:\s+(\d+)\s+boats'", err)
    assert ground and int(ground.group(2)) >= 3, err[-3000:]
    route = re.search(r"route\s+for\s+jukung-kdg-01\s+from\s+.+?\s+to\s+" + re.escape(ground.group(1)) +
                      r":\s+([\d.]+)\s+km\s+\(([\d.]+)\s+nm\).+?;\s+(go|caution|no-go)", err, re.S)  # fmt: skip
    assert route and float(route.group(1)) > 5, err[-3000:]
    # The closing table: every boat, and the SOS boat's incident acknowledged, ashore and on board.
    for boat in ("jukung-kdg-01 (kab-badung)", "jukung-jbr-01 (kab-badung)", "kapal-bno-01 (kab-badung)", "perahu-krs-01 (kab-indramayu)"):
        assert boat in err, err[-3000:]
    line = re.search(r"jukung-kdg-01 \(kab-badung\): (\d+) positions, (\d+) schools, (\d+) catches, SOS incident \d+: (\w+) \(on board: ([a-z ]+)\)", err)
    assert line, err[-3000:]
    positions, schools, catches, status, heard = line.groups()
    assert int(positions) > 0 and int(schools) > 0 and int(catches) == 1
    assert (status, heard) == ("acknowledged", "help acknowledged")
    # Katulampa's pty exists before the gateway opens it and until the gateway closed it.
    assert "serial port unavailable" not in err, err[-3000:]
    # The badge office: the centre's board of the replayed morning (asked with the printed staff_admin
    # key, linked to a demo employee), and the replayed badge caught.
    assert re.search(r"office bkpsdm: 12 present, 1 late, 1 spoofing attempt \(EID replayed\) caught", err), err[-3000:]
    assert err.count("office bkpsdm:") == 1, "the office's verdict is printed once, as it happens"


def test_a_boats_line_says_what_the_centre_holds_and_what_sounded_on_board() -> None:
    quiet = BoatSummary("perahu-krs-01", "kab-indramayu", positions=3)
    assert quiet.line() == "perahu-krs-01 (kab-indramayu): 3 positions, 0 schools, 0 catches, no SOS"
    sos = BoatSummary("jukung-kdg-01", "kab-badung", 9, 2, 1, ["SOS incident 5: acknowledged"], "help acknowledged")
    assert sos.line() == "jukung-kdg-01 (kab-badung): 9 positions, 2 schools, 1 catches, SOS incident 5: acknowledged (on board: help acknowledged)"


def test_the_office_line_says_who_came_and_what_was_caught() -> None:
    assert office_line("bkpsdm", {"present": 12, "late": 1, "absent": 1}, ["eid_replayed"]) == (
        "office bkpsdm: 12 present, 1 late, 1 spoofing attempt (EID replayed) caught")
    assert office_line("bkpsdm", {}, []) == "office bkpsdm: 0 present, 0 late, 0 spoofing attempts caught"


def test_the_office_replays_the_last_working_morning_that_is_over() -> None:
    """The morning must be in the past (no scanner message from the future) and a working day
    (or nobody is late): a weekend, a holiday or a morning not over yet goes back a day."""
    from datetime import UTC, date, datetime

    rules = sample_attendance()
    assert demo_day(datetime(2026, 3, 4, 2, 0, tzinfo=UTC), rules) == date(2026, 3, 4)  # Wednesday 09:00 WIB
    assert demo_day(datetime(2026, 3, 4, 0, 0, tzinfo=UTC), rules) == date(2026, 3, 3)  # 07:00 WIB: not over yet
    assert demo_day(datetime(2026, 3, 8, 5, 0, tzinfo=UTC), rules) == date(2026, 3, 6)  # Sunday: Friday's
    assert demo_day(datetime(2026, 3, 24, 5, 0, tzinfo=UTC), rules) == date(2026, 3, 17)  # Nyepi and Idul Fitri: the Tuesday before


def _cli(*args: str):  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from tepi.cli import app

    return CliRunner().invoke(app, ["demo", *args], env={"COLUMNS": "200"})


def _last_run(workdir: Path) -> Path:
    """What a running demo has in its directory: its database, still open."""
    workdir.mkdir(parents=True)
    (workdir / "tepi.db").write_bytes(b"the running demo's data")
    return workdir / "tepi.db"


def test_a_second_demo_in_the_same_directory_is_refused_and_wipes_nothing(tmp_path: Path) -> None:
    """A second `tepi demo` deleted the running one's database and outboxes, then ran on without
    an API and exited 0."""
    workdir = tmp_path / "demo"
    data = _last_run(workdir)
    running = claim_workdir(workdir)  # the first demo holds its directory while it runs
    try:
        result = _cli("--port", str(free_port()), "--duration", "5", "--workdir", str(workdir))
    finally:
        running.close()
    assert result.exit_code == 1, result.output
    assert "another demo is running" in result.output
    assert data.read_bytes() == b"the running demo's data"


def test_a_demo_on_a_port_in_use_is_refused_before_touching_its_directory(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    data = _last_run(workdir)
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        result = _cli("--port", str(other.getsockname()[1]), "--duration", "5", "--workdir", str(workdir))
        with pytest.raises(DemoError, match="in use"):
            bind_api_port("127.0.0.1", other.getsockname()[1])
        fresh = _cli("--port", str(other.getsockname()[1]), "--workdir", str(tmp_path / "fresh"))
    assert result.exit_code == 1, result.output
    assert "is in use" in result.output
    assert data.read_bytes() == b"the running demo's data"
    assert fresh.exit_code == 1 and not (tmp_path / "fresh").exists(), "a refused demo leaves nothing behind"


def test_the_demo_directory_is_cleared_but_for_its_lock(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    _last_run(workdir)
    (workdir / "boats" / "b1").mkdir(parents=True)
    lock = claim_workdir(workdir)
    try:
        clear_workdir(workdir)
        assert [p.name for p in workdir.iterdir()] == [LOCK_NAME]
        with pytest.raises(DemoError, match="another demo"):
            claim_workdir(workdir)
    finally:
        lock.close()
    claim_workdir(workdir).close()  # free again once the first demo is over


def test_the_demo_stops_when_its_api_does_not_start() -> None:
    async def failing(scope, receive, send):  # type: ignore[no-untyped-def]
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    sock = bind_api_port("127.0.0.1", 0)
    try:
        with pytest.raises(DemoError, match="API did not start"):
            serve_api(failing, sock)
    finally:
        sock.close()


def test_until_sos_acknowledged_without_boats_is_refused(tmp_path: Path) -> None:
    result = _cli("--no-boats", "--until-sos-acknowledged", "--workdir", str(tmp_path / "demo"))
    assert result.exit_code == 2, result.output
    assert "--no-boats" in result.output and "cannot run with --no-boats" in result.output
    assert not (tmp_path / "demo").exists()


def test_the_demos_flags_are_shown_as_flags() -> None:
    """Help showed `--until-alert <bool>`, and `--until-alert true` failed."""
    result = _cli("--help")
    assert result.exit_code == 0, result.output
    for name in ("--until-alert", "--boats", "--until-sos-acknowledged", "--json-logs"):
        line = next(line for line in result.output.splitlines() if name in line)
        assert "<bool>" not in line, line
    assert "<int>" in next(line for line in result.output.splitlines() if "--port" in line)


def test_the_demos_gateways_report_their_health_every_half_minute(tmp_path: Path) -> None:
    """Every 300 s, a deployment's default, left the console's device health page empty for the
    demo's first five minutes."""
    from core.config import load_config

    demo = with_demo_health(load_config())
    assert DEMO_HEALTH_EVERY_S == demo.gateway.health_every_s == 30
    office = office_gateway_config(with_demo_office(demo), free_port(), tmp_path / "outbox.db")
    assert office.gateway.health_every_s == 30


def test_the_demos_notifier_signs_webhooks_with_the_demos_pepper(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the pepper, ingest kept webhook deliveries waiting (and gave them up after a day)."""
    from api.settings import DEMO_PEPPER, Settings

    monkeypatch.delenv("TEPI_AUTH_PEPPER", raising=False)
    monkeypatch.setenv("TEPI_SMTP_HOST", "mail.example.go.id")  # the environment still reaches a mail server
    notify = demo_notify_settings(Settings(mode="demo", public_base_url="http://127.0.0.1:8000"))
    assert notify.pepper() == DEMO_PEPPER.encode()
    assert (notify.smtp_host, notify.public_base_url) == ("mail.example.go.id", "http://127.0.0.1:8000")


def test_invalid_notifier_settings_stop_the_demo_with_a_message_before_touching_its_directory(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tepi.cli import app

    workdir = tmp_path / "demo"
    data = _last_run(workdir)
    result = CliRunner().invoke(
        app, ["demo", "--port", str(free_port()), "--workdir", str(workdir)], env={"COLUMNS": "200", "TEPI_SMTP_PORT": "smtp"}
    )
    assert result.exit_code == 1, result.output
    assert "demo cannot run" in result.output and "TEPI_SMTP_PORT" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    assert data.read_bytes() == b"the running demo's data"
