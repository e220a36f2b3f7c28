"""Builders of valid uplink batches for tests, demos and benchmarks of ingest and the API.

`batch` takes items of any kind. The river kind's item builders (`summary`, `siaga_change`,
`rate_of_rise`) live with the kind, in `kinds.awlr.ingest.testing`; they are still found here,
looked up by name when asked for (so importing this module imports no kind), for the tests that
import them from here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from importlib import import_module
from typing import Any

from pydantic import BaseModel

from contract.clock import utcnow
from contract.uplink_batch import UplinkBatch

#: Builders of the river kind, by name, in the module that holds them.
_KIND_BUILDERS = {"summary": "kinds.awlr.ingest.testing", "siaga_change": "kinds.awlr.ingest.testing", "rate_of_rise": "kinds.awlr.ingest.testing"}


def batch(
    items: Sequence[Any],
    *,
    tenant: str = "dki-jakarta",
    gateway: str = "gw-ciliwung",
    sent_at: datetime | None = None,
) -> UplinkBatch:
    """An uplink batch of `items` (item models of any kind, or their JSON objects), as one MQTT
    message carries it."""
    objects = [json.loads(i.model_dump_json()) if isinstance(i, BaseModel) else i for i in items]
    return UplinkBatch(tenant=tenant, gateway=gateway, sent_at=sent_at or utcnow(), items=objects)


def __getattr__(name: str) -> Any:
    if name in _KIND_BUILDERS:
        return getattr(import_module(_KIND_BUILDERS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
