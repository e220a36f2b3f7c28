"""When to tell ingest that the site broker dropped device messages: `BrokerDrops` reports.

Pure bookkeeping (times passed in); the gateway loop feeds it every increase of the broker's
dropped count (`core.broker_drops`) and asks `due` between batches. The first drop is reported
at once; while drops go on, what accumulated goes out at most every `report_every_s`, so a
sustained overload is one alert update a minute, not one per broker tick. Once the count has
not moved for `quiet_s` after a report, one report with `active` false says the drops stopped,
and ingest clears the alert: only the gateway can tell "no more drops" from "no news".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

REPORT_EVERY_S = 60.0
#: Ten minutes without a drop: longer than a broker tick and than the gap between bursts of a
#: device storm, short enough that the office does not chase a problem that is over.
QUIET_S = 600.0


@dataclass(frozen=True, slots=True)
class DropReport:
    active: bool
    dropped: int
    broker_total: int
    since: datetime | None  # None: since the broker started (no earlier count known)
    until: datetime


class DropReports:
    """`started_at`: when this gateway run began. An alert opened by an earlier run may still be
    open, and only a report clears it: so a run counts as if it had seen a drop at its start,
    and `quiet_s` without drops after it says so once (a no-op at ingest when none is open)."""

    def __init__(
        self, report_every_s: float = REPORT_EVERY_S, quiet_s: float = QUIET_S, started_at: datetime | None = None
    ) -> None:
        self.report_every = timedelta(seconds=report_every_s)
        self.quiet = timedelta(seconds=quiet_s)
        self._pending = 0
        self._since: datetime | None = None
        self._broker_total = 0
        self._last_seen: datetime | None = None  # time of the previous count, drops or not
        self._last_drop: datetime | None = started_at
        self._last_report: datetime | None = None
        self._active = started_at is not None

    def observe(self, increase: int, broker_total: int, first: bool, at: datetime) -> None:
        """One value of the broker's count: `increase` since the previous one (`first`: no
        previous one, the increase is the broker's whole count)."""
        self._broker_total = broker_total
        if increase > 0:
            if not self._pending:
                self._since = None if first else self._last_seen
            self._pending += increase
            self._last_drop = at
        self._last_seen = at

    def due(self, at: datetime) -> DropReport | None:
        """The report to send now, if any; it is then taken."""
        if self._pending and (self._last_report is None or at - self._last_report >= self.report_every):
            report = DropReport(True, self._pending, self._broker_total, self._since, at)
            self._pending, self._since, self._last_report, self._active = 0, None, at, True
            return report
        if self._active and not self._pending and self._last_drop is not None and at - self._last_drop >= self.quiet:
            self._active, self._last_report = False, at
            return DropReport(False, 0, self._broker_total, self._last_drop, at)
        return None
