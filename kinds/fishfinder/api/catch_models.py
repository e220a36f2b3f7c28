"""Request and response shapes of catches, the market and contact requests.

What each shape leaves out is the point: the market and the aggregates carry no fisher, vessel
or user id, no name, no phone number and no exact position (see `kinds.fishfinder.catches`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from api.models import PublicModel, RequestBody, RequestDatetime, UtcDatetime
from kinds.fishfinder.catches import MAX_PRICE_IDR_PER_KG, MAX_WEIGHT_KG, SPECIES
from kinds.fishfinder.api.catch_aggregates import CELL_DEG, K_ANONYMITY

Species = Literal[tuple(SPECIES)]  # type: ignore[valid-type]
_SPECIES_DOC = "One of: " + ", ".join(f"{code} ({name})" for code, (name, _fao) in SPECIES.items()) + "."


def _printable(value: str) -> str:
    if any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in value):
        raise ValueError("control characters other than newline and tab are not allowed")
    return value


Port = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_printable)]
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


class CatchCreate(RequestBody):
    species: Species = Field(description=_SPECIES_DOC)  # type: ignore[valid-type]
    weight_kg: float = Field(gt=0, le=MAX_WEIGHT_KG, description=f"Landed weight, over 0 and at most {MAX_WEIGHT_KG:g} kg.")
    lat: float = Field(ge=-90, le=90, description="Where it was caught (WGS 84).")
    lon: float = Field(ge=-180, le=180)
    caught_at: RequestDatetime = Field(description="When (with a UTC offset); at most 5 min ahead, at most 60 days ago.")
    price_idr_per_kg: int | None = Field(default=None, gt=0, le=MAX_PRICE_IDR_PER_KG, description="Asking or sold price, IDR per kg.")
    port: Port = Field(description="Port of landing.")
    for_sale: bool = Field(default=False, description="Offer it on the tenant's market (no name or position shown there).")
    vessel: Identifier | None = Field(default=None, description="One of the fisher's own vessels, if caught from it.")


class CatchPublic(PublicModel):
    """A catch as its own fisher reads it back."""

    id: int
    species: str
    weight_kg: float
    lat: float | None = Field(description="Null once erased by retention (`retention.position_days`).")
    lon: float | None
    caught_at: UtcDatetime
    price_idr_per_kg: int | None
    port: str
    for_sale: bool
    vessel: str | None = Field(validation_alias="vessel_id")
    created_at: UtcDatetime


class CatchesPublic(PublicModel):
    data: list[CatchPublic]
    count: int
    limit: int
    offset: int


class CatchGroupPublic(PublicModel):
    cell_lat: float = Field(description=f"South-west corner of the {CELL_DEG}° x {CELL_DEG}° cell.")
    cell_lon: float
    species: str
    week: str = Field(description='ISO 8601 week, UTC, e.g. "2025-W04".')
    catches: int
    total_kg: float
    mean_price_idr_per_kg: float | None = Field(
        description=f"Weight-weighted, over the catches with a price; null unless at least {K_ANONYMITY} distinct "
        "fishers gave one (a mean of fewer would tell their prices)."
    )


class CatchAggregatesPublic(PublicModel):
    since: UtcDatetime = Field(description="Start of the window, widened to Monday 00:00 UTC.")
    until: UtcDatetime = Field(description="End of the window (exclusive), widened to a Monday 00:00 UTC.")
    k_anonymity: int = Field(default=K_ANONYMITY, description="Fewest distinct fishers behind any group shown.")
    cell_deg: float = CELL_DEG
    suppressed_groups: int = Field(description="Groups left out for having fewer than k distinct fishers.")
    data: list[CatchGroupPublic]


class MarketOfferPublic(PublicModel):
    """A catch for sale: what, how much, at what price, where to collect; never who or where caught."""

    id: int
    species: str
    weight_kg: float
    price_idr_per_kg: int | None
    port: str
    caught_at: UtcDatetime


class MarketPublic(PublicModel):
    data: list[MarketOfferPublic]
    count: int
    limit: int
    offset: int


Message = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), AfterValidator(_printable)
]


class ContactCreate(RequestBody):
    message: Message = Field(description="To the fisher; include how to reach you if you want an answer.")


class ContactPublic(PublicModel):
    """A message as the fisher reads it: who sent it (a user of the tenant) and about which catch."""

    id: int
    catch_id: int
    from_name: str
    message: str
    created_at: UtcDatetime


class ContactsPublic(PublicModel):
    data: list[ContactPublic]
    count: int
    limit: int
    offset: int


class ContactCreated(PublicModel):
    id: int
    catch_id: int
    created_at: UtcDatetime

