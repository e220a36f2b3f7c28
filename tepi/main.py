"""The `tepi` console script: the typer app in `tepi.cli`, `tepi gateway` included."""

from __future__ import annotations

from tepi.cli import app


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
