"""The device kinds Tepi knows, registered in one place: one line per kind in `KINDS`.

A kind is a folder `kinds/<name>/` that owns its whole path (wire format, decoder, edge
processor, uplink item types, ingest handler, API router, simulator, README, sample config and
tests), as a Telegraf input plugin owns `plugins/inputs/<name>/`. Generic layers (gateway
sources, outbox and uplink; ingest's consumer; the API's auth and tenancy) never import a kind
by name: they ask this registry for a kind's side they need, by the name the configuration or an
uplink item gives.

Each side is a module of the kind's folder, imported only when asked for, so a gateway process
never imports a kind's ingest or API side (SQLAlchemy, FastAPI), nor a kind it does not run:

- `kinds.<name>.edge`: `KIND`, the gateway side (decode, check, process);
- `kinds.<name>.ingest`: `HANDLER`, the ingest side (items in, state and points out);
- `kinds.<name>.api`: `ROUTER`, the API side (a FastAPI router mounted under `/api/v1`);
- `kinds.<name>.config`: `CONFIG`, optional: the kind's top-level sections of the configuration
  file (a subclass of `core.config_model.CoreConfig`), of which `core.config` composes the model.

Removing a kind is removing its folder and its line here (where a deployment's state database
holds the kind's tables, after downgrading the kind's migrations: `central.schema` refuses a
database stamped with revisions of a kind this build does not register).
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Any

#: name -> package. The name is what `devices[].kind` in the configuration and `kind` in every
#: uplink item say.
KINDS: dict[str, str] = {
    "awlr": "kinds.awlr",
    "badge": "kinds.badge",
    "fishfinder": "kinds.fishfinder",
    "wavebuoy": "kinds.wavebuoy",
}


class UnknownKind(ValueError):
    """A configuration or a message names a kind this build does not have."""


def kind_names() -> list[str]:
    return sorted(KINDS)


def _side(name: str, side: str, attribute: str) -> Any:
    try:
        package = KINDS[name]
    except KeyError:
        raise UnknownKind(f"unknown device kind {name!r}; known: {kind_names()}") from None
    return getattr(import_module(f"{package}.{side}"), attribute)


def edge_kind(name: str) -> Any:
    """The gateway side of kind `name` (`gateway.devices.DeviceKind`)."""
    return _side(name, "edge", "KIND")


def ingest_handler(name: str) -> Any:
    """The ingest side of kind `name` (`ingest.kind_interface.IngestKind`)."""
    return _side(name, "ingest", "HANDLER")

def api_router(name: str) -> Any:
    """The API side of kind `name` (a FastAPI `APIRouter`, mounted under `/api/v1`)."""
    return _side(name, "api", "ROUTER")


def config_models() -> list[Any]:
    """The configuration models of the registered kinds that have one (`kinds.<name>.config.CONFIG`,
    each a subclass of `core.config_model.CoreConfig`), in the order of `kind_names`.

    Only that module of a kind is imported (pydantic models, no I/O), as every process that
    loads the configuration asks for them."""
    return [_side(name, "config", "CONFIG") for name in kind_names() if find_spec(f"{KINDS[name]}.config") is not None]


def unregistered_kinds() -> dict[str, Path]:
    """Kind folders beside the registered ones that `KINDS` does not name (a kind dropped from this
    build whose folder stayed, or one not registered yet): folder name -> folder. Never run; only
    to explain what a deployment's data refers to (a state database stamped by a build that had
    the kind: `central.schema`)."""
    here = Path(__file__).resolve().parent
    registered = {package.rsplit(".", 1)[-1] for package in KINDS.values()}
    return {p.name: p for p in sorted(here.iterdir()) if (p / "__init__.py").is_file() and p.name not in registered}


def console_dir(name: str) -> Path | None:
    """The folder of kind `name`'s console pages (`kinds/<name>/console/`), if it has a `pages.js`;
    None for a kind without pages. Found without importing the kind (the API serves the files)."""
    try:
        package = KINDS[name]
    except KeyError:
        raise UnknownKind(f"unknown device kind {name!r}; known: {kind_names()}") from None
    spec = find_spec(package)
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).resolve().parent / "console"
    return folder if (folder / "pages.js").is_file() else None
