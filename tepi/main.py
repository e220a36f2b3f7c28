"""The `tepi` console script.

`tepi gateway ...` with well-formed options goes straight to `tepi.gateway_command`, so the
gateway process never loads typer, rich or the other sub-commands, and re-runs itself under
`python -OO` first (`tepi.runtime_tuning.exec_without_docstrings`). Everything else, including
`--help`, any error in the options and every other sub-command, goes to the typer app in
`tepi.cli`, which therefore alone defines what the CLI accepts, prints and exits with.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from tepi.gateway_command import GatewayOptions

_FLAGS = {"--json-logs": True, "--text-logs": False}
_VALUED = {"--config": "config", "-c": "config", "--metrics-port": "metrics_port", "--log-level": "log_level"}


def main() -> None:
    args = sys.argv[1:]
    opts = parse_gateway_args(args[1:]) if args[:1] == ["gateway"] else None
    if opts is not None:
        from tepi.runtime_tuning import exec_without_docstrings, hold_sigterm

        hold_sigterm(True)  # until run_gateway handles it, in this process or the re-run one
        exec_without_docstrings()
        from tepi.gateway_command import run_gateway

        sys.exit(run_gateway(opts))
    from tepi.cli import app

    app()


def parse_gateway_args(args: Sequence[str]) -> GatewayOptions | None:
    """The options of `tepi gateway`, parsed as click parses them (`--opt value`, `--opt=value`,
    `-cvalue`, the last occurrence wins); None for anything else, left to typer to report."""
    values: dict[str, str] = {}
    json_logs = GatewayOptions.json_logs
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in _FLAGS:
            json_logs = _FLAGS[arg]
            continue
        name, sep, value = arg.partition("=") if arg.startswith("--") else (arg[:2], "", arg[2:])
        if name not in _VALUED:
            return None
        if not sep and not value:
            if i == len(args):
                return None
            value = args[i]
            i += 1
        values[_VALUED[name]] = value
    try:
        port = int(values.get("metrics_port", GatewayOptions.metrics_port))
    except ValueError:
        return None
    config = values.get("config")
    return GatewayOptions(
        config=Path(config) if config is not None else None,
        metrics_port=port,
        log_level=values.get("log_level", GatewayOptions.log_level),
        json_logs=json_logs,
    )


if __name__ == "__main__":  # pragma: no cover
    main()
