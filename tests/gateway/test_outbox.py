"""The durable outbox: ordering, idempotent puts, acknowledgement, and surviving kill -9."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gateway.outbox import PRIORITY_EVENT, PRIORITY_ROUTINE, PRIORITY_SUMMARY, Outbox
from gateway.stored_item import StoredItem


def test_events_leave_before_summaries_and_ids_are_stored_once(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    assert box.put([("s1", PRIORITY_SUMMARY, b"1"), ("s2", PRIORITY_SUMMARY, b"2")]) == 2
    assert box.put([("e1", PRIORITY_EVENT, b"E"), ("s1", PRIORITY_SUMMARY, b"1-again")]) == 1
    assert [e.item_id for e in box.peek(10)] == ["e1", "s1", "s2"]
    assert box.peek(10, skip={box.peek(1)[0].seq})[0].item_id == "s1"
    assert box.depth() == 3
    box.ack([e.seq for e in box.peek(2)])
    assert [e.item_id for e in box.peek(10)] == ["s2"]
    assert box.peek(10)[0].body == b"2"
    box.close()


def test_committed_items_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    script = textwrap.dedent(
        f"""
        import os, signal
        from gateway.outbox import Outbox
        box = Outbox({str(path)!r})
        for i in range(50):
            box.put([(f"item-{{i}}", 1, b"x" * 100)])
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == -9, proc.stderr
    box = Outbox(path)
    assert box.depth() == 50
    assert [e.item_id for e in box.peek(3)] == ["item-0", "item-1", "item-2"]
    box.close()


def _summary(station: str, i: int) -> StoredItem:
    """A routine item whose body the outbox cannot read: what it reports comes from the columns."""
    return StoredItem(f"gw:{station}:s:{i}", PRIORITY_ROUTINE, "awlr", "summary", f"{station}/awlr-{station}", 600.0 * i, os.urandom(1000))


def test_full_outbox_evicts_oldest_summaries_never_events_and_remembers_what(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_bytes=20_000)
    box.put([("event-0", PRIORITY_EVENT, b"E" * 3000)])
    for i in range(40):
        box.put([_summary("depok" if i % 2 else "katulampa", i)])
        box.put([(f"event-{i + 1}", PRIORITY_EVENT, b"E" * 100)])
    assert box.stored_bytes <= 20_000
    left = box.peek(1000)
    assert len([e for e in left if e.priority == PRIORITY_EVENT]) == 41, "no event was evicted"
    kept = [e.item_id for e in left if e.priority == PRIORITY_SUMMARY]
    assert kept == [f"gw:{'depok' if i % 2 else 'katulampa'}:s:{i}" for i in range(40 - len(kept), 40)], "newest kept"
    dropped = {d.origin: d for d in box.take_dropped()}
    assert sum(d.count for d in dropped.values()) == 40 - len(kept) == box.evicted
    assert {(d.kind, d.type) for d in dropped.values()} == {("awlr", "summary")}
    katulampa = dropped["katulampa/awlr-katulampa"]
    assert (katulampa.first_at, katulampa.last_at) == (0.0, 600.0 * (2 * (katulampa.count - 1)))
    assert box.take_dropped() == [], "handed over once"
    box.close()
    assert Outbox(tmp_path / "o.db", max_bytes=20_000).stored_bytes == box.stored_bytes


def test_in_flight_items_are_not_evicted(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_bytes=20_000)
    box.put([_summary("depok", 0)])
    box.protected = frozenset(e.seq for e in box.peek(1))
    for i in range(1, 40):
        box.put([_summary("depok", i)])
    assert box.peek(1)[0].item_id == "gw:depok:s:0"


def _filled(path: Path, n: int = 300) -> None:
    box = Outbox(path)
    for i in range(n):
        box.put([(f"item-{i}", PRIORITY_SUMMARY, b"y" * 200)])
    box.close()


def test_garbage_outbox_file_is_moved_aside_with_a_clear_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "o.db"
    path.write_bytes(b"this is not sqlite" * 1000)
    box = Outbox(path)
    assert box.salvaged is not None and box.salvaged.moved_to.exists()
    assert "damaged" in caplog.text and "not a database" in caplog.text
    assert box.depth() == 0
    box.put([("new", PRIORITY_EVENT, b"ok")])
    assert box.depth() == 1


def test_half_written_outbox_recovers_everything_readable(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    _filled(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a write cut off by a power loss
    box = Outbox(path)
    assert box.salvaged is not None
    recovered = box.depth()
    assert 0 < recovered < 300
    # What lay in the pages before the cut: which items those are depends on how SQLite placed
    # its pages (a leaf written late can sit past the cut while a later one does not).
    numbers = [int(e.item_id.removeprefix("item-")) for e in box.peek(1000)]
    assert numbers == sorted(set(numbers)) and set(numbers) <= set(range(300)), "readable items, each once, in order"
    assert numbers[:50] == list(range(50)), "the oldest pages were read"


def _damage_queue_index(path: Path) -> None:
    """Garbage over the page of the queue's index: the file fails SQLite's check, its tables
    can still be read."""
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'outbox_order'").fetchone()
    db.close()
    with open(path, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * page_size)


def test_a_salvaged_outbox_keeps_where_summarised_windows_end(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    box = Outbox(path)
    def closing(item_id: str, device: str, end: float) -> StoredItem:
        return StoredItem(item_id, PRIORITY_ROUTINE, "awlr", "summary", f"s/{device}", end - 60, b"x", (device, end))

    box.commit([closing("s1", "awlr-a", 120.0), closing("s2", "awlr-b", 600.0)], [("awlr-a", 125.0, 7, b"\x01"), ("awlr-a", 130.0, 8, b"\x02")])
    box.commit([closing("s3", "awlr-b", 60.0)])
    assert box.summarised_until() == {"awlr-a": 120.0, "awlr-b": 600.0}, "the newest end of each device"
    box.close()
    _damage_queue_index(path)
    again = Outbox(path)
    assert again.salvaged is not None
    assert again.summarised_until() == {"awlr-a": 120.0, "awlr-b": 600.0}
    assert again.depth() == 3 and again.journal() == [("awlr-a", 125.0, 7, b"\x01"), ("awlr-a", 130.0, 8, b"\x02")]
    assert [(e.item_id, e.priority) for e in again.peek(3)] == [("s1", PRIORITY_ROUTINE), ("s2", PRIORITY_ROUTINE), ("s3", PRIORITY_ROUTINE)]
    again.close()


def test_a_salvaged_outbox_of_layout_0001_learns_where_windows_end_from_its_journal(tmp_path: Path) -> None:
    """A damaged file is salvaged as it is, before any upgrade: one written before the outbox
    recorded where summarised windows end records each device's earliest journal reading, as
    the upgrade does (outbox_migrations 0002)."""
    path = tmp_path / "o.db"
    shutil.copy(Path(__file__).parents[1] / "migrations" / "25e3753" / "outbox.db", path)
    _damage_queue_index(path)
    box = Outbox(path)
    assert box.salvaged is not None and box.upgrade_backup is None
    journal = box.journal()
    assert len(journal) == 7 and box.depth() == 9
    assert box.summarised_until() == {
        device: min(ts for d, ts, *_ in journal if d == device) for device in ("awlr-katulampa", "awlr-depok")
    }
    box.close()


def test_torn_wal_tail_is_ignored_and_nothing_committed_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    box = Outbox(path)
    for i in range(50):
        box.put([(f"item-{i}", PRIORITY_SUMMARY, b"z" * 100)])
    wal = path.with_name("o.db-wal")
    copy = tmp_path / "copy.db"
    shutil.copy(path, copy)
    shutil.copy(wal, copy.with_name("copy.db-wal"))  # as a kill would leave them
    box.close()
    with open(copy.with_name("copy.db-wal"), "ab") as f:
        f.write(os.urandom(5000))  # a frame half written when the power went
    again = Outbox(copy)
    assert again.salvaged is None
    assert again.depth() == 50


def test_acknowledging_any_number_of_items_keeps_the_byte_count(tmp_path) -> None:
    """The freed bytes are summed in fixed-size chunks (one prepared statement, whatever the
    number of ids); ids repeated or spanning several chunks are each counted once."""
    from gateway.outbox import _LENGTH_CHUNK, Outbox

    box = Outbox(tmp_path / "o.db")
    n = 3 * _LENGTH_CHUNK + 5
    box.put([(f"i{k}", 1, b"x" * (k % 17 + 1)) for k in range(n)])
    seqs = [e.seq for e in box.peek(n)]
    box.ack(seqs[:1] + seqs[:1])
    box.ack(seqs[1 : 2 * _LENGTH_CHUNK + 3] + seqs[5:9])
    remaining = box.peek(n)
    assert box.stored_bytes == sum(len(e.body) for e in remaining)
    assert box.depth() == len(remaining) == n - 2 * _LENGTH_CHUNK - 3
    box.ack([e.seq for e in remaining])
    assert box.stored_bytes == 0 and box.depth() == 0
    box.close()
