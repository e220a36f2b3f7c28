"""The river kind's ingest side: `HANDLER` (`ingest.kind_interface.IngestKind`), found by ingest
through the registry (`kinds.ingest_handler("awlr")`). Importing it registers the summary record
type (`kinds.awlr.summary_records`), so ingest can split blocks of it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from contract.uplink_batch import RecordBlock
from core.config import TepiConfig, TsdbConfig
from kinds.awlr.config import AlertingConfig
from ingest.kind_interface import ApplyContext, KindBatch, ScreenedPart
from kinds.awlr.ingest import apply as _apply
from kinds.awlr.ingest import uplink as _uplink
from kinds.awlr.ingest.forecast import RiverNetwork
from kinds.awlr.ingest.offline import alerting_rules, check_offline
from kinds.awlr.ingest.points import sink_factory
from kinds.awlr.ingest.window_overlaps import WindowOverlaps
from kinds.awlr.summary_records import KIND


@dataclass
class AwlrRuntime:
    """Per worker: the river network (forecasts), alerting rules (offline) and window overlaps."""

    network: RiverNetwork | None
    rules: dict[str, AlertingConfig] = field(default_factory=dict)
    overlaps: WindowOverlaps = field(default_factory=WindowOverlaps)


class AwlrIngest:
    name = KIND

    def runtime(self, config: TepiConfig | None, network: RiverNetwork | None = None, **_options: Any) -> AwlrRuntime:
        """From the configuration (a worker), or without one (a test or tool: forecasts only
        given a `network`)."""
        if config is None:
            return AwlrRuntime(network)
        return AwlrRuntime(network or RiverNetwork.from_config(config), alerting_rules(config))

    def read(self, items: Sequence[dict[str, Any]], places: Sequence[int], blocks: Sequence[tuple[int, RecordBlock]], gateway: str) -> _uplink.AwlrUplink:
        return _uplink.read(items, places, blocks, gateway)

    def screen(self, part: _uplink.AwlrUplink, base: int, tenant: str, gateway: str, tenant_of: dict[str, str]) -> ScreenedPart:
        return _uplink.screen_part(part, base, tenant, gateway, tenant_of)

    def apply(self, batches: Sequence[KindBatch], context: ApplyContext) -> None:
        _apply.apply(batches, context)

    def point_sinks(self, tsdb: TsdbConfig) -> tuple[Callable[[Session], Any], Callable[[], None]]:
        return sink_factory(tsdb)

    def check_silence(self, session: Session, runtime: AwlrRuntime, now: datetime, since: datetime) -> list[str]:
        return check_offline(session, runtime.rules, now, since)

    def overlapping(self, runtime: AwlrRuntime, points: Sequence[Any]) -> dict[str, int]:
        return dict(runtime.overlaps.observe(points))


HANDLER = AwlrIngest()
