"""`tepi gateway` outside typer: the console script's own option parsing must mean exactly what
typer's does, the gateway process must not load the CLI stack, and the configuration it loads
through a child process must be the one `load_config` returns."""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tepi import cli
from tepi.config import ConfigError, DEFAULT_CONFIG_PATH, TepiConfig, load_config, load_config_compact, with_local_services
from tepi.gateway_command import GatewayOptions
from tepi.main import parse_gateway_args
from tepi.processes import Mosquitto
from tepi.runtime_tuning import limit_malloc_arenas, release_free_memory
from tepi.testing import wait_until

ARGVS = [
    [],
    ["-c", "x.yaml"],
    ["-cx.yaml"],
    ["--config", "x.yaml"],
    ["--config=x.yaml", "--metrics-port", "9100", "--text-logs", "--log-level=WARNING"],
    ["--metrics-port=0", "--json-logs", "--text-logs", "--json-logs"],
    ["-c", "a.yaml", "--config", "b.yaml"],
    ["--log-level", "DEBUG", "--metrics-port", "-1"],
    ["--metrics-port", " 42 "],
    # Left to typer: its help and its errors.
    ["--help"],
    ["--metrics-port", "abc"],
    ["--metrics-port"],
    ["-c"],
    ["extra"],
    ["--json-logs=yes"],
    ["--conf", "x.yaml"],
    ["--", "-c", "x.yaml"],
]


@pytest.mark.parametrize("args", ARGVS, ids=lambda a: " ".join(a) or "<none>")
def test_parsed_options_are_typers(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[GatewayOptions] = []
    monkeypatch.setattr(cli, "run_gateway", lambda opts: seen.append(opts) or 0)
    result = CliRunner().invoke(cli.app, ["gateway", *args])
    ours = parse_gateway_args(args)
    if ours is not None:
        assert result.exit_code == 0, result.output
        assert seen == [ours]
    else:
        assert result.exit_code != 0 or "--help" in args or "--" in args, "only typer's errors and help are left to typer"


def test_the_gateway_process_does_not_load_the_cli_stack() -> None:
    """Nor what only other transports, ingest (numpy) or the YAML parsing child need."""
    code = (
        "import sys, tepi.main, tepi.gateway_command, tepi.config, gateway.runtime; "
        "print(sorted(m for m in ('typer', 'click', 'rich', 'tepi.cli', 'tepi.admin_cli', 'numpy', "
        "'yaml', 'serial', 'pynmea2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_compact_load_gives_the_same_configuration() -> None:
    compact, direct = load_config_compact(DEFAULT_CONFIG_PATH), load_config(DEFAULT_CONFIG_PATH)
    assert compact == direct
    assert compact.model_dump() == direct.model_dump()
    assert [s.model_fields_set for s in compact.stations] == [s.model_fields_set for s in direct.stations]


@pytest.mark.parametrize("text", ["stations: [", "tenants: []\nstations: []\ndevices: []\ngateway: {id: gw, tenant: nobody}\n"])
def test_compact_load_reports_the_same_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as expected:
        load_config(path)
    with pytest.raises(ConfigError) as got:
        load_config_compact(path)
    assert str(got.value) == str(expected.value)
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_config_compact(tmp_path / "missing.yaml")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc settings")
def test_heap_settings_apply_on_glibc() -> None:
    assert limit_malloc_arenas()
    release_free_memory()  # True only when there was something to hand back


_FREED_BLOCKS = """
import sys
from tepi.runtime_tuning import fix_mmap_threshold
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




def _gateway_config_file(config: TepiConfig, mosquitto: Mosquitto, tmp_path: Path) -> Path:
    path = tmp_path / "tepi.yaml"
    path.write_text(yaml.safe_dump(with_local_services(config, mosquitto.port, tmp_path).model_dump(mode="json")))
    return path


def _start_console_script(config_path: Path, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`tepi gateway` through the console script's entry point, without the caller's opt-outs."""
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONOPTIMIZE", "TEPI_GATEWAY_OPTIMIZE")} | (env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "tepi.main", "gateway", "-c", str(config_path)],
        stdout=open(log, "ab"), stderr=subprocess.STDOUT, env=environ,
    )


def _stop(gw: subprocess.Popen[bytes]) -> None:
    if gw.poll() is None:
        gw.kill()
        gw.wait()


@pytest.mark.integration
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize(("env", "optimised"), [({}, True), ({"TEPI_GATEWAY_OPTIMIZE": "0"}, False), ({"TEPI_GATEWAY_OPTIMIZE": "off"}, False)])
def test_gateway_runs_itself_without_docstrings_unless_told_not_to(
    default_config: TepiConfig, mosquitto: Mosquitto, tmp_path: Path, env: dict[str, str], optimised: bool
) -> None:
    """`tepi gateway` replaces itself (same pid, so a supervisor keeps tracking it) with the same
    command under `python -OO`, which saves a few MB on a small box; TEPI_GATEWAY_OPTIMIZE=0
    keeps docstrings and asserts, for debugging."""
    path = _gateway_config_file(default_config, mosquitto, tmp_path)
    log = tmp_path / "gw.log"
    gw = _start_console_script(path, log, env)
    try:
        wait_until(lambda: "listening for devices" in log.read_text(), what="gateway subscribed")
        argv = Path(f"/proc/{gw.pid}/cmdline").read_bytes().split(b"\0")[:-1]
        assert argv[1:] == ([b"-OO"] if optimised else []) + [b"-m", b"tepi.main", b"gateway", b"-c", str(path).encode()]
        gw.send_signal(signal.SIGTERM)
        assert gw.wait(timeout=20) == 0, log.read_text()[-2000:]
    finally:
        _stop(gw)


def _catches_sigterm(pid: int) -> bool:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


@pytest.mark.integration
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_sigterm_while_the_gateway_is_still_starting_is_a_clean_stop(
    default_config: TepiConfig, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """A supervisor may stop the gateway the moment it started it. SIGTERM is held from the
    console script's first steps, across the re-run at -OO (which resets handlers), until the
    gateway handles it: the stop waits for the start and shuts down cleanly, instead of the
    process dying on the signal (or ignoring it, as a container's PID 1)."""
    path = _gateway_config_file(default_config, mosquitto, tmp_path)
    before_handler = 0
    for attempt in range(3):  # the window is a tenth of a second; the first try nearly always hits it
        log = tmp_path / f"gw-{attempt}.log"
        gw = _start_console_script(path, log)
        try:
            re_run = lambda: gw.poll() is not None or b"-OO" in Path(f"/proc/{gw.pid}/cmdline").read_bytes()  # noqa: E731
            wait_until(re_run, what="re-run at -OO", every_s=0.002)
            handled = _catches_sigterm(gw.pid)
            gw.send_signal(signal.SIGTERM)
            assert gw.wait(timeout=20) == 0, log.read_text()[-2000:]
        finally:
            _stop(gw)
        before_handler += not handled
        if before_handler:
            break
    assert before_handler, "every SIGTERM came after the handler was set: the start-up was not hit"
