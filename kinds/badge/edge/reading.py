"""One scanner message as the gateway holds it once resolved, and its journal body.

A reading is one scanner message (`wire.ScanReport`): every advertisement of the roster's
badges it held, resolved to the badge (`edge.resolver`) and classified against the reading's
time, plus counts of what was no badge of the roster. Resolving at decode time means the
journal holds badges, not payloads: a replay after a restart needs neither the roster nor
its keys, and gives the presence machine exactly what the live run gave it.

The gateway journals every reading (about ten a second with up to `wire.MAX_ENTRIES` entries
each), so the body is packed, not JSON: a 22-byte header, 10 bytes per sighting (badge id,
RSSI, power at 1 m, flag) and 4 more per sighting flagged as a replayed or ahead EID (its
period offset). 2,000 badges heard make a 20 kB body.

A health window's close trims the journal, so a restart replays only the readings since; the
badges in the office then would be checked in again. The first reading after a close
therefore carries the office's `snapshot`: the badges that were in, since when, 28 bytes
each; a restarted office restores them from it instead (`edge.office`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime

#: A sighting's flag: usable for presence, or why not.
OK, STATIC_REFUSED, REPLAYED, AHEAD = 0, 1, 2, 3
#: (badge id, the id's 6 bytes, RSSI dBm, power at 1 m dBm, flag, EID period offset or 0)
Sighting = tuple[str, bytes, int, int, int, int]

_HEAD = struct.Struct("<2sIIIII")  # magic, sightings, unknown, not badges, malformed, badges in the snapshot
_MAGIC = b"B2"
_SIGHTING = struct.Struct("<6sbhB")
_OFFSET = struct.Struct("<i")
#: A badge in the office at a health window's close: id, last heard inside, last heard, level, power.
_PRESENT = struct.Struct("<6sddfh")
#: (badge id, the id's 6 bytes, last heard inside, last heard, level dBm, power at 1 m)
Present = tuple[str, bytes, float, float, float, int]


@dataclass(frozen=True, slots=True)
class ScanReading:
    """One scanner message (`gateway.model.Reading`): `t` is `ts` in Unix seconds."""

    device: str
    seq: int
    ts: datetime
    t: float
    sightings: list[Sighting]
    unknown: int = 0
    not_badges: int = 0
    malformed: int = 0
    #: The office's badges in, packed (`pack_present`), on the first reading after a health close.
    snapshot: bytes = b""

    @property
    def adverts(self) -> int:
        return len(self.sightings) + self.unknown + self.not_badges + self.malformed


def pack_present(present: list[Present]) -> bytes:
    pack = _PRESENT.pack
    return b"".join([pack(raw, inside, heard, level, tx) for _, raw, inside, heard, level, tx in present])


def unpack_present(snapshot: bytes) -> list[Present]:
    return [("b" + raw.hex(), raw, inside, heard, level, tx) for raw, inside, heard, level, tx in _PRESENT.iter_unpack(snapshot)]


def journal_body(r: ScanReading) -> bytes:
    pack = _SIGHTING.pack
    sightings = r.sightings
    parts = [_HEAD.pack(_MAGIC, len(sightings), r.unknown, r.not_badges, r.malformed, len(r.snapshot) // _PRESENT.size)]
    parts += [pack(raw, rssi, tx, flag) for _, raw, rssi, tx, flag, _ in sightings]
    parts += [_OFFSET.pack(off) for _, _, _, _, flag, off in sightings if flag >= REPLAYED]
    parts.append(r.snapshot)
    return b"".join(parts)


def from_journal(device: str, seq: int, ts: datetime, body: bytes) -> ScanReading:
    """The reading `journal_body` packed; ValueError for a body of another kind or layout."""
    if len(body) < _HEAD.size or body[:2] != _MAGIC:
        raise ValueError(f"not a badge journal body ({len(body)} bytes)")
    _, n, unknown, not_badges, malformed, present = _HEAD.unpack_from(body)
    end = _HEAD.size + n * _SIGHTING.size
    if len(body) < end:
        raise ValueError(f"badge journal body cut short: {len(body)} bytes for {n} sightings")
    records = list(_SIGHTING.iter_unpack(body[_HEAD.size : end]))
    flagged = sum(1 for r in records if r[3] >= REPLAYED)
    tail = end + flagged * _OFFSET.size
    if len(body) != tail + present * _PRESENT.size:
        raise ValueError(f"badge journal body of {len(body)} bytes does not match its {n} sightings")
    offsets = iter(x for (x,) in _OFFSET.iter_unpack(body[end:tail])) if flagged else iter(())
    sightings: list[Sighting] = [
        ("b" + raw.hex(), raw, rssi, tx, flag, next(offsets) if flag >= REPLAYED else 0) for raw, rssi, tx, flag in records
    ]
    return ScanReading(device, seq, ts, ts.timestamp(), sightings, unknown, not_badges, malformed, body[tail:])
