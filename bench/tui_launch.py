"""Child process for the TUI figures: start an app headless, note when its first real frame is
drawn, print one JSON line on stdout, exit. Run by ``bench.tui`` as
``python -m bench.tui_launch MODE [STORE]``; the parent notes the time just before it spawns.

Modes: ``bare`` (a bare Textual app: header, footer, a list of 20 items), ``board`` (the real
SafetyApp on STORE, until the status board has rendered the store's current state and a sign-off
has been decided on the app's state ("ready to sign"); then also when the background check of
the checkpoint is in; and the process's peak memory and its children's), ``board-ready`` (the
same, exiting once ready to sign: the background check is not waited for), ``audit`` (the board,
the whole record read, then the audit screen on it, a filter change and a page scroll).
"""

from __future__ import annotations

import json
import resource
import sys
import time

from bench.cli_launch import peak_rss_kb


def _emit(data: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def bare() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, ListItem, ListView, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield ListView(*[ListItem(Static(f"item {i}")) for i in range(20)])
            yield Footer()

        def on_mount(self) -> None:
            self.call_after_refresh(self._drawn)

        def _drawn(self) -> None:
            self.result = {"frame": time.time()}
            self.exit()

    app = Bare()
    app.result = {}  # type: ignore[attr-defined]
    app.run(headless=True, size=(120, 40))
    _emit(app.result)  # type: ignore[attr-defined]


def board(store: str, audit: bool, wait: bool = True) -> None:
    # What `safetyapp --db STORE` does first, before it imports the app (safetyapp.launch).
    from safetyapp.launch import read_ahead

    read_ahead(["--db", store])
    from pathlib import Path

    from safetyapp.domain.state import State
    from safetyapp.tui.app import SafetyApp
    from safetyapp.tui.screens import board as board_mod

    result: dict[str, object] = {}
    original = board_mod.BoardScreen.on_mount

    def on_mount(self: board_mod.BoardScreen) -> None:
        original(self)
        self.call_after_refresh(drawn, self)

    def drawn(screen: board_mod.BoardScreen) -> None:
        from textual.widgets import DataTable

        if "frame" in result:
            return
        result["frame"] = time.time()
        app = screen.app
        repo = app.repo  # type: ignore[attr-defined]
        result["checkpoint"] = bool(repo.stubs) or repo.loading
        state = repo.state  # what a sign-off is decided on
        ready(state)
        result["last_seq"] = state.last_seq
        result["runs_rows"] = screen.query_one("#runs", DataTable).row_count
        result["firearm_rows"] = screen.query_one("#firearms", DataTable).row_count
        if wait:
            app.run_worker(after_frame(app), exit_on_error=True)  # its own task
        else:
            app.exit()  # ready to sign: the background check is not waited for

    def ready(state: State) -> None:
        """Ready to sign: a sign-off decided on the app's state now (refused: a wrong PIN;
        pure, nothing recorded)."""
        from datetime import UTC, datetime

        from safetyapp.domain import engine
        from safetyapp.domain.engine import Credential

        open_runs = state.open_runs()
        run = open_runs[-1].id if open_runs else "R0001"
        step = open_runs[-1].next_step() if open_runs else None
        decision = engine.sign(state, run, step.id if step else "x", Credential("nobody", "0"),
                               now=datetime.now(UTC))  # fmt: skip
        assert not decision.ok
        result["ready"] = time.time()

    async def after_frame(app: SafetyApp) -> None:
        import asyncio

        # The checkpoint is checked in a child process after the first frame: note when.
        t0 = time.perf_counter()
        while app.repo is not None and app.repo.loading:
            if app.store_failure:  # never wait out a failure: say it and stop
                raise SystemExit(f"the record could not be loaded: {app.store_failure}")
            if time.perf_counter() - t0 > 300:
                raise SystemExit("the record was not loaded after 300 s")
            await asyncio.sleep(0.005)
        result["loaded"] = time.time()
        if audit:
            assert app.repo is not None
            app.repo.journal.records()  # the whole record read before the audit is timed
            await open_audit(app)
        app.exit()

    async def open_audit(app: SafetyApp) -> None:
        from safetyapp.tui.screens.audit import AuditScreen
        from safetyapp.tui.widgets.event_log import EventLog

        t0 = time.perf_counter()
        screen = AuditScreen()
        await app.push_screen(screen)
        await _frame(app)
        result["audit_first_frame_ms"] = (time.perf_counter() - t0) * 1000
        log = screen.query_one(EventLog)
        result["audit_rows"] = len(log.rows)
        from textual.widgets import Select

        t0 = time.perf_counter()
        screen.query_one("#kind", Select).value = "refused"
        await _settle(app)
        result["audit_filter_ms"] = (time.perf_counter() - t0) * 1000
        result["audit_filtered_rows"] = len(log.rows)
        t0 = time.perf_counter()
        screen.query_one("#kind", Select).value = Select.NULL
        await _settle(app)
        result["audit_unfilter_ms"] = (time.perf_counter() - t0) * 1000
        log.focus()
        log.action_jump(-1)
        await _settle(app)
        t0 = time.perf_counter()
        for _ in range(5):
            log.action_page(-1)
            await _settle(app)
        result["audit_scroll_ms"] = (time.perf_counter() - t0) * 1000 / 5

    async def _settle(app: SafetyApp) -> None:
        await app.animator.wait_until_complete()
        await _frame(app)

    async def _frame(app: SafetyApp) -> None:
        import asyncio

        done = asyncio.Event()
        app.screen.refresh()
        app.call_after_refresh(done.set)
        await asyncio.wait_for(done.wait(), 60)
        app.screen._compositor.render_update(full=True)  # the frame itself, drawn once more

    board_mod.BoardScreen.on_mount = on_mount  # type: ignore[method-assign]
    app = SafetyApp(Path(store), poll_seconds=3600)
    app.run(headless=True, size=(160, 48))
    result["stored_warning"] = app.store_warning
    result["peak_kb"] = peak_rss_kb()
    result["child_peak_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    _emit(result)


def main() -> None:
    mode = sys.argv[1]
    if mode == "bare":
        bare()
    elif mode in ("board", "audit"):
        board(sys.argv[2], audit=mode == "audit")
    elif mode == "board-ready":  # the board and ready to sign only, then exit
        board(sys.argv[2], audit=False, wait=False)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
