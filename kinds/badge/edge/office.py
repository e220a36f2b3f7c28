"""One office at its gateway: every scanner's readings in time order, a track per badge heard
(smoothed RSSI per scanner, the presence machine), the security checks that keep spoofed
sightings away from presence, and the office's health window.

All of an office's scanners feed one `Office`: presence combines them (the office's level of a
badge is its strongest scanner's fresh estimate), which one processor per device could not.
The gateway's processors of an office's scanners share it (`edge.processor`), and the
offices of one gateway share a `edge.site.Site` (the roster, which office holds a badge, where
each badge was last heard). No I/O, no clock: time is the readings' (`Office.clock`, the
newest reading time seen), or what the gateway passes to `tick`.

Per sighting, in order:

1. flagged at decode (a static id where the office requires EID, an EID of a past or future
   period): a security event (rate-limited), nothing else;
2. heard at another office of the gateway so recently that no one could have travelled
   between them (`travel.impossible_travel`; neighbours never): the badge is in dispute
   (`edge.site`, "Two offices at once"). Which side is the relay is unknown, so neither
   wins: `two_offices` at both offices, the badge checked out where it was in (at its last
   time heard inside), no presence anywhere until every far side has been silent longer than
   the travel time; then the side still heard starts afresh, its check-in dated at the start
   of its dwell. A relay never keeps a check-in against its owner, whichever started first;
3. otherwise it updates the badge's filter for this scanner, the office's level, and the
   presence machine; a check-in here while another office holds the badge needs that office's
   level beaten by `margin_db` and checks it out there.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from kinds.badge.config import OfficeConfig
from kinds.badge.edge.presence import CHECK_IN, DWELL, IN, OUT, BadgePresence, PresenceSettings, Transition
from kinds.badge.edge.reading import AHEAD, REPLAYED, ScanReading, pack_present, unpack_present
from kinds.badge.edge.rssi import RssiFilter, distance_m
from kinds.badge.items import OfficeHealth, Presence, ScannerHealth, health_id, presence_id

if TYPE_CHECKING:
    from kinds.badge.edge.site import Site

#: How often (office time) badges not heard are checked for absence.
SWEEP_S = 1.0
#: A badge out and unheard this long is forgotten (its filters and machine).
TRACK_TTL_S = 3600.0
_FLAG_REASON = {1: "static_id_where_eid_required", REPLAYED: "eid_replayed", AHEAD: "eid_ahead"}
_BY_T = attrgetter("t")


def utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, timezone.utc)


def dbm(x: float) -> float:
    """An RSSI within the items' bounds (-130..20 dBm), rounded to 0.1 dB."""
    return round(min(20.0, max(-130.0, x)), 1)


def _strongest(filters: dict[str, RssiFilter], fresh_from: float) -> tuple[float, str]:
    """(level, scanner) of the strongest estimate newer than `fresh_from`."""
    level, best = -1e9, ""
    for d, f in filters.items():
        if f.last_t >= fresh_from and f.level > level:
            level, best = f.level, d
    return level, best


class BadgeTrack:
    """One badge at one office: its filter per scanner, the office's level of it (the
    strongest fresh scanner's), the presence machine, and the scanners heard in the dwell."""

    __slots__ = ("badge", "office", "presence", "filters", "level", "best", "tx", "scanners", "dwell_mark")

    def __init__(self, badge: str, office: "Office") -> None:
        self.badge = badge
        self.office = office
        self.presence = BadgePresence()
        self.filters: dict[str, RssiFilter] = {}
        self.level = -200.0
        self.best = ""
        self.tx = 0
        self.scanners: set[str] = set()
        self.dwell_mark = math.nan


class ScannerStats:
    __slots__ = ("messages", "adverts", "last")

    def __init__(self) -> None:
        self.messages = 0
        self.adverts = 0
        self.last: float | None = None


class Office:
    def __init__(self, site: "Site", config: OfficeConfig, scanners: list[str], settings: PresenceSettings) -> None:
        self.site = site
        self.id = config.id
        self.config = config
        self.require_eid = config.require_eid
        self.every = config.summary_every_s
        self.settings = settings
        self.scanners = sorted(scanners)
        self.pending: list[ScanReading] = []
        self.tracks: dict[str, BadgeTrack] = {}
        self.active: set[BadgeTrack] = set()  # tracks not OUT: what the absence sweep visits
        self.clock = -math.inf
        self.next_sweep = -math.inf
        self.window_start: float | None = None
        #: Where the office's summarised windows ended before a restart (`resume`): no window
        #: starts before it, so none is summarised twice under one id.
        self.resumed_until = -math.inf
        self.stats = {d: ScannerStats() for d in self.scanners}
        self.heard: set[str] = set()
        self.not_badges = 0
        #: Messages its scanners' processors received (accepted or refused): the office's
        #: sign of life in receive time (`_silence`), whatever times the messages carry.
        self.received = 0
        self._received_seen = -1
        self._heard_at: float | None = None  # gateway time when `received` was last seen to move
        self._provisional = False  # the open window was opened by the wall clock, no reading yet
        #: Badges in at the last health close, for the first reading after it to carry into
        #: the journal (`reading.ScanReading.snapshot`), from reading time `snapshot_until` on.
        self.snapshot = b""
        self.snapshot_until = math.inf
        #: After a restart (`resume`), until the journal's replay is processed: restore the
        #: badges in from the snapshot the journal carries.
        self.restoring = False
        self._clock_seen = self.clock
        self._quiet_since: float | None = None
        counts = site.counts
        self._count = {r: (self.id, r) for r in ("badge", "spoofed", "unknown", "not_badge", "malformed")}
        counts.add_office(self.id)

    # -- the processors' calls
    def process(self) -> list[Any]:
        pending, self.pending = self.pending, []
        if not pending:
            return []
        pending.sort(key=_BY_T)  # scanners of the office interleaved; a journal replays device by device
        out: list[Any] = []
        for r in pending:
            self._reading(r, out)
        self.restoring = False  # the replay of the journal is the first thing processed after a restart
        return out

    def tick(self, now: float) -> list[Any]:
        """Wall-clock time `now`. An office whose scanners are silent (or were never heard)
        still sends its health summary, so the centre sees the silence and the roster
        version (a new gateway gets its roster this way): once the office's time has not
        moved for a whole window of wall-clock time, windows close by the wall clock. While
        readings flow, their time alone closes windows (scanner clocks, a backlog replayed
        hours late), and a window opened by the wall clock takes the first reading's time.

        Scanners silent: see `_silence`."""
        out = self._silence(now)
        if self.clock != self._clock_seen:
            self._clock_seen = self.clock
            self._quiet_since = now
            return out
        if self._quiet_since is None:
            self._quiet_since = now
        if self.window_start is None:
            self.window_start = max(math.floor(now / self.every) * self.every, self.resumed_until)
            self._provisional = True
            return out
        if now - self._quiet_since < self.every or now < self.window_start + self.every:
            return out
        return out + self._close_window(now, provisional=True)

    def _silence(self, now: float) -> list[Any]:
        """No message from any scanner of the office for `absence_s` of gateway time `now`
        (the scanners' power, their switch or the gateway's network to them failed; a demo's
        replay ended): every badge in is checked out at its last time heard inside, as an
        absence check-out is, and counted `scanners_silent`. Without it nothing moves the
        office's time (which is the readings' own) and every badge stays in until the
        scanners come back, the next morning for a power cut at night: the day record would
        count the whole night worked, into the pay export. An inflated stay is worse than a
        split one: if the scanners come back while people are still inside, their badges
        check in again normally (after the dwell), first in and last out of the day stay
        right and the worked minutes may come out a little under.

        Silence is measured in receive time: the gateway's clock since the office last
        received a message (`received`, counted by its scanners' processors on every
        message, accepted or refused), never by comparing scanner times with the clock: a
        redelivered backlog, a replay or a scanner whose clock lags carries times long past
        while the scanners are alive and sending. A gateway (re)started counts from its first
        tick, so badges restored after a restart go out too if no scanner ever reports."""
        if self.received != self._received_seen or self._heard_at is None:
            self._received_seen = self.received
            self._heard_at = now
            return []
        if not self.active or now - self._heard_at < self.settings.absence_s:
            return []
        out: list[Any] = []
        site, forced = self.site, 0
        for tr in sorted(self.active, key=attrgetter("badge")):
            change = tr.presence.leave(math.inf)
            if change is None:
                continue  # a dwell, dropped
            forced += 1
            if site.holder.get(tr.badge) is tr:
                del site.holder[tr.badge]
            out.append(self.presence_item(tr, change, self.clock, tr.best or self.scanners[0]))
        self.active.clear()
        self.snapshot = b""  # nobody in: the next reading must not carry the old snapshot
        counts = site.counts.forced_check_outs
        counts[(self.id, "scanners_silent")] += forced
        return out

    # -- inside
    def _advance(self, t: float, out: list[Any]) -> None:
        self.clock = t
        if self.window_start is not None and t >= self.window_start + self.every:
            out += self._close_window(t)
        if t >= self.next_sweep:
            self._sweep(t, out)
            self.next_sweep = t + SWEEP_S

    def _reading(self, r: ScanReading, out: list[Any]) -> None:
        t, device = r.t, r.device
        if t > self.clock:
            self._advance(t, out)
        if self.window_start is None or self._provisional:
            self.window_start = max(math.floor(t / self.every) * self.every, self.resumed_until)
            self._provisional = False
        if r.snapshot and self.restoring:
            self._restore(r.snapshot, t)
        stats = self.stats.get(device)
        if stats is not None:
            stats.messages += 1
            stats.adverts += r.adverts
            if stats.last is None or t > stats.last:
                stats.last = t
        site = self.site
        counts, key = site.counts.adverts, self._count
        others = r.unknown + r.not_badges + r.malformed
        if others:
            self.not_badges += others
            counts[key["unknown"]] += r.unknown
            counts[key["not_badge"]] += r.not_badges
            counts[key["malformed"]] += r.malformed
        s = self.settings
        tracks, heard, anchor = self.tracks, self.heard, site.anchor
        stale = t - s.stale_s
        good = spoofed = 0
        for badge, _, rssi, tx, flag, off in r.sightings:
            if flag:
                spoofed += 1
                event = site.security(self, badge, _FLAG_REASON[flag], t, rssi, device, eid_period_offset=off if flag >= REPLAYED else None)
                if event is not None:
                    out.append(event)
                continue
            seen = anchor.get(badge)
            if seen is None:
                anchor[badge] = [self, t]
            elif seen[0] is self:
                if t > seen[1]:
                    seen[1] = t
            elif not site.heard_elsewhere(badge, seen, self, t, rssi, device, out):
                spoofed += 1
                continue
            good += 1
            heard.add(badge)
            tr = tracks.get(badge)
            if tr is None:
                tr = tracks[badge] = BadgeTrack(badge, self)
            filters = tr.filters
            f = filters.get(device)
            if f is None:
                filters[device] = f = RssiFilter(t, rssi)
            else:
                f.update(t, rssi)
            # The office's level: the strongest fresh scanner's. Kept with the scanner it is
            # from; all scanners are looked at again only when that one weakens or goes stale.
            level, best = f.level, tr.best
            if best == device:
                if level < tr.level and len(filters) > 1:
                    level, best = _strongest(filters, stale)
            elif level > tr.level:
                best = device
            else:
                held = filters.get(best)
                if held is None or held.last_t < stale:
                    level, best = _strongest(filters, stale)
                else:
                    level = tr.level
            tr.level, tr.best, tr.tx = level, best, tx
            pr = tr.presence
            if pr.state == IN:
                change = pr.heard(t, level, True, s)
            else:
                may = level >= s.enter_dbm and site.may_enter(tr, level, t)
                change = pr.heard(t, level, may, s)
                if pr.state == DWELL:
                    if pr.dwell_start != tr.dwell_mark:
                        tr.dwell_mark = pr.dwell_start
                        tr.scanners = set()
                    tr.scanners.add(device)
                    self.active.add(tr)
            if change is not None:
                self._changed(tr, change, t, device, out)
        if good:
            counts[key["badge"]] += good
        if spoofed:
            counts[key["spoofed"]] += spoofed

    def _changed(self, tr: BadgeTrack, change: Transition, t: float, device: str, out: list[Any]) -> None:
        site = self.site
        if change.event == CHECK_IN:
            self.active.add(tr)
            held = site.holder.get(tr.badge)
            if held is not None and held is not tr:
                other = held.presence.leave(change.at)
                held.office.active.discard(held)
                if other is not None:
                    out.append(held.office.presence_item(held, other, t, held.best or held.office.scanners[0]))
            site.holder[tr.badge] = tr
        else:
            self.active.discard(tr)
            if site.holder.get(tr.badge) is tr:
                del site.holder[tr.badge]
        out.append(self.presence_item(tr, change, t, device))

    def presence_item(self, tr: BadgeTrack, change: Transition, decided: float, device: str) -> Presence:
        at = utc(change.at)
        level = tr.level if tr.level > -130 else -130.0
        return Presence(
            id=presence_id(self.site.gateway, self.id, tr.badge, change.event, at), office=self.id, device=device,
            badge=tr.badge, event=change.event, at=at, decided_at=utc(max(decided, change.at)), rssi_dbm=dbm(level),
            distance_m=round(distance_m(level, tr.tx, self.site.path_loss_exponent), 2), scanners=max(1, min(1000, len(tr.scanners))),
        )

    def _sweep(self, t: float, out: list[Any]) -> None:
        s, site = self.settings, self.site
        for tr in list(self.active):
            pr = tr.presence
            change = pr.silent(t, s)
            if change is not None:
                if site.holder.get(tr.badge) is tr:
                    del site.holder[tr.badge]
                out.append(self.presence_item(tr, change, t, tr.best or self.scanners[0]))
            if pr.state == OUT:
                self.active.discard(tr)

    def _close_window(self, now: float, provisional: bool = False) -> list[Any]:
        """The health summary of the open window; the next opens at `now`'s window (reading
        time, or the wall clock's for a `provisional` one, which the first reading re-aligns:
        a scanner whose clock lags may then summarise a span again under an id the outbox
        already holds, and that repeat is dropped)."""
        start = self.window_start
        assert start is not None
        end = start + self.every
        item = OfficeHealth(
            id=health_id(self.site.gateway, self.id, utc(start)), office=self.id, device=self.scanners[0],
            window_start=utc(start), window_end=utc(end),
            scanners=[ScannerHealth(device=d, messages=st.messages, adverts=st.adverts, last_heard=None if st.last is None else utc(st.last)) for d, st in self.stats.items()],
            badges_heard=len(self.heard), present=sum(1 for tr in self.active if tr.presence.state == IN),
            not_badges=self.not_badges, roster_version=self.site.resolver.version,
        )
        self.stats = {d: ScannerStats() for d in self.scanners}
        self.heard = set()
        self.not_badges = 0
        self.window_start = max(end, math.floor(now / self.every) * self.every)
        self._provisional = provisional
        if self.clock == -math.inf:
            return [item]  # nothing heard, nothing journalled
        self._forget(self.clock)
        self.snapshot = pack_present([
            (tr.badge, bytes.fromhex(tr.badge[1:]), tr.presence.last_inside, tr.presence.last_heard, tr.level, tr.tx)
            for tr in self.active if tr.presence.state == IN
        ])
        self.snapshot_until = min(end, self.clock)
        # One copy per scanner, each closing that scanner's journal up to the window's end (or
        # the newest reading, for a window the wall clock closed: every reading before it is
        # processed, and a restart then refuses only what the office had already seen): the
        # outbox stores the first (same id) and trims every scanner's journal.
        until = float(min(end, self.clock))
        copies = []
        for d in self.scanners:
            c = item.model_copy()
            c.closes(d, until)
            copies.append(c)
        return copies

    def _restore(self, snapshot: bytes, t: float) -> None:
        """A restarted office takes the badges that were in at the last health close back in,
        without checking them in again (their check-in went out before the restart); a badge
        another office holds by now stays there."""
        site = self.site
        for badge, _, inside, heard, level, tx in unpack_present(snapshot):
            held = site.holder.get(badge)
            tr = self.tracks.get(badge)
            if (held is not None and held is not tr) or (tr is not None and tr.presence.state == IN):
                continue
            if tr is None:
                tr = self.tracks[badge] = BadgeTrack(badge, self)
                tr.level, tr.tx = level, tx
            pr = tr.presence
            pr.state = IN
            pr.last_inside = max(pr.last_inside, inside)
            pr.last_heard = max(pr.last_heard, heard)
            pr.below_since = None
            self.active.add(tr)
            site.holder[badge] = tr

    def _forget(self, now: float) -> None:
        """Badges out and unheard for `TRACK_TTL_S`: their filters and machines go."""
        cutoff = now - TRACK_TTL_S
        gone = [b for b, tr in self.tracks.items() if tr.presence.state == OUT and tr.presence.last_heard < cutoff]
        for b in gone:
            del self.tracks[b]
