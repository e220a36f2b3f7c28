"""`tepi demo` on a fresh machine: no Mosquitto installed, so the embedded amqtt broker."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tepi.demo import alert_line
from tepi.demo_boats import BoatSummary
from core.processes import free_port


def _without_mosquitto() -> dict[str, str]:
    path = os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "mosquitto").exists())
    assert shutil.which("mosquitto", path=path) is None
    return {**os.environ, "PATH": path, "COLUMNS": "240"}


def test_demo_without_mosquitto_raises_a_siaga_alert(tmp_path: Path) -> None:
    """amqtt has no shared subscriptions: a `$share/...` ingest subscription matched nothing
    there, and the demo forwarded every item but raised no alert."""
    env = _without_mosquitto()
    proc = subprocess.run(
        [sys.executable, "-m", "tepi.cli", "demo", "--until-alert", "--no-boats", "--duration", "300",
         "--port", str(free_port()), "--workdir", str(tmp_path / "demo")],
        env=env, capture_output=True, text=True, timeout=400,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "on embedded amqtt" in proc.stderr
    # The closing table lists the alert with its status.
    assert re.search(r"katulampa: SIAGA I+\b.*, active", proc.stderr), proc.stderr[-3000:]


def test_the_demo_table_shows_each_alerts_status_and_why_it_cleared() -> None:
    base = {"station": "katulampa", "siaga": 3, "siaga_label": "SIAGA III", "peak_siaga": 3, "clear_reason": None}
    assert alert_line({**base, "status": "active"}) == "katulampa: SIAGA III, active"
    cleared = {**base, "siaga": 4, "siaga_label": "SIAGA IV", "peak_siaga": 1, "status": "cleared", "clear_reason": "level_normal"}
    assert alert_line(cleared) == "katulampa: SIAGA IV (peak SIAGA I), cleared: level_normal"


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
    # The closing table: every boat, and the SOS boat's incident acknowledged, ashore and on board.
    for boat in ("jukung-kdg-01 (kab-badung)", "jukung-jbr-01 (kab-badung)", "kapal-bno-01 (kab-badung)", "perahu-krs-01 (kab-indramayu)"):
        assert boat in err, err[-3000:]
    line = re.search(r"jukung-kdg-01 \(kab-badung\): (\d+) positions, (\d+) schools, (\d+) catches, SOS incident \d+: (\w+) \(on board: ([a-z ]+)\)", err)
    assert line, err[-3000:]
    positions, schools, catches, status, heard = line.groups()
    assert int(positions) > 0 and int(schools) > 0 and int(catches) == 1
    assert (status, heard) == ("acknowledged", "help acknowledged")


def test_a_boats_line_says_what_the_centre_holds_and_what_sounded_on_board() -> None:
    quiet = BoatSummary("perahu-krs-01", "kab-indramayu", positions=3)
    assert quiet.line() == "perahu-krs-01 (kab-indramayu): 3 positions, 0 schools, 0 catches, no SOS"
    sos = BoatSummary("jukung-kdg-01", "kab-badung", 9, 2, 1, ["SOS incident 5: acknowledged"], "help acknowledged")
    assert sos.line() == "jukung-kdg-01 (kab-badung): 9 positions, 2 schools, 1 catches, SOS incident 5: acknowledged (on board: help acknowledged)"
