"""`tepi gateway`: the edge gateway process.

A field gateway is a small box, and the gateway's resident memory is a deployment figure. This
module therefore imports what the gateway runs on only when it runs (`run_gateway`, called by
the typer command in `tepi.cli`).
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass
from pathlib import Path

from core.logs import configure_logging


@dataclass(frozen=True)
class GatewayOptions:
    """The options of `tepi gateway`, with the CLI's defaults."""

    config: Path | None = None
    metrics_port: int = 0
    log_level: str = "INFO"
    json_logs: bool = True


def run_gateway(opts: GatewayOptions) -> int:
    """Run the gateway until SIGTERM or Ctrl-C; the exit code (2: bad configuration, 1: the
    gateway cannot start)."""
    from core.runtime_tuning import fix_mmap_threshold, freeze_start_up_objects, limit_malloc_arenas, release_free_memory

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # a clean stop, also while still starting
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # one held by `tepi.main` arrives now
    limit_malloc_arenas()  # before any thread starts: each would get an arena of its own
    fix_mmap_threshold()
    configure_logging(opts.log_level, opts.json_logs)
    from core.config import ConfigError, load_config

    try:
        config = load_config(opts.config)
    except ConfigError as exc:
        return _fail(f"[red]configuration error[/red]: {exc}", 2)
    from gateway.errors import GatewayError
    from gateway.runtime import EdgeGateway

    try:
        gw = EdgeGateway(config)
    except ConfigError as exc:  # a device's kind cannot bind its platform (`DeviceKind.processor`)
        return _fail(f"[red]configuration error[/red]: {exc}", 2)
    except GatewayError as exc:
        return _fail(f"[red]gateway cannot start[/red]: {exc}", 1)
    del config  # the gateway holds what it needs
    if opts.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(opts.metrics_port, addr="127.0.0.1", registry=gw.registry)
    gw.start()
    # Default GC thresholds (on a gateway, peak memory matters more than a little CPU), but
    # full collections no longer scan what start-up left, which costs nothing. Then start-up's
    # freed heap goes back to the system.
    freeze_start_up_objects()
    release_free_memory()
    wait_for_signal(stop)
    gw.stop(flush_timeout=5)
    return 0


def wait_for_signal(stop: threading.Event) -> None:
    """Turn SIGTERM into the same clean shutdown as Ctrl-C."""
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        stop.set()


def _fail(message: str, code: int) -> int:
    """Print an error exactly as the rest of the CLI does (rich markup on stderr); rich is
    loaded only on this path."""
    from rich.console import Console

    Console(stderr=True).print(message)
    return code
