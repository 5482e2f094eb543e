"""On a change of the record only the screen on top redraws (issue 16: every screen in the stack
redrew on each sign-off, the board beneath the walk included, and stalled the interface); a
screen beneath redraws when it is shown again, with what changed meanwhile."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from test_flows import OPENING
from tuikit import Clock, make_store, new_app, settle, walk_step

from safetyapp.tui.screens.audit import AuditScreen
from safetyapp.tui.screens.base import SafetyScreen
from safetyapp.tui.screens.board import BoardScreen
from safetyapp.tui.screens.walk import WalkScreen


@asynccontextmanager
async def on_the_board(tmp_path: Path) -> AsyncIterator[tuple[Any, Any, BoardScreen, list[str]]]:
    """The app on its board: (app, pilot, board, each redraw of the board appended while the
    block runs)."""
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    drawn: list[str] = []
    real = BoardScreen.refresh_view

    def counted(self: BoardScreen) -> None:
        drawn.append("board")
        real(self)

    async with app.run_test(size=(120, 40)) as pilot:
        board = app.screen
        assert isinstance(board, BoardScreen)
        BoardScreen.refresh_view = counted  # type: ignore[method-assign]
        try:
            yield app, pilot, board, drawn
        finally:
            BoardScreen.refresh_view = real  # type: ignore[method-assign]


async def test_only_the_top_screen_redraws_and_the_board_catches_up_on_return(
    tmp_path: Path,
) -> None:
    async with on_the_board(tmp_path) as (app, pilot, board, drawn):
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen)
        drawn.clear()
        for key, people, evidence in OPENING:  # every step signed: a revision each
            await walk_step(pilot, key, people, evidence)
        await settle(pilot)
        assert drawn == []  # beneath the walk: not redrawn on any of them
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is board
        assert drawn  # shown again: redrawn once, with the day opened
        assert app.repo is not None
        opened = [r for r in app.repo.state.runs.values() if r.completed_at is not None]
        assert opened, "the opening checklist completed"


async def test_a_board_that_starts_a_run_does_not_redraw_beneath_its_walk(
    tmp_path: Path,
) -> None:
    """The redraw follows a decision as the screen's next message: by then the board that
    started a run is under the run's walk, so it does not rebuild its tables for nothing (they
    were rebuilt inside the start itself, ~10-20 ms at 100,000 events)."""
    async with on_the_board(tmp_path) as (app, pilot, board, drawn):
        await pilot.press("o")  # starts the day's opening and shows its walk
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen)
        assert drawn == []
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is board and drawn  # shown again: redrawn, the run listed


async def test_the_audit_screen_puts_the_record_it_read_out_of_the_collectors_sight(
    tmp_path: Path,
) -> None:
    """A full collection over every record read for the audit screen froze the interface for
    ~0.7 s at 100,000 events: they are frozen once read (gc.freeze), as at start."""
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        gc.unfreeze()
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        assert gc.get_freeze_count() > 0


async def test_full_collections_wait_for_a_quiet_moment_and_the_collector_is_restored(
    tmp_path: Path,
) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.collector.running
        assert gc.get_threshold()[2] > 10**6  # no full collection by itself while in use
        await pilot.press("o")  # a key: someone is here
        await pilot.pause()
        garbage = []
        for _ in range(50_000):
            cell: list[object] = []
            cell.append(cell)
            garbage.append(cell)
        del garbage
        assert gc.get_count()[2] > 0
        assert not app.collector.tick(time.monotonic())  # a key a moment ago: not now
        app.collector.quiet_seconds = 0.2
        for _ in range(40):  # the app's own once-a-second timer
            await pilot.pause(0.1)
            if app.collector.collections:
                break
        assert app.collector.collections == 1 and gc.get_count()[2] == 0
    assert not app.collector.running
    assert gc.get_threshold()[2] < 10**6  # automatic full collections again once it exits


def test_full_collections_are_held_from_the_interfaces_first_import() -> None:
    import subprocess
    import sys

    code = "import gc, safetyapp.tui; print(gc.get_threshold()[2])"
    held = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(held.stdout) > 10**6


async def test_the_board_is_out_of_the_collectors_sight_once_drawn(tmp_path: Path) -> None:
    """The first full collection (at the first quiet moment) rescanned the whole board: 120 ms
    at start-up at 100,000 events. Frozen once drawn, as the record is at open."""
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen)
        assert not any(o is board for o in gc.get_objects())  # frozen: not tracked any more


@pytest.mark.parametrize(
    "keys", [[], ["o"], ["a"], ["c"], ["i"]], ids=lambda k: k[0] if k else "board"
)
async def test_a_screen_is_drawn_once_when_it_is_first_shown(
    tmp_path: Path, keys: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual calls each class's own on_mount: a screen's on_mount that also called
    super().on_mount() drew it twice and watched the record twice, and its first resume drew
    it a third time (the board at start-up and the walk on every run shown: ~10-20 ms each of
    what the signing stall is made of at 100,000 events)."""
    drawn: list[str] = []
    real = SafetyScreen._redraw

    def counted(self: SafetyScreen) -> None:
        drawn.append(type(self).__name__)
        real(self)

    monkeypatch.setattr(SafetyScreen, "_redraw", counted)
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert drawn == ["BoardScreen"]
        drawn.clear()
        if keys:
            await pilot.press(*keys)
            await settle(pilot)
            assert drawn == [type(app.screen).__name__]
