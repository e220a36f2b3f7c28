"""Where the fish-finder boats sail from and where they fish: harbours, fishing grounds, the
waypoints between them, and the coastline the synthetic bathymetry is measured from.

Why a table and not a routing engine: a day boat follows the same few lanes every day, and a
simulator only needs tracks that a fisher would recognise and that never cross land. Every
straight leg below was checked against the 30 arc-second GLOBE land/sea mask shipped in the
`global-land-mask` package (https://pypi.org/project/global-land-mask/), sampled every 100 m;
the tests in `tests/test_fishfinder_voyage.py` repeat that check.

Positions are WGS 84 decimal degrees, (lat, lon). Quays are documented positions with their
source. The mask's cells are about 0.9 km wide, so at Kedonganan and Jimbaran it puts the beach
itself on land; there a voyage starts and ends at ``offing``, the nearest point off the beach
that the mask calls sea, and `quay` stays as the documented landing place.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

LatLon = tuple[float, float]

TENANT_BADUNG = "kab-badung"
TENANT_INDRAMAYU = "kab-indramayu"


@dataclass(frozen=True, slots=True)
class SeaArea:
    """A stretch of coast and the synthetic depth and temperature profile off it.

    Depth is not charted data: it is ``shore_depth_m`` at the coastline, deepening by
    ``shelf_slope_m_per_km`` out to ``shelf_width_km``, then by ``slope_m_per_km`` down to
    ``max_depth_m``. Only its shape is meant: shallow near shore, deeper offshore, a narrow shelf
    with a steep drop off south Bali, a wide flat shelf in the Java Sea (mean depth 46 m,
    https://en.wikipedia.org/wiki/Java_Sea).
    """

    key: str
    name: str
    utc_offset_h: int
    coast: tuple[tuple[LatLon, ...], ...]
    shore_depth_m: float
    shelf_slope_m_per_km: float
    shelf_width_km: float
    slope_m_per_km: float
    max_depth_m: float
    surface_temp_c: float


@dataclass(frozen=True, slots=True)
class Harbour:
    key: str
    name: str
    tenant: str
    sea_area: str
    quay: LatLon
    source: str
    offing: LatLon
    # From the offing out to open water, sailed at ``harbour_speed_kn``.
    channel: tuple[LatLon, ...]
    harbour_speed_kn: float


@dataclass(frozen=True, slots=True)
class FishingGround:
    """A disc of sea where boats troll and drift; every point of it is sea on the mask."""

    key: str
    name: str
    tenant: str
    sea_area: str
    centre: LatLon
    radius_m: float


@dataclass(frozen=True, slots=True)
class Route:
    """Waypoints between a harbour's channel and a ground. The last one is outside the ground,
    and the whole area between it and the ground (their convex hull) is sea, so a boat may
    leave the ground from anywhere straight to it."""

    harbour: str
    ground: str
    via: tuple[LatLon, ...]


# Coastlines traced by hand from the GLOBE mask (cell edges), coarse on purpose: they only feed
# the synthetic depth profile. Each is an open polyline along the shore.
_SOUTH_BALI_COAST: tuple[LatLon, ...] = (
    (-8.600, 115.070),  # Canggu
    (-8.690, 115.145),  # Kuta
    (-8.745, 115.150),  # west of the airport
    (-8.765, 115.158),  # Kedonganan beach
    (-8.780, 115.140),  # Jimbaran bay, south end
    (-8.805, 115.095),
    (-8.830, 115.068),  # Uluwatu
    (-8.850, 115.100),
    (-8.850, 115.170),  # south coast of the Bukit
    (-8.830, 115.215),
    (-8.790, 115.225),  # Nusa Dua
    (-8.770, 115.215),  # Tanjung Benoa
    (-8.750, 115.175),  # inside Benoa bay
    (-8.735, 115.195),
    (-8.735, 115.215),  # Benoa port
    (-8.720, 115.230),  # Serangan
    (-8.690, 115.265),  # Sanur
    (-8.600, 115.300),
)
_NUSA_PENIDA_COAST: tuple[LatLon, ...] = (
    (-8.665, 115.440),  # Nusa Lembongan
    (-8.680, 115.520),
    (-8.700, 115.600),
    (-8.780, 115.620),
    (-8.815, 115.570),
    (-8.790, 115.500),
    (-8.745, 115.450),
    (-8.680, 115.430),
    (-8.665, 115.440),
)
_INDRAMAYU_COAST: tuple[LatLon, ...] = (
    (-6.330, 108.150),
    (-6.250, 108.190),  # Cimanuk delta
    (-6.245, 108.300),
    (-6.280, 108.330),
    (-6.310, 108.355),  # Karangsong
    (-6.390, 108.400),  # Balongan
    (-6.430, 108.450),
    (-6.480, 108.540),
    (-6.550, 108.560),
)

SEA_AREAS: MappingProxyType[str, SeaArea] = MappingProxyType(
    {
        a.key: a
        for a in (
            SeaArea(
                key="south-bali",
                name="South Bali: Jimbaran bay, the Bukit and the Badung Strait",
                utc_offset_h=8,  # WITA
                coast=(_SOUTH_BALI_COAST, _NUSA_PENIDA_COAST),
                shore_depth_m=2.0,
                shelf_slope_m_per_km=12.0,
                shelf_width_km=3.0,
                slope_m_per_km=120.0,
                max_depth_m=700.0,
                surface_temp_c=28.3,
            ),
            SeaArea(
                key="java-sea-indramayu",
                name="Java Sea off Indramayu",
                utc_offset_h=7,  # WIB
                coast=(_INDRAMAYU_COAST,),
                shore_depth_m=1.5,
                shelf_slope_m_per_km=2.0,
                shelf_width_km=20.0,
                slope_m_per_km=0.5,
                max_depth_m=50.0,
                surface_temp_c=29.0,
            ),
        )
    }
)

HARBOURS: MappingProxyType[str, Harbour] = MappingProxyType(
    {
        h.key: h
        for h in (
            Harbour(
                key="benoa",
                name="Pelabuhan Benoa (fishing port, west side)",
                tenant=TENANT_BADUNG,
                sea_area="south-bali",
                quay=(-8.7394, 115.2083),
                source=(
                    "Benoa port berth 08°44′22″S 115°12′30″E and pilot station 08°45.07′S "
                    "115°14.27′E, max transit speed 5 kn: http://www.joyshipping.com/bali/ ; "
                    "same berth position: https://pp3.co.id/?p=602"
                ),
                offing=(-8.7394, 115.2083),  # the mask calls the berth sea
                # South across the basin, then east out of the channel to the pilot station.
                channel=((-8.7520, 115.2065), (-8.7512, 115.2378)),
                harbour_speed_kn=5.0,
            ),
            Harbour(
                key="kedonganan",
                name="Pantai Kedonganan (fish market beach)",
                tenant=TENANT_BADUNG,
                sea_area="south-bali",
                quay=(-8.7570, 115.1690),
                source=(
                    "Kelurahan Kedonganan at 8°45′50″S 115°10′43″E, bounded west by the Indian "
                    "Ocean: https://id.wikipedia.org/wiki/Kedonganan,_Kuta,_Badung ; fish market "
                    "and jukung on the beach at the north end of Jimbaran bay: "
                    "http://visitingbaliisland.blogspot.com/2009/06/visiting-kedonganan-bay.html"
                ),
                offing=(-8.7595, 115.1570),
                channel=((-8.7650, 115.1300),),
                harbour_speed_kn=4.0,
            ),
            Harbour(
                key="jimbaran",
                name="Pantai Jimbaran (fishing beach)",
                tenant=TENANT_BADUNG,
                sea_area="south-bali",
                quay=(-8.7700, 115.1650),
                source=(
                    "Jimbaran bay beach south of Kedonganan, fishing village with jukung: "
                    "http://www.jamahal.net/html/news2_strID-12 ; position approximate "
                    "(middle of the beach, from the task brief), not checked against a map here"
                ),
                offing=(-8.7660, 115.1570),
                channel=((-8.7640, 115.1450), (-8.7700, 115.1300)),
                harbour_speed_kn=4.0,
            ),
            Harbour(
                key="karangsong",
                name="Pelabuhan Perikanan Karangsong",
                tenant=TENANT_INDRAMAYU,
                sea_area="java-sea-indramayu",
                quay=(-6.3100, 108.3700),
                source=(
                    "Desa Karangsong borders the Java Sea to the east, ~3 km east of Indramayu "
                    "town: https://karangsong-indramayu.blogspot.com/p/blog-page_15.html ; "
                    "position approximate (task brief); the GLOBE mask puts it ~1.3 km off its "
                    "coastline, so the real landing is probably a little west"
                ),
                offing=(-6.3100, 108.3700),  # the mask calls this sea (see source)
                channel=((-6.3000, 108.3850),),
                harbour_speed_kn=4.0,
            ),
        )
    }
)

GROUNDS: MappingProxyType[str, FishingGround] = MappingProxyType(
    {
        g.key: g
        for g in (
            FishingGround(
                "selatan-bukit", "South of the Bukit peninsula", TENANT_BADUNG, "south-bali",
                (-8.9050, 115.1400), 2500.0,
            ),
            FishingGround(
                "teluk-jimbaran", "Off Jimbaran bay", TENANT_BADUNG, "south-bali",
                (-8.7550, 115.0900), 1500.0,
            ),
            FishingGround(
                "selat-badung", "Badung Strait, between Sanur and Nusa Lembongan", TENANT_BADUNG,
                "south-bali", (-8.7450, 115.3300), 2500.0,
            ),
            FishingGround(
                "lepas-nusa-dua", "Off Nusa Dua", TENANT_BADUNG, "south-bali",
                (-8.8300, 115.2750), 1500.0,
            ),
            FishingGround(
                "utara-karangsong", "Java Sea north of Karangsong", TENANT_INDRAMAYU,
                "java-sea-indramayu", (-6.1800, 108.4200), 3000.0,
            ),
            FishingGround(
                "timur-indramayu", "Java Sea north-east of Indramayu", TENANT_INDRAMAYU,
                "java-sea-indramayu", (-6.2500, 108.5500), 3000.0,
            ),
            FishingGround(
                "utara-cimanuk", "Java Sea off the Cimanuk delta", TENANT_INDRAMAYU,
                "java-sea-indramayu", (-6.1900, 108.2900), 2500.0,
            ),
        )
    }
)

_AROUND_ULUWATU: tuple[LatLon, ...] = ((-8.8000, 115.0450), (-8.8700, 115.0500))

ROUTES: MappingProxyType[tuple[str, str], Route] = MappingProxyType(
    {
        (r.harbour, r.ground): r
        for r in (
            Route("benoa", "selat-badung", ((-8.7470, 115.2800),)),
            Route("benoa", "lepas-nusa-dua", ((-8.7900, 115.2600),)),
            # South past Nusa Dua and around the Bukit's eastern end (the demo's third boat there).
            Route("benoa", "selatan-bukit", ((-8.7900, 115.2600), (-8.8600, 115.2450), (-8.8950, 115.2000))),
            # West out of Jimbaran bay, then south around the Bukit's western tip (Uluwatu).
            Route("kedonganan", "selatan-bukit", _AROUND_ULUWATU),
            Route("kedonganan", "teluk-jimbaran", ((-8.7600, 115.1150),)),
            Route("jimbaran", "selatan-bukit", _AROUND_ULUWATU),
            Route("jimbaran", "teluk-jimbaran", ((-8.7650, 115.1150),)),
            Route("karangsong", "utara-karangsong", ((-6.2500, 108.4000),)),
            Route("karangsong", "timur-indramayu", ((-6.2800, 108.4600),)),
            Route("karangsong", "utara-cimanuk", ((-6.2400, 108.3400),)),
        )
    }
)


def route(harbour: str, ground: str) -> Route:
    """The lane from ``harbour`` to ``ground``; ValueError when no boat sails it."""
    try:
        return ROUTES[(harbour, ground)]
    except KeyError:
        known = ", ".join(f"{h}->{g}" for h, g in ROUTES)
        raise ValueError(f"no route from harbour {harbour!r} to ground {ground!r} (known: {known})") from None


def outbound_waypoints(harbour: str, ground: str) -> tuple[LatLon, ...]:
    """Offing, channel and route waypoints in sailing order, ending just outside the ground."""
    r = route(harbour, ground)
    h = HARBOURS[harbour]
    return (h.offing, *h.channel, *r.via)
