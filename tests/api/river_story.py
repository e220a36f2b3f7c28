"""The river story the API tests read: Depok's level history and three Siaga alert episodes.

A plain module (not conftest) so tests can import its names without clashing with other
directories' conftest modules.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ingest.testing import batch, siaga_change, summary
from contract.uplink_batch import UplinkBatch

#: Depok: 18 ten-minute windows from T0, mean 130, 131, ... 147 cm, 10 readings each.
T0 = datetime(2025, 1, 20, 0, 0, tzinfo=timezone.utc)
DEPOK_WINDOWS = 18


def depok_history() -> UplinkBatch:
    return batch([summary("depok", T0 + timedelta(minutes=10 * i), 130.0 + i, count=10) for i in range(DEPOK_WINDOWS)])


def alert_story() -> list[UplinkBatch]:
    """Katulampa rises to Siaga 2 (open), Depok rose and fell (cleared), Manggarai at Siaga 3 (open)."""
    return [
        batch([siaga_change("depok", T0, 3, 205.0, siaga_from=4, seq=1)]),
        batch([siaga_change("depok", T0 + timedelta(hours=2), 4, 190.0, siaga_from=3, seq=2)]),
        batch([siaga_change("katulampa", T0 + timedelta(hours=3), 3, 95.0, siaga_from=4, seq=3)]),
        batch([siaga_change("katulampa", T0 + timedelta(hours=4), 2, 160.0, siaga_from=3, seq=4)]),
        batch([siaga_change("manggarai", T0 + timedelta(hours=5), 3, 760.0, siaga_from=4, seq=5)]),
    ]


def manggarai_history() -> UplinkBatch:
    """Manggarai: windows of unequal counts (so the mean must be weighted) and one all-suspect."""
    counts = [10, 2, 10, 4, 10, 10]
    items = [
        summary("manggarai", T0 + timedelta(minutes=10 * i), 700.0 + 10 * i, count=c) for i, c in enumerate(counts)
    ]
    items.append(summary("manggarai", T0 + timedelta(minutes=60), None, count=8))
    return batch(items)


BADUNG = "tukad-mati-kuta"


def badung_story() -> UplinkBatch:
    """Kabupaten Badung, another tenant: Tukad Mati rises to Siaga 3 (an open alert) with history.

    Every API test runs with it in the database, so every answer to a DKI Jakarta caller is
    also a check that nothing of Badung's leaks.
    """
    gw = "gw-badung"
    items = [summary(BADUNG, T0 + timedelta(minutes=10 * i), 120.0 + 5 * i, gateway=gw, count=10) for i in range(6)]
    items.append(siaga_change(BADUNG, T0 + timedelta(hours=1, minutes=5), 3, 155.0, siaga_from=4, seq=1, gateway=gw))
    return batch(items, tenant="kab-badung", gateway=gw)
