"""`python -m bench [--only NAME ...] [--quick]`: run the benchmarks, print a table, write JSON."""

from __future__ import annotations

import argparse
import importlib
import logging
import shutil
import sys
import time
import traceback
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.core import CLAIMS, RESULTS_DIR, WORK_DIR, Context, Result, evict_shared_libraries, git_info, machine_info, now_iso, write_json

#: Benchmark name -> module with `run(ctx) -> Result`, in the order they run.
BENCHMARKS = {
    "gateway_throughput": "bench.gateway_throughput",
    "loss": "bench.loss",
    "thingsboard": "bench.thingsboard",
    "replay": "bench.replay",
    "bandwidth": "bench.bandwidth",
    "ingest": "bench.ingest",
    "footprint": "bench.footprint",
    "alert_latency": "bench.alert_latency",
    "rise_warning": "bench.rise_warning",
    "nmea_parse": "bench.nmea_parse",
    "school_detection": "bench.school_detection",
    "boats": "bench.boats",
    "boat_uplink": "bench.boat_uplink",
    "sos_latency": "bench.sos_latency",
    "sos_loss": "bench.sos_loss",
    "route_latency": "bench.route_latency",
    "badge_throughput": "bench.badge_throughput",
    "badge_accuracy": "bench.badge_accuracy",
    "console_perf": "bench.console_perf",
}


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.2f}"
    return f"{x:.3g}"


def print_table(console: Console, results: list[Result]) -> None:
    table = Table(title="Tepi benchmarks", show_lines=False)
    for col in ("benchmark", "figure", "value", "baseline", "ratio", "target", "ok"):
        table.add_column(col, justify="right" if col in ("value", "baseline", "ratio") else "left")
    for r in results:
        if r.error and not r.figures:
            table.add_row(r.name, f"[red]error[/red]: {r.error[:80]}", "", "", "", "", "")
        for f in r.figures:
            ok = f.meets_target
            mark = "" if ok is None else ("[green]yes[/green]" if ok else "[red]no[/red]")
            base = f"{_fmt(f.baseline)} ({f.baseline_name})" if f.baseline is not None else (f.baseline_name or "-")
            table.add_row(r.name, f.name, f"{_fmt(f.value)} {f.unit}", base, _fmt(f.ratio), f.target + ("" if f.target_of == "ratio" or not f.target else " (value)"), mark)
    console.print(table)
    for r in results:
        if r.error:
            console.print(f"[yellow]{r.name}[/yellow]: {r.error}")


def claims_met(results: list[Result]) -> list[dict[str, object]]:
    """Every target of the issue with the figures that answer it: met when all of them meet
    their targets (a figure without a target only has to exist), "not run" when none ran."""
    out: list[dict[str, object]] = []
    for key, text in CLAIMS.items():
        figs = [(r.name, f) for r in results for f in r.figures if f.claim == key]
        errors = [r.error for r in results if r.error and any(f.claim == key for f in r.figures)]
        if not figs:
            met: object = "not run"
        else:
            met = all(f.meets_target is not False and (f.value is not None or f.missed) for _, f in figs) and not errors
        out.append({
            "target": text, "met": met,
            "figures": [{"benchmark": n, "figure": f.name, "value": f.value, "ratio": f.ratio, "meets_target": f.meets_target} for n, f in figs],
            **({"errors": errors} if errors else {}),
        })
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--only", action="append", choices=list(BENCHMARKS), help="run only this benchmark (repeatable)")
    p.add_argument("--quick", action="store_true", help="short durations: a smoke run")
    p.add_argument("--profile", action="store_true", help="cProfile the gateway worker in gateway_throughput")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    console = Console() if sys.stdout.isatty() else Console(width=160)
    names = args.only or list(BENCHMARKS)
    if WORK_DIR.exists():
        shutil.rmtree(WORK_DIR, ignore_errors=True)
    ctx = Context(quick=args.quick, work=WORK_DIR)
    # Before any benchmark imports numpy: memory figures count library pages (see the docstring).
    evicted = evict_shared_libraries(Path(sys.prefix))
    started = time.monotonic()
    results: list[Result] = []
    for name in names:
        console.print(f"[bold]{name}[/bold] …")
        t0 = time.monotonic()
        try:
            mod = importlib.import_module(BENCHMARKS[name])
            kwargs = {"profile": True} if args.profile and name == "gateway_throughput" else {}
            res = mod.run(ctx, **kwargs)
        except Exception as exc:  # one failing benchmark must not hide the others' figures
            res = Result(name, "", error=f"{type(exc).__name__}: {exc}")
            res.details["traceback"] = traceback.format_exc()
            console.print(f"[red]{name} failed[/red]: {exc}")
        res.duration_s = round(time.monotonic() - t0, 1)
        ctx.results[name] = res
        results.append(res)
        write_json(RESULTS_DIR / f"{name}.json", {"date": now_iso(), "quick": args.quick, **res.to_json()})
        console.print(f"  done in {res.duration_s} s")
    summary = {
        "date": now_iso(),
        "quick": args.quick,
        "duration_s": round(time.monotonic() - started, 1),
        "git": git_info(),
        "machine": machine_info(),
        "library_files_evicted_from_page_cache": evicted,
        "benchmarks": {
            r.name: {
                "error": r.error,
                "duration_s": r.duration_s,
                "figures": [
                    {k: v for k, v in f.items() if k in ("name", "value", "unit", "baseline", "baseline_name", "ratio", "target", "target_of", "meets_target", "note")}
                    for f in r.to_json()["figures"]
                ],
            }
            for r in results
        },
    }
    summary["targets"] = claims_met(results)
    write_json(RESULTS_DIR / "summary.json", summary)
    print_table(console, results)
    console.print(f"total {summary['duration_s']} s; results in {RESULTS_DIR}")
    return 0 if not any(r.error and not r.figures for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
