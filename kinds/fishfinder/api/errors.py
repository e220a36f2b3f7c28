"""Not-found answers of the fish-finder's resources: 404 with `code: not_found`, the same for an
object of another tenant (or another fisher) as for one that does not exist, so neither leaks."""

from __future__ import annotations

from fastapi import HTTPException

from api.errors import InvalidQuery


class CatchNotFound(HTTPException):
    def __init__(self, catch_id: int) -> None:
        super().__init__(404, f"catch {catch_id} does not exist")


class VesselNotFound(HTTPException):
    def __init__(self, vessel_id: str) -> None:
        super().__init__(404, f"vessel {vessel_id!r} does not exist")


class IncidentNotFound(HTTPException):
    def __init__(self, incident_id: int) -> None:
        super().__init__(404, f"SOS incident {incident_id} does not exist")


class TooManyContacts(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(429, f"at most {limit} messages per catch; wait for the fisher's answer")


class GroundNotFound(HTTPException):
    def __init__(self, ground_id: str) -> None:
        super().__init__(404, f"no fishing ground {ground_id!r} is published now")


class NoRoute(InvalidQuery):
    """422: no route can be planned, and why (no sea way, outside the region, no sea section,
    a vessel without a cruising speed), in the shape of every other 422 (`api.errors`), with a
    `code` per reason that a client words in its reader's language: not_a_position,
    no_sea_section, no_cruising_speed, outside_region, on_land, in_hazard, no_sea_way."""

    def __init__(self, detail: str, code: str) -> None:
        super().__init__(detail)
        self.code = code
