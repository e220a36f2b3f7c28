"""The roster at the office gateway: the centre's `BadgeRoster` kept in a file beside the
outbox, so a gateway that restarts without uplink keeps resolving badges.

The file holds identity keys: it is written 0600 (owner only) from the start (created with
that mode, never chmod-ed after the fact), atomically (a temporary file in the same folder,
flushed and fsync-ed, then renamed over the old one, then the folder fsync-ed), so a power
cut leaves the old roster or the new one, never half of one. Nothing here logs a key: errors
name the file and what is wrong, never the content.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pydantic import ValidationError

from kinds.badge.items import BadgeRoster

log = logging.getLogger(__name__)

FILE_MODE = 0o600


class RosterFileError(ValueError):
    """The roster file exists but cannot be read as a roster."""


def roster_path(outbox_path: Path, gateway_id: str) -> Path:
    """Where gateway `gateway_id` keeps its roster: beside its outbox."""
    return Path(outbox_path).parent / f"badge-roster-{gateway_id}.json"


def validation_summary(exc: ValidationError) -> str:
    """Where a roster failed validation, without the values (a key may be among them)."""
    places = [".".join(str(p) for p in e["loc"]) + f": {e['type']}" for e in exc.errors(include_url=False, include_input=False, include_context=False)]
    return f"{len(places)} errors: " + "; ".join(places[:5])


def load(path: Path) -> BadgeRoster | None:
    """The stored roster; None when there is none yet; `RosterFileError` when the file is not
    one (the caller starts without, and the centre sends the roster again)."""
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RosterFileError(f"roster file {path} cannot be read: {exc.strerror}") from None
    try:
        return BadgeRoster.model_validate_json(body)
    except ValidationError as exc:
        raise RosterFileError(f"roster file {path} is not a roster ({validation_summary(exc)})") from None


def save(path: Path, roster: BadgeRoster) -> None:
    """Replace the stored roster atomically; `OSError` when the disk refuses."""
    body = roster.model_dump_json().encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # left by a process of the same id that died mid-write
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return  # a folder that cannot be opened for fsync (some platforms): the rename stands
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
