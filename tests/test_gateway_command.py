"""`tepi gateway`'s process: what it loads, the configuration it reads, its heap settings."""

from __future__ import annotations

import platform
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from core.config import DEFAULT_CONFIG_PATH, ConfigError, TepiConfig, load_config, parse_config, with_local_services
from core.processes import Mosquitto
from core.runtime_tuning import limit_malloc_arenas, release_free_memory
from core.testing import wait_until


def test_the_gateway_process_loads_only_what_it_runs_on() -> None:
    """Not numpy (ingest's side of the uplink contract), not rich until something is printed,
    nor what only other transports or sub-commands need."""
    code = (
        "import sys, tepi.main, tepi.gateway_command, core.config, gateway.runtime; "
        "print(sorted(m for m in ('numpy', 'rich', 'yaml', 'serial', 'pynmea2', 'sqlalchemy', 'fastapi', 'tepi.demo') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_loaded_file_is_the_configuration_its_yaml_says(tmp_path: Path) -> None:
    """`load_config` validates the file as JSON text (so that none of the YAML parser's garbage
    outlives the parse): the same configuration as validating the parsed YAML, and a YAML date
    where text is expected reads as its text."""
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    assert load_config(DEFAULT_CONFIG_PATH) == parse_config(data).with_files_under(DEFAULT_CONFIG_PATH.parent)
    data["stations"][0]["name"] = "2026-11-23"
    path = tmp_path / "dated.yaml"
    path.write_text(yaml.safe_dump(data).replace("name: '2026-11-23'", "name: 2026-11-23"))
    assert load_config(path).stations[0].name == "2026-11-23"


@pytest.mark.parametrize(
    "text",
    [
        "stations: [",
        "tenants: []\nstations: []\ndevices: []\ngateway: {id: gw, tenant: nobody}\n",
        "tenants: [{id: t, name: T}]\nstations: [{id: s, lat: .nan}]\n",
        "tenants: [{id: 7, name: !!binary aGk=}]\n",
    ],
)
def test_a_bad_file_is_refused_with_the_field_and_the_reason(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as got:
        load_config(path)
    assert str(got.value).startswith(f"{path}: ")
    data = yaml.safe_load(text) if not text.startswith("stations: [") else None
    if data is not None and "binary" not in text:  # the same message as validating the parsed file
        with pytest.raises(ConfigError) as parsed:
            parse_config(data)
        assert str(got.value) == f"{path}: {parsed.value}"
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_config(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # YAML reads 0012 as the number 10 and `on` as true: JSON would make them "10" and "true",
        # binding a serial port to a device nobody named.
        ("gateway: {id: gw, tenant: t, serial_ports: {0012: /dev/ttyUSB0}}\n", "gateway.serial_ports: the key 10 is not text"),
        ("gateway: {id: gw, tenant: t, serial_ports: {on: /dev/ttyUSB0}}\n", "gateway.serial_ports: the key True is not text"),
        ("stations: [{id: s, opened: 2024-02-30}]\n", "not valid YAML"),
        ("stations: &s [*s]\n", "stations.0: a YAML alias that contains itself"),
    ],
)
def test_yaml_that_json_would_silently_change_is_refused(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as got:
        load_config(path)
    assert str(got.value).startswith(f"{path}: {reason}")
    if "not valid YAML" not in reason:
        with pytest.raises(ConfigError, match=reason.split(": ", 1)[1]):
            parse_config(yaml.safe_load(text))


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc settings")
def test_heap_settings_apply_on_glibc() -> None:
    assert limit_malloc_arenas()
    release_free_memory()  # True only when there was something to hand back


_FREED_BLOCKS = """
import sys
from core.runtime_tuning import fix_mmap_threshold
if sys.argv[1] == "fixed":
    assert fix_mmap_threshold()
def anon_kb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
first = bytearray(4 << 20)  # glibc maps it; freeing it would raise a dynamic threshold to 4 MiB
del first
import ctypes
def address(buf):
    return ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))
blocks, pins = [], []
def pin_above(block):  # something long-lived above it, if it is in the heap (a lower hole may take the first tries)
    for _ in range(64):
        pins.append(bytearray(600))
        if address(pins[-1]) > address(block):
            return
for _ in range(32):
    blocks.append(bytearray(300 << 10))  # an uplink message's JSON, say
    pin_above(blocks[-1])
before = anon_kb()
del blocks
print(before - anon_kb())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc settings")
def test_large_buffers_go_back_to_the_system_when_freed() -> None:
    """With glibc's dynamic threshold, one freed 4 MiB block makes later 300 KiB buffers come
    from the heap, where long-lived allocations behind them keep the pages resident; with the
    gateway's fixed threshold each is a mapping of its own, returned when freed."""
    def released_kb(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", _FREED_BLOCKS, mode], capture_output=True, text=True, check=True)
        return int(out.stdout)

    assert released_kb("fixed") >= 9000  # 32 x 300 KiB = 9,600 KiB
    assert released_kb("dynamic") < 2000


@pytest.mark.integration
def test_the_console_script_runs_the_gateway_until_sigterm(default_config: TepiConfig, mosquitto: Mosquitto, tmp_path: Path) -> None:
    """`tepi gateway` as a supervisor starts it (the typer app, as every sub-command) and stops it."""
    path = tmp_path / "tepi.yaml"
    path.write_text(yaml.safe_dump(with_local_services(default_config, mosquitto.port, tmp_path).model_dump(mode="json")))
    log = tmp_path / "gw.log"
    gw = subprocess.Popen([sys.executable, "-m", "tepi.main", "gateway", "-c", str(path)], stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "listening for devices" in log.read_text(), what="gateway subscribed")
        gw.send_signal(signal.SIGTERM)
        assert gw.wait(timeout=20) == 0, log.read_text()[-2000:]
    finally:
        if gw.poll() is None:
            gw.kill()
            gw.wait()


@pytest.mark.integration
def test_a_sigterm_while_the_cli_loads_is_a_clean_stop(default_config: TepiConfig, mosquitto: Mosquitto, tmp_path: Path) -> None:
    """A service manager's stop right after its start: the SIGTERM arrives while the CLI is still
    being imported, before the gateway has a handler. It is held, not fatal, and the gateway
    stops cleanly (exit 0) once started, instead of dying by the signal."""
    path = tmp_path / "tepi.yaml"
    path.write_text(yaml.safe_dump(with_local_services(default_config, mosquitto.port, tmp_path).model_dump(mode="json")))
    code = (
        "import os, signal, sys\n"
        "class SigtermWhileLoading:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'tepi.cli':\n"
        "            os.kill(os.getpid(), signal.SIGTERM)\n"
        "        return None\n"
        "sys.meta_path.insert(0, SigtermWhileLoading())\n"
        f"sys.argv = ['tepi', 'gateway', '-c', {str(path)!r}]\n"
        "from tepi.main import main\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    # Started (logged by `EdgeGateway.start` itself), then stopped by the held signal. Not "listening
    # for devices": that waits for the device link's CONNACK, which a loaded machine may not
    # give before the stop that is already pending.
    assert '"msg": "gateway started"' in out.stderr + out.stdout, out.stderr[-2000:]
