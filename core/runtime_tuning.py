"""Process-wide settings: the garbage collector for ingest workers (throughput) and, without
costing memory, for the gateway; the C heap for the gateway (peak memory on a small box)."""

from __future__ import annotations

import ctypes
import gc
from functools import cache

#: Generation-0 threshold: a worker decoding thousands of pydantic items a second otherwise
#: runs a full collection every few batches, which cost ingest a third of its time.
GC_GEN0_THRESHOLD = 50_000

#: glibc's mallopt parameters: the number of malloc arenas, and the size from which a block
#: is mapped on its own (and unmapped when freed) rather than carved from the heap.
_M_ARENA_MAX = -8
_M_MMAP_THRESHOLD = -3

#: Arenas for the gateway: glibc gives each new thread its own (up to 8 per core), and memory
#: freed in one arena is not reused by threads allocating in another, so the gateway's threads
#: (device client, processing, uplink, metrics) would each keep a high-water mark of their own.
GATEWAY_MALLOC_ARENAS = 2

#: Blocks of this size and up get mappings of their own, returned to the system when freed.
#: glibc starts at 128 KiB but raises the threshold to the size of every mapped block freed
#: (up to 32 MiB), after which such buffers (uplink messages of a few hundred KiB of JSON, the
#: device source's 64 KiB socket reads) are carved from the heap between long-lived objects,
#: and the heap's high-water mark keeps their pages. The footprint benchmark measured 64 KiB
#: lower than 128 KiB and than glibc's default (bench/README.md, footprint).
GATEWAY_MMAP_THRESHOLD = 64 * 1024


def freeze_start_up_objects() -> None:
    """Collect start-up's garbage, then move every object still alive (modules, configuration,
    schemas) out of the collector's reach: a full collection then scans only what was allocated
    since. Costs no memory. In the gateway it took full collections from ~7 to ~4 µs a reading
    at 10,000 readings/s (bench/README.md)."""
    gc.collect()
    gc.freeze()


def tune_garbage_collector() -> None:
    """Freeze what start-up allocated (config, modules) out of future collections and collect
    young objects less often. Reference cycles are still collected, just in larger batches."""
    freeze_start_up_objects()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


def limit_malloc_arenas(arenas: int = GATEWAY_MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (what MALLOC_ARENA_MAX does, set by the process itself so that
    it holds however the gateway is started). Call before starting threads. False where the C
    library has no such setting (not glibc)."""
    libc = _libc()
    return libc is not None and hasattr(libc, "mallopt") and bool(libc.mallopt(_M_ARENA_MAX, arenas))


def fix_mmap_threshold(size: int = GATEWAY_MMAP_THRESHOLD) -> bool:
    """Map blocks of `size` bytes and up on their own, always (glibc's M_MMAP_THRESHOLD, which
    also turns off its dynamic raising). False where the C library has no such setting."""
    libc = _libc()
    return libc is not None and hasattr(libc, "mallopt") and bool(libc.mallopt(_M_MMAP_THRESHOLD, size))


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
