"""Automatic Water Level Recorder (AWLR): river gauges reporting level in cm.

What the generic rejection reasons (`gateway.errors.REJECTION_REASONS`) mean for an AWLR:

- `garbage`: serial bytes that are not a `$PTAWL` sentence (`wire`); `checksum`: its NMEA
  checksum does not match; `truncated`: a sentence without checksum or fields, a JSON object
  with fields missing; `too_large`: over 82 bytes (NMEA) or `wire.MAX_JSON_BYTES`;
- `malformed`: a bad station id or timestamp, an unknown JSON field;
- `wrong_type`: `"seq": 1.5`, `"7"` or `true`; a level or battery written as a string;
- `out_of_range`: NaN, Infinity, `1e999999`, a level outside the station's `sensor_span_cm`,
  a battery outside 0-30 V (`wire`);
- `duplicate`, `out_of_order`, `late`: by seq and time against the station's window (`processor`).
"""

from kinds.awlr.edge.kind import KIND, AwlrKind
from kinds.awlr.edge.processor import LevelProcessor
from kinds.awlr.edge.reading import LevelReading

__all__ = ["KIND", "AwlrKind", "LevelProcessor", "LevelReading"]
