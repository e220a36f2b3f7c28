"""A gateway outbox written before its layout was versioned (f93509f) upgrades with every row intact.

tests/migrations/f93509f/outbox.db was written by f93509f's `Outbox`: queued summaries (records
and a JSON object), two events, journal readings of open windows and an eviction record.
tests/migrations/25e3753/outbox.db was written by 25e3753's (layout 0001), stopped during an
alert: one-minute summaries queued and the journal of the open windows.
tests/migrations/18987c1/outbox.db was written by 18987c1's (layout 0002, the last that knew
only the river): records, a positional row and objects without `kind`, gateway reports, where
windows end. Layout 0003 made rows generic (kind, type, origin, at; kind-opaque journal bodies;
priorities of `contract.items`). When a revision changes the layout, keep these tests, add the
outbox the previous release wrote beside it (with that release's code) and upgrade from it too,
asserting what the revision promises.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
from earlier_releases import C18987C1, C25E3753, F93509F

from gateway.errors import OutboxError
from gateway.outbox import PRIORITY_EVENT, PRIORITY_ROUTINE, PRIORITY_SUMMARY, Outbox
from gateway.outbox_layout import HEAD, prepare_layout
from gateway.outbox_upgrade import MIGRATIONS
from gateway.runtime import EdgeGateway
from core import migrations
from core.config import TepiConfig, with_local_services
from contract.envelope import encode_uplink
from kinds.awlr.edge import KIND as AWLR
from kinds.awlr.items import LevelSummary
from kinds.awlr.summary_records import is_record
from contract.uplink_batch import decode_batch
from kinds.awlr.ingest.uplink import every_item

TABLES = ("outbox", "journal", "dropped")
OLD_EVENT, OLD_SUMMARY = 0, 1  # priorities before layout 0003


def item_of(body: bytes) -> object:
    """The one item a stored body is, as ingest reads it."""
    if body[:1] == b"[":  # a positional row of an older layout: as its gateway sent it (schema 2)
        sent_at = datetime.now(timezone.utc).isoformat()
        payload = b'{"tenant":"dki-jakarta","gateway":"gw-ciliwung","sent_at":"%s","items":[],"summaries":[%s],"v":2}' % (sent_at.encode(), body)
    else:
        payload = encode_uplink("dki-jakarta", "gw-ciliwung", [body], datetime.now(timezone.utc))
    batch = decode_batch(payload)
    (item,) = every_item(batch)
    return item


def assert_upgraded(before: dict[str, list[tuple[object, ...]]], box: Outbox, path: Path) -> None:
    """What revision 0003 promises for the rows of an older layout `before`."""
    after = contents(path)
    assert len(after["outbox"]) == len(before["outbox"]), "no queued item lost"
    new_rows = {r[0]: r for r in sqlite3.connect(path).execute("SELECT seq, item_id, priority, body, created_at, kind, type, origin, at FROM outbox")}
    for seq, item_id, priority, body, created_at in before["outbox"]:
        _, new_id, new_priority, new_body, new_created, kind, item_type, origin, at = new_rows[seq]
        assert (new_id, new_created) == (item_id, created_at)
        assert new_priority == {OLD_EVENT: PRIORITY_EVENT, OLD_SUMMARY: PRIORITY_ROUTINE}[priority]  # type: ignore[index]
        item = item_of(new_body)
        assert item.model_dump_json() == item_of(body).model_dump_json(), "the same item goes to ingest (NaN too)"  # type: ignore[attr-defined, arg-type]
        assert (kind, item_type) == (getattr(item, "kind"), getattr(item, "type"))
        if not is_record(new_body):
            assert new_body.startswith(b"{") and b'"kind":' in new_body, "objects name their kind (uplink schema 4)"
        station, device = getattr(item, "station"), getattr(item, "device", None)
        assert origin == (f"{station}/{device}" if device else station)
        when = {"summary": "window_start", "siaga_change": "ts", "rate_of_rise": "ts", "broker_drops": "until"}[item_type]
        assert at == getattr(item, when).timestamp()
    queued = box.peek(100)
    assert [e.seq for e in queued] == [r[0] for r in sorted(before["outbox"], key=lambda r: (r[2], r[0]))], "events first, then oldest first"  # type: ignore[index]
    assert box.depth() == len(before["outbox"]) and box.stored_bytes == sum(len(r[3]) for r in after["outbox"])  # type: ignore[arg-type]
    replayed = [(d, ts, seq, AWLR.from_journal(d, seq, datetime.fromtimestamp(ts, timezone.utc), body)) for d, ts, seq, body in box.journal()]
    assert [(d, ts, seq, r.level_cm, r.battery_v) for d, ts, seq, r in replayed] == sorted(before["journal"]), "the journal replays the same readings"  # type: ignore[arg-type]
    assert [(d.kind, d.type, d.origin, d.count, d.first_at, d.last_at) for d in box.take_dropped()] == [
        ("awlr", "summary", f"{station}/{device}", n, first, last) for station, device, n, first, last in before["dropped"]
    ]


def contents(path: Path) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite3.connect(path)
    try:
        return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in TABLES}
    finally:
        db.close()


def layout(path: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return sorted(db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
    finally:
        db.close()


@pytest.fixture
def old_outbox(tmp_path: Path) -> Path:
    path = tmp_path / "outbox.db"
    shutil.copy(F93509F / "outbox.db", path)
    return path


def test_f93509f_outbox_upgrades_with_every_row_intact_and_keeps_working(old_outbox: Path) -> None:
    before = contents(old_outbox)
    assert {t: len(rows) for t, rows in before.items()} == {"outbox": 10, "journal": 4, "dropped": 1}

    box = Outbox(old_outbox)

    assert box.upgrade_backup is not None and contents(box.upgrade_backup) == before
    queued = box.peek(100)
    assert_upgraded(before, box, old_outbox)
    assert box.summarised_until() == earliest_journal_reading(before["journal"])
    assert box.put([("after-upgrade", PRIORITY_SUMMARY, b"new")]) == 1
    assert box.peek(100)[-1].seq > max(r[0] for r in before["outbox"]), "seq keeps growing: AUTOINCREMENT kept"  # type: ignore[type-var]
    box.ack([e.seq for e in queued if e.priority == PRIORITY_EVENT])
    box.close()

    again = Outbox(old_outbox)
    assert again.upgrade_backup is None, "current: nothing to upgrade or copy"
    assert again.depth() == 9
    again.close()


def earliest_journal_reading(journal: list[tuple[object, ...]]) -> dict[str, float]:
    """What revision 0002 records for an outbox that did not know where summarised windows end."""
    earliest: dict[str, float] = {}
    for device, ts, *_ in journal:
        earliest[device] = min(earliest.get(device, ts), ts)  # type: ignore[arg-type, type-var, index]
    return earliest


def queued_summaries(box: Outbox) -> list[LevelSummary]:
    bodies = [e.body for e in box.peek(1000)]
    batch = decode_batch(encode_uplink("dki-jakarta", "gw-ciliwung", bodies, datetime.now(timezone.utc)))
    return [i for i in every_item(batch) if isinstance(i, LevelSummary)]


def test_a_0001_outbox_stopped_during_an_alert_upgrades_and_its_rebuilt_window_starts_after_those_sent(
    tmp_path: Path, default_config: TepiConfig
) -> None:
    """25e3753 stopped with Katulampa's one-minute windows up to 18:32 queued and readings from
    18:32:05 in the journal. A restart rebuilds that window at Siaga IV, a ten-minute cadence:
    aligned, it would start at 18:30, with the same start as a window already queued."""
    path = tmp_path / "outbox.db"
    shutil.copy(C25E3753 / "outbox.db", path)
    before = contents(path)
    assert {t: len(rows) for t, rows in before.items()} == {"outbox": 9, "journal": 7, "dropped": 1}

    box = Outbox(path)
    assert box.upgrade_backup is not None and contents(box.upgrade_backup) == before
    assert_upgraded(before, box, path)
    assert box.summarised_until() == earliest_journal_reading(before["journal"])
    sent = queued_summaries(box)
    box.close()

    cfg = with_local_services(default_config, 1883, tmp_path)
    gw = EdgeGateway(cfg, outbox_path=path, with_uplink=False, local_alarms=False)  # not started: no I/O
    try:
        gw._recover()
        end = datetime.max.replace(tzinfo=timezone.utc)
        rebuilt = {d: s for d in ("awlr-katulampa", "awlr-depok") for s in gw.processors[d].due(end) if isinstance(s, LevelSummary)}
    finally:
        gw.outbox.close()
    assert {d: s.count for d, s in rebuilt.items()} == {"awlr-katulampa": 4, "awlr-depok": 3}, "the journal was replayed"
    for device, summary in rebuilt.items():
        earlier = [s for s in sent if s.device == device]
        assert summary.window_start >= max(s.window_end for s in earlier)
        assert summary.window_start not in {s.window_start for s in earlier}


def test_a_0002_outbox_upgrades_to_generic_rows_and_the_gateway_carries_on(tmp_path: Path, default_config: TepiConfig) -> None:
    """18987c1 stopped during the flood: summaries and events queued, windows open. After the
    upgrade the restarted gateway replays the journal into windows starting where the queued
    ones end, and their summaries, queued, cover the journal."""
    path = tmp_path / "outbox.db"
    shutil.copy(C18987C1 / "outbox.db", path)
    before = contents(path)
    assert {t: len(rows) for t, rows in before.items()} == {"outbox": 10, "journal": 7, "dropped": 1}
    summarised = dict(sqlite3.connect(path).execute("SELECT device, window_end FROM summarised"))

    box = Outbox(path)
    assert box.upgrade_backup is not None and contents(box.upgrade_backup) == before
    assert_upgraded(before, box, path)
    assert box.summarised_until() == summarised, "kept as it was"
    assert all(is_record(e.body) or e.body.startswith(b"{") for e in box.peek(100)), "the positional row became a record"
    sent = queued_summaries(box)
    box.close()

    cfg = with_local_services(default_config, 1883, tmp_path)
    gw = EdgeGateway(cfg, outbox_path=path, with_uplink=False, local_alarms=False)  # not started: no I/O
    try:
        gw._recover()
        end = datetime.max.replace(tzinfo=timezone.utc)
        rebuilt = {d: s for d in ("awlr-katulampa", "awlr-depok") for s in gw.processors[d].due(end) if isinstance(s, LevelSummary)}
        gw._commit(list(rebuilt.values()), [])
        assert gw.outbox.journal() == [], "the rebuilt windows' summaries cover the journal"
    finally:
        gw.outbox.close()
    assert {d: (s.count, s.battery_v) for d, s in rebuilt.items()} == {"awlr-katulampa": (4, 12.6), "awlr-depok": (3, None)}
    for device, summary in rebuilt.items():
        assert summary.window_start >= max(s.window_end for s in sent if s.device == device)


def test_a_new_outbox_has_the_layout_the_revisions_make(tmp_path: Path, old_outbox: Path) -> None:
    assert migrations.head_revision(MIGRATIONS) == HEAD
    Outbox(tmp_path / "new.db").close()  # created without Alembic
    by_revisions = tmp_path / "by_revisions.db"
    sqlite3.connect(by_revisions).close()
    from gateway.outbox_upgrade import upgrade_layout

    upgrade_layout(by_revisions, None)
    Outbox(old_outbox).close()
    assert layout(tmp_path / "new.db") == layout(by_revisions) == layout(old_outbox)
    for path in (tmp_path / "new.db", by_revisions, old_outbox):
        assert sqlite3.connect(path).execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]


def test_the_gateway_never_loads_alembic_itself(tmp_path: Path, old_outbox: Path) -> None:
    """The gateway's memory budget: Alembic and SQLAlchemy (23 MB) load only in the child that
    upgrades a file."""
    script = textwrap.dedent(
        """
        import sys
        from gateway.outbox import Outbox
        box = Outbox(sys.argv[1])
        box.close()
        print(sorted({m.split(".")[0] for m in sys.modules} & {"alembic", "sqlalchemy"}), box.upgrade_backup is not None)
        """
    )

    def start(path: Path) -> str:
        proc = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    assert start(tmp_path / "new.db") == "[] False", "a new outbox"
    assert start(tmp_path / "new.db") == "[] False", "a current outbox"
    assert start(old_outbox) == "[] True", "an outbox to upgrade"
    assert start(old_outbox) == "[] False"
    assert {t: len(r) for t, r in contents(old_outbox).items()} == {t: len(r) for t, r in contents(F93509F / "outbox.db").items()}


def test_an_outbox_tepi_did_not_write_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, payload BLOB)")
    db.execute("INSERT INTO outbox VALUES (1, x'00')")
    db.commit()
    db.close()
    with pytest.raises(OutboxError, match=r"no layout version and is not one Tepi wrote \(outbox has columns id, payload\)"):
        Outbox(path)
    assert sqlite3.connect(path).execute("SELECT * FROM outbox").fetchall() == [(1, b"\x00")]
    assert list(tmp_path.glob("*.bak")) == []


def test_an_outbox_of_a_newer_gateway_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    Outbox(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE alembic_version SET version_num = '0099'")
    db.commit()
    db.close()
    with pytest.raises(OutboxError, match="layout revision '0099', which this gateway does not know"):
        prepare_layout(path)


def large_0002_outbox(path: Path, rows: int) -> int:
    """18987c1's outbox with `rows` more queued summaries (copies of its first record under new
    ids), and journal readings; returns the bytes of all queued bodies."""
    shutil.copy(C18987C1 / "outbox.db", path)
    db = sqlite3.connect(path)
    record, created_at = db.execute("SELECT body, created_at FROM outbox WHERE priority = 1 ORDER BY seq LIMIT 1").fetchone()
    db.executemany(
        "INSERT INTO outbox (item_id, priority, body, created_at) VALUES (?, 1, ?, ?)",
        ((f"gw-ciliwung:katulampa:s:bulk:{k}", record, created_at) for k in range(rows)),
    )
    db.executemany("INSERT INTO journal VALUES (?, ?, ?, ?, ?)", ((f"awlr-{k % 7}", 1.7e9 + k, k, 100.0, None) for k in range(rows // 10)))
    db.commit()
    total = db.execute("SELECT sum(length(body)) FROM outbox").fetchone()[0]
    db.close()
    return int(total)


def test_a_large_outbox_upgrades_in_bounded_memory_with_every_row(tmp_path: Path) -> None:
    import tracemalloc

    from gateway.outbox_upgrade import upgrade_layout

    warm = tmp_path / "warm.db"  # Alembic's own first-use allocations are not the upgrade's
    shutil.copy(C18987C1 / "outbox.db", warm)
    upgrade_layout(warm, "0002")
    path = tmp_path / "outbox.db"
    rows = 60_000
    body_bytes = large_0002_outbox(path, rows)
    before = sqlite3.connect(path).execute("SELECT count(*) FROM outbox").fetchone()[0]
    tracemalloc.start()
    try:
        upgrade_layout(path, "0002")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Read whole, the rows alone (bodies plus their Python tuples) would take several times this.
    assert peak < body_bytes / 4, f"peak {peak} bytes for {body_bytes} bytes of bodies"
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == before, "no queued item lost"
    assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'awlr' AND type = 'summary' AND priority = ?", (PRIORITY_ROUTINE,)).fetchone()[0] >= rows
    assert db.execute("SELECT count(*) FROM journal").fetchone()[0] == 7 + rows // 10
    db.close()


def test_an_upgrade_without_the_disk_space_it_needs_is_refused_and_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.outbox_upgrade import upgrade_layout

    path = tmp_path / "outbox.db"
    shutil.copy(C18987C1 / "outbox.db", path)
    before, shape = contents(path), layout(path)
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=1024 * 1024))
    with pytest.raises(OutboxError, match=r"needs about \d+ MiB free on its disk, only 1 MiB are.*nothing was changed"):
        upgrade_layout(path, "0002")
    assert contents(path) == before and layout(path) == shape
