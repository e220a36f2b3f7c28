"""Fishing grounds of a tenant: the queries behind `routes_grounds`, and `ground_position` for
the routes (`/api/v1/routes?to=<ground id>`).

What counts: the school sightings of the tenant's vessels and the catches of its fishers that
have a position (one retention erased has none, and is skipped), plus, only when another
tenant's `sea.share_grounds_with` lists this tenant, that tenant's too. A tenant's answers are
never shaped by boats of tenants that did not share with it.

Each observation's contributor is a group of linked boats and people (`contributor_groups`): a
sighting links its vessel and the vessel's owner, a catch its fisher and the vessel it names. So
a fisher with two boats, a boat's sighting and its owner's catch, or an ownerless boat's
sighting and the catch its crew logged from it, count once towards the three of
`grounds.MIN_VESSELS`. Codes are numbered per answer and never leave this module.

Weights put sightings and catches on one scale, both logarithmic so that one dense school or
one big catch does not outweigh several boats' finds (Tepi's choice):

* a school weighs 1 at the sounder's detection threshold (`DetectionSettings.sv_threshold_db`,
  -70 dB) plus 1 per 10 dB of mean Sv above it, at most 3: Sv grows with the density of fish
  by 10 dB per tenfold (Simmonds & MacLennan, "Fisheries Acoustics", 2nd ed., 2005, §6.3);
* a catch weighs 1 up to 10 kg plus 1 per tenfold weight above it, at most 3 (1 t).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.errors import InvalidInput
from core.config import TepiConfig
from kinds.fishfinder.api.grounds_models import GroundCollection, GroundFeature, GroundProperties, PolygonGeometry
from kinds.fishfinder.catches import Catch
from kinds.fishfinder.edge.schools import DetectionSettings
from kinds.fishfinder.grounds import DEFAULT_WINDOW, HALF_LIFE, Ground, find_grounds
from kinds.fishfinder.state import SchoolSighting, Vessel

#: Furthest back a query may reach: 56 half-lives, where every weight is below 1e-16 of a fresh
#: one; and a bound on the rows one request reads.
MAX_WINDOW = timedelta(days=14)
#: How much earlier than `since` a sighting that ends after it may have started, to bound the
#: scan on the (tenant, start) index. A passing boat sees a school for minutes; one anchored at
#: a FAD (rumpon) may see it for hours, and the detector has no longest school: a day bounds it,
#: and a sighting over a day long that ends inside the window is the only one left out.
LONGEST_SIGHTING = timedelta(days=1)
#: Decimals of the coordinates shown: 5 is about 1 m, far finer than a ground.
COORD_DECIMALS = 5
_SV_THRESHOLD_DB = DetectionSettings().sv_threshold_db


def source_tenants(config: TepiConfig, tenant: str) -> list[str]:
    """The tenant, and every tenant that shares its grounds with it (`sea.share_grounds_with`)."""
    shared = [t.id for t in config.tenants if t.sea is not None and tenant in t.sea.share_grounds_with]
    return [tenant, *sorted(shared)]


def check_since(since: datetime | None, now: datetime) -> datetime:
    """`since`, or the default window's start; InvalidInput (422) for a time after `now` or
    further back than `MAX_WINDOW`."""
    if since is None:
        return now - DEFAULT_WINDOW
    if since > now:
        raise InvalidInput("since is in the future")
    if since < now - MAX_WINDOW:
        raise InvalidInput(f"since is more than {MAX_WINDOW.days} days ago; grounds older than that weigh nothing")
    return since


def published_grounds(session: Session, config: TepiConfig, tenant: str, since: datetime, now: datetime) -> list[Ground]:
    """The tenant's grounds of [since, now], strongest first."""
    tenants = source_tenants(config, tenant)
    lat: list[float] = []
    lon: list[float] = []
    t_s: list[float] = []
    who: list[tuple[str, ...]] = []
    weight: list[float] = []
    top: list[float] = []
    bottom: list[float] = []
    species: list[str | None] = []
    sightings = (
        sa.select(SchoolSighting.lat, SchoolSighting.lon, SchoolSighting.end, SchoolSighting.vessel_id, Vessel.owner_user,
                  SchoolSighting.mean_sv_db, SchoolSighting.top_m, SchoolSighting.bottom_m)
        .join(Vessel, Vessel.id == SchoolSighting.vessel_id)
        # `start` bounds the scan on the (tenant, start) index; a sighting counts by its `end`.
        .where(SchoolSighting.tenant_id.in_(tenants), SchoolSighting.start >= since - LONGEST_SIGHTING,
               SchoolSighting.start <= now, SchoolSighting.end >= since, SchoolSighting.end <= now,
               SchoolSighting.lat.is_not(None), SchoolSighting.lon.is_not(None))
    )
    for s_lat, s_lon, end, vessel, owner, sv, s_top, s_bottom in session.execute(sightings):
        lat.append(s_lat), lon.append(s_lon), t_s.append(end.timestamp())
        who.append((f"vessel:{vessel}",) if owner is None else (f"vessel:{vessel}", f"user:{owner}"))
        weight.append(1.0 + min(max((sv - _SV_THRESHOLD_DB) / 10.0, 0.0), 2.0))
        top.append(s_top), bottom.append(s_bottom), species.append(None)
    catches = sa.select(Catch.lat, Catch.lon, Catch.caught_at, Catch.fisher_id, Catch.vessel_id, Catch.weight_kg,
                        Catch.species).where(
        Catch.tenant_id.in_(tenants), Catch.caught_at >= since, Catch.caught_at <= now,
        Catch.lat.is_not(None), Catch.lon.is_not(None),
    )
    for c_lat, c_lon, caught_at, fisher, vessel, kg, kind in session.execute(catches):
        lat.append(c_lat), lon.append(c_lon), t_s.append(caught_at.timestamp())
        who.append((f"user:{fisher}",) if vessel is None else (f"user:{fisher}", f"vessel:{vessel}"))
        weight.append(1.0 + min(max(float(np.log10(kg / 10.0)), 0.0), 2.0))
        top.append(np.nan), bottom.append(np.nan), species.append(kind)
    return find_grounds(
        lat, lon, t_s, contributor_groups(who), weight, now,
        depth_top_m=top, depth_bottom_m=bottom, species=species, window=now - since,
    )


def contributor_groups(links: list[tuple[str, ...]]) -> list[int]:
    """One code per observation: observations whose names (a vessel, a person) are linked,
    directly or through others, share it. Each observation names one or more of them (a sighting
    its vessel and owner, a catch its fisher and vessel); a small union-find over the names."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        parent.setdefault(name, name)
        while parent[name] != name:
            parent[name] = parent[parent[name]]  # path halving
            name = parent[name]
        return name

    for names in links:
        first = root(names[0])
        for other in names[1:]:
            parent[root(other)] = first
            first = root(first)
    codes: dict[str, int] = {}
    return [codes.setdefault(root(names[0]), len(codes)) for names in links]


def ground_collection(session: Session, config: TepiConfig, tenant: str, since: datetime | None, species: str | None,
                      now: datetime) -> GroundCollection:
    start = check_since(since, now)
    grounds = published_grounds(session, config, tenant, start, now)
    if species is not None:
        grounds = [g for g in grounds if species in g.species]
    return GroundCollection(features=[ground_feature(g) for g in grounds], since=start, until=now,
                            half_life_h=HALF_LIFE.total_seconds() / 3600)


def find_ground(session: Session, config: TepiConfig, tenant: str, ground_id: str, since: datetime | None,
                now: datetime) -> Ground | None:
    """The tenant's published ground of that id, or None."""
    grounds = published_grounds(session, config, tenant, check_since(since, now), now)
    return next((g for g in grounds if g.ground_id == ground_id), None)


def ground_position(session: Session, config: TepiConfig, tenant: str, ground_id: str, now: datetime) -> tuple[float, float] | None:
    """(lat, lon) of the centre of a ground the tenant has published now (the default window),
    else None: what `/api/v1/routes?to=<ground id>` goes to."""
    ground = find_ground(session, config, tenant, ground_id, None, now)
    return (ground.centre_lat, ground.centre_lon) if ground is not None else None


def ground_feature(g: Ground) -> GroundFeature:
    d = COORD_DECIMALS
    ring = [[round(x, d), round(y, d)] for x, y in g.outline.exterior.coords]
    return GroundFeature(
        id=g.ground_id,
        geometry=PolygonGeometry(coordinates=[ring]),
        properties=GroundProperties(
            ground_id=g.ground_id,
            centre_lat=round(g.centre_lat, d),
            centre_lon=round(g.centre_lon, d),
            score=round(g.score, 3),
            vessels=g.vessels,
            last_seen=g.last_seen,
            depth_min_m=None if g.depth_min_m is None else round(g.depth_min_m, 1),
            depth_max_m=None if g.depth_max_m is None else round(g.depth_max_m, 1),
            species=list(g.species),
        ),
    )
