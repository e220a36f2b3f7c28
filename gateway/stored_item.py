"""An uplink item as the outbox stores it: its body to send, and what the outbox needs to know
about it without parsing the body (where it waits, what a full outbox may evict and report)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from contract.gateway_items import BrokerDrops, GatewayHealth, SummariesDropped
from contract.items import PRIORITY_EVENT

#: The reserved kind of items about the gateway itself (`contract.gateway_items`), handled here.
GATEWAY_KIND = "gateway"
GatewayItem = Union[SummariesDropped, BrokerDrops, GatewayHealth]


@dataclass(frozen=True, slots=True)
class StoredItem:
    """`priority`: `contract.items.PRIORITY_*`, lower leaves first; routine items are evictable.
    `kind`, `type`: the item's own. `origin`: the series it belongs to (awlr: "station/device"),
    by which evictions are counted and reported. `at`: its time in Unix seconds (a summary's
    window start), so a report says which span was lost. `summarised`: (device, window end in
    Unix seconds) when the item closes a device's window: the journal before that end is then
    covered and trimmed, in the same transaction. `latest_only`: a snapshot that a newer one
    of its series makes worthless (a health report): storing it deletes the unsent earlier ones
    of the same kind, type and origin, so an outage leaves one behind, not one per interval."""

    item_id: str
    priority: int
    kind: str
    type: str
    origin: str
    at: float
    body: bytes
    summarised: tuple[str, float] | None = None
    latest_only: bool = False


def stored_gateway_item(item: GatewayItem) -> StoredItem:
    """A report about the gateway itself: an event, filed under the station it names; a health
    report under the gateway, the latest only.

    A health report waits with the events, not the routine items: ahead of a backlog (the centre
    learns how deep it is while it drains) and never evicted; being the latest only, it cannot
    grow the outbox during an outage either."""
    if isinstance(item, GatewayHealth):
        body = item.model_dump_json().encode()
        return StoredItem(item.id, PRIORITY_EVENT, GATEWAY_KIND, item.type, item.gateway, item.at.timestamp(), body, latest_only=True)
    if isinstance(item, SummariesDropped):
        origin, at = f"{item.station}/{item.device}", item.last_window_start.timestamp()
    else:
        origin, at = item.station, item.until.timestamp()
    return StoredItem(item.id, PRIORITY_EVENT, GATEWAY_KIND, item.type, origin, at, item.model_dump_json().encode())
