"""One scanner's processor: what the gateway calls per device, in front of the office (and
site) it shares with the other scanners (`edge.office`, `edge.site`).

Per device it checks only what is the device's own: readings in time order (`out_of_order`;
equal times pass, as scanners that send one message per advertisement stamp them with the
gateway's receive time) and, after a restart, nothing before where the office's last health
window closed (`late`: the journal replay must not count a reading twice). Accepted readings
go to the office; `process` on any scanner of the office processes all of them in time order
(the other scanners' `process` then finds nothing left), `tick` passes the wall clock on to
the site, `on_downlink` the centre's roster. Every message the gateway hands it, accepted or
refused, counts as the office's sign of life (`Office.received`): an office whose scanners all
went silent for the absence timeout of gateway time has its badges checked out
(`Office._silence`). `due` has nothing to do: health windows close by readings and `tick`.
No I/O but the roster file, no clock.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from contract.downlink import KindDownlink
from gateway.errors import FrameRejected
from kinds.badge.edge.counts import BadgeCounts
from kinds.badge.edge.office import Office
from kinds.badge.edge.reading import ScanReading
from kinds.badge.edge.site import Site


class ScannerProcessor:
    def __init__(self, site: Site, office: Office, device: str) -> None:
        self.site = site
        self.office = office
        self.device = device
        self.seq = 0  # numbers this device's readings (the journal's key with their time)
        self.rejected = 0
        self._last = -math.inf
        self._closed_until = -math.inf

    @property
    def collector(self) -> BadgeCounts:
        """The kind's counts at this gateway (one object for all its scanners)."""
        return self.site.counts

    # -- Processor
    def accept(self, reading: ScanReading) -> None:
        t = reading.t
        self.office.received += 1
        if t < self._closed_until:
            raise FrameRejected("late", f"{reading.ts.isoformat()} is before the office's last summarised window")
        if t < self._last:
            raise FrameRejected("out_of_order", f"{reading.ts.isoformat()} is older than the scanner's last message")
        self._last = t
        self.office.pending.append(reading)

    def note_rejected(self) -> None:
        self.rejected += 1
        self.office.received += 1

    def resume(self, summarised_until: datetime) -> None:
        t = summarised_until.timestamp()
        self._closed_until = max(self._closed_until, t)
        self.office.resumed_until = max(self.office.resumed_until, t)
        self.office.restoring = True

    @property
    def open_window_s(self) -> float | None:
        return None  # nothing waits for `due`: silence is the office's, measured in `tick`

    def process(self) -> list[Any]:
        return self.office.process()

    def due(self, now: datetime) -> list[Any]:
        return []

    def tick(self, now: datetime) -> list[Any]:
        return self.site.tick(now)

    # -- DownlinkAware
    def on_downlink(self, message: KindDownlink) -> list[Any]:
        return self.site.on_downlink(message)
