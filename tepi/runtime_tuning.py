"""Process-wide settings: the garbage collector for ingest workers (throughput), the C heap
for the gateway (peak memory on a small box)."""

from __future__ import annotations

import ctypes
import gc
from functools import cache

#: Generation-0 threshold: a worker decoding thousands of pydantic items a second otherwise
#: runs a full collection every few batches, which cost ingest a third of its time.
GC_GEN0_THRESHOLD = 50_000

#: glibc's mallopt parameter for the number of malloc arenas.
_M_ARENA_MAX = -8

#: Arenas for the gateway: glibc gives each new thread its own (up to 8 per core), and memory
#: freed in one arena is not reused by threads allocating in another, so the gateway's threads
#: (device client, processing, uplink, metrics) would each keep a high-water mark of their own.
GATEWAY_MALLOC_ARENAS = 2


def tune_garbage_collector() -> None:
    """Freeze what start-up allocated (config, modules) out of future collections and collect
    young objects less often. Reference cycles are still collected, just in larger batches."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


def limit_malloc_arenas(arenas: int = GATEWAY_MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (what MALLOC_ARENA_MAX does, set by the process itself so that
    it holds however the gateway is started). Call before starting threads. False where the C
    library has no such setting (not glibc)."""
    libc = _libc()
    return libc is not None and hasattr(libc, "mallopt") and bool(libc.mallopt(_M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Collect garbage and hand the C heap's free pages back to the system (glibc malloc_trim).

    Start-up frees a lot at once (sockets, schema building, the journal replay) while the
    long-lived objects stay; without this the freed pages stay resident until reused. False
    where the C library cannot do it."""
    gc.collect()
    libc = _libc()
    return libc is not None and hasattr(libc, "malloc_trim") and bool(libc.malloc_trim(0))


@cache
def _libc() -> ctypes.CDLL | None:
    """The C library's symbols as linked into this process (no search for a file)."""
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None
