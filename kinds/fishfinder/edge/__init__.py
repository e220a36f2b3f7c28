"""The fish-finder's gateway side (on board): `KIND` for the gateway's registry.

What the generic rejection reasons (`gateway.errors.REJECTION_REASONS`) mean for a fish-finder
(`wire`): `too_large` a line over 82 bytes (or a payload over `MAX_LINES_PER_PAYLOAD` lines),
`non_ascii` line noise or a wrong baud rate, `garbage`/`malformed` a line that is no sentence or
has a bad field, `no_checksum`, `checksum`, `unknown` a `$PTEP` sentence of no known type,
`no_fix` an instrument without a valid value, `incomplete_ping` an echogram ping that lost
fragments, `out_of_order` a ping not after the last, `late` a value of a sea window already sent.
"""

from kinds.fishfinder.edge.kind import KIND, FishfinderKind
from kinds.fishfinder.edge.processor import BoatProcessor
from kinds.fishfinder.edge.reading import BoatReading

__all__ = ["KIND", "BoatProcessor", "BoatReading", "FishfinderKind"]
