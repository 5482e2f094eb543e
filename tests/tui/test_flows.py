"""Pilot flows: the real app, real store, keys a user would press."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static
from tuikit import Clock, make_store, new_app, settle, sign_in_modal, walk_step

from safetyapp.tui.dialogs.signoff import SignOffModal
from safetyapp.tui.screens.board import BoardScreen
from safetyapp.tui.screens.walk import WalkScreen
from safetyapp.tui.widgets.banner import StatusBanner

A, AD, C, P = "Alex Reyes", "Jordan Lee", "Casey Morgan", "Pat Okafor"

OPENING = [
    ("p", [AD, A], {"attendees": "24", "concerns-read": "yes"}),
    ("p", [A], {"other-duties": "no"}),
    ("p", [A, AD], {"lots": "D-2211=36, B-45LC-08=24", "unlabelled": "0"}),
    ("p", [A, AD], {"live-rounds": "0", "unidentified-rounds": "0"}),
    ("p", [A, AD], {"dummies-checked": "36", "failed-inert-check": "0"}),
    ("p", [A], {"firearms-out": "COLT-SAA-0142, RUB-G17-007"}),
]
HANDOFF = [
    ("p", [A, AD], {"dummies": "6", "blanks": "0", "live-rounds": "0"}),
    (
        "p",
        [A, AD, C],
        {
            "serial-in-hand": "COLT-SAA-0142",
            "bore-clear": "yes",
            "chambers-seen": "6",
            "loads-as-listed": "yes",
        },
    ),
    ("p", [AD, A], {"chambers-seen": "6", "state-called": "dummies x6"}),
    (
        "p",
        [AD],
        {
            "line-of-fire-clear": "yes",
            "hot-announced": "no",
            "safe-distance": "none",
            "shields": "yes",
        },
    ),
    ("p", [A, C], {}),
    ("p", [C], {"witnessed-show-clear": "yes"}),
    ("p", [A, C], {"rounds-expended": "D-2211=6", "reinspected-clear": "yes"}),
]


def banner_text(app: object) -> str:
    return str(app.screen.query_one(StatusBanner).render())  # type: ignore[attr-defined]


async def test_open_day_handoff_fail_resolve_complete(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, BoardScreen)
        assert "day NOT OPENED" in banner_text(app)
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen)
        for key, people, evidence in OPENING:
            await walk_step(pilot, key, people, evidence)
            assert isinstance(app.screen, WalkScreen), app.screen
        assert app.repo is not None
        opening = app.repo.state.runs["R0001"]
        assert opening.completed_at is not None
        await pilot.press("escape")
        await pilot.pause()
        assert "DAY 1 OPEN" in banner_text(app)

        # Start a handoff from the board: firearm 1 to Casey.
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("1", "1")  # firearm 1, performer 1, each by its number in the list
        await pilot.press(*"12A", "enter")
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen) and app.screen.run_id == "R0002"

        await walk_step(pilot, *HANDOFF[0])
        await walk_step(pilot, *HANDOFF[1])
        # The AD saw four chambers of six: the app records a failure and holds, loudly.
        await walk_step(pilot, "p", [AD, A], {"chambers-seen": "4", "state-called": "dummies x6"})
        state = app.repo.state
        run = state.runs["R0002"]
        assert run.step_status("ad-confirms") == "failed"
        assert state.run_status(run) == "hold"
        assert "■ HOLD" in banner_text(app) and "Chambers the AD saw: 4, expected 6" in banner_text(
            app
        )
        assert "■ HOLD" in str(app.screen.query_one("#step-detail", Static).render())
        assert not app.screen.query_one("#step-buttons").display

        # Resolve: corrective action by the supervisor and the armorer.
        await pilot.press("r")
        await pilot.pause()
        await sign_in_modal(pilot, [P, A], "AD re-trained; re-inspected in front of AD")
        assert not state.open_holds()
        assert run.step_status("inspect") == "passed"  # earlier layers stand
        assert run.step_status("ad-confirms") == "open"  # the failed layer restarts
        for step in HANDOFF[2:]:
            await walk_step(pilot, *step)
        assert run.completed_at is not None
        assert "no holds" in banner_text(app)

        # Wrap: everything locked up by serial, counts reconciled (36 - 6 dummies expended).
        await pilot.press("escape", "w")
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen)
        await walk_step(pilot, "p", [A, AD], {"firearms-locked": "COLT-SAA-0142, RUB-G17-007",
                                              "missing": "0"})  # fmt: skip
        await walk_step(pilot, "p", [A, AD], {"counts": "D-2211=30, B-45LC-08=24"})
        await walk_step(pilot, "p", [P], {"open-concerns": "0"})
        assert state.day is None and state.days[-1].wrapped_at is not None
        assert "day 1 WRAPPED" in banner_text(app)
        # And all of it is in the audit screen.
        await pilot.press("escape", "a")
        await pilot.pause()
        from safetyapp.tui.widgets.event_log import EventLog

        kinds = [r["kind"] for r in app.screen.query_one(EventLog).rows]
        assert kinds[-1] == "day-wrapped" and "hold-resolved" in kinds and "day-opened" in kinds


async def test_refusal_is_shown_in_the_modal(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        wrong = {AD: "9999", A: "1111"}
        from tuikit import fill_evidence

        await fill_evidence(pilot, OPENING[0][2])
        app.screen.query_one("#stepper-pane").focus()
        await pilot.press("p")
        await pilot.pause()
        await sign_in_modal(pilot, [AD, A], pins=wrong)
        assert isinstance(app.screen, SignOffModal)  # stays open
        refusal = str(app.screen.query_one("#refusal", Static).render())
        assert refusal == "REFUSED: wrong PIN for Jordan Lee"
        assert app.repo is not None and app.repo.state.refusals == 1


async def test_anyone_raises_a_hold_with_one_key(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("h")
        await pilot.pause()
        await sign_in_modal(pilot, ["Riley Chen"], "Camera crew says the set is unsafe")
        assert isinstance(app.screen, BoardScreen)
        text = banner_text(app)
        assert "■ HOLD" in text and "WHOLE DAY" in text and "Camera crew" in text
        assert app.screen.query_one(StatusBanner).has_class("-hold")
        await pilot.press("o")  # the day cannot open while held
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)


async def test_markup_in_a_name_is_shown_literally(tmp_path: Path) -> None:
    clock = Clock()
    crew = [("[red]x[/red]", ["armorer"], "1111"), ("Jordan Lee", ["ad"], "2222")]
    path = make_store(tmp_path / "record.jsonl", clock, crew=crew)
    app = new_app(path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        from textual.widgets import DataTable

        table = app.screen.query_one("#crew", DataTable)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "[red]x[/red]" in names
        await pilot.press("escape", "h")
        await pilot.pause()
        await sign_in_modal(pilot, ["[red]x[/red]"], "[bold]loud[/bold]")
        assert "[bold]loud[/bold]" in banner_text(app)


async def test_control_characters_are_drawn_as_symbols_and_stored_exactly(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        from safetyapp.domain import engine
        from safetyapp.domain.engine import Credential

        reason = "esc \x1b[31m rtl \u202e [b]x[/b]"
        assert app.act(engine.raise_hold, Credential("Jordan Lee", "2222"), reason).ok
        await pilot.pause()
        assert app.repo is not None and app.repo.state.holds["H0001"].reason == reason
        assert "esc ␛[31m rtl <U+202E> [b]x[/b]" in banner_text(app)


async def test_audit_screen_lists_filters_and_verifies(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock, walk_gate=False), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("h")
        await pilot.pause()
        await sign_in_modal(pilot, ["Riley Chen"], "unsafe")
        await pilot.press("a")
        await settle(pilot)
        from safetyapp.tui.widgets.event_log import EventLog

        log = app.screen.query_one(EventLog)
        # 11 events, the 5 qualifications on file and the 5 checklist versions adopted at
        # creation (handoff, meeting, opening, prep, wrap)
        assert len(log.rows) == 21 and log.current() is not None
        assert "CHAIN OK · 21 events" in str(
            app.screen.query_one("#verify-status", Static).render()
        )
        await pilot.press("f")
        await settle(pilot)
        kinds = [r["kind"] for r in log.rows]  # crew and inventory changes are flagged too
        assert kinds[-1] == "hold-raised" and len(kinds) == 20
        assert set(kinds[:-1]) == {
            "crew-added", "checklist-adopted", "firearm-added", "ammo-added", "crew-trained",
            "crew-licensed",
        }  # fmt: skip
        await pilot.press("j")
        await settle(pilot)
        exported = list((tmp_path / "exports").glob("audit-*.json"))
        assert len(exported) == 1 and "hold-raised" in exported[0].read_text()
        assert "pin" not in exported[0].read_text().replace("PIN", "")


async def test_incident_holds_the_day_and_a_flag_blocks_handoffs(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        from textual.widgets import Select
        from tuikit import choose

        await pilot.press("exclamation_mark")
        await pilot.pause()
        await choose(pilot, app.screen.query_one("#kind", Select), 2)  # misfire
        await sign_in_modal(pilot, ["Casey Morgan"], "Misfire on take 3, cause unknown")
        assert app.repo is not None
        incident = app.repo.state.incidents["I0001"]
        assert incident.kind == "misfire" and incident.status == "on-hold"
        assert "■ HOLD" in banner_text(app) and "WHOLE DAY" in banner_text(app)
        await pilot.press("r")
        await pilot.pause()
        await sign_in_modal(pilot, [P, A, AD], "Armorer cleared it; cause: dud primer")
        assert app.repo.state.incidents["I0001"].status == "to-read-out"
        # The armorer honestly attests other duties: the opening goes on, a flag is raised.
        await pilot.press("o")
        await pilot.pause()
        await walk_step(pilot, *OPENING[0])
        await walk_step(pilot, "p", [A], {"other-duties": "yes"})
        assert "⚑ FLAG" in banner_text(app)
        for step in OPENING[2:]:
            await walk_step(pilot, *step)
        await pilot.press("escape", "k")
        await pilot.pause()
        await sign_in_modal(pilot, [P], "Props covered by the props assistant all day")
        assert not app.repo.state.open_flags()
        assert "DAY 1 OPEN" in banner_text(app)
        # Lunch: the armorer locks the revolver up; custody shows it on the board.
        assert app.repo.state.custody("COLT-SAA-0142").holder == "armorer"
        await pilot.press("l")
        await pilot.pause()
        # The lock key opens on lock-up (what its label says).
        assert app.screen.query_one("#action-kind", Select).value == "locked"
        app.screen.query_one("#serials").focus()
        await pilot.press("space")  # tick the first firearm
        await sign_in_modal(pilot, [A], "lunch")
        assert app.repo.state.custody("COLT-SAA-0142").holder == "locked"
        from textual.widgets import DataTable

        firearms = app.screen.query_one("#firearms", DataTable)
        assert str(firearms.get_row_at(0)[2]) == "locked in storage"


GATE_STEPS = [
    ("p", [P], {"reference": "RA-7 rev 1", "on-file": "yes"}),
    ("p", [P, A], {"armorer-only": "yes"}),
    ("p", [P], {"licences-in-date": "yes"}),
    ("p", [P], {"training-complete": "yes"}),
]


async def test_the_pre_production_gate_from_the_palette_then_the_day_opens(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock, walk_gate=False), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.repo is not None
        await pilot.press("o")  # no opening before the gate: refused, saying why
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("pre-production gate was never completed" in m for m in messages), messages
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Pre-production gate")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen), app.screen
        for key, people, evidence in GATE_STEPS:
            await walk_step(pilot, key, people, evidence)
        gate = app.repo.state.gate
        assert gate.complete and gate.last is not None and gate.last.run == "G0001"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen)
        assert "R0001" in app.repo.state.runs
