"""The Textual app: a thin shell that owns the repository and wires screens and bindings.

It imports its screens and dialogs; they reach it only through `SafetyContext`
(safetyapp/tui/context.py), which it implements, so nothing imports this module back."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from safetyapp.checklists import Installed, unusable
from safetyapp.domain.engine import Decision
from safetyapp.gcpause import interface_collector, settle_memory
from safetyapp.store.chain import receipt
from safetyapp.store.journal import Journal, StoreError, StoreMissing
from safetyapp.store.repository import Clock, Repository, utc_now
from safetyapp.tui.background import Background, JobFailed, is_background_job, stop_children
from safetyapp.tui.context import SafetyContext
from safetyapp.tui.crash import write_crash_log
from safetyapp.tui.keys import safety_bindings
from safetyapp.tui.screens import board
from safetyapp.tui.screens.board import BoardScreen
from safetyapp.tui.screens.welcome import StoreErrorScreen, WelcomeScreen


class SafetyApp(App[None]):
    CSS_PATH = Path(__file__).parent / "app.tcss"  # absolute: subclasses live elsewhere
    TITLE = "safetyapp"
    ENABLE_COMMAND_PALETTE = True
    # Hold, incident and quit on every screen: `h`, `!` and `q` where no text field has the
    # focus, and F2, F3 and ctrl+q always (priority: a field never takes them), shown as one key
    # each in the Footer, first (safetyapp.tui.keys).
    BINDINGS = [
        *safety_bindings(),
        Binding("h", "raise_hold", "HOLD", id="raise-hold-h", show=False),
        Binding("exclamation_mark", "report_incident", "Incident", id="report-incident-key",
                show=False),
        Binding("q", "quit", "Quit", id="quit-q", show=False),
    ]  # fmt: skip

    revision: reactive[int] = reactive(0, init=False)
    """Bumped whenever the record changes (here or in another process); screens re-render."""

    def __init__(
        self,
        store: Path,
        *,
        clock: Clock = utc_now,
        poll_seconds: float = 2.0,
        create_dirs: bool = False,
        read_only: bool = False,
    ) -> None:
        super().__init__()
        self.read_only = read_only  # the board and the audit only: see check_action
        self.store_path = store
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.create_dirs = create_dirs
        self.repo: Repository | None = None
        self.store_warning: str | None = None
        self.store_failure: str | None = None  # the record turned out unreadable after start
        self.snapshot_every = 2000  # events (about a busy day): see _keep_snapshot_fresh
        self.crash_log: Path | None = None
        self._seen_holds: set[str] = set()
        # One writer (or report) at a time, whichever thread it runs on: see act().
        self.record_lock = threading.Lock()
        self._saving = threading.Event()  # a worker is writing the checkpoint (see act)
        self._unsaved_at: int | None = None  # the event at which writing it last failed
        self._ui_thread = threading.get_ident()
        # Calm by default: no animations on a tired crew member's screen (and faster tests).
        self.animation_level = "none"
        # Full garbage collections wait for a quiet moment (never mid-dialog): see IdleCollector.
        self.collector = interface_collector()  # started (again, after an earlier app) here
        # The checkpoint's prefix is hashed while Textual starts up (see on_mount's open).
        Repository.read_ahead(store)

    # -- start-up -------------------------------------------------------------------------------
    async def on_mount(self) -> None:
        self.set_interval(1.0, self._collect_when_quiet)
        try:
            self.repo = Repository.open_quick(self.store_path, Installed(), self.clock)
            self.repo.read_only = self.read_only
        except StoreMissing:
            if self.read_only:
                self.push_screen(StoreErrorScreen(f"no store at {self.store_path} to show"))
                return
            self.push_screen(WelcomeScreen())
            return
        except StoreError as exc:
            self.push_screen(StoreErrorScreen(str(exc)))
            return
        self._after_open()
        # Mounted before what follows is scheduled: "after refresh" is then after the board's
        # first frame, and the background work below (a thread, sharing the interpreter) no
        # longer competes with the board's first layout (~70 ms of it measured).
        await self.push_screen(BoardScreen())
        # The board is there for good too: out of the collector's sight once drawn, so the first
        # full collection (at the first quiet moment) rescans only what came after it.
        self.call_after_refresh(_settle_memory)
        if self.repo.loading:
            # Started from the checkpoint: check it against the record, in another process,
            # after the board's first frame (an alarm if they differ: see Repository).
            self.call_after_refresh(self.run_worker, self._check_checkpoint, thread=True,
                                    name="load-record", group="load-record")  # fmt: skip
        elif not self.read_only:
            self.call_after_refresh(self.run_worker, self._prepare_to_write, thread=True,
                                    name="prepare-writes", group="prepare-writes")  # fmt: skip

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):  # a key, a click, the mouse: someone is here
            self.collector.activity(time.monotonic())
        await super().on_event(event)

    def _collect_when_quiet(self) -> None:
        now = time.monotonic()
        if self.collector.quiet(now):
            self._keep_snapshot_fresh(quiet=True)
        self.collector.tick(now)

    def use_repository(self, repo: Repository) -> None:
        """Called by the welcome screen once a production or the demo exists."""
        self.repo = repo
        self._after_open()
        self.switch_screen(BoardScreen())

    def _after_open(self) -> None:
        assert self.repo is not None
        _settle_memory()
        if self.repo.warnings:
            self.store_warning = " ".join(self.repo.warnings)
            self.notify(self.store_warning, title="Store", severity="warning", markup=False)
        self._seen_holds = {h.id for h in self.repo.view.open_holds()}
        self.set_interval(self.poll_seconds, self.poll_store)

    # -- the check of the checkpoint, after a start from it --------------------------------------
    def ensure_loaded(self, *, wait: bool = False) -> bool:
        """Take the checkpoint check's outcome if it is in (decisions are made on the
        checkpoint's state at once: only ``wait`` waits for it). False when the store turned
        out unreadable: the error screen is then shown instead."""
        repo = self.repo
        if repo is None or self.store_failure is not None:
            return False
        if not repo.loading or not (wait or repo.check_done):
            return True
        try:
            repo.ensure_loaded()
        except StoreError as exc:
            self.store_failure = str(exc)
            self.call_later(self._show_store_failure)
            return False
        if repo.alarm is not None:
            self.bell()
            self.notify(repo.alarm, title="ALARM", severity="error", markup=False, timeout=3600)
        self.changed()
        return True

    def _check_checkpoint(self) -> None:
        """In a worker thread: the check, in a child process (see Repository.check_in_child).
        Meanwhile, what the first write needs is made ready here (see _prepare_to_write)."""
        if self.repo is not None:
            if not self.read_only:
                self._prepare_to_write()
            self.repo.check_in_child()

    def _prepare_to_write(self) -> None:
        """In a worker thread, after the first frame: what the first write imports, and the
        installed checklists read (a run's start needs them), so neither waits in the first
        decision; a folder that cannot be read is said now, not at the first run's start."""
        Journal.prepare_to_write()
        installed = self.repo.checklists if self.repo is not None else None
        problem = installed.problem() if isinstance(installed, Installed) else None
        if problem is not None:
            self.call_from_thread(
                self.notify, unusable(problem), title="Checklists", severity="warning",
                timeout=30, markup=False,
            )  # fmt: skip

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers: the record loaded (or not)."""
        worker = event.worker
        if worker.group == "load-record" and event.state == WorkerState.SUCCESS:
            self.ensure_loaded()
        if event.state == WorkerState.ERROR:
            self.on_job_failed(JobFailed(worker))

    def on_job_failed(self, message: JobFailed) -> None:
        """The one place a failed worker lands (screens and dialogs forward theirs): say so
        plainly (the details go to the crash log, never a PIN on screen), and let the screen
        or dialog that ran it leave its busy state."""
        worker = message.worker
        error = worker.error
        if not isinstance(error, Exception):
            return
        log = write_crash_log(error)
        what = (worker.node.busy_text if isinstance(worker.node, Background) else None) or (
            worker.description or worker.name or "background work"
        )
        first = str(error).splitlines()[0] if str(error) else "no detail"
        text = (
            f"Not done: {what.rstrip('…').rstrip('.')} failed ({type(error).__name__}: "
            f"{first}). Details in {log or '(no log written)'}."
        )
        self.bell()
        self.notify(text, title="Error", severity="error", markup=False, timeout=30)
        if is_background_job(worker) and isinstance(worker.node, Background):
            worker.node.work_failed(text)

    def _show_store_failure(self) -> None:
        if self.store_failure is not None and not isinstance(self.screen, StoreErrorScreen):
            self.push_screen(StoreErrorScreen(self.store_failure))

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        """If the store turned out unreadable, show that instead of any screen but the board."""
        self.collector.activity(time.monotonic())
        wanted = not isinstance(screen, BoardScreen | StoreErrorScreen)
        if wanted and self.repo is not None and not self.ensure_loaded():
            screen = StoreErrorScreen(self.store_failure or "")
            args, kwargs = (), {}
        return super().push_screen(screen, *args, **kwargs)

    def on_unmount(self) -> None:
        """Leave a snapshot of where the record ends, so the next start is quick; stop any
        report or export still being written in a child process (nothing is left running)."""
        stop_children()
        self.collector.stop()
        gc.unfreeze()  # see _settle_memory: collectable again once the app is gone
        repo = self.repo
        if repo is not None and repo.loading:
            repo.stop_check()  # quitting never waits for the check of the checkpoint
        ready = repo is not None and not repo.loading and self.store_failure is None
        if ready and repo is not None and self.record_lock.acquire(timeout=30.0):
            try:  # (after any worker still writing one, or signing)
                if repo.view.last_seq != repo.snapshot_seq:
                    repo.save_snapshot()
            finally:
                self.record_lock.release()

    # -- the one way screens change the record --------------------------------------------------
    def act(self, action: Callable[..., Decision], *args: Any, **kwargs: Any) -> Decision:
        """Run an engine action against the store; a store failure comes back as a refusal.

        Callable from a worker thread (that is how dialogs sign: PIN checks cost ~45 ms each):
        writers take `record_lock` in turn, and the screens redraw on the interface's thread
        afterwards. On the interface's thread it never waits long for the lock: a busy
        record is a refusal to try again, not a frozen screen. It does wait for a checkpoint
        being written (see _save_snapshot): housekeeping never refuses a decision."""
        assert self.repo is not None
        if self.read_only:
            return Decision([], "not recorded: this is a read-only view")
        on_ui = threading.get_ident() == self._ui_thread
        loaded = self.ensure_loaded() if on_ui else self.call_from_thread(self.ensure_loaded)
        if not loaded:
            return Decision([], f"not recorded: {self.store_failure}")
        wait = -1 if not on_ui else 30.0 if self._saving.is_set() else 0.05
        if not self.record_lock.acquire(timeout=wait):
            return Decision(
                [], "not recorded: the record is busy (a report or a signature is being "
                "written); try again in a moment"
            )  # fmt: skip
        try:
            decision = self.repo.do(action, *args, **kwargs)
        except StoreError as exc:
            decision = Decision([], f"not recorded: {exc}")
        finally:
            self.record_lock.release()
        if on_ui:
            self.changed()
        else:
            self.call_from_thread(self.changed)
        return decision

    def poll_store(self) -> None:
        """Pick up what other processes (the CLI, a second terminal) appended. Skipped while
        a worker writes or reads the record (the next poll catches up)."""
        if self.repo is None or not self.record_lock.acquire(blocking=False):
            return
        try:
            fresh = self.repo.refresh()
        except StoreError as exc:
            self.notify(str(exc), title="Store", severity="error", markup=False, timeout=30)
            return
        finally:
            self.record_lock.release()
        if fresh:
            self.changed()

    def changed(self) -> None:
        assert self.repo is not None
        holds = self.repo.view.open_holds()
        new = [h for h in holds if h.id not in self._seen_holds]
        self._seen_holds = {h.id for h in holds}
        if new:
            self.bell()
            for hold in new:
                shown = f" · receipt {receipt(hold.raised_hash)}" if hold.raised_hash else ""
                self.notify(
                    f"{hold.id}: {hold.reason}{shown}", title="HOLD", severity="error", markup=False
                )
        self.collector.activity(time.monotonic())
        self._keep_snapshot_fresh()
        self.revision += 1

    def _keep_snapshot_fresh(self, *, quiet: bool = False) -> None:
        """Besides on exit, every `snapshot_every` events: an app left running for days and
        then killed still starts quickly next time. Written by a worker thread, never on the
        interface's, and at a quiet moment (the collector's: see _collect_when_quiet) unless
        twice as many events are due: at 100,000 events building, sealing and writing it
        takes 100-200 ms of the interpreter (the first decision after a start without a
        checkpoint, then about once a day), which would slow a sign-off's screens meanwhile."""
        repo = self.repo
        if repo is None or repo.loading or self.read_only or self._saving.is_set():
            return
        last = repo.view.last_seq
        if self._unsaved_at is not None and last - self._unsaved_at < self.snapshot_every:
            return  # it failed at that event: tried again only once as many more are due
        behind = last - (repo.snapshot_seq or 0)
        if behind >= self.snapshot_every * (1 if quiet else 2):
            self._saving.set()
            self.run_worker(self._save_snapshot, thread=True, name="save-checkpoint",
                            group="save-checkpoint", exit_on_error=False)  # fmt: skip

    def _save_snapshot(self) -> None:
        """In a worker thread: the checkpoint of the state as it is, under the record's lock
        (no decision folds into the state while it is read). A decision on the interface's
        thread meanwhile waits for it (see act) rather than be refused as busy."""
        written = False
        repo = self.repo
        try:
            with self.record_lock:
                if repo is not None and not repo.loading:
                    written = repo.save_snapshot()
        finally:
            # Not written (a full disk, a folder that cannot be written, a checkpoint row that
            # cannot be read): not tried again each quiet second.
            self._unsaved_at = None if written or repo is None else repo.view.last_seq
            self._saving.clear()

    # -- actions available everywhere -----------------------------------------------------------
    def action_raise_hold(self) -> None:
        from safetyapp.tui.dialogs.holds import RaiseHoldModal  # (on first use: a faster start)

        if self.repo is None or isinstance(self.screen, RaiseHoldModal):
            return
        run_id = next(
            (
                getattr(s, "run_id", None)
                for s in reversed(self.screen_stack)
                if hasattr(s, "run_id")
            ),
            None,
        )
        self.push_screen(RaiseHoldModal(run_id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hold and incident keys need a production (hidden on the welcome and error screens)
        and a view that may write."""
        writes = action in ("raise_hold", "report_incident")
        return not (writes and (self.repo is None or self.read_only))

    def action_report_incident(self) -> None:
        from safetyapp.tui.dialogs.incidents import ReportIncidentModal

        if self.repo is None or isinstance(self.screen, ReportIncidentModal):
            return
        self.push_screen(ReportIncidentModal())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if self.repo is None:
            return
        if self.read_only:
            yield SystemCommand(
                "Audit log", "Every event, filtered, verified", _board_action(self, "audit")
            )
            return

        yield SystemCommand("Raise a HOLD", "Stop work: anyone, any time", self.action_raise_hold)
        yield SystemCommand(
            "Report an incident", "Discharge, misfire, injury, missing, near miss, concern",
            self.action_report_incident,
        )  # fmt: skip
        for title, help_text, name in board.PALETTE:
            yield SystemCommand(title, help_text, _board_action(self, name))

    def switch_to_board(self) -> None:
        while len(self.screen_stack) > 2 and not isinstance(self.screen, BoardScreen):
            self.pop_screen()

    # -- errors (private Textual hooks; textual is pinned exactly) -------------------------------
    def _handle_exception(self, error: Exception) -> None:
        """No traceback for users: log it, exit, and say where the log is (see run_tui)."""
        self.crash_log = write_crash_log(error)
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        # Textual's default prints a traceback *with local variables* (PINs among them): never.
        self.bell()
        self._close_messages_no_wait()


if TYPE_CHECKING:
    _implements: type[SafetyContext] = SafetyApp  # mypy holds the app to what screens use


def _settle_memory() -> None:
    """The record is in memory for good: see :func:`safetyapp.gcpause.settle_memory`."""
    settle_memory()


def _board_action(app: SafetyApp, name: str) -> Callable[[], Any]:
    def run() -> None:
        app.switch_to_board()
        app.call_later(app.run_action, f"screen.{name}")

    return run


def run_tui(path: Path, *, create_dirs: bool, read_only: bool = False) -> None:
    app = SafetyApp(path, create_dirs=create_dirs, read_only=read_only)
    app.run()
    if app.crash_log is not None or app.return_code not in (0, None):
        where = app.crash_log or "(no log written)"
        raise SystemExit(f"safetyapp: the app stopped on an unexpected error (details: {where})")
