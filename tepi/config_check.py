"""`tepi config check`: what the processes would refuse at start, found before they start.

Loading the file validates its model (`core.config.load_config`). Beyond that, the checks the
processes run when they start, where they are cheap and read only files: each device bound to
its platform by its kind, as `tepi gateway` binds it (`gateway.devices.binding_problems`), and
each coastal tenant's sea files, as the API reads them (`core.sea_forecast`: the hazards
polygons and the area forecast). Nothing here opens a database, a broker or the land mask.

A finding is an error when a process would refuse to start on it, or would take the file as no
forecast at all (an invalid forecast file, which the deployment must fix), and a warning for
what a running deployment mends by itself: a forecast file not written yet or expired.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from core.config import TepiConfig
from core.sea_forecast import MAX_FILE_BYTES, SeaForecastError, load_hazards, parse_sea_forecast

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    message: str


def deployment_findings(config: TepiConfig, now: datetime | None = None) -> list[Finding]:
    """Every error and warning of `config` beyond its model, errors first (see the module)."""
    from gateway.devices import binding_problems  # the kinds' gateway sides, only when checking

    at = now or datetime.now(timezone.utc)
    found = [Finding("error", p) for p in binding_problems(config)]
    for tenant in config.tenants:
        if tenant.sea is None:
            continue
        if tenant.sea.hazards_file is not None:
            try:
                load_hazards(tenant.sea.hazards_file)
            except ValueError as exc:
                found.append(Finding("error", f"tenant {tenant.id}: hazards file {exc}"))
        if tenant.sea.forecast_file is not None:
            found.extend(_forecast_findings(tenant.id, tenant.sea.forecast_file, at))
    return sorted(found, key=lambda f: f.severity != "error")


def _forecast_findings(tenant: str, path: Path, at: datetime) -> list[Finding]:
    """The forecast file as the API reads it (`core.sea_forecast.SeaForecastFile`): missing or
    expired is a warning (no route is "go" until the deployment writes a current one), a file
    that is there but unusable is an error."""
    where = f"tenant {tenant}: forecast file {path}"
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return [Finding("warning", f"{where} is missing: no current forecast until the deployment writes it")]
    except OSError as exc:
        return [Finding("error", f"{where}: cannot read it: {exc.strerror or exc}")]
    if size > MAX_FILE_BYTES:
        return [Finding("error", f"{where}: over {MAX_FILE_BYTES} bytes")]
    try:
        forecast = parse_sea_forecast(path.read_bytes())
    except OSError as exc:
        return [Finding("error", f"{where}: cannot read it: {exc.strerror or exc}")]
    except SeaForecastError as exc:
        return [Finding("error", f"{where} is invalid, so there is no forecast: {exc}")]
    if forecast.valid_until <= at:
        return [Finding("warning", f"{where} expired at {forecast.valid_until:%Y-%m-%d %H:%M} UTC: no current forecast until the deployment writes a new one")]
    if forecast.valid_from > at:
        return [Finding("warning", f"{where} holds only from {forecast.valid_from:%Y-%m-%d %H:%M} UTC: no current forecast until then")]
    return []
