"""Attendance badges heard by office scanners: BLE badges (iBeacon, Eddystone-UID, or
Eddystone-EID, whose identifier rotates so that a recording or a clone is worthless) carried by
staff, and scanners in each office that report what they hear with its RSSI to the office's
gateway. The gateway decides presence per badge and office, and spoofing, at the edge; central
keeps employees, badges, daily and monthly attendance records, activities and leave.

Sides: `wire` (the scanners' formats), `adverts` (BLE advertisement frames), `eid` (the
Eddystone-EID computation), `items` (what goes uplink), `config` (the `offices:` and
`attendance:` sections), `edge/` (resolve, smooth, presence, spoofing), `ingest/`, `api/`,
`sim/` (an office day). See README.md.
"""
