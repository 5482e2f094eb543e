"""Issue 14 in the real TUI: the four cases where strictness blocked the safe action, and what
the walk shows before anyone signs (STALE, hold and incident keys over a text field, lock-up).

The day up to the case is recorded through the engine on the real store (it is not what is
tested); the case itself is driven with keys."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.widgets import Input, Select, Static
from tuikit import PINS, Clock, choose, make_store, new_app, settle, sign_in_modal, walk_step

from safetyapp.checklists import load_bundled
from safetyapp.domain import engine
from safetyapp.domain.engine import Credential
from safetyapp.domain.incidents import INCIDENT_KINDS
from safetyapp.store.repository import Repository
from safetyapp.tui.dialogs.custody import CustodyModal, TakeBackModal
from safetyapp.tui.dialogs.holds import RaiseHoldModal
from safetyapp.tui.dialogs.incidents import ReportIncidentModal
from safetyapp.tui.dialogs.runs import VoidRunModal
from safetyapp.tui.screens.board import BoardScreen
from safetyapp.tui.screens.walk import WalkScreen
from safetyapp.tui.widgets.entry import CountInput

A, AD, C, P = "Alex Reyes", "Jordan Lee", "Casey Morgan", "Pat Okafor"
COLT = "COLT-SAA-0142"

OPENING = [
    ("meeting-held", [AD, A], {"attendees": "24", "concerns-read": "yes"}),
    ("no-other-duties", [A], {"other-duties": "no"}),
    ("lots-listed", [A, AD], {"lots": "D-2211=36, B-45LC-08=24", "unlabelled": "0"}),
    ("live-rounds-zero", [A, AD], {"live-rounds": "0", "unidentified-rounds": "0"}),
    ("dummies-inert", [A, AD], {"dummies-checked": "36", "failed-inert-check": "0"}),
    ("checkout", [A], {"firearms-out": f"{COLT}, RUB-G17-007"}),
]
HANDOFF = [
    ("rounds-loaded", [A, AD], {"dummies": "6", "blanks": "0", "live-rounds": "0"}),
    ("inspect", [A, AD, C], {"serial-in-hand": COLT, "bore-clear": "yes", "chambers-seen": "6", "loads-as-listed": "yes"}),
    ("ad-confirms", [AD, A], {"chambers-seen": "6", "state-called": "dummies x6"}),
    ("announced", [AD], {"line-of-fire-clear": "yes", "hot-announced": "no", "safe-distance": "none", "shields": "yes"}),
    ("hand-over", [A, C], {}),
    ("performer-check", [C], {"witnessed-show-clear": "yes"}),
]  # fmt: skip


def _cred(name: str) -> Credential:
    return Credential(name, PINS[name])


def _day(tmp_path: Path, clock: Clock, handoff_steps: int) -> Path:
    """A real store with the day open and a handoff of the revolver to Casey (R0002), signed
    up to `handoff_steps` steps."""
    path = make_store(tmp_path / "record.jsonl", clock)
    repo = Repository.open(path, load_bundled(), clock)
    opening = repo.do(engine.start_run, repo.checklists["opening"])
    for step, people, evidence in OPENING:
        signers = [_cred(p) for p in people]
        decision = repo.do(engine.sign, opening.run_id, step, signers[0], witnesses=signers[1:],
                           evidence=evidence)  # fmt: skip
        assert decision.ok, decision.refused
    handoff = repo.do(engine.start_run, repo.checklists["handoff"], firearm=COLT, performer=C)
    assert handoff.run_id == "R0002"
    for step, people, evidence in HANDOFF[:handoff_steps]:
        signers = [_cred(p) for p in people]
        decision = repo.do(engine.sign, "R0002", step, signers[0], witnesses=signers[1:],
                           evidence=evidence)  # fmt: skip
        assert decision.ok, decision.refused
    return path


async def _walk_r0002(pilot: Any) -> None:
    await pilot.press("enter")  # the board opens on the runs table, the open run first
    await pilot.pause()
    assert isinstance(pilot.app.screen, WalkScreen) and pilot.app.screen.run_id == "R0002"


async def _take_back(pilot: Any, reason: str) -> None:
    pilot.app.screen.query_one("#stepper-pane").focus()  # letter keys: out of any field
    await pilot.press("t")
    await pilot.pause()
    assert isinstance(pilot.app.screen, TakeBackModal), pilot.app.screen
    await sign_in_modal(pilot, [A], note=reason)


def _custody_cell(app: Any) -> str:
    from textual.widgets import DataTable

    table = app.screen.query_one("#firearms", DataTable)
    return str(table.get_row_at(0)[2])


async def test_misfire_mid_take_then_the_firearm_is_taken_back_at_once(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(_day(tmp_path, clock, 6), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _walk_r0002(pilot)
        # The return step is open, its first field has the focus: F3 still reports.
        assert isinstance(app.focused, Input)
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, ReportIncidentModal)
        await choose(
            pilot, app.screen.query_one("#kind", Select), INCIDENT_KINDS.index("misfire") + 1
        )
        await sign_in_modal(pilot, [C], note="click, no bang")
        assert isinstance(app.screen, WalkScreen)
        assert app.repo is not None and app.repo.state.open_holds()
        assert "press t" in str(app.screen.query_one("#step-detail", Static).render())
        await _take_back(pilot, "misfire: cleared and secured")
        assert isinstance(app.screen, WalkScreen), app.screen
        custody = app.repo.state.custody(COLT)
        assert custody.holder == "armorer" and custody.name == A
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        assert _custody_cell(app) == f"with the armorer {A}"  # no longer "with performer"


async def test_performer_did_not_witness_then_the_firearm_is_taken_back(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(_day(tmp_path, clock, 5), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _walk_r0002(pilot)
        await walk_step(pilot, "p", [C], {"witnessed-show-clear": "no"})
        assert app.repo is not None
        run = app.repo.state.runs["R0002"]
        assert run.step_status("performer-check") == "failed"
        assert app.repo.state.custody(COLT).holder == "performer"
        await _take_back(pilot, "did not witness the show-clear")
        assert app.repo.state.custody(COLT).holder == "armorer"


async def test_a_started_run_is_voided_then_the_day_wraps(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(_day(tmp_path, clock, 2), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _walk_r0002(pilot)
        app.screen.query_one("#stepper-pane").focus()  # letter keys: out of the evidence field
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, VoidRunModal)
        await sign_in_modal(pilot, [A, P], note="scene cut")
        assert isinstance(app.screen, WalkScreen)
        assert app.repo is not None
        assert app.repo.state.run_status(app.repo.state.runs["R0002"]) == "void"
        assert "VOID" in str(app.screen.query_one("#run-title", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen), "wrap was refused"
        assert app.repo.state.runs[app.screen.run_id].checklist.id == "wrap"


async def test_a_locked_out_performer_raises_a_stop_work_hold(tmp_path: Path) -> None:
    clock = Clock()
    path = _day(tmp_path, clock, 0)
    repo = Repository.open(path, load_bundled(), clock)
    for _ in range(5):  # Casey gets the PIN wrong five times: locked out
        assert not repo.do(engine.record_custody_break, Credential(C, "0000"), "probe").ok
    app = new_app(path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, RaiseHoldModal)
        await sign_in_modal(pilot, [C], note="the rig is loose")
        assert isinstance(app.screen, BoardScreen), app.screen
        assert app.repo is not None
        (hold,) = app.repo.state.open_holds()
        assert hold.raised_by == C and not hold.verified and "locked out" in (hold.unverified or "")
        # Someone not on the crew list, no PIN: raised too.
        await pilot.press("h")
        await pilot.pause()
        app.screen.query_one("#name-given", Input).focus()
        await pilot.press(*"Dana Grip")
        app.screen.query_one("#reason", Input).focus()
        await pilot.press(*"ladder", "enter")
        await settle(pilot)  # the hold is recorded in a worker
        grip = [h for h in app.repo.state.open_holds() if h.raised_by == "Dana Grip"]
        assert grip and grip[0].unverified == "not on the crew list"


async def test_stale_shows_before_anyone_signs_and_f2_holds_over_a_field(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(_day(tmp_path, clock, 2), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        clock.now += timedelta(hours=3)  # past the inspection's time limit
        app.changed()
        await pilot.pause()
        assert "STALE" in str(app.screen.query_one("#runs").get_row_at(0)[2])  # type: ignore[attr-defined]
        await _walk_r0002(pilot)
        title = str(app.screen.query_one("#run-title", Static).render())
        assert "STALE" in title
        assert "STALE" in str(app.screen.query_one("#step-detail", Static).render())
        assert isinstance(app.focused, CountInput)  # a count: digits only
        await pilot.press("h")  # a key the count does not take: the hold, at once
        await pilot.pause()
        assert isinstance(app.screen, RaiseHoldModal)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WalkScreen)
        await pilot.press("f2")  # F2 too, as from a text field that takes h
        await pilot.pause()
        assert isinstance(app.screen, RaiseHoldModal) and app.screen.run_id == "R0002"
        await pilot.press("escape")
        await pilot.pause()
        footer = " ".join(str(k.render()) for k in app.screen.query("FooterKey"))
        assert "h/F2" in footer and "!/F3" in footer


async def test_the_lock_up_key_locks_up_every_firearm_with_the_armorer(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(_day(tmp_path, clock, 0), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.repo is not None
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, CustodyModal)
        assert app.screen.query_one("#action-kind", Select).value == "locked"
        await sign_in_modal(pilot, [A], note="lunch")
        assert isinstance(app.screen, BoardScreen), app.screen
        state = app.repo.state
        assert {state.custody(s).holder for s in state.firearms} == {"locked"}


async def test_audit_filters_match_by_prefix_and_say_when_nothing_matches(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(_day(tmp_path, clock, 0), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a")
        await settle(pilot)  # the audit screen verifies the chain in a worker
        app.screen.query_one("#who", Input).focus()
        await pilot.press(*"jOr")
        await pilot.pause()
        rows = app.screen._rows  # type: ignore[attr-defined]
        assert rows and all(
            r["by"] == AD or AD in [w["name"] for w in r["data"].get("witnesses", [])] for r in rows
        )
        await pilot.press(*"zz")
        await pilot.pause()
        assert not app.screen._rows  # type: ignore[attr-defined]
        header = str(app.screen.query_one("#log-header", Static).render())
        assert "no person matches 'jOrzz'" in header
