"""Fishing ports whose position is publicly documented: where a vessel registered with that home
port (by key or name) is in port, unless its registration gives the position itself.

Why a table at all: an operator enrolling a fleet of one harbour should not have to look up
the quay's coordinates for every boat. Why so short: a position here decides when a boat is
back from sea (`kinds.fishfinder.ingest.overdue`), so only ports with a documented position
(and its source) belong here; for any other port the operator gives `--home-lat/--home-lon`
(`tepi admin vessel add`). The simulator's harbours (`kinds.fishfinder.sim.harbours`) include
positions approximated for the simulation: those are not production data.

Positions are WGS 84 decimal degrees, (lat, lon).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

LatLon = tuple[float, float]


@dataclass(frozen=True, slots=True)
class HomePort:
    key: str
    name: str
    position: LatLon
    source: str


HOME_PORTS: MappingProxyType[str, HomePort] = MappingProxyType(
    {
        p.key: p
        for p in (
            HomePort(
                key="benoa",
                name="Pelabuhan Benoa (fishing port, west side)",
                position=(-8.7394, 115.2083),
                source=(
                    "Benoa port berth 08°44′22″S 115°12′30″E: http://www.joyshipping.com/bali/ ; "
                    "same berth position: https://pp3.co.id/?p=602"
                ),
            ),
        )
    }
)


def home_port_position(home_port: str) -> LatLon | None:
    """The documented position of the port `home_port` names (its key or name, any case and
    surrounding spaces), None for a port not in `HOME_PORTS`."""
    wanted = home_port.strip().casefold()
    for port in HOME_PORTS.values():
        if wanted in (port.key.casefold(), port.name.casefold()):
            return port.position
    return None
