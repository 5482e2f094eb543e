"""Pause Python's cyclic garbage collector while a large batch of objects is built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused(items: int, threshold: int = 1000) -> Iterator[None]:
    """Parsed records and the state folded from them hold no reference cycles; without this,
    building 100,000 of them makes the collector rescan everything built so far again and
    again (most of the time of opening a long record)."""
    paused = items > threshold and gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
