"""The buoy's uplink items: what crosses the shore gateway's uplink for this kind.

A buoy reports every minute or so (`wire`); the gateway sends a summary per window (default
10 minutes: the highest Hs and wind, the mean period and directions, the QC tallies, and the
window's last good observation) and, at once, an event when the sea crosses the small-boat
limits (BMKG: waves above 1.25 m or wind above 15 kn are dangerous for fishing boats) or falls
back below them. Every item has a deterministic id, so a resend is stored once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contract.items import ClosingItem

KIND = "wavebuoy"

_Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
_Metres = Annotated[float, Field(ge=0, le=30)]
_Seconds = Annotated[float, Field(gt=0, le=40)]
_Degrees = Annotated[float, Field(ge=0, lt=360)]
_Knots = Annotated[float, Field(ge=0, le=200)]


class _BuoyItem(ClosingItem):
    # NaN and Infinity are written as such, so that ingest refuses them.
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")

    id: str = Field(min_length=8, max_length=200)
    kind: Literal["wavebuoy"] = KIND
    buoy: _Name
    device: _Name
    @property
    def platform(self) -> str:
        return self.buoy


class Observation(BaseModel):
    """One good observation: waves from the buoy's last record, wind of the same report
    (None where the anemometer said nothing or its value failed QC)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: AwareDatetime
    hs_m: _Metres
    tp_s: _Seconds
    wave_dir_deg: _Degrees | None
    wind_kn: _Knots | None
    wind_dir_deg: _Degrees | None
    gust_kn: _Knots | None


class SeaStateSummary(_BuoyItem):
    """One window of a buoy: the highest significant wave height and wind, the mean peak period
    and (circular) mean directions over the observations QC found good, the QC tallies, and
    the window's last good observation (None when none was good)."""

    type: Literal["sea_state"] = "sea_state"
    window_start: AwareDatetime
    window_end: AwareDatetime
    count: int = Field(ge=0)
    qc_suspect: int = Field(ge=0)
    qc_fail: int = Field(ge=0)
    hs_max_m: _Metres | None
    hs_mean_m: _Metres | None
    tp_mean_s: _Seconds | None
    wave_dir_mean_deg: _Degrees | None
    wind_max_kn: _Knots | None
    wind_mean_kn: _Knots | None
    wind_dir_mean_deg: _Degrees | None
    gust_max_kn: _Knots | None
    last: Observation | None


class SmallBoatLimit(_BuoyItem):
    """The sea at the buoy crossed the small-boat limits (`exceeded` True) or fell back below
    both (`exceeded` False), at the observation `observation`; `over` names which limits it is
    above (`wave`, `wind`). Sent at once, ahead of routine summaries."""

    type: Literal["small_boat_limit"] = "small_boat_limit"
    exceeded: bool
    over: list[Literal["wave", "wind"]] = Field(max_length=2)
    wave_limit_m: float = Field(gt=0, le=30)
    wind_limit_kn: float = Field(gt=0, le=200)
    observation: Observation


BuoyItem = Annotated[Union[SeaStateSummary, SmallBoatLimit], Field(discriminator="type")]


def _ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


def sea_state_id(gateway: str, buoy: str, window_start: datetime) -> str:
    return f"{gateway}:{buoy}:sea-state:{_ms(window_start)}"


def limit_id(gateway: str, buoy: str, at: datetime, exceeded: bool) -> str:
    return f"{gateway}:{buoy}:limit:{_ms(at)}:{int(exceeded)}"
