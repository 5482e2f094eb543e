"""Slow work off the interface's thread: PIN checks, sign-offs, reports, exports.

A screen or dialog that mixes in :class:`Background` calls :meth:`Background.in_background`
with the slow job (run in a Textual thread worker) and what to do with its result (run back
on the interface's thread, when the worker posts :class:`Done`). Meanwhile its busy line (a
widget with id ``busy``) says what is going on, and its buttons are disabled. A job that
raises is not lost: the app's one ``Worker.StateChanged`` handler (`SafetyApp`) turns it into
a clear message, and calls :meth:`Background.work_failed` on the screen or dialog that ran it.

Jobs never write to the interface themselves: they return a value. Engine actions go through
`SafetyContext.act`, which may be called from a worker thread (it serialises writers).

Work that is pure Python and long (a report, an export) runs in a child process instead
(:meth:`Background.in_child`, see :mod:`safetyapp.audit.child`): a thread would share the
interpreter lock with the interface and stall it. The child is terminated when the app quits
or the screen that started it goes (:func:`stop_children`), and stops by itself if the app
dies (it watches its stdin); a child that fails or is killed is a :class:`ChildFailed`, which
reaches the app's one handler like any job that raised.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from textual import work
from textual.dom import DOMNode
from textual.message import Message
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerState

BACKGROUND_GROUP = "background"

# The child's command (a request on its stdin, a reply on its stdout): see safetyapp.audit.child.
CHILD_COMMAND = [sys.executable, "-m", "safetyapp.audit.child"]
CHILD_GRACE = 2.0  # seconds a terminated child has to clean up before it is killed

_children: set[asyncio.subprocess.Process] = set()  # running now (see stop_children)


class ChildFailed(RuntimeError):
    """A child process crashed, was killed, or gave no reply. The first line says so for the
    user; the rest (the child's traceback or error output) is for the crash log."""


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

    def in_child(
        self,
        request: Callable[[], dict[str, Any]],
        then: Callable[[dict[str, Any]], object],
        *,
        busy: str,
        what: str,
    ) -> bool:
        """As :meth:`in_background`, but the job is `request()` (built in a thread: it may walk
        many rows) sent to a child process (:data:`CHILD_COMMAND`); `then(reply)` runs on the
        UI thread. `what` names the job in a failure ("the export")."""
        if self.busy:
            self.app.bell()
            return False
        self.show_busy(busy)
        self._run_child(request, then, what)
        return True

    @work(exit_on_error=False, group=BACKGROUND_GROUP)
    async def _run_child(
        self,
        request: Callable[[], dict[str, Any]],
        then: Callable[[dict[str, Any]], object],
        what: str,
    ) -> None:
        built = await asyncio.to_thread(request)
        reply = await run_child(built, what)
        self.post_message(Done(reply, then))

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


async def run_child(request: dict[str, Any], what: str) -> dict[str, Any]:
    """Send `request` to a new child process and return its reply. ChildFailed when it crashed,
    was killed or said nothing; cancelled (the screen or the app went), it is stopped first."""
    proc = await asyncio.create_subprocess_exec(
        *CHILD_COMMAND,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _children.add(proc)
    try:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        # stdin stays open while it works: the child stops when it closes (this process gone).
        proc.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
        with suppress(ConnectionError):  # it died at once: said below
            await proc.stdin.drain()
        out, err = await asyncio.gather(proc.stdout.read(), proc.stderr.read())
        code = await proc.wait()
    except BaseException:  # cancelled: nobody waits for it any more
        await _stop(proc)
        raise
    finally:
        _children.discard(proc)
        if proc.stdin is not None:
            proc.stdin.close()
    return _reply(out, err, code, what)


def _reply(out: bytes, err: bytes, code: int, what: str) -> dict[str, Any]:
    reply: Any = None
    lines = out.strip().splitlines()
    with suppress(ValueError):
        reply = json.loads(lines[-1]) if lines else None
    detail = err.decode("utf-8", "replace").strip()
    if isinstance(reply, dict) and "crash" in reply:
        message = (str(reply.get("message") or "").splitlines() or ["no detail"])[0]
        raise ChildFailed(
            f"{what} stopped on an error in its process ({reply['crash']}: {message}); "
            f"nothing was written\n{reply.get('traceback', '')}{detail}"
        )
    if code != 0 or not isinstance(reply, dict):
        if code < 0:
            how = f"was killed (signal {signal.Signals(-code).name})"
        elif code:
            how = f"stopped with exit status {code}"
        else:
            how = "gave no answer"
        raise ChildFailed(
            f"{what} {how} before it finished; nothing was written (try again)\n{detail}"
        )
    return reply


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """Terminate `proc` (it removes its temporary file), then kill it if it lingers."""
    if proc.returncode is not None:
        return
    with suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), CHILD_GRACE)
    except TimeoutError:
        with suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


def stop_children() -> None:
    """Terminate every child still running (the app quits): their workers, cancelled with the
    app, reap them and kill any that lingers."""
    for proc in list(_children):
        if proc.returncode is None:
            with suppress(ProcessLookupError):
                proc.terminate()


def running_children() -> list[int]:
    """The process ids of the children running now (for tests and diagnostics)."""
    return [p.pid for p in _children if p.returncode is None]
