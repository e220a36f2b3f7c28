"""rise_warning: how early the rate-of-rise warning comes, and how often it cries wolf.

Through the gateway's own `LevelProcessor` with the shipped station configuration
(`config/tepi.yaml`), readings once a minute with 1 cm of noise (`bench.rise_scoring`):

* lead time before Siaga 3 on the issue's 240 cm/h ramp from 50 cm (Katulampa's thresholds),
  before Siaga 2 on the published Katulampa rise, before Siaga 3 and 2 on the published Depok
  rise (`bench/data/observed_rises.csv`), the worst and the median over seeds of the noise;
  the same with the short window switched off (the long window alone, as before) for comparison;
* false warnings per station-month in a simulated normal month at Katulampa, Depok and
  Manggarai: rain rises that stay below Siaga 3, a spike a day, through the gateway's QC.
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from bench.core import Context, Figure, Result
from bench.rise_scoring import Knots, lead_min, measured, observed_rises, ramp, score_month, warnings
from core.config import TepiConfig, load_config
from kinds.awlr.config import StationConfig

NAME = "rise_warning"
NORMAL_MONTH_STATIONS = ("katulampa", "depok", "manggarai")
STEEPER = (5.0, 80.0)


def _long_window_only(station: StationConfig) -> StationConfig:
    """The short window out of reach: the warning as it was before it had one."""
    return station.model_copy(update={"alerting": station.alerting.model_copy(update={"rate_of_rise_short_cm_per_h": 1e9})})


def leads(station: StationConfig, series: Knots, threshold_cm: float, seeds: range) -> dict[str, Any]:
    """Minutes of warning before the true level reaches `threshold_cm`, one per seed."""
    t, true = series.sampled()
    reaches = series.reaches_s(threshold_cm)
    got = [lead_min(warnings(station, t, measured(true, np.random.default_rng(seed))), reaches) for seed in seeds]
    known = [x for x in got if x is not None]
    return {
        "worst_min": round(min(known), 2) if len(known) == len(got) else None,
        "median_min": round(statistics.median(known), 2) if known else None,
        "missed": len(got) - len(known),
        "per_seed_min": [None if x is None else round(x, 2) for x in got],
    }


def run(ctx: Context) -> Result:
    cfg: TepiConfig = load_config()
    seeds = range(ctx.scale(20, 5))
    month_seeds = range(ctx.scale(4, 1))
    res = Result(NAME, f"rate-of-rise lead time ({len(seeds)} noise seeds) and false warnings ({len(month_seeds)} months a station)")
    observed = observed_rises()
    # (label, series, station, Siaga level, target on the worst lead, issue target it answers)
    cases = [
        ("ramp 240 cm/h from 50 cm", ramp(), "katulampa", 3, ">= 0.5", "rise_ramp"),
        ("Katulampa observed", observed["katulampa"], "katulampa", 2, ">= 15", "rise_katulampa"),
        ("Depok observed", observed["depok"], "depok", 3, "", ""),
        ("Depok observed", observed["depok"], "depok", 2, "", ""),
    ]
    details: dict[str, Any] = {"leads": {}, "months": []}
    for label, series, station_id, siaga, target, claim in cases:
        station = cfg.station(station_id)
        level = {3: station.thresholds.siaga3, 2: station.thresholds.siaga2}[siaga]
        now = leads(station, series, level, seeds)
        before = leads(_long_window_only(station), series, level, seeds)
        key = f"{label}, before Siaga {siaga} ({level:g} cm)"
        details["leads"][key] = {"shipped": now, "long_window_only": before}
        note = f"median {now['median_min']} min; long window alone: worst {before['worst_min']}, median {before['median_min']} min"
        if series.name == "ramp":
            note += "; the ramp reaches 80 cm between readings, so a warning before it comes >= 0.5 min ahead"
        res.figures.append(Figure(
            f"{key}: lead, worst of {len(seeds)}", now["worst_min"], "min", target=target, target_of="value",
            missed=bool(now["missed"]), claim=claim, note=note,
        ))
    per_month = []
    for station_id in NORMAL_MONTH_STATIONS:
        station = cfg.station(station_id)
        for seed in month_seeds:
            m = score_month(station, base_of(cfg, station_id), seed)
            per_month.append(m)
            details["months"].append(m.__dict__)
    worst = max(m.false_warnings for m in per_month)
    total = sum(m.false_warnings for m in per_month)
    res.figures.append(Figure(
        f"normal month: false warnings per station-month, worst of {len(per_month)}", worst, "warnings",
        target="<= 1", target_of="value", claim="rise_false",
        note=f"{total} false of {sum(m.warnings for m in per_month)} warnings in {len(per_month)} station-months "
        f"({', '.join(NORMAL_MONTH_STATIONS)})",
    ))
    if not ctx.quick:
        # How much the month's answer owes to its assumption: rain rises up to 80 cm/h, steeper
        # than the long window's configured 60 cm/h, which the configuration asks to warn of.
        steeper = [score_month(cfg.station(sid), base_of(cfg, sid), seed, steepest_cm_per_h=STEEPER) for sid in NORMAL_MONTH_STATIONS for seed in month_seeds]
        details["months_with_rain_rises_up_to_80_cm_per_h"] = [m.__dict__ for m in steeper]
        res.figures.append(Figure(
            "normal month with rain rises up to 80 cm/h (sensitivity): false warnings per station-month, mean",
            round(sum(m.false_warnings for m in steeper) / len(steeper), 2), "warnings",
            note="no target: rises of 60-80 cm/h that stop below Siaga 3 are rises the shipped 60 cm/h asks to warn of",
        ))
    res.details = details
    return res


def base_of(cfg: TepiConfig, station_id: str) -> float:
    """The station's normal level: its base in the shipped simulation scenario."""
    if cfg.simulation is None or station_id not in cfg.simulation.stations:
        raise ValueError(f"no simulated base level for {station_id!r} in the configuration")
    return cfg.simulation.stations[station_id].base_cm
