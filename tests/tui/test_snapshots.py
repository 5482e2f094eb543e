"""Snapshots of every screen at 80x24 and 120x40: fixed clock, fixed salts, store in tmp_path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from tuikit import Clock, make_store, new_app

from safetyapp.domain import engine
from safetyapp.domain.engine import Credential
from safetyapp.tui.app import SafetyApp

SIZES = [(80, 24), (120, 40)]
Setup = Callable[[Pilot[Any]], Awaitable[None]]


def app_on_store(tmp_path: Path, *, seeded: bool = True) -> SafetyApp:
    clock = Clock()
    path = tmp_path / "record.jsonl"
    if seeded:
        make_store(path, clock)
    return new_app(path, clock)


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def keys(*pressed: str) -> Setup:
    async def run(pilot: Pilot[Any]) -> None:
        await pilot.press(*pressed)
        await settle(pilot)

    return run


async def held(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, SafetyApp)
    app.act(engine.raise_hold, Credential("Riley Chen", "4444"), "Camera crew walked off: unsafe")
    await settle(pilot)


async def signoff(pilot: Pilot[Any]) -> None:
    """The sign-off modal for the first opening step, evidence typed in."""
    from tuikit import fill_evidence

    await pilot.press("o")
    await settle(pilot)
    await fill_evidence(pilot, {"attendees": "24", "concerns-read": "yes"})
    pilot.app.screen.query_one("#stepper-pane").focus()
    await pilot.press("p")
    await settle(pilot)


SCREENS: dict[str, Setup] = {
    "board": settle,
    "walk": keys("o"),
    "signoff": signoff,
    "raise_hold": keys("h"),
    "board_on_hold": held,
    "crew": keys("c"),
    "inventory": keys("i"),
    "audit": keys("a"),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare: Any, tmp_path: Path, screen: str, size: tuple[int, int]) -> None:
    assert snap_compare(app_on_store(tmp_path), terminal_size=size, run_before=SCREENS[screen])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_resolve_hold_modal(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await held(pilot)
        await pilot.press("r")
        await settle(pilot)

    assert snap_compare(app_on_store(tmp_path), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_welcome(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(app_on_store(tmp_path, seeded=False), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_corrupt_store(
    snap_compare: Any, tmp_path: Path, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the message names the file: keep the name the same every run
    path = Path("record.jsonl")
    path.write_bytes(b'{"not": "a safetyapp record"}\n')
    app = SafetyApp(path, clock=Clock(), poll_seconds=3600)
    assert snap_compare(app, terminal_size=size)
    assert path.read_bytes() == b'{"not": "a safetyapp record"}\n'


@pytest.mark.parametrize("theme", ["textual-light", "ansi-light"])
def test_hold_banner_in_light_and_ansi_themes(
    snap_compare: Any, tmp_path: Path, theme: str
) -> None:
    app = app_on_store(tmp_path)
    app.theme = theme
    assert snap_compare(app, terminal_size=(80, 24), run_before=held)
