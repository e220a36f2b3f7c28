"""Everything one gateway knows about its offices together: the roster and its resolver, which
office holds each badge, where each badge was last heard (impossible travel between offices)
and the badges in dispute between far offices, the security events' rate limit and the
kind's counts.

Two offices at once (`heard_elsewhere`). A badge heard at an office far from the one of its
last usable sighting, sooner than anyone could travel between them (`travel.impossible_travel`;
offices within `travel.NEAR_KM` never), is in dispute: one of the two is a live relay, and the
gateway cannot tell which. Keeping the first office would let a relay that starts before its
owner arrives keep the check-in, and refuse the owner at their own office; keeping the newer
would let a relay take a badge from its owner. So neither side is believed:

- a `two_offices` event at both offices (each naming the other), then at every office where
  the badge is heard during the dispute (rate-limited like every security event);
- the badge is checked out where it was in, dated at its last time heard inside before the
  dispute (its last honest time), and every dwell towards a check-in is dropped;
- while the dispute lasts no sighting of it counts for presence anywhere (counted `spoofed`);
- it ends at the first sighting at an office from which every far office of the dispute has
  been silent longer than the travel time (at `travel.MAX_KMH`: 72 s for offices 6 km apart):
  that sighting is usable, the badge's presence there starts afresh, and a check-in is dated
  at the start of its dwell, never before the dispute ended.

A relay that outlasts its owner's day (the owner goes home, the relay runs on) then gets the
badge back, as a relay running while its owner is at home always does: only the security
events tell the centre, which should not count the stays around them without a review.

Lifecycle: the gateway makes one processor per scanner (`BadgeKind.processor`, at start, in
configuration order) and uses them all from its one loop thread: `accept`, `process`, `due`,
`tick` and `on_downlink` (`gateway.runtime`: "One loop thread runs the MQTT device client,
parses, processes and commits"; the journal replay at start runs before that thread, alone).
So a `Site` and its `Office`s are shared by a gateway's processors without locks. The kind
keeps one `Site` per gateway id; a gateway built again with the same id in one process (a
test's restart) asks for its first scanner's processor again, which starts a fresh `Site`.

The roster comes from the centre (`on_downlink`: a `BadgeRoster`, validated, newer than the
one held, stored atomically beside the outbox with mode 0600) and is loaded from that file at
start; without one every badge is unknown (counted) and health summaries say version 0, which
makes the centre send it. Every processor of the kind receives each downlink message; the
first applies it, the others see the same message and do nothing.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from contract.downlink import KindDownlink
from core.config import TepiConfig
from kinds.badge import travel
from kinds.badge.config import OfficeConfig
from kinds.badge.edge import roster_store
from kinds.badge.edge.counts import BadgeCounts
from kinds.badge.edge.office import BadgeTrack, Office, dbm, utc
from kinds.badge.edge.presence import PresenceSettings
from kinds.badge.edge.resolver import Resolver
from kinds.badge.edge.rssi import PATH_LOSS_EXPONENT
from kinds.badge.items import BadgeRoster, SecurityEvent, security_id

log = logging.getLogger(__name__)

#: At most one security event per badge, office and reason this often (every sighting is
#: counted regardless): a replay loop must not flood a cellular uplink.
SECURITY_EVERY_S = 600.0
ROSTER_TYPE = "badge_roster"


class Site:
    def __init__(self, config: TepiConfig, roster_file: Path | None) -> None:
        self.gateway = config.gateway.id
        self.config = config
        self.roster_file = roster_file
        self.offices: dict[str, Office] = {}
        self.bound: set[str] = set()  # devices whose processor this site made
        self.counts = BadgeCounts([])
        self.holder: dict[str, BadgeTrack] = {}  # badge -> the track of the office it is in
        #: badge -> [office, time] of its last usable sighting; [None, time] while in dispute.
        self.anchor: dict[str, list[Any]] = {}
        #: badge in dispute -> {office: time} of its newest sighting at each office since.
        self.disputes: dict[str, dict[Office, float]] = {}
        self.limits: dict[tuple[str, str, str], float] = {}
        self.path_loss_exponent = PATH_LOSS_EXPONENT
        self.max_kmh, self.near_km = travel.MAX_KMH, travel.NEAR_KM
        self._near: dict[tuple[str, str], bool] = {}
        self._last_downlink: KindDownlink | None = None
        self._last_tick: datetime | None = None
        self.resolver = Resolver.from_roster(self._load())
        self.counts.roster_version = self.resolver.version

    def _load(self) -> BadgeRoster | None:
        if self.roster_file is None:
            return None
        try:
            roster = roster_store.load(self.roster_file)
            if roster is not None:
                Resolver.from_roster(roster)  # the checks a downlink passes
        except ValueError as exc:
            log.error("stored badge roster not usable; starting without, until the centre sends it", extra={"error": str(exc)[:300]})
            return None
        if roster is not None:
            log.info("badge roster loaded", extra={"version": roster.version, "badges": len(roster.badges)})
        return roster

    def office(self, config: OfficeConfig) -> Office:
        office = self.offices.get(config.id)
        if office is None:
            scanners = [d.id for d in self.config.devices if d.kind == "badge" and d.platform == config.id]
            settings = PresenceSettings(enter_dbm=config.enter_dbm, exit_dbm=config.exit_dbm)
            office = self.offices[config.id] = Office(self, config, scanners, settings)
        return office

    # -- shared decisions (the offices' calls)
    def may_enter(self, track: BadgeTrack, level: float, t: float) -> bool:
        """May `track`'s office take its badge at `level`? Not while another office holds it
        and is not beaten by `margin_db`, nor while another office hears it stronger (its
        level counts while fresh): a badge is in at most one office, the strongest."""
        s = track.office.settings
        fresh = t - s.stale_s
        held = self.holder.get(track.badge)
        if held is not None and held is not track and held.presence.last_heard >= fresh:
            return level >= held.level + s.margin_db
        if len(self.offices) > 1:
            for office in self.offices.values():
                other = office.tracks.get(track.badge)
                if other is not None and other is not track and other.presence.last_heard >= fresh and other.level > level:
                    return False
        return True

    def heard_elsewhere(self, badge: str, seen: list[Any], office: Office, t: float, rssi: int, device: str, out: list[Any]) -> bool:
        """May a sighting of `badge` at `office` at `t` count for presence, its last usable
        sighting `seen` ([office, time]) being at another office or in dispute ([None, time])?
        Opens, keeps or ends the badge's dispute (see the module); events and check-outs go to
        `out`."""
        sides = self.disputes.get(badge)
        if sides is None:
            other, other_t = seen[0], seen[1]
            km = self.conflict(other, other_t, office, t)
            if km is None:
                seen[0], seen[1] = office, t
                return True
            sides = self.disputes[badge] = {other: other_t}
            seen[0] = None
            held = other.tracks.get(badge)
            level = held.level if held is not None and held.level > -130 else rssi
            event = self.security(
                other, badge, "two_offices", other_t, round(level), (held.best if held is not None else "") or other.scanners[0],
                other=(office, t), distance_km=km,
            )
            if event is not None:
                out.append(event)
            self._release(badge, t, out)
        last = sides.get(office)
        if last is None or t > last:
            sides[office] = t
        for other, other_t in sides.items():
            if other is office:
                continue
            km = self.conflict(other, other_t, office, t)
            if km is not None:
                event = self.security(office, badge, "two_offices", t, rssi, device, other=(other, other_t), distance_km=km)
                if event is not None:
                    out.append(event)
                return False
        del self.disputes[badge]
        seen[0], seen[1] = office, t
        return True

    def _release(self, badge: str, t: float, out: list[Any]) -> None:
        """A dispute opened at `t`: `badge` checked out wherever it is in (at its last time
        heard inside), its dwells anywhere dropped."""
        for office in self.offices.values():
            tr = office.tracks.get(badge)
            if tr is None:
                continue
            change = tr.presence.leave(math.inf)
            office.active.discard(tr)
            if change is not None:
                out.append(office.presence_item(tr, change, t, tr.best or office.scanners[0]))
        self.holder.pop(badge, None)

    def conflict(self, other: Office, other_t: float, office: Office, t: float) -> float | None:
        """km between `office` (a sighting at `t`) and `other` (one at `other_t`) when no one
        could have travelled between them in the time; None for neighbours and possible
        journeys."""
        pair = (other.id, office.id)
        near = self._near.get(pair)
        if near is None:
            a, b = other.config, office.config
            near = self._near[pair] = travel.distance_km(a.lat, a.lon, b.lat, b.lon) <= self.near_km
        if near:
            return None
        a, b = other.config, office.config
        return travel.impossible_travel(a.lat, a.lon, utc(other_t), b.lat, b.lon, utc(t), max_kmh=self.max_kmh, near_km=self.near_km)

    def security(
        self, office: Office, badge: str, reason: str, t: float, rssi: int, device: str, *,
        eid_period_offset: int | None = None, other: tuple[Office, float] | None = None, distance_km: float | None = None,
    ) -> SecurityEvent | None:
        """Count a spoofed sighting; the event, unless one went for this badge, office and
        reason within `SECURITY_EVERY_S` of `t`, before or after: the scanners of an office
        are processed in time order one message at a time, so a second scanner's reading may
        be a little older than the one that raised the last event."""
        key = (office.id, reason)
        counts = self.counts
        counts.security_sightings[key] = counts.security_sightings.get(key, 0) + 1
        limit = (badge, office.id, reason)
        last = self.limits.get(limit)
        if last is not None:
            if abs(t - last) < SECURITY_EVERY_S:
                return None
            self.limits[limit] = max(t, last)
        else:
            self.limits[limit] = t
        counts.security_events[key] = counts.security_events.get(key, 0) + 1
        at = utc(t)
        return SecurityEvent(
            id=security_id(self.gateway, office.id, badge, reason, at), office=office.id, device=device, badge=badge,
            reason=reason, at=at, rssi_dbm=dbm(rssi), eid_period_offset=eid_period_offset,
            other_office=None if other is None else other[0].id, other_at=None if other is None else utc(other[1]),
            distance_km=None if distance_km is None else round(distance_km, 3),
        )

    # -- timers
    def tick(self, now: datetime) -> list[Any]:
        """Wall-clock time for the offices' health windows; once per `now` however many
        processors pass it on. Old rate-limit entries are forgotten here too."""
        if self._last_tick is not None and now <= self._last_tick:
            return []
        self._last_tick = now
        t = now.timestamp()
        out: list[Any] = []
        for office in self.offices.values():
            out += office.tick(t)
        if len(self.limits) > 1000:
            clock = max((o.clock for o in self.offices.values()), default=t)
            self.limits = {k: v for k, v in self.limits.items() if v + SECURITY_EVERY_S > clock}
        return out

    # -- the roster
    def on_downlink(self, message: KindDownlink) -> list[Any]:
        if message is self._last_downlink or message.type != ROSTER_TYPE:
            return []  # another scanner's processor applied it already, or not ours
        self._last_downlink = message
        counts = self.counts
        try:
            roster = BadgeRoster.model_validate_json(message.body)
            resolver = Resolver.from_roster(roster)
        except ValidationError as exc:
            counts.roster_updates["invalid"] += 1
            log.error("badge roster refused", extra={"error": roster_store.validation_summary(exc)})
            return []
        except ValueError as exc:
            counts.roster_updates["invalid"] += 1
            log.error("badge roster refused", extra={"error": str(exc)[:300]})
            return []
        if roster.version <= self.resolver.version:
            counts.roster_updates["stale"] += 1
            log.info("badge roster not newer than the one held; ignored", extra={"version": roster.version, "held": self.resolver.version})
            return []
        if self.roster_file is not None:
            try:
                roster_store.save(self.roster_file, roster)
            except OSError as exc:  # keep deciding with it; the centre sends it again after a restart
                log.error("badge roster not stored", extra={"file": str(self.roster_file), "error": exc.strerror})
        self.resolver = resolver
        counts.roster_updates["applied"] += 1
        counts.roster_version = roster.version
        log.info("badge roster applied", extra={"version": roster.version, "badges": len(roster.badges)})
        return []
