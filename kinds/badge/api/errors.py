"""Answers of the badge API that are not a success, as HTTP exceptions with a stable `code`.

Not found is one answer whatever the reason: another tenant's employee, office or leave request,
one outside a staff_admin's office, another person's NIP asked by an employee, and one that does
not exist all answer 404 `not_found` with the same words, so nothing about another person or
tenant can be learnt by probing NIPs or ids.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError

from api.errors import Forbidden, InvalidQuery


class EmployeeNotFound(HTTPException):
    def __init__(self, nip: str) -> None:
        super().__init__(404, f"no employee with NIP {nip}")


class OfficeNotFound(HTTPException):
    def __init__(self, office: str) -> None:
        super().__init__(404, f"office {office!r} does not exist")


class LeaveNotFound(HTTPException):
    def __init__(self, leave_id: int) -> None:
        super().__init__(404, f"leave request {leave_id} does not exist")


class _Conflict(HTTPException):
    code = "conflict"

    def __init__(self, detail: str) -> None:
        super().__init__(409, detail)


class LeaveDecided(_Conflict):
    """Approving or rejecting a request that is no longer waiting for a decision."""

    code = "leave_decided"


class LeaveOverlaps(_Conflict):
    """A new request over days an earlier request (waiting or approved) already covers."""

    code = "leave_overlaps"


class NotLinked(Forbidden):
    """The role may do this for its own employee record, but the caller's user is linked to none
    (`tepi admin employee link`)."""

    code = "not_linked"

    def __init__(self) -> None:
        super().__init__("this user is linked to no employee (tepi admin employee link)")


class LeftStaff(Forbidden):
    """A staff_admin whose employee row has left manages no office: only their own records."""

    code = "left_staff"

    def __init__(self) -> None:
        super().__init__("this user's employee has left: a staff_admin who left manages no office (their own records stay readable)")


class OwnRecord(Forbidden):
    """No one decides their own leave or corrects their own attendance: another staff_admin of the
    office, or the admin, does."""


class BadDay(InvalidQuery):
    """A day, month or span the rules cannot answer (a reversed span, too long, in the future)."""


def rejected_rows(errors: list[dict[str, Any]]) -> RequestValidationError:
    """422 in the shape of every validation error: one entry per rejected CSV line."""
    return RequestValidationError(errors)
