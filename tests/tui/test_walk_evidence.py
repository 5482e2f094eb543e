"""The walk screen asks for each evidence item the way its type says, and never rewrites what
was typed: a number field keeps the letters so the type can refuse them."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static
from tuikit import Clock, fill_evidence, make_store, new_app, sign_in_modal

from safetyapp.tui.screens.walk import WalkScreen
from safetyapp.tui.widgets.entry import CountInput, YesNo

A, AD = "Alex Reyes", "Jordan Lee"


async def test_letters_in_a_count_are_refused_visibly_and_never_reach_the_record(
    tmp_path: Path,
) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WalkScreen)
        widgets = screen.evidence_widgets
        assert isinstance(widgets["concerns-read"], YesNo)  # bool: a one-key yes/no
        attendees = widgets["attendees"]
        assert isinstance(attendees, CountInput)
        typed = "about 20, plus 4 stunt"
        await fill_evidence(pilot, {"attendees": typed, "concerns-read": "yes"})
        assert attendees.value == ""  # never "204": a refused key empties the field
        said = str(screen.query_one("#walk-error", Static).render())
        assert "People at the meeting takes digits only" in said and "refused" in said
        screen.query_one("#stepper-pane").focus()
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen)  # nothing to sign: the count is missing
        assert "Fill in before passing" in str(screen.query_one("#walk-error", Static).render())
        attendees.focus()
        await pilot.press("2", "4", "enter")
        assert attendees.value == "24"
        assert app.focused is widgets["concerns-read"]  # Enter moves on
        await pilot.press("p")
        await pilot.pause()
        await sign_in_modal(pilot, [AD, A])
        assert app.repo is not None
        assert app.repo.state.runs["R0001"].signoffs["meeting-held"].evidence["attendees"] == 24
