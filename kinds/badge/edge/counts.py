"""The badge kind's own counts at a gateway, exported with the gateway's metrics (the gateway
registers a processor's `collector`).

Plain ints in dicts, added on the gateway loop, copied by a scrape: a labelled prometheus
`Counter` takes a lock per increment, and advertisements arrive 20,000 a second. The
counters are:

- `tepi_gateway_badge_adverts_total{office,result}`: advertisements heard, by what they were:
  `badge` (a roster badge, usable), `spoofed` (a roster badge's identifier refused: see
  `security`), `unknown` (a badge frame of no roster badge: another organisation's beacon, an
  EID beyond the window), `not_badge` (a phone, a TLM), `malformed` (bytes that are no
  advertisement). Unknown and not-badge adverts are normal radio life, not rejections.
- `tepi_gateway_badge_security_sightings_total{office,reason}`: every sighting refused as
  spoofing, whether or not it raised an event; `..._security_events_total{office,reason}`:
  the events sent (at most one per badge, office and reason per `SECURITY_EVERY_S`).
- `tepi_gateway_badge_roster_updates_total{result}`: roster downlinks `applied`, `stale` (not
  newer than the one held), `invalid` (refused); `tepi_gateway_badge_roster_version`.
- `tepi_gateway_badge_forced_check_outs_total{office,reason}`: check-outs the presence machine
  did not decide from readings: `scanners_silent` (no message from any scanner of the office
  for the absence timeout of gateway time, `edge.office.Office.tick`). A count that grows
  says an office's scanners, their power or their switch fail.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kinds.badge.items import SECURITY_REASONS

ADVERT_RESULTS = ("badge", "spoofed", "unknown", "not_badge", "malformed")
ROSTER_RESULTS = ("applied", "stale", "invalid")
FORCED_REASONS = ("scanners_silent",)


class BadgeCounts(Collector):
    def __init__(self, offices: Iterable[str]) -> None:
        self.adverts: dict[tuple[str, str], int] = {}
        self.security_sightings: dict[tuple[str, str], int] = {}
        self.security_events: dict[tuple[str, str], int] = {}
        self.roster_updates = dict.fromkeys(ROSTER_RESULTS, 0)
        self.forced_check_outs: dict[tuple[str, str], int] = {}
        self.roster_version = 0
        for office in offices:  # every series exported from the start, at 0
            self.add_office(office)

    def add_office(self, office: str) -> None:
        for result in ADVERT_RESULTS:
            self.adverts.setdefault((office, result), 0)
        for reason in SECURITY_REASONS:
            self.security_sightings.setdefault((office, reason), 0)
            self.security_events.setdefault((office, reason), 0)
        for reason in FORCED_REASONS:
            self.forced_check_outs.setdefault((office, reason), 0)

    def describe(self) -> list[Metric]:
        return self._families(empty=True)

    def collect(self) -> list[Metric]:
        return self._families(empty=False)

    def _families(self, empty: bool) -> list[Metric]:
        adverts = CounterMetricFamily("tepi_gateway_badge_adverts", "Advertisements heard by badge scanners, by result", labels=["office", "result"])
        sightings = CounterMetricFamily(
            "tepi_gateway_badge_security_sightings", "Badge sightings refused as spoofing, by reason", labels=["office", "reason"]
        )
        events = CounterMetricFamily("tepi_gateway_badge_security_events", "Security events sent, by reason", labels=["office", "reason"])
        updates = CounterMetricFamily("tepi_gateway_badge_roster_updates", "Roster downlinks, by result", labels=["result"])
        forced = CounterMetricFamily(
            "tepi_gateway_badge_forced_check_outs", "Check-outs not decided from readings, by reason", labels=["office", "reason"]
        )
        version = GaugeMetricFamily("tepi_gateway_badge_roster_version", "Version of the badge roster the gateway holds (0: none)")
        if not empty:
            for family, counts in ((adverts, self.adverts), (sightings, self.security_sightings), (events, self.security_events), (forced, self.forced_check_outs)):
                for labels, n in list(counts.items()):
                    family.add_metric(list(labels), n)
            for result, n in list(self.roster_updates.items()):
                updates.add_metric([result], n)
            version.add_metric([], self.roster_version)
        return [adverts, sightings, events, forced, updates, version]
