"""Layers point one way: contract < core < central < generic machinery (gateway, ingest, api,
firmware_sim) < kinds < tepi. A generic layer reaches a device kind only through the registry
(`kinds/__init__.py`), never by importing `kinds.<name>`; so a kind is added or removed in its
folder and one registry line, and nothing generic breaks.

The check reads the source (imports at any depth, lazy ones included); the few exceptions are
listed with why, so a new one fails here and has to be argued for.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Package -> the packages it must not import (anything above it).
ABOVE: dict[str, tuple[str, ...]] = {
    "contract": ("core", "central", "gateway", "ingest", "api", "firmware_sim", "kinds.", "tepi"),
    "core": ("central", "gateway", "ingest", "api", "firmware_sim", "kinds.", "tepi"),
    "central": ("gateway", "ingest", "api", "firmware_sim", "kinds.", "tepi"),
    "gateway": ("ingest", "api", "central", "kinds.", "tepi"),
    "ingest": ("gateway", "api", "kinds.", "tepi"),
    "api": ("gateway", "ingest", "kinds.", "tepi"),
    "firmware_sim": ("gateway", "ingest", "api", "central", "kinds.", "tepi"),
    "kinds": ("tepi",),
}

#: (module file, imported module) -> why it is allowed for now.
ALLOWED: dict[tuple[str, str], str] = {
    ("core/processes.py", "tepi.mqtt_queues"): (
        "the Mosquitto that tests and the demo start sizes its queues as `tepi mqtt setup` sizes a "
        "deployment's, from one computation"
    ),
    ("gateway/outbox_legacy.py", "kinds.awlr.summary_records"): (
        "reads and converts river rows stored by outbox layouts before 0003, which knew only rivers"
    ),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            if node.module == "kinds":  # `from kinds import awlr` names a kind; `kind_names` does not
                out.update(f"kinds.{a.name}" for a in node.names if (ROOT / "kinds" / a.name / "__init__.py").exists())
    return out


def _violations(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "/tests/" in rel:
            continue
        for name in _imports(path):
            for banned in ABOVE[package]:
                hit = name.startswith(banned) if banned.endswith(".") else name == banned or name.startswith(banned + ".")
                if hit and (rel, name) not in ALLOWED and not _registry_function(package, name):
                    found.append(f"{rel} imports {name}")
    return found


def _registry_function(package: str, name: str) -> bool:
    """`kinds` itself (the registry) is what generic layers may use."""
    return name == "kinds"


def test_generic_layers_import_nothing_above_them() -> None:
    problems = [v for package in ABOVE for v in _violations(package)]
    assert problems == []


def test_a_kind_imports_no_other_kind() -> None:
    problems = []
    for kind_dir in sorted(p for p in (ROOT / "kinds").iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        for path in kind_dir.rglob("*.py"):
            for name in _imports(path):
                if name.startswith("kinds.") and name.split(".")[1] != kind_dir.name:
                    problems.append(f"{path.relative_to(ROOT)} imports {name}")
    assert problems == []


def test_the_allowed_exceptions_still_exist() -> None:
    """An exception that was fixed is removed from the list, so the list stays the debt."""
    stale = [(f, m) for f, m in ALLOWED if m not in _imports(ROOT / f)]
    assert stale == []
