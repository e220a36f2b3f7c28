"""The durable outbox: ordering, idempotent puts, acknowledgement, and surviving kill -9."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from gateway.outbox import PRIORITY_EVENT, PRIORITY_SUMMARY, Outbox


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
