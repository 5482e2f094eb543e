"""Python's cyclic garbage collector: paused while a large batch of objects is built, and kept
from pausing the interface (:class:`IdleCollector`)."""

from __future__ import annotations

import gc
import time
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


QUIET_SECONDS = 3.0  # no key, click, screen change or write for this long: a pause goes unseen
FORCE_AFTER = 200  # young collections since the last full one: collect even if never quiet


class IdleCollector:
    """The interface's full garbage collections, moved to moments nobody is waiting.

    Python's collector runs a full collection whenever enough objects have survived the young
    ones, wherever the program is: in the app that was in the middle of drawing the sign-off
    dialog (Textual's widgets and cached lines are tens of thousands of objects, 15-75 ms per
    collection at 100,000 events, growing through a day; issue 16). Here automatic full
    collections are off while the app runs; the young generations are still collected as
    usual (cheap: only new objects), and :meth:`tick` (called about once a second) runs the
    full collection once the app has been quiet for :data:`QUIET_SECONDS` - or at once when
    :data:`FORCE_AFTER` young collections have passed without a quiet moment, so garbage never
    piles up without bound. Nothing is freed later than a few seconds of quiet; nothing is
    leaked: :meth:`stop` restores the collector as it was."""

    def __init__(self, quiet_seconds: float = QUIET_SECONDS, force_after: int = FORCE_AFTER):
        self.quiet_seconds = quiet_seconds
        self.force_after = force_after
        self._saved: tuple[int, int, int] | None = None
        self._last_activity = 0.0
        self.collections = 0  # full collections run by tick

    @property
    def running(self) -> bool:
        return self._saved is not None

    def start(self, now: float) -> None:
        if self._saved is None:
            young, middle, _ = self._saved = gc.get_threshold()
            gc.set_threshold(young, middle, 2**31 - 1)  # never a full collection by itself
        self._last_activity = now

    def stop(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def activity(self, now: float) -> None:
        """Someone is using the app (a key, a click, a screen, a write): not now."""
        self._last_activity = now

    def quiet(self, now: float) -> bool:
        """Nobody has used the app for :attr:`quiet_seconds`: a pause now goes unseen."""
        return now - self._last_activity >= self.quiet_seconds

    def tick(self, now: float) -> bool:
        """Collect in full if it is due; True when it ran."""
        if self._saved is None:
            return False
        pending = gc.get_count()[2]  # young (generation 1) collections since the last full one
        quiet = self.quiet(now)
        if pending == 0 or not (quiet or pending >= self.force_after) or not gc.isenabled():
            return False
        gc.collect()
        self.collections += 1
        return True


_interface: IdleCollector | None = None


def interface_collector() -> IdleCollector:
    """The interface process's collector, started (holding full collections) on first use:
    from the interface's first import (see :mod:`safetyapp.tui`), so its imports and first
    frame are not paused either (a full collection or two, ~40 ms of a 0.4 s start), until
    its app exits (:meth:`IdleCollector.stop` restores the collector as it was)."""
    global _interface
    if _interface is None:
        _interface = IdleCollector()
    if not _interface.running:
        _interface.start(time.monotonic())
    return _interface


_command = IdleCollector()  # a short command's: started, never ticked


def hold_full_collections() -> None:
    """A short command (the CLI's): no full collection for its life; young ones still run.
    It exits within a second or so, and what it builds (records, the state) has no cycles to
    free; a full collection or two would only rescan it (~20 ms of 0.3 s at 100,000 events).
    :func:`release_full_collections` restores the collector (a long-lived command does)."""
    _command.start(0.0)


def release_full_collections() -> None:
    _command.stop()
