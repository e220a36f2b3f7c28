"""Build tests/migrations/18987c1/outbox.db with the code of commit 18987c1 (outbox layout 0002).

18987c1 is the last commit whose outbox knows only the river: journal readings as level and
battery columns, priorities 0 (event) and 1 (summary), evictions counted per station, item
objects without `kind`. Run once, from a checkout of 18987c1:

    mkdir /tmp/18987c1 && git archive 18987c1 | tar -x -C /tmp/18987c1 && cd /tmp/18987c1
    PYTHONPATH=$PWD python <this file> <output directory>

It writes `outbox.db` as a gateway left it when stopped during a flood at Katulampa: summaries
queued as records, one as a JSON object (a NaN statistic), one as a positional row (uplink
schema 2, left by an earlier upgrade), a Siaga change, a rate-of-rise start and a broker drop
report as objects, where each device's summarised windows end, journal readings of the open
windows (with and without a battery voltage) and an eviction record. The committed file is what
the upgrade test starts from; this script documents how it was made and is not run by the tests.
"""

from __future__ import annotations

import math
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from contract.gateway_items import BrokerDrops
from gateway.outbox import PRIORITY_EVENT, PRIORITY_SUMMARY, Outbox
from ingest.testing import rate_of_rise, siaga_change, summary
from kinds.awlr.items import outbox_body, summary_values
from kinds.awlr.summary_columns import encode_row

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
    odd = depok[2].model_copy(update={"mean_cm": math.nan})  # not packable: stored as an object
    events = [
        siaga_change("katulampa", T0 + timedelta(minutes=29, seconds=50), 3, 82.0, siaga_from=4, seq=29, gateway=GATEWAY),
        rate_of_rise("katulampa", T0 + timedelta(minutes=31), True, 85.0, seq=36, gateway=GATEWAY),
    ]
    drops = BrokerDrops(
        id=f"{GATEWAY}:broker_drops:1738606200000", station="katulampa", active=True, dropped=12, broker_total=12,
        since=None, until=T0 + timedelta(minutes=30),
    )
    box.put([(s.id, PRIORITY_SUMMARY, outbox_body(s, GATEWAY)) for s in ten_minutes[:1]])
    box.max_bytes = box.stored_bytes  # the next commit evicts the oldest summary: a `dropped` row
    box.commit([(s.id, PRIORITY_SUMMARY, outbox_body(s, GATEWAY)) for s in ten_minutes[1:2]], summarised=[("awlr-katulampa", (T0 + timedelta(minutes=20)).timestamp())])
    box.max_bytes = None
    box.commit(
        [(e.id, PRIORITY_EVENT, outbox_body(e, GATEWAY)) for e in [*events, drops]]
        + [(s.id, PRIORITY_SUMMARY, outbox_body(s, GATEWAY)) for s in ten_minutes[2:] + one_minute + depok[1:2]]
        + [(depok[0].id, PRIORITY_SUMMARY, encode_row(summary_values(depok[0]))), (odd.id, PRIORITY_SUMMARY, outbox_body(odd, GATEWAY))],
        readings=[("awlr-katulampa", (T0 + timedelta(minutes=32, seconds=5 + 10 * k)).timestamp(), 42 + k, 88.0 + k, 12.6) for k in range(4)]
        + [("awlr-depok", (T0 + timedelta(minutes=30, seconds=60 * k)).timestamp(), 30 + k, 153.0 + k, None) for k in range(3)],
        summarised=[("awlr-katulampa", (T0 + timedelta(minutes=32)).timestamp()), ("awlr-depok", (T0 + timedelta(minutes=30)).timestamp())],
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
