"""How fast the fish-finder's decoder reads NMEA 0183, against Signal K's parser on the same lines.

The issue's target: the recorded real streams decoded at >= 1x the rate of Signal K server's
NMEA 0183 parser, `@signalk/nmea0183-signalk` (https://github.com/SignalK/nmea0183-signalk),
side by side. How the two are put on the same footing:

- Same lines: the recorded streams of `kinds/fishfinder/tests/data` (real instruments: sounders,
  GNSS, AIS; their SOURCES.md), the files' ``#`` comments dropped, repeated to at least 20,000
  lines a round. Tepi gets each line as bytes ending in LF, as a serial port gives them (a new
  object each line and round, made before the clock starts); Signal K the same bytes from one
  file split on LF, each line a string as Signal K server passes it.
- Same checks: both require and check each sentence's checksum (Signal K's default,
  ``validateChecksum``).
- Both warm: each side runs one untimed round first (Node's JIT compiles there), then the
  timed rounds, each with a fresh parser, since both keep state between lines (Tepi: the date,
  the open ping, the lines read lately). Node runs in its own process (`bench/.node-signalk`,
  npm-installed on first use; ignored by git), never at the same time as Python.
- Sides alternating: Tepi, then Signal K, five times over, and each side's median rate. On a
  machine shared with other work, one side measured while the machine was busier would
  otherwise decide the ratio (measured back to back once, the same code gave 1.01 and 1.35 in
  two runs). The details add each alternation's ratio and the ratio of each side's fastest
  alternation (the least disturbed), which on a quiet machine is the one to read.
- Repeats as the recordings have them: Tepi does not read again a line the same as one of the
  last few seconds (`InstrumentDecoder`, 64 lines), and the recordings repeat many (146 of
  their 442 lines in one pass: water temperature, depth, satellites, Garmin's datum). Their
  repetition here (442 lines) is far longer than that memory, which finds 150.7 repeats a
  repetition: 4.7 more than the recordings hold, 1 % of the lines.
- Counted output: Tepi counts the values `InstrumentDecoder.decode` returns (fixes, depths,
  temperatures) and the lines it rejects; Signal K its deltas, the path values in them and the
  lines it throws on. The counts differ because the work does: Signal K turns more sentence
  types into values (heading, wind, satellites, routes) and decodes AIS payloads, which Tepi
  only checks and counts; Tepi checks every field strictly (no NaN, exponents or out-of-range
  coordinates) and tallies every line's outcome. So the ratio says whether Tepi keeps up with
  a widely used parser on the same input, not that the two do identical work.
- One thread of Python; Node as it runs (its compiler and collector have threads of their own).
  On a shared machine the rates move with the load of other processes, Signal K's more than
  Tepi's; the ratio comes from the two measured alternately in one run.

A second figure is Tepi alone on the simulated fish-finder stream (`nmea_stream`, 2 pings of
500 bins a second): how many boat-seconds one core decodes per second; 25 boats need 25.

`python -m bench.nmea_parse` runs it alone and prints the figures.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.core import BENCH_DIR, REPO, Context, Figure, Result
from gateway.errors import FrameRejected
from kinds.fishfinder.sim import nmea_stream
from kinds.fishfinder.decoder import InstrumentDecoder

DATA = REPO / "kinds" / "fishfinder" / "tests" / "data"
NODE_DIR = BENCH_DIR / ".node-signalk"
SIGNALK_PACKAGE = "@signalk/nmea0183-signalk@3.20.1"
MIN_ROUND_LINES = 20_000
ALTERNATIONS = 5
RX = datetime(2026, 1, 1, tzinfo=timezone.utc)

#: Parses the file given as argv[2] argv[3] times with a fresh Parser each round; prints JSON.
NODE_SCRIPT = r"""
const fs = require('fs');
const Parser = require('@signalk/nmea0183-signalk');
const lines = fs.readFileSync(process.argv[2], 'latin1').split('\n').filter((l) => l.length > 0);
const rounds = Number(process.argv[3]);
function round() {
  const parser = new Parser();
  let deltas = 0, values = 0, errors = 0;
  for (const line of lines) {
    try {
      const delta = parser.parse(line);
      if (delta) { deltas += 1; for (const u of delta.updates || []) values += (u.values || []).length; }
    } catch (e) { errors += 1; }
  }
  return { deltas, values, errors };
}
round();
const t0 = process.hrtime.bigint();
let last;
for (let i = 0; i < rounds; i++) last = round();
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ lines: lines.length, rounds, seconds, ...last }));
"""


def recorded_lines() -> list[bytes]:
    """Every recording's stream lines (not the files' `#` comments), ending in LF as a port gives them."""
    out: list[bytes] = []
    for path in sorted(DATA.glob("*.nmea")):
        for line in path.read_bytes().splitlines():
            if not line.startswith(b"#"):
                out.append(line + b"\n")
    return out


def tepi_round(lines: list[bytes]) -> tuple[int, int]:
    decoder, values, rejected = InstrumentDecoder(), 0, 0
    for line in lines:
        try:
            if decoder.decode(line, RX) is not None:
                values += 1
        except FrameRejected:
            rejected += 1
    return values, rejected


def time_tepi(lines: list[bytes], rounds: int) -> dict[str, float]:
    tepi_round(lines)
    # A new bytes object for each line of each round, as a port gives them: nothing about a line
    # (its hash, which the decoder's memory of lines read lately takes) kept from a round before.
    fresh = [[bytes(memoryview(line)) for line in lines] for _ in range(rounds)]
    t0 = time.perf_counter()
    for round_lines in fresh:
        values, rejected = tepi_round(round_lines)
    seconds = time.perf_counter() - t0
    return {"lines": len(lines), "rounds": rounds, "seconds": seconds, "values": values, "rejected": rejected,
            "lines_per_s": len(lines) * rounds / seconds}


def ensure_signalk() -> Path:
    """The npm-installed parser and the script that times it; None of it is committed."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError("node and npm are needed for the Signal K baseline")
    NODE_DIR.mkdir(exist_ok=True)
    (NODE_DIR / ".gitignore").write_text("*\n")
    if not (NODE_DIR / "node_modules" / "@signalk" / "nmea0183-signalk").is_dir():
        (NODE_DIR / "package.json").write_text('{"name": "tepi-bench-signalk", "private": true}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", SIGNALK_PACKAGE],
                       cwd=NODE_DIR, check=True, timeout=600)
    script = NODE_DIR / "parse.js"
    script.write_text(NODE_SCRIPT)
    return script


def time_signalk(script: Path, stream: Path, rounds: int) -> dict[str, float]:
    out = subprocess.run(["node", str(script), str(stream), str(rounds)], cwd=NODE_DIR, check=True,
                         capture_output=True, text=True, timeout=600)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["lines_per_s"] = result["lines"] * result["rounds"] / result["seconds"]
    return result


def alternate(lines: list[bytes], rounds: int, times: int, work: Path) -> tuple[list[dict], list[dict], str | None]:
    """Tepi, then Signal K, `times` times over; Tepi alone (and why) when Signal K cannot run."""
    try:
        script = ensure_signalk()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        return [time_tepi(lines, rounds)], [], f"{type(exc).__name__}: {exc}"
    work.mkdir(parents=True, exist_ok=True)
    stream = work / "nmea_parse_stream.nmea"
    stream.write_bytes(b"".join(lines))
    tepi: list[dict] = []
    signalk: list[dict] = []
    for _ in range(times):
        tepi.append(time_tepi(lines, rounds))
        try:
            signalk.append(time_signalk(script, stream, rounds))
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            return tepi, signalk, f"{type(exc).__name__}: {exc}"
    return tepi, signalk, None


def simulated_boat_seconds(seconds: int) -> tuple[list[bytes], int]:
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    lines = [line.wire for line in nmea_stream.compose(nmea_stream.steady_boat(start, seconds), ais_per_s=2)]
    return lines, seconds


def run(ctx: Context) -> Result:
    res = Result("nmea_parse", "fish-finder NMEA decoding: Tepi against Signal K's parser, same recorded lines")
    recorded = recorded_lines()
    repeat = -(-MIN_ROUND_LINES // len(recorded))
    lines = recorded * repeat
    rounds, times = ctx.scale(10, 2), ctx.scale(ALTERNATIONS, 1)
    tepi, signalk, error = alternate(lines, rounds, times, ctx.work)
    res.details["tepi_recorded"] = tepi
    res.details["signalk_recorded"] = signalk
    if error:
        res.details["signalk_error"] = error
    baseline = statistics.median(r["lines_per_s"] for r in signalk) if signalk and not error else None
    res.details["ratios_by_alternation"] = [t["lines_per_s"] / k["lines_per_s"] for t, k in zip(tepi, signalk)]
    if signalk:  # each side at its least disturbed, beside the medians' ratio of the figure
        res.details["ratio_of_fastest"] = max(t["lines_per_s"] for t in tepi) / max(k["lines_per_s"] for k in signalk)
    res.figures.append(Figure("recorded lines decoded", statistics.median(t["lines_per_s"] for t in tepi), "lines/s",
                              baseline=baseline, baseline_name="Signal K nmea0183-signalk", target=">= 1",
                              note=f"{len(recorded)} recorded lines x {repeat}, checksums checked, both warm; "
                                   f"medians of {times} alternations"))
    sim, seconds = simulated_boat_seconds(ctx.scale(300, 60))
    t = time_tepi(sim, ctx.scale(3, 1))
    res.details["tepi_simulated"] = t
    res.figures.append(Figure("fish-finder boat-seconds decoded per second", seconds * t["rounds"] / t["seconds"], "boat-s/s",
                              target=">= 25", target_of="value",
                              note="2 pings x 500 bins, 1 Hz NMEA, 2 AIS/s; one core, decode only"))
    return res


def main() -> None:
    quick = "--quick" in sys.argv
    res = run(Context(quick=quick, work=BENCH_DIR / "work"))
    for f in res.figures:
        ratio = f" ratio {f.ratio:.2f} against {f.baseline:,.0f} ({f.baseline_name})" if f.ratio else ""
        print(f"{f.name}: {f.value:,.0f} {f.unit}{ratio}  [{f.note}]")
    print(json.dumps(res.details, indent=1, default=str))


if __name__ == "__main__":
    main()
