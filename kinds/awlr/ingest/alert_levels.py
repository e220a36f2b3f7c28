"""Open alerts show the river as it is now: the level of each one follows its station's readings."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.models import OPEN_STATUSES, Alert, Station


def follow_levels(session: Session, stations: Iterable[Station]) -> int:
    """Let the open alerts of `stations` show each station's newest good reading where it is
    newer than the one they show; returns how many alerts moved.

    An operator deciding on an alert needs the river as it is now, not as it was when the alert
    last changed (an alert showed 202.4 cm while the river stood at 250). This is no public
    change: no event, no new revision. A CAP message keeps the level of its revision, or every
    1-minute summary during a flood would send receivers a new message; the alert itself (the
    API, `last_level_at` saying when) shows the river now. Older readings, delivered late, never
    move it back.

    Without the event-log lock (`central.db.lock_event_log`): no event is written, and taking it
    here, after the call has locked its stations' rows, would invert the order every writer
    locks in. Alert rows are locked after station rows here, as when ingest changes alerts.
    """
    by_id = {s.id: s for s in stations if s.last_level_cm is not None and s.last_seen_at is not None}
    if not by_id:
        return 0
    alerts = session.scalars(
        sa.select(Alert).where(Alert.station_id.in_(sorted(by_id)), Alert.status.in_(OPEN_STATUSES))
    )
    moved = 0
    for alert in alerts:
        station = by_id[alert.station_id]
        newest = station.last_seen_at
        assert newest is not None  # stations without a reading were left out above
        if alert.last_level_at is None or alert.last_level_at < newest:
            alert.last_level_cm, alert.last_level_at = station.last_level_cm, newest
            moved += 1
    return moved

