"""The `tepi` console script: the typer app in `tepi.cli`, `tepi gateway` included."""

from __future__ import annotations

import signal
import sys


def main() -> None:
    if sys.argv[1:2] == ["gateway"] and hasattr(signal, "pthread_sigmask"):
        # A SIGTERM while the CLI is still loading (a service manager's stop right after its
        # start) is held, not lost: without a handler yet it would kill the process, or be
        # ignored as a container's PID 1. `run_gateway` releases it once its handler is set.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    from tepi.cli import app

    app()


if __name__ == "__main__":  # pragma: no cover
    main()
