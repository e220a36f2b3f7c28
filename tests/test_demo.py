"""`tepi demo` on a fresh machine: no Mosquitto installed, so the embedded amqtt broker."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tepi.demo import alert_line
from core.processes import free_port


def test_demo_without_mosquitto_raises_a_siaga_alert(tmp_path: Path) -> None:
    """amqtt has no shared subscriptions: a `$share/...` ingest subscription matched nothing
    there, and the demo forwarded every item but raised no alert."""
    path = os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "mosquitto").exists())
    assert shutil.which("mosquitto", path=path) is None
    env = {**os.environ, "PATH": path, "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-m", "tepi.cli", "demo", "--until-alert", "--duration", "300",
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
