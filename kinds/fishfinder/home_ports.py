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

import re
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


#: Words a harbour's name is written with or without, longest first: "Pelabuhan" (port) and the
#: four classes of Indonesian fishing ports, spelled out or abbreviated: PPS (Pelabuhan Perikanan
#: Samudera), PPN (Nusantara), PPP (Pantai) and PPI (Pangkalan Pendaratan Ikan), Permen KP
#: PER.16/MEN/2006 Pasal 16. "Pelabuhan Benoa", "PPN Benoa" and "benoa" name one port.
PORT_PREFIXES = (
    "pelabuhan perikanan samudera", "pelabuhan perikanan nusantara", "pelabuhan perikanan pantai",
    "pangkalan pendaratan ikan", "pelabuhan perikanan", "pelabuhan", "pps", "ppn", "ppp", "ppi",
)  # fmt: skip


def port_key(name: str) -> str:
    """What is left of a port's name to compare: case folded, a note in parentheses, punctuation
    and the `PORT_PREFIXES` it starts with dropped, spaces collapsed ("Pelabuhan  Benoa" -> "benoa")."""
    text = re.sub(r"\([^)]*\)", " ", name.casefold())
    text = " ".join(re.sub(r"[^\w]+", " ", text).split())
    stripped = True
    while stripped:
        stripped = False
        for prefix in PORT_PREFIXES:
            if text.startswith(prefix + " "):
                text, stripped = text[len(prefix) + 1 :], True
    return text


def home_port_position(home_port: str) -> LatLon | None:
    """The documented position of the port `home_port` names (its key or name, compared by
    `port_key`: any case, with or without "Pelabuhan", "PPN", "PPI"...), None for a port not in
    `HOME_PORTS`."""
    wanted = port_key(home_port)
    for port in HOME_PORTS.values():
        if wanted and wanted in (port_key(port.key), port_key(port.name)):
            return port.position
    return None


def known_ports() -> str:
    """The ports with a documented position, for a message: `benoa (Pelabuhan Benoa (...))`."""
    return ", ".join(f"{p.key} ({p.name})" for p in HOME_PORTS.values())
