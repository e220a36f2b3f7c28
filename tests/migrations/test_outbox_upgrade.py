"""A gateway outbox written before its layout was versioned (f93509f) upgrades with every row intact.

tests/migrations/f93509f/outbox.db was written by f93509f's `Outbox`: queued summaries (records
and a JSON object), two events, journal readings of open windows and an eviction record. When a
revision changes the layout, keep these tests, add the outbox the previous release wrote beside
it (with that release's code) and upgrade from it too, asserting what the revision promises.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from earlier_releases import F93509F

from gateway.errors import OutboxError
from gateway.outbox import PRIORITY_EVENT, PRIORITY_SUMMARY, Outbox
from gateway.outbox_layout import HEAD, prepare_layout
from gateway.outbox_upgrade import MIGRATIONS
from tepi import migrations

TABLES = ("outbox", "journal", "dropped")


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
    assert contents(old_outbox) == before
    queued = box.peek(100)
    assert [(e.seq, e.item_id, e.priority, e.body, e.created_at) for e in queued] == sorted(
        before["outbox"], key=lambda r: (r[2], r[0])
    ), "events first, then summaries, oldest first, bodies byte for byte"
    assert box.depth() == 10 and box.stored_bytes == sum(len(r[3]) for r in before["outbox"])  # type: ignore[arg-type]
    assert box.journal() == sorted(before["journal"])
    assert [(d.station, d.count) for d in box.take_dropped()] == [("katulampa", 1)]
    assert box.put([("after-upgrade", PRIORITY_SUMMARY, b"new")]) == 1
    assert box.peek(100)[-1].seq > max(r[0] for r in before["outbox"]), "seq keeps growing: AUTOINCREMENT kept"  # type: ignore[type-var]
    box.ack([e.seq for e in queued if e.priority == PRIORITY_EVENT])
    box.close()

    again = Outbox(old_outbox)
    assert again.upgrade_backup is None, "current: nothing to upgrade or copy"
    assert again.depth() == 9
    again.close()


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
    assert contents(old_outbox) == contents(F93509F / "outbox.db")


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
