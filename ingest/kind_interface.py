"""What ingest asks of a device kind's ingest side (`kinds.<name>.ingest.HANDLER`).

Why: ingest's consumer and service do the work every kind shares (decoding the envelope,
idempotency by item id, tenancy screening, acknowledgements, metrics, the gateway's own items)
and hand each kind its items and record blocks (`contract.uplink_batch.RecordBlock`): only the
kind knows what its items mean, which state they move and which time series they make. Ingest
finds a handler by the `kind` an uplink item names, through the registry (`kinds.ingest_handler`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: a kind's reader loads without the state store's stack
    from sqlalchemy.orm import Session

    from central.models import Station
    from contract.uplink_batch import RecordBlock
    from core.config import TepiConfig, TsdbConfig


class Event(Protocol):
    """An item applied once (its id is kept for idempotency): alerts and state changes."""

    @property
    def id(self) -> str: ...

    @property
    def station(self) -> str: ...

    @property
    def type(self) -> str: ...


class KindUplink(Protocol):
    """What a kind read from one batch: `events` (with their places among the batch's items
    and records, which order ties in device time) and whatever else it carries (its series)."""

    events: list[tuple[int, Event]]

    def stations(self) -> set[str]:
        """Every station its series name (looked up by ingest for tenancy)."""
        ...


@dataclass
class PlatformUplink:
    """What an `OwnPlatforms` kind read from a batch: its items, each with its place, all events
    (kept once by id), each naming its platform (`.platform`: a vessel, a buoy), none a station."""

    events: list[tuple[int, Any]] = field(default_factory=list)

    def stations(self) -> set[str]:
        return set()

    def platforms(self) -> set[str]:
        return {item.platform for _, item in self.events}


@dataclass
class ScreenedPart:
    """A kind's series of one batch after tenancy screening: the points to store (handed to the
    kind's point sink before the state is applied), what `apply` takes, and what was refused,
    by reason (`unknown_station`, `foreign_station`, `non_finite`, ...)."""

    points: list[Any]
    series: Any
    stations: set[str]
    rejected: Counter[str] = field(default_factory=Counter)
    stored: Counter[str] = field(default_factory=Counter)


@dataclass
class KindBatch:
    """One batch as a kind applies it: sender, first place in the call, its accepted events
    (place, event) after idempotency and tenancy checks, and its screened series."""

    tenant: str
    gateway: str
    events: list[tuple[int, Event]]
    screened: ScreenedPart | None


@dataclass
class ApplyContext:
    """What `IngestKind.apply` works with, in the caller's transaction: the stations named by
    the call (their tenancy checked), arrival time, the kind's runtime and the result to count
    into. `heard` and `newest` hold what generic items said of stations (a gateway's report of
    evicted summaries is a sign of the station's life): station -> gateway, station -> time."""

    session: Session
    now: datetime
    runtime: Any
    stations: dict[str, Station]
    result: Any  # ingest.service.ApplyResult
    heard: dict[str, str]
    newest: dict[str, datetime]


@dataclass(frozen=True)
class Downlink:
    """A message a kind answers a gateway with (e.g. the boat's SOS status): ingest publishes it
    on the gateway's downlink topic (`contract.topics.downlink_topic`) after the transaction that
    decided it committed, QoS 1. `payload` is the JSON body, left out of the repr (a kind's
    message may carry secrets, as the badge roster's identity keys; a repr ends up in logs)."""

    tenant: str
    gateway: str
    payload: bytes = field(repr=False)


class OwnPlatforms(Protocol):
    """Optional on an `IngestKind` whose items are not about river stations (a vessel, ...):
    ingest then checks each item's `.platform` against `platform_tenants` instead of the
    stations, and counts an unknown or foreign one as `unknown_<platform_name>` or
    `foreign_<platform_name>`. Such a kind's `read` returns a part with `platforms()`, its
    `screen` gets `tenant_of` as platform -> tenant, and its events never touch stations.
    It may also have `poll(session, runtime, now) -> list[Downlink]`, run by the worker about
    every second in a transaction of its own, whose downlinks are published after it commits, and
    `poll_alerts(session, runtime, now) -> Mapping[str, int]`, run in a transaction of its own, for
    periodic alert checks of its own (rate-limiting themselves): the alert transitions it made
    (`opened`, `escalated`, ...), counted in `tepi_ingest_alert_transitions` after the commit."""

    platform_name: str

    def platform_tenants(self, session: Session, platforms: set[str]) -> dict[str, str]: ...


class PointSinkOf(Protocol):
    def write(self, points: Sequence[Any]) -> None: ...


class IngestKind(Protocol):
    name: str

    def runtime(self, config: TepiConfig | None, **options: Any) -> Any:
        """Per worker, from the configuration (e.g. a river network), or from `options` alone
        (tests, tools): passed back to `apply`."""
        ...

    def read(self, items: Sequence[dict[str, Any]], places: Sequence[int], blocks: Sequence[tuple[int, RecordBlock]], gateway: str) -> KindUplink:
        """Validate the kind's items (at `places` in the batch) and record blocks (each after
        its first place); `ValueError` refuses the whole message, as malformed."""
        ...

    def screen(self, part: KindUplink, base: int, tenant: str, gateway: str, tenant_of: dict[str, str]) -> ScreenedPart:
        """Keep the series of known stations of `tenant` (`tenant_of`: station -> tenant)."""
        ...

    def apply(self, batches: Sequence[KindBatch], context: ApplyContext) -> None:
        """Apply a call's accepted events and series: state changes and alerts."""
        ...

    def point_sinks(self, tsdb: TsdbConfig) -> tuple[Callable[[Session], Any], Callable[[], None]]:
        """A factory of the kind's point sinks (per transaction) and how to close them."""
        ...

    def check_silence(self, session: Session, runtime: Any, now: datetime, since: datetime) -> list[str]:
        """Periodic: open alerts for stations silent too long; returns them."""
        ...

    def overlapping(self, runtime: Any, points: Sequence[Any]) -> dict[str, int]:
        """Of stored points, how many per gateway overlap earlier ones of their series."""
        ...
