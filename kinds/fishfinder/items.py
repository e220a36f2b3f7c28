"""The boat's uplink items and the centre's downlink answers: what crosses the wire for this kind.

Why these and not raw NMEA: a boat's cellular link is paid by the byte and absent for days, so
the gateway on board sends what the centre needs (a thinned track, the schools it found,
windowed depth and temperature, and SOS calls) and keeps nothing else. Every item has a
deterministic id, so a resend after a restart or a lost acknowledgement is stored once.

Priorities (`contract.items`): an SOS call and, while an SOS is active, the track travel as
distress, ahead of any backlog; school sightings as events; the rest is routine.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contract.items import ClosingItem
from kinds.fishfinder.values import DistressNature

KIND = "fishfinder"

_Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
_Lat = Annotated[float, Field(ge=-90, le=90)]
_Lon = Annotated[float, Field(ge=-180, le=180)]


class _BoatItem(ClosingItem):
    # NaN and Infinity are written as such, so that ingest counts and refuses them.
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")

    id: str = Field(min_length=8, max_length=200)
    kind: Literal["fishfinder"] = KIND
    vessel: _Name
    device: _Name
    @property
    def platform(self) -> str:
        """Where the device is mounted: the generic gateway files alarms and counts by it."""
        return self.vessel


#: One kept fix: (time in µs since the Unix epoch, lat, lon, speed over ground in knots or
#: None, course over ground in degrees or None). Positional, because a track is mostly these.
TrackFix = tuple[int, _Lat, _Lon, Annotated[float, Field(ge=0, le=100)] | None, Annotated[float, Field(ge=0, lt=360)] | None]


class Track(_BoatItem):
    """Fixes kept by the track thinning (`edge.track`) since the last track item: the route
    within a stated cross-track error, not every second. `distress`: sent while an SOS is active
    (then more often, and at distress priority), so the rescue sees the drift."""

    type: Literal["track"] = "track"
    points: list[TrackFix] = Field(min_length=1, max_length=2000)
    distress: bool = False


class SchoolSighting(_BoatItem):
    """A fish school the sounder saw (`edge.schools`): when, where, how deep, how dense."""

    type: Literal["school"] = "school"
    start: AwareDatetime
    end: AwareDatetime
    lat: _Lat | None
    lon: _Lon | None
    top_m: float = Field(ge=0, le=2000)
    bottom_m: float = Field(ge=0, le=2000)
    mean_sv_db: float = Field(ge=-200, le=0)
    pings: int = Field(ge=1)


class SeaSummary(_BoatItem):
    """Depth under the boat and water temperature over one window (count, min, max, mean);
    null statistics where the instrument said nothing (bottom lost, no MTW)."""

    type: Literal["sea_summary"] = "sea_summary"
    window_start: AwareDatetime
    window_end: AwareDatetime
    depth_count: int = Field(ge=0)
    depth_min_m: float | None
    depth_max_m: float | None
    depth_mean_m: float | None
    temp_count: int = Field(ge=0)
    temp_min_c: float | None
    temp_max_c: float | None
    temp_mean_c: float | None


class DistressCall(_BoatItem):
    """An SOS: the button was pressed (`active`) or cancelled. The gateway repeats it, as DSC
    distress alerts are repeated (ITU-R M.493), until the centre's `SosStatus` saying
    `acknowledged` reaches the boat; `repeat` numbers the sends of one press, so each repeat is
    a new item that ingest answers, and all of them belong to one incident. A press is
    (vessel, press number, `pressed_at`): the button numbers its presses from 1 each trip, so
    the number alone would make a new trip's SOS a repeat of last trip's (its id says the same)."""

    type: Literal["sos"] = "sos"
    ts: AwareDatetime
    press: int = Field(ge=0, le=2**31)
    pressed_at: AwareDatetime | None = None
    repeat: int = Field(ge=0, le=100_000)
    nature: DistressNature = "undesignated"
    active: bool = True
    lat: _Lat | None = None
    lon: _Lon | None = None


BoatItem = Annotated[Union[Track, SchoolSighting, SeaSummary, DistressCall], Field(discriminator="type")]


class SosStatus(BaseModel):
    """Centre to boat, on the gateway's downlink topic (`contract.topics.downlink_topic`):
    where the incident of a press stands. `received`: ingest stored the call (the boat keeps
    repeating); `acknowledged`: an operator took it on (the boat stops repeating and sounds its
    local alarm: help is coming); `resolved`: closed. Carries no operator's name: the link is a
    boat's, and the name is personal data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["sos_status"] = "sos_status"
    kind: Literal["fishfinder"] = KIND
    vessel: _Name
    press: int = Field(ge=0, le=2**31)
    pressed_at: AwareDatetime | None = None
    incident: int = Field(ge=1)
    status: Literal["received", "acknowledged", "resolved"]
    at: AwareDatetime


def track_id(gateway: str, vessel: str, first_us: int) -> str:
    return f"{gateway}:{vessel}:track:{first_us // 1000}"


def school_id(gateway: str, vessel: str, start: datetime, top_m: float) -> str:
    return f"{gateway}:{vessel}:school:{int(start.timestamp() * 1000)}:{round(top_m * 100)}"


def sea_summary_id(gateway: str, vessel: str, window_start: datetime) -> str:
    return f"{gateway}:{vessel}:sea:{int(window_start.timestamp() * 1000)}"


def distress_id(gateway: str, vessel: str, press: int, pressed_at: datetime, repeat: int) -> str:
    return f"{press_key(gateway, vessel, press, pressed_at)}{repeat}"


def press_key(gateway: str, vessel: str, press: int, pressed_at: datetime) -> str:
    """The prefix every call of one press shares (ingest finds a press's incident by it)."""
    return f"{gateway}:{vessel}:sos:{press}:{press_ms(pressed_at)}:"


def press_ms(pressed_at: datetime) -> int:
    """A press time as ids and `SosStatus` carry it: whole milliseconds since the Unix epoch."""
    return math.floor(round(pressed_at.timestamp() * 1000, 3))
