"""What screens and dialogs may use of the app, as a typed protocol.

The app module imports its screens and dialogs; they never import it back (no import circle,
checked by `lint-imports`). They reach the running app through `safety_of`, typed by this
protocol, which `SafetyApp` implements.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeGuard, runtime_checkable

from textual.message_pump import MessagePump

from safetyapp.domain.engine import Decision
from safetyapp.store.repository import Clock, Repository


@runtime_checkable
class SafetyContext(Protocol):
    """The app as screens see it: the open record and the one way to change it."""

    @property
    def repo(self) -> Repository | None:
        """The open record; None on the welcome and store-error screens."""

    @property
    def store_path(self) -> Path: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def create_dirs(self) -> bool:
        """Whether the welcome screen may create the store's folder."""

    @property
    def store_warning(self) -> str | None:
        """What the banner says about the store (e.g. a repaired torn last line)."""

    @property
    def revision(self) -> int:
        """Bumped whenever the record changes (here or in another process)."""

    @property
    def record_lock(self) -> threading.Lock:
        """Held by whoever writes (`act`) or reads the whole record off the interface's
        thread (a report), so the two never interleave."""

    def act(self, action: Callable[..., Decision], *args: Any, **kwargs: Any) -> Decision:
        """Run an engine action against the store; a store failure comes back as a refusal.
        May be called from a worker thread (dialogs sign that way)."""

    def ensure_loaded(self, *, wait: bool = False) -> bool:
        """Take the outcome of the check of the checkpoint the app started from (``wait``: wait
        for it); False when the store turned out unreadable."""

    def use_repository(self, repo: Repository) -> None:
        """Adopt a production just created or the demo, and show the board."""


def safety_of(node: MessagePump) -> SafetyContext:
    """The running app of `node`, as the protocol (a TypeError if it is some other app)."""
    app = node.app
    if not _is_safety_app(app):
        raise TypeError(f"{type(app).__name__} is not a safetyapp app (see SafetyContext)")
    return app


_CHECKED: set[type] = set()


def _is_safety_app(app: object) -> TypeGuard[SafetyContext]:
    """The structural check (about 30 us) once per app class: screens ask on every redraw."""
    kind = type(app)
    if kind in _CHECKED:
        return True
    if isinstance(app, SafetyContext):
        _CHECKED.add(kind)
        return True
    return False
