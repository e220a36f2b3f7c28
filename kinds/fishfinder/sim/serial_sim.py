"""Plays a composed fish-finder stream (`nmea_stream`) into a pseudo-terminal at the pace of a
serial line, so the gateway's `gateway.sources.serial_line.SerialLineSource` (pyserial) reads
it as it would a boat's multiplexer on a USB-serial adapter.

A pty has no baud rate of its own, so the pace is ours: 8N1 puts 10 bits on the line per byte,
so a 38,400-baud line carries 3,840 bytes a second and a 4,800-baud one 480. Each second's
sentences start at the top of that second; each sentence is written when the line is free of
the one before. At 4,800 baud the stream has no echogram and no AIS: their bytes do not fit
(see `wire`). Bytes the reader does not take before the pty's buffer is full are dropped and
counted, as a UART's receive buffer would overrun.

    python -m kinds.fishfinder.sim.serial_sim --baud 38400 --seconds 600 --link /tmp/fishfinder0
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import tty
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from kinds.fishfinder.sim.nmea_stream import StreamLine, compose, steady_boat

BAUDS = (4800, 38400)
BITS_PER_BYTE = 10  # start bit, 8 data bits, stop bit


@dataclass
class PlayStats:
    lines: int = 0
    bytes_written: int = 0
    bytes_dropped: int = 0
    max_lag_s: float = 0.0  # how late a second's first sentence started, at worst: the line is too slow


def open_pty() -> tuple[int, int, str]:
    """A pseudo-terminal: (master fd to write to, slave fd kept open, slave path for pyserial).

    The slave is put in raw mode at once, so that nothing written before the reader opens it
    is echoed back or has its CR turned into LF by the terminal's line discipline."""
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)
    return master, slave, os.ttyname(slave)


def stream_for(baud: int, seconds: Iterable, *, seed: int = 0, garble_fraction: float = 0.0) -> Iterable[StreamLine]:
    """The stream a line of `baud` can carry: everything at 38,400; NMEA only at 4,800."""
    if baud not in BAUDS:
        raise ValueError(f"baud must be one of {BAUDS}")
    fast = baud >= 38400
    return compose(seconds, seed=seed, garble_fraction=garble_fraction, ais_per_s=2.0 if fast else 0.0, echogram=fast)


def play(
    fd: int,
    lines: Iterable[StreamLine],
    baud: int,
    *,
    second_s: float = 1.0,
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    write: Callable[[int, bytes], int] = os.write,
) -> PlayStats:
    """Writes `lines` to `fd` paced at `baud`; `second_s` is how long one stream second lasts
    (1.0 for real time; less to run a test faster, as long as a second's bytes still fit)."""
    stats = PlayStats()
    byte_s = BITS_PER_BYTE / baud
    start = clock()
    free_at, second = start, -1
    for line in lines:
        if stop is not None and stop.is_set():
            break
        due = start + line.second * second_s
        begin = max(free_at, due)
        if line.second != second:
            second = line.second
            stats.max_lag_s = max(stats.max_lag_s, begin - due)
        wait = begin - clock()
        if wait > 0:
            sleep(wait)
        try:
            written = write(fd, line.wire)
        except BlockingIOError:
            written = 0
        stats.lines += 1
        stats.bytes_written += written
        stats.bytes_dropped += len(line.wire) - written
        free_at = begin + len(line.wire) * byte_s
    return stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baud", type=int, choices=BAUDS, default=38400)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--link", help="symlink to create to the pty's slave, for the gateway's config")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--garble", type=float, default=0.01, help="fraction of sentences damaged")
    args = parser.parse_args(argv)
    master, slave, path = open_pty()
    if args.link:
        if os.path.islink(args.link):
            os.unlink(args.link)
        os.symlink(path, args.link)
    print(f"fish-finder stream on {args.link or path} ({path}) at {args.baud} baud", flush=True)
    seconds = steady_boat(datetime.now(timezone.utc).replace(microsecond=0), args.seconds, seed=args.seed)
    try:
        stats = play(master, stream_for(args.baud, seconds, seed=args.seed, garble_fraction=args.garble), args.baud)
        print(f"{stats.lines} lines, {stats.bytes_written} bytes written, {stats.bytes_dropped} dropped, "
              f"worst lag {stats.max_lag_s:.2f} s", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        if args.link and os.path.islink(args.link):
            os.unlink(args.link)
        os.close(master)
        os.close(slave)


if __name__ == "__main__":
    main()
