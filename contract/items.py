"""The base of every uplink item: an id that makes redelivery harmless, and where it comes from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

#: Where an item waits in the gateway's outbox and uplink: a property of the item, given by its
#: kind. Lower leaves first. Distress (an SOS) goes ahead of everything; events (alerts, state
#: changes) ahead of routine data; routine items (summaries, tracks) are the only ones a full
#: outbox evicts.
PRIORITY_DISTRESS = 0
PRIORITY_EVENT = 1
PRIORITY_ROUTINE = 2


class _Item(BaseModel):
    # NaN and Infinity are written as such (not as null), so that ingest counts and refuses
    # them instead of storing a null statistic as valid.
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")

    id: str = Field(min_length=8, max_length=200)
    station: str = Field(min_length=1, max_length=64)
    device: str = Field(min_length=1, max_length=64)

    @property
    def platform(self) -> str:
        """Where the device is mounted: a river item's station (the generic gateway files alarms
        and counts by it; a boat's items say their vessel)."""
        return self.station


class ClosingItem(BaseModel):
    """Base of a kind's uplink item that may close its device's window at the gateway (a
    summary): `closes(device, until)` marks it, and storing it lets the gateway drop the
    device's journal before `until` (`gateway.stored_item`, `StoredItem.summarised`). The mark
    never crosses the wire, so equality is what does."""

    #: (device, Unix s), or None for an item that closes nothing.
    _closes: tuple[str, float] | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__  # type: ignore[union-attr]

    __hash__ = BaseModel.__hash__

    def closes(self, device: str, until: float) -> None:
        self._closes = (device, until)

    @property
    def summarised(self) -> tuple[str, float] | None:
        return self._closes
