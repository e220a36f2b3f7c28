"""Process-wide settings for Tepi's ingest workers (not the gateway: there peak memory matters more)."""

from __future__ import annotations

import gc

#: Generation-0 threshold: a worker decoding thousands of pydantic items a second otherwise
#: runs a full collection every few batches, which cost ingest a third of its time.
GC_GEN0_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Freeze what start-up allocated (config, modules) out of future collections and collect
    young objects less often. Reference cycles are still collected, just in larger batches."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)
