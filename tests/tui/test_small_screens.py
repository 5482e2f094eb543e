"""Small screens and plain terminals (issue 14 item 4): at 80x24 and 120x40 the Footer shows
HOLD, Incident and Quit first and on screen, every dialog's buttons are on screen, forms do not
overlap; checkboxes read without colour; no "(None)" in audit rows."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input, Select, SelectionList, Static
from textual.widgets._footer import FooterKey
from tuikit import Clock, make_store, new_app, settle

from safetyapp.checklists import load_bundled
from safetyapp.domain import engine
from safetyapp.domain.engine import Credential
from safetyapp.tui.dialogs.base import Dialog
from safetyapp.tui.dialogs.custody import CustodyModal, TakeBackModal
from safetyapp.tui.dialogs.handoff import StartHandoffModal
from safetyapp.tui.dialogs.holds import RaiseHoldModal, ResolveHoldModal
from safetyapp.tui.dialogs.incidents import ReportIncidentModal
from safetyapp.tui.dialogs.runs import VoidRunModal
from safetyapp.tui.dialogs.signoff import SignOffModal
from safetyapp.tui.widgets.event_log import format_row
from safetyapp.tui.widgets.footer import SteadyFooter
from safetyapp.tui.widgets.person import PersonChoice
from safetyapp.tui.widgets.signer import SignerField
from safetyapp.tui.widgets.toggles import TickBox

SIZES = [(80, 24), (120, 40)]
SIZE_IDS = ["80x24", "120x40"]
SAFETY_KEYS = ["raise_hold", "report_incident", "quit"]
SERIAL = "COLT-SAA-0142"


def _bare(action: str) -> str:
    return action.removeprefix("app.")


def footer_actions(screen: Screen[Any]) -> list[str]:
    return [_bare(key.action) for key in screen.query(FooterKey)]


def on_screen(widget: Widget, screen: Screen[Any]) -> bool:
    """Wholly inside the terminal and not clipped away by a scrolling parent."""
    region = widget.region
    whole = Region(0, 0, screen.size.width, screen.size.height)
    return bool(region) and whole.contains_region(region) and region.size == widget.outer_size


def assert_safety_keys_first(screen: Screen[Any], keys: list[str] = SAFETY_KEYS) -> None:
    actions = footer_actions(screen)
    assert actions[: len(keys)] == keys, f"{type(screen).__name__} footer: {actions}"
    for key in screen.query(FooterKey):
        if _bare(key.action) in keys:
            assert on_screen(key, screen), f"{key.action} off screen at {key.region}"


def overlaps(screen: Screen[Any]) -> list[tuple[str, str]]:
    """Pairs of visible form parts (labels, fields, buttons) drawn over one another."""
    parts = [
        w
        for w in screen.query("*").results(Widget)
        if isinstance(w, Input | Select | Button | Static | TickBox)
        and not isinstance(w, FooterKey)
        and w.display
        and w.region
        and not any(isinstance(a, Select | PersonChoice | Button | Input) for a in w.ancestors)
    ]

    def in_foot(w: Widget) -> bool:
        return any(a.has_class("dialog-foot") for a in w.ancestors)

    found = []
    for i, a in enumerate(parts):
        for b in parts[i + 1 :]:
            # A dialog's foot is docked over its scrolling body by design.
            if in_foot(a) == in_foot(b) and a.region.overlaps(b.region):
                found.append((repr(a), repr(b)))
    return found


def app_for(tmp_path: Path) -> Any:
    clock = Clock()
    path = tmp_path / "record.jsonl"
    make_store(path, clock)
    return new_app(path, clock)


async def held(pilot: Pilot[Any]) -> None:
    assert pilot.app.act(  # type: ignore[attr-defined]
        engine.raise_hold, Credential("Riley Chen", "4444"), "Camera crew walked off: unsafe"
    ).ok
    await settle(pilot)


SCREEN_KEYS: dict[str, list[str]] = {
    "board": [],
    "walk": ["o"],
    "audit": ["a"],
    "crew": ["c"],
    "inventory": ["i"],
}


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("name", list(SCREEN_KEYS))
async def test_every_screen_shows_hold_incident_quit_first(
    tmp_path: Path, name: str, size: tuple[int, int]
) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press(*SCREEN_KEYS[name])
        await settle(pilot)
        assert_safety_keys_first(app.screen)
        assert overlaps(app.screen) == []


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
async def test_board_on_hold_keeps_quit_on_screen(tmp_path: Path, size: tuple[int, int]) -> None:
    """On main, at 120x40 the board's Footer dropped Quit to make room for Take back."""
    app = app_for(tmp_path)
    async with app.run_test(size=size) as pilot:
        await held(pilot)
        assert_safety_keys_first(app.screen)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
async def test_welcome_shows_quit_first_and_its_form_does_not_overlap(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = new_app(tmp_path / "record.jsonl", Clock())
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        # No production yet: nothing to hold, so only Quit of the three is shown.
        assert_safety_keys_first(app.screen, ["quit"])
        assert overlaps(app.screen) == []


DIALOGS: dict[str, Callable[[Any], Dialog[Any]]] = {
    "raise-hold": lambda app: RaiseHoldModal(),
    "incident": lambda app: ReportIncidentModal(),
    "resolve-hold": lambda app: ResolveHoldModal(),
    "custody": lambda app: CustodyModal(default="locked"),
    "take-back": lambda app: TakeBackModal(SERIAL),
    "handoff": lambda app: StartHandoffModal(),
}


async def _open(pilot: Pilot[Any], name: str) -> Dialog[Any]:
    app = pilot.app
    if name in DIALOGS:
        await held(pilot)  # the resolve dialog needs a hold to resolve
        app.push_screen(DIALOGS[name](app))
    else:  # from the walk of the day's opening checklist
        await pilot.press("o")
        await settle(pilot)
        walk = app.screen
        if name == "void":
            app.push_screen(VoidRunModal(walk.run_id))  # type: ignore[attr-defined]
        else:
            step = load_bundled()["opening"].layers[0].steps[0]  # type: ignore[index]
            result = {"signoff-pass": "pass", "signoff-fail": "fail"}[name]
            evidence = {"attendees": "24", "concerns-read": "yes"}
            app.push_screen(SignOffModal(walk.run_id, step, result, evidence))  # type: ignore[attr-defined]
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, Dialog)
    return dialog


ALL_DIALOGS = [*DIALOGS, "void", "signoff-pass", "signoff-fail"]


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("name", ALL_DIALOGS)
async def test_every_dialog_keeps_footer_and_buttons_on_screen(
    tmp_path: Path, name: str, size: tuple[int, int]
) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=size) as pilot:
        dialog = await _open(pilot, name)
        assert_safety_keys_first(dialog)
        buttons = list(dialog.query(Button))
        assert len(buttons) >= 2
        for button in buttons:
            assert on_screen(button, dialog), f"{button.id} at {button.region} in {size}"
        assert overlaps(dialog) == []


async def test_sign_dialog_buttons_stay_on_screen_with_many_witnesses(tmp_path: Path) -> None:
    """The longest sign dialog the bundled checklists have, at 80x24: its body scrolls, its
    buttons stay put and work from the keyboard."""
    checklists = load_bundled()
    step = max(
        (s for c in checklists.values() for layer in c.layers for s in layer.steps),
        key=lambda s: len(s.witnesses),
    )
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await settle(pilot)
        evidence = {f"item-{i}": "yes" for i in range(12)}  # a long evidence line
        app.push_screen(SignOffModal(app.screen.run_id, step, "fail", evidence))  # type: ignore[attr-defined]
        await settle(pilot)
        dialog = app.screen
        for button in dialog.query(Button):
            assert on_screen(button, dialog), f"{button.id} at {button.region}"
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, Dialog)


async def test_checkbox_reads_checked_or_not_under_no_color(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        box = app.screen.query_one("#only-flagged", TickBox)
        assert box.render().plain.startswith("[ ]")
        await pilot.press("f")
        await settle(pilot)
        assert box.value
        assert box.render().plain.startswith("[x]")


async def test_crew_roles_read_checked_or_not_under_no_color(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        roles = app.screen.query_one("#roles", SelectionList)
        roles.select(roles.get_option_at_index(1).value)
        await pilot.pause()
        lines = ["".join(s.text for s in roles.render_line(y)) for y in range(2)]
        assert lines[0].startswith("[ ] "), lines
        assert lines[1].startswith("[x] "), lines


def _unverified_hold_store(tmp_path: Path) -> Path:
    clock = Clock()
    path = tmp_path / "record.jsonl"
    make_store(path, clock)
    from safetyapp.store.repository import Repository

    repo = Repository.open(path, load_bundled(), clock)
    # Not on the crew list, no PIN: raised unverified under the name given (no role).
    decision = repo.do(engine.raise_hold, "Sam Visitor", "cable across the path")
    assert decision.ok, decision.refused
    return path


async def test_audit_rows_never_say_none(tmp_path: Path) -> None:
    path = _unverified_hold_store(tmp_path)
    app = new_app(path, Clock())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        rows = [format_row(r) for r in app.screen.query_one("#log").rows]  # type: ignore[attr-defined]
        held_rows = [r for r in rows if "Sam Visitor" in r]
        assert held_rows, rows
        assert not any("(None)" in r for r in rows), held_rows


def test_cli_audit_rows_never_say_none(tmp_path: Path) -> None:
    path = _unverified_hold_store(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "safetyapp", "--db", str(path), "audit"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "Sam Visitor" in out
    assert "(None)" not in out


@pytest.mark.parametrize("name", ALL_DIALOGS)
async def test_every_dialog_has_one_footer_and_a_first_field_focused(
    tmp_path: Path, name: str
) -> None:
    """Textual calls each class's own on_mount; a subclass that also called super().on_mount()
    mounted the dialog's Footer twice (the hold-resolve and take-back dialogs: two key rows,
    one over the other) and focused twice."""
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await _open(pilot, name)
        assert len(dialog.query(SteadyFooter)) == 1
        focused = dialog.focused
        assert focused is not None  # its first field (each dialog's focus_first)
        if isinstance(dialog, TakeBackModal):  # the firearm is given: the armorer is asked first
            assert focused is dialog.query_one("#who", SignerField).chooser
