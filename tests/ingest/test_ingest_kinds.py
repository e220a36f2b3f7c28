"""Ingest dispatches uplink items by kind: an item of a kind this build lacks is counted and
refused alone (`unknown_kind`), never a crash nor stored; records of an unknown kind refuse
their message (their size is unknown); and ingest's generic layers load without any kind."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import LevelPoint, writer
from contract.envelope import encode_uplink
from contract.uplink_batch import MessageError, UnknownRecordType, decode_batch
from ingest.service import apply_batch
from ingest.testing import batch, summary
from kinds.awlr.ingest.points import SqlPointSink
from kinds.awlr.items import outbox_body

T0 = datetime(2025, 1, 20, 0, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[2]


def test_an_item_of_an_unknown_kind_is_counted_and_the_rest_stored(engine: Engine) -> None:
    sonar = {"kind": "sonar", "type": "ping", "id": "gw-ciliwung:katulampa:ping:1", "station": "katulampa"}
    b = batch([summary("katulampa", T0, 70.0), sonar])
    with Session(writer(engine)) as s, s.begin():
        result = apply_batch(s, b, SqlPointSink(s))
    assert result.rejected == {"unknown_kind": 1}
    assert dict(result.stored_by_type) == {"summary": 1}
    with Session(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(LevelPoint)) == 1


def test_records_of_an_unknown_kind_refuse_their_message() -> None:
    raw = encode_uplink("dki-jakarta", "gw-ciliwung", [outbox_body(summary("katulampa", T0, 70.0), "gw-ciliwung")], T0)
    head, _, rest = raw.partition(b"\x00")
    header = json.loads(head)
    header["blocks"][0]["kind"] = "sonar"
    with pytest.raises(UnknownRecordType):
        decode_batch(json.dumps(header).encode() + b"\x00" + rest)
    assert issubclass(UnknownRecordType, MessageError)


def test_contract_loads_without_any_kind() -> None:
    """The goal of the kinds registry: the contract loads with every kind hidden."""
    code = (
        "import sys, importlib.abc\n"
        "class NoKinds(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.startswith('kinds'): raise ImportError(name)\n"
        "sys.meta_path.insert(0, NoKinds())\n"
        "import contract.envelope, contract.uplink_batch, contract.legacy_uplink, contract.records\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("layer", ["contract", "ingest"])
def test_generic_layers_name_no_kind_in_their_imports(layer: str) -> None:
    """Ingest reaches a kind through the registry (`kinds.ingest_handler`) only."""
    offenders = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("kinds.")]
    assert offenders == []
