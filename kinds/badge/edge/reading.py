"""One scanner message as the gateway holds it once resolved, and its journal body.

A reading is one scanner message (`wire.ScanReport`): every advertisement of the roster's
badges it held, resolved to the badge (`edge.resolver`) and classified against the reading's
time, plus counts of what was no badge of the roster. Resolving at decode time means the
journal holds badges, not payloads: a replay after a restart needs neither the roster nor
its keys, and gives the presence machine exactly what the live run gave it.

The gateway journals every reading (about ten a second with up to `wire.MAX_ENTRIES` entries
each), so the body is packed, not JSON: a 16-byte header, 10 bytes per sighting (badge id,
RSSI, power at 1 m, flag) and 4 more per sighting flagged as a replayed or ahead EID (its
period offset). 2,000 badges heard make a 20 kB body.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime

#: A sighting's flag: usable for presence, or why not.
OK, STATIC_REFUSED, REPLAYED, AHEAD = 0, 1, 2, 3
#: (badge id, the id's 6 bytes, RSSI dBm, power at 1 m dBm, flag, EID period offset or 0)
Sighting = tuple[str, bytes, int, int, int, int]

_HEAD = struct.Struct("<2sIIII")  # magic, sightings, unknown, not badges, malformed
_MAGIC = b"B1"
_SIGHTING = struct.Struct("<6sbhB")
_OFFSET = struct.Struct("<i")


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

    @property
    def adverts(self) -> int:
        return len(self.sightings) + self.unknown + self.not_badges + self.malformed


def journal_body(r: ScanReading) -> bytes:
    pack = _SIGHTING.pack
    sightings = r.sightings
    parts = [_HEAD.pack(_MAGIC, len(sightings), r.unknown, r.not_badges, r.malformed)]
    parts += [pack(raw, rssi, tx, flag) for _, raw, rssi, tx, flag, _ in sightings]
    parts += [_OFFSET.pack(off) for _, _, _, _, flag, off in sightings if flag >= REPLAYED]
    return b"".join(parts)


def from_journal(device: str, seq: int, ts: datetime, body: bytes) -> ScanReading:
    """The reading `journal_body` packed; ValueError for a body of another kind or layout."""
    if len(body) < _HEAD.size or body[:2] != _MAGIC:
        raise ValueError(f"not a badge journal body ({len(body)} bytes)")
    _, n, unknown, not_badges, malformed = _HEAD.unpack_from(body)
    end = _HEAD.size + n * _SIGHTING.size
    if len(body) < end:
        raise ValueError(f"badge journal body cut short: {len(body)} bytes for {n} sightings")
    records = list(_SIGHTING.iter_unpack(body[_HEAD.size : end]))
    flagged = sum(1 for r in records if r[3] >= REPLAYED)
    if len(body) != end + flagged * _OFFSET.size:
        raise ValueError(f"badge journal body of {len(body)} bytes does not match its {n} sightings")
    offsets = iter(x for (x,) in _OFFSET.iter_unpack(body[end:])) if flagged else iter(())
    sightings: list[Sighting] = [
        ("b" + raw.hex(), raw, rssi, tx, flag, next(offsets) if flag >= REPLAYED else 0) for raw, rssi, tx, flag in records
    ]
    return ScanReading(device, seq, ts, ts.timestamp(), sightings, unknown, not_badges, malformed)
