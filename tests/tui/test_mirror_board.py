"""The board's mirror status line, via Pilot, on a real store and mirror folder in tmp_path: up
to date, behind, and unreachable (the medium removed), which never blocks a sign-off."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static
from tuikit import T0, Clock, make_store, new_app, walk_step

from safetyapp.checklists import load_bundled
from safetyapp.domain import engine
from safetyapp.store.credentials import read_credentials
from safetyapp.store.mirror import mirror_path, mirror_to
from safetyapp.store.repository import Repository
from safetyapp.tui.screens.board import BoardScreen
from safetyapp.tui.screens.walk import WalkScreen

A, AD = "Alex Reyes", "Jordan Lee"


def mirror_line(app: Any) -> str:
    line = app.screen.query_one("#mirror-status", Static)
    return str(line.render()) if line.display else ""


async def wait_for(pilot: Pilot[Any], text: str, seconds: float = 5.0) -> str:
    """The status line once it shows ``text`` (the sync runs in a thread; the line is
    refreshed every second)."""
    shown = ""
    for _ in range(int(seconds * 10)):
        shown = mirror_line(pilot.app)
        if text in shown:
            return shown
        await pilot.pause(0.1)
    raise AssertionError(f"mirror status {shown!r}, expected {text!r}")


def append_elsewhere(store: Path, lots: int, prefix: str) -> None:
    """Another process's appends, straight to the journal (not mirrored by it)."""
    repo = Repository.open(store, load_bundled())
    repo.state.credentials = read_credentials(store)  # as Repository.execute does
    armorer = engine.Credential("Alex Reyes", "1111")
    for i in range(lots):
        decision = engine.add_ammo(
            repo.state, armorer, f"{prefix}-{i}", "dummy", 5, "Prop house",
            now=T0 + timedelta(hours=1, seconds=i),
        )  # fmt: skip
        assert decision.ok, decision.refused
        repo.journal.append(decision.events)
        repo.refresh()


async def test_no_mirror_configured_shows_no_line(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        assert isinstance(app.screen, BoardScreen)
        assert mirror_line(app) == ""


async def test_board_mirror_status_up_to_date_behind_unreachable(tmp_path: Path) -> None:
    clock = Clock()
    store = make_store(tmp_path / "record.jsonl", clock)
    usb = tmp_path / "usb"
    usb.mkdir()
    mirror_to(store, usb)
    append_elsewhere(store, 1, "X")  # one event the mirror lacks: the app's first sync takes it
    app = new_app(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, BoardScreen)
        assert await wait_for(pilot, "mirror up to date") == "mirror up to date"
        assert mirror_path(store, usb).read_bytes() == store.read_bytes()

        append_elsewhere(store, 2, "Y")  # written by another process, not mirrored yet
        app.poll_store()
        assert await wait_for(pilot, "behind") == "mirror 2 events behind"

        shutil.rmtree(usb)  # the USB stick is pulled out
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen)
        await walk_step(pilot, "p", [AD, A], {"attendees": "24", "concerns-read": "yes"})
        assert app.repo is not None
        assert app.repo.state.runs["R0001"].step_status("meeting-held") == "passed"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        assert await wait_for(pilot, "unreachable") == f"mirror unreachable: {usb}"
        assert not usb.exists()  # never re-created on the laptop's disk
