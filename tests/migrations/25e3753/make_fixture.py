"""Build tests/migrations/25e3753/outbox.db with the code of commit 25e3753 (outbox layout 0001).

25e3753 is the last release whose outbox does not record where each device's summarised windows
end. Run once, from a checkout of 25e3753:

    mkdir /tmp/25e3753 && git archive 25e3753 | tar -x -C /tmp/25e3753 && cd /tmp/25e3753
    PYTHONPATH=$PWD python <this file> <output directory>

It writes `outbox.db` as a gateway left it when stopped during a flood at Katulampa: one-minute
summaries queued (Siaga III), a Siaga change and a rate-of-rise start, journal readings of the
open windows of two devices (Katulampa's one-minute window from 18:32, Depok's ten-minute window
from 18:30) and an eviction record. The committed file is what the upgrade test starts from;
this script documents how it was made and is not run by the tests.
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from gateway.outbox import PRIORITY_EVENT, PRIORITY_SUMMARY, Outbox
from ingest.testing import rate_of_rise, siaga_change, summary
from tepi.messages import outbox_body

GATEWAY = "gw-ciliwung"
T0 = datetime(2025, 2, 3, 18, 0, tzinfo=timezone.utc)


def fill_outbox(path: Path) -> None:
    box = Outbox(path, max_bytes=None)
    ten_minutes = [summary("katulampa", T0 + timedelta(minutes=10 * i), 60.0 + 5 * i, gateway=GATEWAY, first_seq=10 * i) for i in range(3)]
    one_minute = [
        summary("katulampa", T0 + timedelta(minutes=30 + i), 84.0 + i, gateway=GATEWAY, window_s=60, count=6, siaga=3, first_seq=30 + 6 * i)
        for i in range(2)
    ]
    depok = [summary("depok", T0 + timedelta(minutes=10 * i), 150.0 + i, gateway=GATEWAY, first_seq=10 * i) for i in range(3)]
    events = [
        siaga_change("katulampa", T0 + timedelta(minutes=29, seconds=50), 3, 82.0, siaga_from=4, seq=29, gateway=GATEWAY),
        rate_of_rise("katulampa", T0 + timedelta(minutes=31), True, 85.0, seq=36, gateway=GATEWAY),
    ]
    box.put([(s.id, PRIORITY_SUMMARY, outbox_body(s, GATEWAY)) for s in ten_minutes[:1]])
    box.max_bytes = box.stored_bytes  # the next commit evicts the oldest summary: a `dropped` row
    box.commit([(s.id, PRIORITY_SUMMARY, outbox_body(s, GATEWAY)) for s in ten_minutes[1:2]])
    box.max_bytes = None
    box.commit(
        [(e.id, PRIORITY_EVENT, outbox_body(e, GATEWAY)) for e in events]
        + [(s.id, PRIORITY_SUMMARY, outbox_body(s, GATEWAY)) for s in ten_minutes[2:] + one_minute + depok],
        readings=[("awlr-katulampa", (T0 + timedelta(minutes=32, seconds=5 + 10 * k)).timestamp(), 42 + k, 88.0 + k, 12.6) for k in range(4)]
        + [("awlr-depok", (T0 + timedelta(minutes=30, seconds=60 * k)).timestamp(), 30 + k, 153.0 + k, None) for k in range(3)],
    )
    box.close()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (out / f"outbox.db{suffix}").unlink(missing_ok=True)
    fill_outbox(out / "outbox.db")
    db = sqlite3.connect(out / "outbox.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file: no -wal to commit
    db.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
