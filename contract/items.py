"""The base of every uplink item: an id that makes redelivery harmless, and where it comes from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Item(BaseModel):
    # NaN and Infinity are written as such (not as null), so that ingest counts and refuses
    # them instead of storing a null statistic as valid.
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")

    id: str = Field(min_length=8, max_length=200)
    station: str = Field(min_length=1, max_length=64)
    device: str = Field(min_length=1, max_length=64)
