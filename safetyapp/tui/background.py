"""Slow work off the interface's thread: PIN checks, sign-offs, reports, exports.

A screen or dialog that mixes in :class:`Background` calls :meth:`Background.in_background`
with the slow job (run in a Textual thread worker) and what to do with its result (run back
on the interface's thread, when the worker posts :class:`Done`). Meanwhile its busy line (a
widget with id ``busy``) says what is going on, and its buttons are disabled. A job that
raises is not lost: the app's one ``Worker.StateChanged`` handler (`SafetyApp`) turns it into
a clear message, and calls :meth:`Background.work_failed` on the screen or dialog that ran it.

Jobs never write to the interface themselves: they return a value. Engine actions go through
`SafetyContext.act`, which may be called from a worker thread (it serialises writers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import work
from textual.dom import DOMNode
from textual.message import Message
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerState

BACKGROUND_GROUP = "background"


class Done(Message):
    """A background job finished: its result, and what to do with it (on the UI thread)."""

    def __init__(self, result: Any, then: Callable[[Any], object]) -> None:
        super().__init__()
        self.result = result
        self.then = then


class JobFailed(Message):
    """A worker of a screen or dialog raised. Worker.StateChanged does not bubble; this
    does, to the app's one handler (`SafetyApp.on_job_failed`)."""

    def __init__(self, worker: Worker[Any]) -> None:
        super().__init__()
        self.worker = worker


class Background(DOMNode):
    """Mixed into a Screen or Dialog: run jobs in a thread worker with a busy line.

    List it after the Textual base (``class S(Screen[None], Background)``): Textual takes a
    node's CSS and type names from its first DOMNode base only."""

    busy_text: str | None = None

    @property
    def busy(self) -> bool:
        return self.busy_text is not None

    def in_background(
        self, job: Callable[[], Any], then: Callable[[Any], object], *, busy: str
    ) -> bool:
        """Start `job` in a thread; `then(result)` runs on the UI thread. False (with the
        bell) when a job of this screen is still running: one at a time, never two writes."""
        if self.busy:
            self.app.bell()
            return False
        self.show_busy(busy)
        self._run_job(job, then, busy)
        return True

    @work(thread=True, exit_on_error=False, group=BACKGROUND_GROUP)
    def _run_job(self, job: Callable[[], Any], then: Callable[[Any], object], busy: str) -> None:
        # exit_on_error=False: a failure reaches the app's Worker.StateChanged handler.
        self.post_message(Done(job(), then))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.post_message(JobFailed(event.worker))

    def on_done(self, message: Done) -> None:
        message.stop()
        self.show_busy(None)
        message.then(message.result)

    def work_failed(self, message: str) -> None:
        """Called by the app's worker handler when a job raised: clear the busy state."""
        self.show_busy(None)

    def show_busy(self, text: str | None) -> None:
        """Show (or with None, clear) the busy line; buttons are disabled meanwhile."""
        self.busy_text = text
        for line in self.query("#busy").results(Static):
            line.update(f"⧗ {text}" if text else "")
            line.display = text is not None
        for button in self.query(Button):
            if button.id != "cancel":
                button.disabled = text is not None


def is_background_job(worker: Worker[Any]) -> bool:
    return worker.group == BACKGROUND_GROUP
