"""How the C heap treats the large, short-lived buffers of CPU network work (glibc on Linux).

glibc serves every allocation above 32 MiB (and, until its threshold adapts, above 128 KiB) with a
fresh ``mmap`` and gives it back with ``munmap`` when freed. A UNet forward on the CPU allocates and
frees hundreds of such activations, so each one comes back as new, zeroed pages that fault in one
4 KiB page at a time: an out-of-place SiLU of a 64 MiB bf16 tensor took 51 ms, 27 ms once its
memory was reused. Telling the allocator to keep freed memory in its heap (``mallopt``:
``M_MMAP_THRESHOLD``, ``M_TRIM_THRESHOLD``, and one arena, so a worker thread's buffers come from
the same heap as the main thread's) cut an official UNet-512 bf16 forward from 1.35 s to 1.15 s and
the official default face from 13.2 s to 8.5 s on a 2-core Xeon (bench/README.md), for more peak
memory while a job runs (official, 1 seed: 1430 → 1474 MB; 4-seed gallery: 2263 → 3063 MB).
:func:`return_freed_memory` hands that memory back to the system after a job.

Elsewhere (macOS, Windows, musl) both calls do nothing. ``FACEAPP_KEEP_FREED_MEMORY=0`` turns the
tuning off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import sys

log = logging.getLogger(__name__)

DISABLE_ENV = "FACEAPP_KEEP_FREED_MEMORY"
#: allocations up to this size come from the heap and are reused after free (glibc's default: 32 MiB at most)
HEAP_LIMIT_BYTES = 1 << 30
# mallopt parameter numbers of glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

_applied = False


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (the one whose ``mallopt`` this module speaks), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        libc.gnu_get_libc_version()
    except (OSError, AttributeError):
        return None  # not glibc (musl has no gnu_get_libc_version)
    return libc


def keep_freed_memory() -> bool:
    """Make the C heap reuse freed tensor memory instead of unmapping it; True when applied.

    Best called early, before worker threads start (the one-arena setting applies to threads
    that have not allocated yet). Idempotent."""
    global _applied
    if _applied:
        return True
    if os.environ.get(DISABLE_ENV, "").strip() == "0":
        return False
    libc = _glibc()
    if libc is None:
        return False
    ok = all(libc.mallopt(param, value) == 1 for param, value in (
        (_M_MMAP_THRESHOLD, HEAP_LIMIT_BYTES), (_M_TRIM_THRESHOLD, HEAP_LIMIT_BYTES), (_M_ARENA_MAX, 1)))
    if not ok:
        log.info("this C library refused the heap settings; large buffers stay memory-mapped")
    _applied = ok
    return ok


def return_freed_memory() -> None:
    """Give the heap's free memory back to the system (after a job, so an idle app stays small)."""
    libc = _glibc()
    if libc is not None and _applied:
        libc.malloc_trim(0)
