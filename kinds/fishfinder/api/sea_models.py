"""Request and response shapes of vessels, tracks and SOS incidents.

Positions and vessel names are for the vessel's owner and the rescue (disaster office, admin)
only; viewers never get these shapes (403 on every route that returns them).
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from api.models import Note, PublicModel, RequestBody, RequestDatetime, UtcDatetime
from kinds.fishfinder.api.catch_models import Identifier
from kinds.fishfinder.values import DistressNature


OverdueReason = Literal["past_expected_return", "silent"]
OVERDUE_REASONS: tuple[str, ...] = get_args(OverdueReason)


class VesselOverduePublic(PublicModel):
    """Why and since when the vessel is overdue: its open 'overdue' alert (ingest's overdue watch
    decides, with the vessel's silence limit, which only the server knows)."""

    reason: OverdueReason | None = Field(
        description="past_expected_return: at sea after its declared return; silent: no fix for longer than its limit."
    )
    since: UtcDatetime = Field(description="When the overdue alert opened.")


class VesselPublic(PublicModel):
    id: str
    name: str
    home_port: str
    home_lat: float | None = Field(default=None, description="Where the home port is (WGS 84), where known; a map shows it beside the vessel.")
    home_lon: float | None = None
    gateway_id: str
    at_sea: bool
    expected_return_at: UtcDatetime | None
    last_lat: float | None = Field(description="Last known position (WGS 84); null before the first fix.")
    last_lon: float | None
    last_seen_at: UtcDatetime | None = Field(description="Time of that fix (the boat's GPS time).")
    overdue: VesselOverduePublic | None = Field(
        default=None, description="Set while the vessel's overdue alert is open (it clears when the vessel is back or reports)."
    )


class VesselsPublic(PublicModel):
    data: list[VesselPublic]
    count: int
    limit: int
    offset: int


class FixPublic(PublicModel):
    ts: UtcDatetime
    lat: float
    lon: float
    sog_kn: float | None = Field(description="Speed over ground, knots.")
    cog_deg: float | None = Field(description="Course over ground, degrees true.")
    distress: bool = Field(description="Sent while an SOS was active.")


class TrackPublic(PublicModel):
    vessel: str
    since: UtcDatetime
    data: list[FixPublic] = Field(description="Oldest first; at most `limit` fixes.")
    truncated: bool = Field(description="More fixes exist after the last one shown: ask again with a later `since`.")


class DepartureCreate(RequestBody):
    """A vessel sails: when it is due back (the overdue watch raises an alert after it)."""

    expected_return_at: RequestDatetime = Field(description="With a UTC offset; after now, at most 30 days ahead.")


class SosCreate(RequestBody):
    """An SOS from the fisher's app (the phone's position), for a vessel of the caller's."""

    vessel: Identifier
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    nature: DistressNature = Field(
        default="undesignated", description="As DSC and Signal K name distress: mob, sinking, fire, adrift, abandon, ..."
    )


class NearbyVesselPublic(PublicModel):
    id: str
    name: str
    distance_km: float
    distance_nm: float
    bearing_from_casualty_deg: float = Field(description="True bearing from the vessel in distress to this one.")
    bearing_to_casualty_deg: float = Field(description="True bearing this vessel would steer to reach it.")
    last_seen_at: UtcDatetime


IncidentStatus = Literal["open", "acknowledged", "resolved"]


class SosIncidentPublic(PublicModel):
    """An SOS incident: an alert of kind fishfinder, type sos, about one vessel."""

    id: int = Field(description="The alert id (also in /alerts and its stream).")
    vessel: str
    vessel_name: str
    status: IncidentStatus
    nature: str
    opened_at: UtcDatetime
    updated_at: UtcDatetime
    acknowledged_at: UtcDatetime | None
    acknowledged_by: str | None
    resolved_at: UtcDatetime | None
    resolved_by: str | None
    lat: float | None = Field(description="Latest known position of the vessel in distress.")
    lon: float | None
    position_at: UtcDatetime | None


class SosIncidentsPublic(PublicModel):
    data: list[SosIncidentPublic]
    count: int
    limit: int
    offset: int


class SosIncidentDetail(SosIncidentPublic):
    track: list[FixPublic] = Field(description="The vessel's fixes since the SOS, oldest first (at most 2,000).")
    nearest: list[NearbyVesselPublic] | None = Field(
        description="The tenant's other vessels by distance, nearest first; null for the vessel's own fisher "
        "(other boats' positions are their owners' and the rescue's)."
    )


class SosAction(RequestBody):
    note: Note = Field(default=None, description="Optional remark, kept in the incident's history.")
