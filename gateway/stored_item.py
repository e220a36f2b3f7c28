"""An uplink item as the outbox stores it: its body to send, and what the outbox needs to know
about it without parsing the body (where it waits, what a full outbox may evict and report)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from contract.gateway_items import BrokerDrops, SummariesDropped
from contract.items import PRIORITY_EVENT

#: The reserved kind of items about the gateway itself (`contract.gateway_items`), handled here.
GATEWAY_KIND = "gateway"
GatewayItem = Union[SummariesDropped, BrokerDrops]


@dataclass(frozen=True, slots=True)
class StoredItem:
    """`priority`: `contract.items.PRIORITY_*`, lower leaves first; routine items are evictable.
    `kind`, `type`: the item's own. `origin`: the series it belongs to (awlr: "station/device"),
    by which evictions are counted and reported. `at`: its time in Unix seconds (a summary's
    window start), so a report says which span was lost. `summarised`: (device, window end in
    Unix seconds) when the item closes a device's window: the journal before that end is then
    covered and trimmed, in the same transaction."""

    item_id: str
    priority: int
    kind: str
    type: str
    origin: str
    at: float
    body: bytes
    summarised: tuple[str, float] | None = None


def stored_gateway_item(item: GatewayItem) -> StoredItem:
    """A report about the gateway itself: an event, filed under the station it names."""
    if isinstance(item, SummariesDropped):
        origin, at = f"{item.station}/{item.device}", item.last_window_start.timestamp()
    else:
        origin, at = item.station, item.until.timestamp()
    return StoredItem(item.id, PRIORITY_EVENT, GATEWAY_KIND, item.type, origin, at, item.model_dump_json().encode())
