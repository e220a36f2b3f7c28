"""The badge kind's API side: `ROUTER`, mounted under `/api/v1` by `api.main` from the registry.

* `/employees`, `/employees/{nip}`, `/employees/import`: the staff list and the CSV import
  (`routes_employees`);
* `/attendance/daily`, `/attendance/monthly` (JSON or CSV), `/attendance/employees/{nip}/days`
  and `/monthly`, `/attendance/corrections`, `/attendance/views`: daily records and monthly
  recaps computed on read, corrections with a reason, and who read whose records
  (`routes_attendance`);
* `/activities`, `/leave`, `/security-events` (`routes_activities`).

Who may call what is in `api.permissions` (the badge block) and api/README.md; whose records a
caller reaches is `caller`. Days are counted in the tenant's zone (`attendance.timezone`).
"""

from __future__ import annotations

from fastapi import APIRouter

from kinds.badge.api import routes_activities, routes_attendance, routes_employees

ROUTER = APIRouter()
ROUTER.include_router(routes_employees.router)
ROUTER.include_router(routes_attendance.router)
ROUTER.include_router(routes_activities.router)

__all__ = ["ROUTER"]
