"""The person chooser of every signing dialog (safetyapp.tui.widgets.person): a Select's keys
(Enter opens, up/down and Enter pick, Esc closes only the list, a letter jumps), a click opens
it, names shown literally, and nobody outside those offered."""

from __future__ import annotations

from pathlib import Path

import pytest
from tuikit import Clock, make_store, new_app

from safetyapp.tui.dialogs.holds import RaiseHoldModal
from safetyapp.tui.widgets.person import PersonChoice, _Current, _People
from safetyapp.tui.widgets.signer import SignerField

CREW = [
    ("Alex Reyes", ["armorer"], "1111"),
    ("Jordan Lee", ["ad"], "2222"),
    ("[red]x[/red]", ["actor"], "3333"),
    ("Riley Chen", ["actor"], "4444"),
]


async def _hold_dialog(tmp_path: Path, pilot: object) -> PersonChoice:
    await pilot.press("h")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    app = pilot.app  # type: ignore[attr-defined]
    assert isinstance(app.screen, RaiseHoldModal)
    return app.screen.query_one("#raiser", SignerField).chooser


async def test_the_keys_are_a_selects(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock, crew=CREW), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        chooser = await _hold_dialog(tmp_path, pilot)
        assert app.focused is chooser and chooser.value is None and not chooser.expanded
        await pilot.press("enter")
        await pilot.pause()
        people = chooser.query_one(_People)
        assert app.focused is people and people.highlighted == 0  # the prompt: nobody yet
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        second = chooser.names[1]
        assert chooser.value == second and not chooser.expanded and app.focused is chooser
        await pilot.press("enter")
        await pilot.pause()
        assert chooser.query_one(_People).highlighted == 2  # opens at who is chosen
        await pilot.press("escape")  # closes the list, not the dialog
        await pilot.pause()
        assert isinstance(app.screen, RaiseHoldModal) and not chooser.expanded
        assert chooser.value == second and app.focused is chooser
        await pilot.press("space", "up", "up", "enter")  # back to the prompt: nobody
        await pilot.pause()
        assert chooser.value is None
        await pilot.press("escape")  # with the list closed, Esc cancels the dialog
        await pilot.pause()
        assert not isinstance(app.screen, RaiseHoldModal)


async def test_a_letter_jumps_to_the_next_name_with_it(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock, crew=CREW), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        chooser = await _hold_dialog(tmp_path, pilot)
        await pilot.press("enter", "r")
        await pilot.pause()
        people = chooser.query_one(_People)
        assert people.highlighted is not None
        assert chooser.names[people.highlighted - 1] == "Riley Chen"
        await pilot.press("j", "enter")
        await pilot.pause()
        assert chooser.value == "Jordan Lee"


async def test_a_click_opens_it_and_a_name_is_shown_literally(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock, crew=CREW), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        chooser = await _hold_dialog(tmp_path, pilot)
        await pilot.click(_Current)
        await pilot.pause()
        assert chooser.expanded
        await pilot.click(_Current)  # a second click closes it, as a Select's does
        await pilot.pause()
        assert not chooser.expanded and app.focused is chooser
        await pilot.click(_Current)
        await pilot.pause()
        assert chooser.expanded
        people = chooser.query_one(_People)
        index = chooser.names.index("[red]x[/red]") + 1
        assert str(people.get_option_at_index(index).prompt) == "[red]x[/red]"
        await pilot.click(_People, offset=(3, 1 + index))  # (its top border is one row)
        await pilot.pause()
        assert chooser.value == "[red]x[/red]"
        assert not chooser.expanded and app.focused is chooser
        shown = chooser.query_one(_Current).render()
        assert "[red]x[/red]" in str(shown) and "▼" in str(shown)


async def test_nobody_outside_those_offered_can_be_chosen(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock, crew=CREW), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        chooser = await _hold_dialog(tmp_path, pilot)
        with pytest.raises(ValueError, match="not among those offered"):
            chooser.value = "Somebody Else"
        assert chooser.value is None
