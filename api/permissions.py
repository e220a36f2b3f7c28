"""Who may call what: the role table of the API, in one place (api/README.md shows it too).

Every user belongs to exactly one tenant and has exactly one role. Authorisation is two steps:

1. the role: a role not listed for an endpoint gets 403, whatever object it names;
2. the tenant: every query is scoped to the caller's tenant, and another tenant's station or
   alert answers 404 exactly like one that does not exist, so its existence does not leak.

Public endpoints (no credentials) publish what a disaster office publishes anyway: the CAP
messages and their Atom index, the current level of each river station and the tenants' names,
without any personal data; signing in to the console is public too (it is how one gets
credentials). A console session (cookie) has its user's role exactly as an API key does. `/metrics` is the platform operator's, not a tenant's: its labels span tenants,
so it takes a separate metrics token and no API key.
"""

from __future__ import annotations

from central.models import (
    ROLE_ADMIN,
    ROLE_DISASTER_OFFICE,
    ROLE_EMPLOYEE,
    ROLE_FISHER,
    ROLE_FISHERIES_OFFICE,
    ROLE_STAFF_ADMIN,
    ROLE_VIEWER,
    ROLES,
)

ALL_ROLES: tuple[str, ...] = ROLES

#: Stations and their level history: every role of the tenant (fishers and staff see rivers too).
STATION_READERS: tuple[str, ...] = ROLES
#: Alerts, their history and the live stream.
ALERT_READERS: tuple[str, ...] = (ROLE_ADMIN, ROLE_DISASTER_OFFICE, ROLE_VIEWER)
#: Acknowledging and closing alerts.
ALERT_ACTORS: tuple[str, ...] = (ROLE_ADMIN, ROLE_DISASTER_OFFICE)
#: Who sees the names of the people who acted on alerts (personal data): those who act
#: themselves. A viewer reads alerts with those fields null.
ACTOR_NAME_READERS: tuple[str, ...] = (ROLE_ADMIN, ROLE_DISASTER_OFFICE)
#: Users and API keys of the tenant.
USER_ADMINS: tuple[str, ...] = (ROLE_ADMIN,)
#: How the tenant's gateways and devices are doing (last seen, battery, frames refused, outbox):
#: those who watch alerts, whose data depends on them. No personal data: gateway and device ids.
HEALTH_READERS: tuple[str, ...] = (ROLE_ADMIN, ROLE_DISASTER_OFFICE, ROLE_VIEWER)

# The fish-finder kind (kinds/fishfinder/api). Where a fisher fishes and what they land is
# their livelihood: only they read their catches and their vessel's track back.
#: Recording catches, reading one's own catches and the messages about them.
CATCH_RECORDERS: tuple[str, ...] = (ROLE_FISHER,)
#: Catch statistics by area, species and week, k-anonymous (no fisher, vessel or position).
CATCH_STATISTICIANS: tuple[str, ...] = (ROLE_ADMIN, ROLE_FISHERIES_OFFICE)
#: The market (catches for sale without who or where) and messaging a seller: every role.
MARKET_USERS: tuple[str, ...] = ROLES
#: Vessels with their last position, and tracks: a fisher their own, the rescue all of the
#: tenant's. Viewers, staff and the fisheries office get 403 (positions and names are not theirs).
VESSEL_READERS: tuple[str, ...] = (ROLE_ADMIN, ROLE_DISASTER_OFFICE, ROLE_FISHER)
#: Declaring a departure with its expected return (the overdue watch): the owner fisher of the
#: vessel, or the tenant's admin (for a harbour master's register).
VESSEL_SKIPPERS: tuple[str, ...] = (ROLE_ADMIN, ROLE_FISHER)
#: Planning a vessel's safe route (`/routes`): its owner fisher for their own vessel (another's
#: is 404, as for tracks), the admin (a harbour master's register) and the disaster office (a
#: rescue boat's way to a casualty). Not viewers, staff or the fisheries office: a route names a
#: vessel and where it is going.
ROUTE_PLANNERS: tuple[str, ...] = (ROLE_ADMIN, ROLE_DISASTER_OFFICE, ROLE_FISHER)
#: Raising an SOS from the app for one's own vessel.
SOS_CALLERS: tuple[str, ...] = (ROLE_FISHER,)
#: SOS incidents with positions and the nearest vessels; acknowledging and resolving them.
SOS_RESPONDERS: tuple[str, ...] = (ROLE_ADMIN, ROLE_DISASTER_OFFICE)
#: One SOS incident: the rescue any of the tenant's; a fisher only their own vessel's (to see
#: that help is coming), without the operators' names or the other vessels' positions.
SOS_READERS: tuple[str, ...] = (ROLE_ADMIN, ROLE_DISASTER_OFFICE, ROLE_FISHER)
#: Fishing grounds (where at least 3 boats found fish lately; no vessel, owner or single
#: observation): the fishers whose finds they are, the fisheries office that manages the
#: fishery, and the admin. Not the viewer (a read-only account, e.g. a public screen: the
#: fishers' shared knowledge of where the fish are is their livelihood, not public), nor the
#: disaster office (the rescue sees the vessels themselves and the marine conditions; where the
#: fish are is not its business), nor staff administration.
GROUND_READERS: tuple[str, ...] = (ROLE_ADMIN, ROLE_FISHER, ROLE_FISHERIES_OFFICE)

# The wave-buoy kind (kinds/wavebuoy/api). A moored buoy's sea state is no one's personal data.
#: Buoys with their latest observation: every role of the tenant.
BUOY_READERS: tuple[str, ...] = ROLES
#: Marine conditions (forecast areas, buoys, the small-boat verdict): public safety information, every role.
MARINE_READERS: tuple[str, ...] = ROLES

# The badge kind (kinds/badge/api). Attendance is personal data (UU 27/2022): an employee reads
# only their own records, a staff_admin (linked to an employee row) their office's, the admin the
# tenant's. Another employee's NIP answers an employee 404, as a NIP that does not exist, so NIPs
# cannot be probed; every read of another person's records is written to the view audit.
#: The staff list (names, NIPs, offices, badges): staff administration (staff_admin: own office).
EMPLOYEE_LISTERS: tuple[str, ...] = (ROLE_ADMIN, ROLE_STAFF_ADMIN)
#: One employee, one employee's days, month and activities, and who viewed whose records:
#: the employee themself, their office's staff_admin, the admin.
ATTENDANCE_READERS: tuple[str, ...] = (ROLE_ADMIN, ROLE_EMPLOYEE, ROLE_STAFF_ADMIN)
#: Importing staff from CSV, an office's daily board and monthly recap (and its CSV export for the
#: performance allowance), corrections with a reason, deciding leave (never one's own), and the
#: spoofing attempts with the names of the badges' holders: staff administration.
ATTENDANCE_ADMINS: tuple[str, ...] = (ROLE_ADMIN, ROLE_STAFF_ADMIN)
#: Reading one's own employee record, recording one's own daily activities and requesting one's
#: own leave: a user linked to an employee (an employee, or a staff_admin as a member of staff).
#: The admin is linked to none.
ATTENDANCE_SELF_SERVICE: tuple[str, ...] = (ROLE_EMPLOYEE, ROLE_STAFF_ADMIN)
#: Leave requests: one's own (employee), the office's (staff_admin), the tenant's (admin).
LEAVE_READERS: tuple[str, ...] = ATTENDANCE_READERS

#: (method, path) -> roles; "public" needs no credentials, "metrics" the metrics token.
TABLE: dict[tuple[str, str], tuple[str, ...] | str] = {
    ("GET", "/healthz"): "public",
    ("GET", "/api/v1/healthz"): "public",
    ("GET", "/api/v1/public/stations"): "public",
    ("GET", "/api/v1/public/warnings"): "public",
    ("GET", "/api/v1/public/basemap"): "public",
    ("GET", "/api/v1/public/tenants"): "public",
    # Signing in and out of the console: anyone may try (rate limited); sign-out ends the cookie's session.
    ("POST", "/api/v1/session"): "public",
    ("DELETE", "/api/v1/session"): "public",
    ("GET", "/api/v1/alerts/cap"): "public",
    ("GET", "/api/v1/alerts/{alert_id}/cap"): "public",
    ("GET", "/metrics"): "metrics",
    ("GET", "/api/v1/metrics"): "metrics",
    ("GET", "/api/v1/me"): ALL_ROLES,
    ("GET", "/api/v1/basemap"): ALL_ROLES,
    ("GET", "/api/v1/stations"): STATION_READERS,
    ("GET", "/api/v1/stations/{station_id}"): STATION_READERS,
    ("GET", "/api/v1/stations/{station_id}/levels"): STATION_READERS,
    ("GET", "/api/v1/alerts"): ALERT_READERS,
    ("GET", "/api/v1/alerts/stream"): ALERT_READERS,
    ("GET", "/api/v1/alerts/{alert_id}"): ALERT_READERS,
    ("GET", "/api/v1/alerts/{alert_id}/events"): ALERT_READERS,
    ("POST", "/api/v1/alerts/{alert_id}/ack"): ALERT_ACTORS,
    ("POST", "/api/v1/alerts/{alert_id}/close"): ALERT_ACTORS,
    ("GET", "/api/v1/gateways"): HEALTH_READERS,
    # A user's own subscriptions (another's: 404); each type only if the role reads it (SOS: responders).
    ("GET", "/api/v1/subscriptions"): ALERT_READERS,
    ("POST", "/api/v1/subscriptions"): ALERT_READERS,
    ("DELETE", "/api/v1/subscriptions/{subscription_id}"): ALERT_READERS,
    ("GET", "/api/v1/users"): USER_ADMINS,
    ("POST", "/api/v1/users"): USER_ADMINS,
    ("GET", "/api/v1/users/{user_id}/keys"): USER_ADMINS,
    ("POST", "/api/v1/users/{user_id}/keys"): USER_ADMINS,
    ("DELETE", "/api/v1/keys/{key_id}"): USER_ADMINS,
    ("POST", "/api/v1/catches"): CATCH_RECORDERS,
    ("GET", "/api/v1/catches"): CATCH_RECORDERS,
    ("GET", "/api/v1/catches/contacts"): CATCH_RECORDERS,
    ("GET", "/api/v1/catches/aggregates"): CATCH_STATISTICIANS,
    ("GET", "/api/v1/catches/{catch_id}"): CATCH_RECORDERS,
    ("GET", "/api/v1/market"): MARKET_USERS,
    ("POST", "/api/v1/market/{catch_id}/contact"): MARKET_USERS,
    ("GET", "/api/v1/vessels"): VESSEL_READERS,
    ("GET", "/api/v1/vessels/{vessel_id}/track"): VESSEL_READERS,
    ("POST", "/api/v1/vessels/{vessel_id}/departure"): VESSEL_SKIPPERS,
    ("GET", "/api/v1/routes"): ROUTE_PLANNERS,
    ("POST", "/api/v1/sos"): SOS_CALLERS,
    ("GET", "/api/v1/sos"): SOS_RESPONDERS,
    ("GET", "/api/v1/sos/{incident_id}"): SOS_READERS,
    ("POST", "/api/v1/sos/{incident_id}/acknowledge"): SOS_RESPONDERS,
    ("POST", "/api/v1/sos/{incident_id}/resolve"): SOS_RESPONDERS,
    ("GET", "/api/v1/buoys"): BUOY_READERS,
    ("GET", "/api/v1/buoys/{buoy_id}"): BUOY_READERS,
    ("GET", "/api/v1/marine-conditions"): MARINE_READERS,
    ("GET", "/api/v1/fishing-grounds"): GROUND_READERS,
    ("GET", "/api/v1/fishing-grounds/{ground_id}"): GROUND_READERS,
    ("GET", "/api/v1/employees"): EMPLOYEE_LISTERS,
    ("POST", "/api/v1/employees/import"): ATTENDANCE_ADMINS,
    ("GET", "/api/v1/employees/me"): ATTENDANCE_SELF_SERVICE,
    ("GET", "/api/v1/employees/{nip}"): ATTENDANCE_READERS,
    ("GET", "/api/v1/attendance/daily"): ATTENDANCE_ADMINS,
    ("GET", "/api/v1/attendance/monthly"): ATTENDANCE_ADMINS,
    ("GET", "/api/v1/attendance/employees/{nip}/days"): ATTENDANCE_READERS,
    ("GET", "/api/v1/attendance/employees/{nip}/monthly"): ATTENDANCE_READERS,
    ("POST", "/api/v1/attendance/corrections"): ATTENDANCE_ADMINS,
    ("GET", "/api/v1/attendance/views"): ATTENDANCE_READERS,
    ("POST", "/api/v1/activities"): ATTENDANCE_SELF_SERVICE,
    ("GET", "/api/v1/activities"): ATTENDANCE_READERS,
    ("POST", "/api/v1/leave"): ATTENDANCE_SELF_SERVICE,
    ("GET", "/api/v1/leave"): LEAVE_READERS,
    ("POST", "/api/v1/leave/{leave_id}/approve"): ATTENDANCE_ADMINS,
    ("POST", "/api/v1/leave/{leave_id}/reject"): ATTENDANCE_ADMINS,
    ("GET", "/api/v1/security-events"): ATTENDANCE_ADMINS,
}

__all__ = [
    "ACTOR_NAME_READERS",
    "ALERT_ACTORS",
    "ALERT_READERS",
    "ALL_ROLES",
    "ATTENDANCE_ADMINS",
    "ATTENDANCE_READERS",
    "ATTENDANCE_SELF_SERVICE",
    "BUOY_READERS",
    "CATCH_RECORDERS",
    "CATCH_STATISTICIANS",
    "EMPLOYEE_LISTERS",
    "LEAVE_READERS",
    "MARINE_READERS",
    "GROUND_READERS",
    "HEALTH_READERS",
    "MARKET_USERS",
    "ROLE_ADMIN",
    "ROLE_DISASTER_OFFICE",
    "ROLE_EMPLOYEE",
    "ROLE_FISHER",
    "ROLE_FISHERIES_OFFICE",
    "ROLE_STAFF_ADMIN",
    "ROLE_VIEWER",
    "ROUTE_PLANNERS",
    "SOS_CALLERS",
    "SOS_READERS",
    "SOS_RESPONDERS",
    "STATION_READERS",
    "TABLE",
    "USER_ADMINS",
    "VESSEL_READERS",
    "VESSEL_SKIPPERS",
]
