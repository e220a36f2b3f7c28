"""`tepi admin vessel set`: change what a registered vessel sails with, its speed, fuel use and
wave and wind limits, which routes and their verdicts use (`vessel add` run again refuses other
figures, so a registration is never changed by accident):

    tepi admin vessel set km-sinar-laut --wave-limit-m 1.5 --wind-limit-kn 18

Only these: who owns the boat, its gateway (whose MQTT users the broker has) and its home
(which says whether it is at sea) stay as enrolled. The figures have the bounds `vessel add`
has (`kinds.fishfinder.sailing_figures.FIGURE_BOUNDS`); each change is logged at INFO with the
tenant and the figures changed, never the vessel (`kinds.fishfinder.state.set_sailing_figures`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from tepi.vessel_cli import FUEL_HELP, SPEED_HELP, WAVE_LIMIT_HELP, WIND_LIMIT_HELP, as_options


def vessel_set(
    ctx: typer.Context,
    vessel_id: Annotated[str, typer.Argument(metavar="ID", help="A registered vessel, e.g. km-sinar-laut.")],
    speed_kn: Annotated[Optional[float], typer.Option("--speed-kn", help=SPEED_HELP)] = None,
    fuel_l_per_h: Annotated[Optional[float], typer.Option("--fuel-l-per-h", help=FUEL_HELP)] = None,
    wave_limit_m: Annotated[Optional[float], typer.Option("--wave-limit-m", help=WAVE_LIMIT_HELP)] = None,
    wind_limit_kn: Annotated[Optional[float], typer.Option("--wind-limit-kn", help=WIND_LIMIT_HELP)] = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config (default: $TEPI_CONFIG or config/tepi.yaml).")] = None,
) -> None:
    """Change a registered vessel's speed, fuel use, wave or wind limit (only those given), within
    the bounds `vessel add` has. In production (the default) it needs the API's TEPI_AUTH_PEPPER
    set, as every `tepi admin` command."""
    from kinds.fishfinder.sailing_figures import check_figures
    from kinds.fishfinder.state import set_sailing_figures
    from tepi.admin_cli import _config, _fail, _session

    given = {"speed_kn": speed_kn, "fuel_l_per_h": fuel_l_per_h, "wave_limit_m": wave_limit_m, "wind_limit_kn": wind_limit_kn}
    figures = {k: v for k, v in given.items() if v is not None}
    if not figures:
        raise _fail("nothing to set: give --speed-kn, --fuel-l-per-h, --wave-limit-m or --wind-limit-kn", 2)
    try:
        check_figures(**figures)  # before the database: a typing error needs no connection
    except ValueError as exc:
        raise _fail(as_options(str(exc)), 2) from exc
    with _session(_config(ctx, config)) as (session, _cfg):
        try:
            changed = set_sailing_figures(session, vessel_id, **figures)
        except ValueError as exc:  # the transaction rolls back
            raise _fail(as_options(str(exc))) from exc
    if not changed:
        typer.echo(f"vessel {vessel_id} has these figures already: nothing changed")
        return
    typer.echo(f"vessel {vessel_id}: " + ", ".join(f"{f} {before:g} -> {after:g}" for f, (before, after) in changed.items()))
