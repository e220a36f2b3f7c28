"""The simulator refuses what it cannot simulate, before opening anything."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
import serial
import yaml

from firmware_sim.errors import ScenarioError, SimulatorError
from kinds.awlr.sim.runner import Simulator, run_simulator
from core.config import DEFAULT_CONFIG_PATH, TepiConfig, parse_config


def test_a_config_without_a_scenario_is_refused(default_config: TepiConfig, scenario) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScenarioError, match="no `simulation:`"):
        Simulator(default_config.model_copy(update={"simulation": None}), speed=10)
    config = scenario()
    only_katulampa = config.simulation.model_copy(
        update={"stations": {"katulampa": config.simulation.stations["katulampa"]}}
    )
    with pytest.raises(ScenarioError, match="depok, manggarai"):
        Simulator(config.model_copy(update={"simulation": only_katulampa}), speed=10)


@pytest.mark.parametrize("speed", [0.5, 0, float("inf"), float("nan")])
def test_a_speed_that_would_fall_behind_is_refused(scenario, speed: float) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SimulatorError, match="speed"):
        Simulator(scenario(), speed=speed)


def test_a_station_id_too_long_for_an_nmea_sentence_is_refused() -> None:
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    long_id = "katulampa-bendung-ciliwung-hulu-bogor"
    text = yaml.safe_dump(raw).replace("katulampa", long_id)
    config = parse_config(yaml.safe_load(text))
    with pytest.raises(ScenarioError, match="longer than NMEA"):
        Simulator(config, speed=10)


def test_start_twice_is_an_error_and_stop_is_clean(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sim = Simulator(scenario(devices=["awlr-katulampa"]), speed=10, link_dir=tmp_path)
    with pytest.raises(SimulatorError, match="not been started"):
        sim.clock  # noqa: B018
    assert sim.serial_paths() == {}
    sim.start()
    try:
        with pytest.raises(SimulatorError, match="already started"):
            sim.start()
        assert list(sim.serial_paths()) == ["awlr-katulampa"]
    finally:
        sim.stop()
    assert sim.error is None
    assert not (tmp_path / "awlr-katulampa").exists()


def test_run_simulator_calls_back_with_the_started_simulator(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, str] = {}
    counters = run_simulator(
        scenario(devices=["awlr-katulampa"], lookback_h=0.1), 1000, "127.0.0.1", 1, tmp_path,
        duration_s=0.2, on_start=lambda sim: seen.update(sim.serial_paths()),
    )
    assert seen["awlr-katulampa"].startswith("/dev/pts/")
    assert counters.sent["awlr-katulampa"] > 0


def test_open_makes_the_ports_before_start_and_halt_keeps_them_until_stop(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A gateway started between `open` and `start` finds its serial port, and one stopped
    between `halt` and `stop` closes it on a quiet line: no 'port unavailable' warnings."""
    sim = Simulator(scenario(devices=["awlr-katulampa"], lookback_h=0.1), speed=1000, link_dir=tmp_path)
    link = tmp_path / "awlr-katulampa"
    sim.open()
    try:
        assert link.is_symlink() and Path(os.readlink(link)) == Path(sim.serial_paths()["awlr-katulampa"])
        with serial.Serial(str(link), timeout=0.2) as port:
            assert port.read(1) == b"", "nothing is sent before start"
            sim.start()
            assert port.readline().startswith(b"$PTAWL,")
            sim.halt()
            assert link.is_symlink(), "halted, the port is still there"
            port.reset_input_buffer()
            assert port.read(64) == b"", "and quiet"
    finally:
        sim.stop()
    assert not link.exists()


def test_a_port_that_is_not_there_still_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The demo's ordering silences only its own start and stop: a missing port is still said."""
    from gateway.sources.serial_line import SerialLineSource

    source = SerialLineSource("awlr-katulampa", str(tmp_path / "no-such-port"))
    with caplog.at_level(logging.WARNING, logger="gateway.sources.serial_line"):
        source.start(lambda frame: None)
        try:
            for _ in range(100):
                if any("serial port unavailable" in r.getMessage() for r in caplog.records):
                    break
                time.sleep(0.05)
        finally:
            source.stop()
    assert any("serial port unavailable" in r.getMessage() and getattr(r, "device", None) == "awlr-katulampa" for r in caplog.records)
