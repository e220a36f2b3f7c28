"""Which badge of the roster an advertisement is: a dictionary lookup, as Google's trusted
resolver does it for Eddystone-EID ("EID Computation",
https://github.com/google/eddystone/blob/master/eddystone-eid/eid-computation.md): the gateway
computes in advance the EIDs each badge will and did advertise, and looks up what it hears.

Static badges (iBeacon uuid/major/minor, Eddystone-UID namespace/instance) are one entry
each. An EID badge (identity key, rotation exponent K, counter epoch) has one EID per 2^K-s
period, counter = reading time - epoch; the table holds, per badge, the periods

- within the **drift window**, ±`DRIFT_PERIODS` (1) around the badge's current period: valid.
  The specification allows the badge's counter an error of 150 ppm and recommends that a badge
  change identifier at a random point within the period; so just after a boundary a badge may
  still send the previous EID, just before it one with a fast clock the next. ±1 period is the
  least that absorbs both at any phase; at K = 10 (17 min) it covers a 150 ppm clock for 79
  days, a 20 ppm watch crystal for over a year. A wider window would accept a recording for
  longer, and resetting a drifted badge's clock is an administrator's job (it shows up as
  `eid_ahead` or `eid_replayed` events of that one badge, never as presence).
- **past** periods back `HISTORY_S` (49 h: the 48 h the design asks for, plus the drift window
  and a margin), so an EID recorded on one day and replayed the next is recognised as the
  badge's, `eid_replayed`, with how many periods it is off;
- **future** periods ahead `AHEAD_S` (6 h, at least 2 periods past the window), `eid_ahead`: a
  badge clock set forward, or EIDs computed in advance from a stolen key. Further ahead is
  indistinguishable from noise and counts as unknown.

Cost: EIDs are computed per badge and temporary key (one per 65,536 s), all periods of one
temporary key in one AES-ECB call over their blocks (`cryptography`), so a 2,000-badge roster
at K = 10 (about 200 periods each) builds in a fraction of a second and each refresh, every
`REFRESH_S` of reading time, computes only the periods that came into the window. The table
is a sorted numpy array of 64-bit EIDs with the badge and period of each (16 bytes an EID,
~6 MB for 2,000 badges at K = 10), searched only when the payload cache misses: honest
advertisements repeat their payload for a whole period, so the hot path is one dict lookup of
the payload bytes. Counters come from the readings' time, never a wall clock: replaying the
journal resolves exactly as the live run did.

Small K costs periods: history is capped at `MAX_HISTORY_PERIODS` per badge (48 h needs K >= 8).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kinds.badge import adverts
from kinds.badge.eid import temporary_key
from kinds.badge.items import BadgeRoster

log = logging.getLogger(__name__)

DRIFT_PERIODS = 1
HISTORY_S = 49 * 3600
AHEAD_S = 6 * 3600
AHEAD_MIN_PERIODS = 2
MAX_HISTORY_PERIODS = 1024
MAX_AHEAD_PERIODS = 256
#: How often (reading time) the window moves on; the table reaches this far past it.
REFRESH_S = 900
#: Distinct payloads remembered before the cache starts over (each a few hundred bytes).
CACHE_MAX = 50_000
_COUNTER_MAX = 2**32 - 1
_PAD = bytes(11)

#: What a payload resolves to besides a badge (`Resolution.period`).
STATIC: Final = -1
UNKNOWN: Final = -2
NOT_BADGE: Final = -3
MALFORMED: Final = -4


@dataclass(frozen=True, slots=True, eq=False)
class RosterEntry:
    """One badge as the gateway resolves it. `raw`: the id's 6 bytes (the journal's form)."""

    badge: str
    raw: bytes
    format: str
    identity_key: bytes | None = field(default=None, repr=False)
    k: int = 0
    epoch: int = 0
    #: iBeacon (uuid, major, minor) or Eddystone-UID (namespace, instance), as the frames carry them.
    static_id: tuple[bytes, int, int] | tuple[bytes, bytes] | None = None


#: (entry or None, period or STATIC/UNKNOWN/NOT_BADGE/MALFORMED, tx power at 1 m or 0).
Resolution = tuple[RosterEntry | None, int, int]
_UNKNOWN: Resolution = (None, UNKNOWN, 0)
_NOT_BADGE: Resolution = (None, NOT_BADGE, 0)
_MALFORMED: Resolution = (None, MALFORMED, 0)


def roster_entries(roster: BadgeRoster) -> list[RosterEntry]:
    """The roster's badges, checked: each format with exactly its fields, no badge twice, no
    static identifier twice. `ValueError` naming the badge (never its key)."""
    entries: list[RosterEntry] = []
    seen: set[str] = set()
    statics: set[object] = set()
    for b in roster.badges:
        if b.badge in seen:
            raise ValueError(f"badge {b.badge} is listed twice")
        seen.add(b.badge)
        has = {name for name in ("identity_key", "k", "epoch", "uuid", "major", "minor", "namespace", "instance") if getattr(b, name) is not None}
        want = {"eid": {"identity_key", "k", "epoch"}, "ibeacon": {"uuid", "major", "minor"}, "uid": {"namespace", "instance"}}[b.format]
        if has != want:
            raise ValueError(f"badge {b.badge} ({b.format}) needs exactly {sorted(want)}, has {sorted(has)}")
        raw = bytes.fromhex(b.badge[1:])
        if b.format == "eid":
            assert b.identity_key is not None and b.k is not None and b.epoch is not None
            if b.epoch > _COUNTER_MAX * 64:
                raise ValueError(f"badge {b.badge}: epoch {b.epoch} is not a Unix time")
            entries.append(RosterEntry(b.badge, raw, "eid", bytes.fromhex(b.identity_key), b.k, b.epoch))
            continue
        static_id: tuple[bytes, int, int] | tuple[bytes, bytes]
        if b.format == "ibeacon":
            static_id = (bytes.fromhex(b.uuid or ""), b.major or 0, b.minor or 0)
        else:
            static_id = (bytes.fromhex(b.namespace or ""), bytes.fromhex(b.instance or ""))
        if static_id in statics:
            raise ValueError(f"badge {b.badge} has the static identifier of another badge")
        statics.add(static_id)
        entries.append(RosterEntry(b.badge, raw, b.format, static_id=static_id))
    return entries


def eids_for_periods(identity_key: bytes, k: int, first: int, last: int) -> np.ndarray:
    """The EIDs (as little-endian uint64 of their 8 bytes) of periods `first`..`last` of a badge,
    period p being counter p << k: per temporary key, one AES-ECB pass over all its blocks
    (each ``00×11 | K | counter``, the specification's second step)."""
    if last < first:
        return np.empty(0, dtype="<u8")
    periods = np.arange(first, last + 1, dtype=np.uint64)
    counters = periods << np.uint64(k)
    blocks = np.zeros((periods.size, 16), dtype=np.uint8)
    blocks[:, 11] = k
    blocks[:, 12:16] = counters.astype(">u4").view(np.uint8).reshape(-1, 4)
    epochs = (counters >> np.uint64(16)).astype(np.int64)
    out = np.empty((periods.size, 16), dtype=np.uint8)
    bounds = np.flatnonzero(np.diff(epochs)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, periods.size]):
        key = temporary_key(identity_key, int(counters[lo]))
        encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - the spec's single blocks, batched
        out[lo:hi] = np.frombuffer(encryptor.update(blocks[lo:hi].tobytes()), dtype=np.uint8).reshape(-1, 16)
    return out[:, :8].copy().view("<u8").reshape(-1)


def _history_periods(k: int) -> int:
    return min(MAX_HISTORY_PERIODS, math.ceil(HISTORY_S / (1 << k)) + DRIFT_PERIODS)


def _ahead_periods(k: int) -> int:
    return min(MAX_AHEAD_PERIODS, max(DRIFT_PERIODS + AHEAD_MIN_PERIODS, math.ceil(AHEAD_S / (1 << k))))


def _slack_periods(k: int) -> int:
    return math.ceil(REFRESH_S / (1 << k)) + 1


class Resolver:
    """A roster at `version`, resolving payloads at reading times. `resolve(data)` is the hot
    path (cached per payload); `advance(t)` keeps the EID window around reading time `t`.
    Used from the gateway loop only."""

    def __init__(self, entries: list[RosterEntry], version: int) -> None:
        self.version = version
        self.entries = entries
        self.ibeacons: dict[tuple[bytes, int, int], RosterEntry] = {}
        self.uids: dict[tuple[bytes, bytes], RosterEntry] = {}
        self._eid_badges = [e for e in entries if e.format == "eid"]
        for e in entries:
            if e.format == "ibeacon":
                self.ibeacons[e.static_id] = e  # type: ignore[index]
            elif e.format == "uid":
                self.uids[e.static_id] = e  # type: ignore[index]
        self.cache: dict[bytes, Resolution] = {}
        #: Per EID badge (index into `_eid_badges`): first period held and its EIDs.
        self._spans: list[tuple[int, np.ndarray]] = [(0, np.empty(0, dtype="<u8")) for _ in self._eid_badges]
        self._sorted = np.empty(0, dtype="<u8")
        self._slot = np.empty(0, dtype=np.int32)
        self._period = np.empty(0, dtype=np.uint32)
        self._until = -math.inf  # reading time up to which the table is current
        self.table_size = 0
        short = sum(1 for e in self._eid_badges if math.ceil(HISTORY_S / (1 << e.k)) > MAX_HISTORY_PERIODS)
        if short:
            log.warning("badges rotating too fast for 48 h of replay history", extra={"badges": short, "max_periods": MAX_HISTORY_PERIODS})

    @classmethod
    def from_roster(cls, roster: BadgeRoster | None) -> "Resolver":
        """The roster's resolver (`ValueError` for a roster `roster_entries` refuses); no
        roster resolves nothing, at version 0."""
        if roster is None:
            return cls([], 0)
        return cls(roster_entries(roster), roster.version)

    # -- time
    def advance(self, t: float) -> None:
        """Make the table current for reading time `t` (cheap unless a refresh is due)."""
        if t < self._until:
            return
        self._refresh(int(t))

    def _refresh(self, now: int) -> None:
        chunks: list[np.ndarray] = []
        slots: list[np.ndarray] = []
        periods: list[np.ndarray] = []
        for i, e in enumerate(self._eid_badges):
            counter = now - e.epoch
            if counter < 0 or counter > _COUNTER_MAX:
                self._spans[i] = (0, np.empty(0, dtype="<u8"))
                continue
            k, key = e.k, e.identity_key
            assert key is not None
            p_now = counter >> k
            lo = max(0, p_now - _history_periods(k))
            hi = min(_COUNTER_MAX >> k, p_now + _ahead_periods(k) + _slack_periods(k))
            first, held = self._spans[i]
            last = first + held.size - 1
            if held.size and first <= lo <= last + 1:
                keep = held[lo - first :] if lo <= last else held[:0]
                start = max(lo, last + 1)
                eids = np.concatenate([keep, eids_for_periods(key, k, start, hi)]) if start <= hi else keep[: hi - lo + 1]
            else:
                eids = eids_for_periods(key, k, lo, hi)
            self._spans[i] = (lo, eids)
            chunks.append(eids)
            slots.append(np.full(eids.size, i, dtype=np.int32))
            periods.append(np.arange(lo, lo + eids.size, dtype=np.uint32))
        if chunks:
            all_eids = np.concatenate(chunks)
            order = np.argsort(all_eids, kind="stable")
            self._sorted = all_eids[order]
            self._slot = np.concatenate(slots)[order]
            self._period = np.concatenate(periods)[order]
        self.table_size = int(self._sorted.size)
        self._until = now + REFRESH_S
        self.cache.clear()  # an EID that came into (or left) the window resolves anew

    # -- lookup
    def resolve(self, data: bytes) -> Resolution:
        """What payload `data` is: (entry, period or STATIC, tx power at 1 m), or (None,
        UNKNOWN / NOT_BADGE / MALFORMED, 0). Classifying an EID's period against a reading's
        time is the caller's (`offset`)."""
        found = self.cache.get(data)
        if found is not None:
            return found
        try:
            frame = adverts.parse_advert(data)
        except ValueError:
            found = _MALFORMED
        else:
            found = self._frame(frame)
        cache = self.cache
        if len(cache) >= CACHE_MAX:
            cache.clear()
        cache[bytes(data)] = found
        return found

    def _frame(self, frame: adverts.BadgeFrame | None) -> Resolution:
        if frame is None:
            return _NOT_BADGE
        if type(frame) is adverts.EddystoneEid:
            x = np.uint64(int.from_bytes(frame.eid, "little"))
            i = int(np.searchsorted(self._sorted, x))
            if i < self._sorted.size and self._sorted[i] == x:
                return (self._eid_badges[int(self._slot[i])], int(self._period[i]), frame.tx_power_1m)
            return _UNKNOWN
        if type(frame) is adverts.IBeacon:
            entry = self.ibeacons.get((frame.uuid, frame.major, frame.minor))
        else:
            entry = self.uids.get((frame.namespace, frame.instance))  # type: ignore[union-attr]
        return _UNKNOWN if entry is None else (entry, STATIC, frame.tx_power_1m)


def offset(entry: RosterEntry, period: int, t: float) -> int:
    """How many periods an EID of `period` is off the badge's period at reading time `t`
    (negative: a past one)."""
    return period - ((int(t) - entry.epoch) >> entry.k)

