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


SETTLE_FROM = 10_000  # records: below this a full collection is quick anyway


def settle_memory() -> None:
    """A long record is in memory for good: move it out of the garbage collector's sight.
    With 100,000 events held, every full collection would otherwise rescan them all (0.3-1.7 s
    on the test machine, a screen frozen meanwhile: the audit screen's first frame took 1.3 s
    instead of 0.6 s). Records hold no cycles, so nothing is leaked: they are freed by
    reference counting as before. (No collection first: that would be the very pause this
    avoids.) The app undoes it when it exits (``gc.unfreeze``)."""
    gc.freeze()
