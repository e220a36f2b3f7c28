"""The badge kind's gateway side (office gateway): `KIND` for the gateway's registry.

Modules: `kind` (decode, store), `processor` (one per scanner), `site` and `office` (the state
a gateway's scanners share: roster, presence, security), `resolver` (advertisement to badge),
`rssi` (smoothing, distance), `presence` (the state machine), `reading` (journal body),
`roster_store` (the roster file), `counts` (the kind's metrics).
"""

from kinds.badge.edge.kind import KIND, BadgeKind
from kinds.badge.edge.processor import ScannerProcessor
from kinds.badge.edge.reading import ScanReading

__all__ = ["KIND", "BadgeKind", "ScanReading", "ScannerProcessor"]
