"""The walk screen asks for each evidence item the way its type says, and never rewrites what
was typed: a number field keeps the letters so the type can refuse them."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Select, Static
from tuikit import Clock, fill_evidence, make_store, new_app, sign_in_modal

from safetyapp.tui.dialogs.signoff import SignOffModal
from safetyapp.tui.screens.walk import WalkScreen

A, AD = "Alex Reyes", "Jordan Lee"


async def test_letters_in_a_count_reach_the_record_check_and_are_refused(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WalkScreen)
        widgets = screen.evidence_widgets
        assert isinstance(widgets["concerns-read"], Select)  # bool: a yes/no choice
        attendees = widgets["attendees"]
        assert isinstance(attendees, Input)
        typed = "about 20, plus 4 stunt"
        await fill_evidence(pilot, {"attendees": typed, "concerns-read": "yes"})
        assert attendees.value == typed  # not "204"
        screen.query_one("#stepper-pane").focus()
        await pilot.press("p")
        await pilot.pause()
        await sign_in_modal(pilot, [AD, A])
        assert isinstance(app.screen, SignOffModal)  # stays open, says why
        refusal = str(app.screen.query_one("#refusal", Static).render())
        assert "evidence 'attendees' must be a whole number" in refusal
        assert "People at the meeting" in refusal and typed in refusal
        assert app.repo is not None
        assert "meeting-held" not in app.repo.state.runs["R0001"].signoffs
