"""Each dialog behaviour behind the <=100-keystroke handoff, pressed as a user would."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static
from tuikit import CREW, PINS, Clock, make_store, new_app, settle

from safetyapp.checklists import load_bundled
from safetyapp.domain import engine
from safetyapp.domain.engine import Credential
from safetyapp.store.repository import Repository
from safetyapp.tui.dialogs.signoff import SignOffModal
from safetyapp.tui.screens.walk import WalkScreen
from safetyapp.tui.widgets.entry import CountInput, PickList, YesNo
from safetyapp.tui.widgets.signer import SignerField

A, AD, C = "Alex Reyes", "Jordan Lee", "Casey Morgan"
BY_ROLE = {"armorer": A, "ad": AD, "actor": C, "supervisor": "Pat Okafor"}
EVIDENCE = {
    "attendees": "24", "concerns-read": "yes", "other-duties": "no",
    "lots": "D-2211=36,B-45LC-08=24", "unlabelled": "0", "live-rounds": "0",
    "unidentified-rounds": "0", "dummies-checked": "36", "failed-inert-check": "0",
    "firearms-out": "COLT-SAA-0142,RUB-G17-007", "dummies": "6", "blanks": "0",
    "serial-in-hand": "COLT-SAA-0142", "bore-clear": "yes", "chambers-seen": "6",
    "loads-as-listed": "yes", "state-called": "dummies x6", "line-of-fire-clear": "yes",
    "hot-announced": "no", "safe-distance": "none", "shields": "yes",
    "witnessed-show-clear": "yes", "rounds-expended": "0", "reinspected-clear": "yes",
}  # fmt: skip


def _sign_through(repo: Repository, run_id: str, until: str | None) -> None:
    """Sign the run's steps through the engine (each by its role's person), up to `until`."""
    while (step := repo.state.runs[run_id].next_step()) is not None and step.id != until:
        who = [Credential(BY_ROLE[r], PINS[BY_ROLE[r]]) for r in (step.role, *step.witnesses)]
        done = repo.do(engine.sign, run_id, step.id, who[0], witnesses=who[1:],
                       evidence={e.key: EVIDENCE[e.key] for e in step.evidence})  # fmt: skip
        assert done.ok and done.events[0]["result"] == "pass", done


def _store(tmp_path: Path, clock: Clock, until: str | None) -> Path:
    """Today opened; a handoff of the Colt to Casey for 12A signed up to step `until`."""
    path = make_store(tmp_path / "record.jsonl", clock)
    repo = Repository.open(path, load_bundled(), clock)
    opening = repo.do(engine.start_run, repo.checklist("opening"))
    _sign_through(repo, str(opening.run_id), None)
    handoff = repo.do(engine.start_run, repo.checklist("handoff"), firearm="COLT-SAA-0142",
                      performer=C, scene="12A")  # fmt: skip
    assert handoff.ok, handoff.refused
    _sign_through(repo, str(handoff.run_id), until)
    return path


async def _walk(pilot: object, app: object) -> WalkScreen:
    app.screen.open_run("R0002")  # type: ignore[attr-defined]  # the board's Enter on its row
    await settle(pilot)  # type: ignore[arg-type]
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, WalkScreen) and screen.run_id == "R0002"
    return screen


async def test_signers_come_preselected_and_enter_moves_pin_to_pin(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(_store(tmp_path, clock, "rounds-loaded"), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await _walk(pilot, app)
        await pilot.press("6", "0", "0", "p")  # each count moves on: 6 chambers bound it
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, SignOffModal)
        fields = list(dialog.query(SignerField))
        assert [f.person for f in fields] == [A, AD]  # the day's armorer and AD, in role order
        assert app.focused is fields[0].pin_input  # opens on the first PIN
        await pilot.press(*PINS[A], "enter")
        assert app.focused is fields[1].pin_input  # Enter: the next PIN, nothing signed yet
        assert "rounds-loaded" not in walk.run.signoffs
        await pilot.press(*PINS[AD], "enter")  # Enter on the last PIN signs
        await settle(pilot)
        assert app.screen is walk and walk.run.signoffs["rounds-loaded"].result == "pass"
        assert walk.run.signoffs["rounds-loaded"].evidence == {
            "dummies": 6, "blanks": 0, "live-rounds": 0
        }  # fmt: skip


async def test_h_in_a_count_field_raises_a_hold_not_a_refusal(tmp_path: Path) -> None:
    from safetyapp.tui.dialogs.holds import RaiseHoldModal

    clock = Clock()
    app = new_app(_store(tmp_path, clock, "rounds-loaded"), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await _walk(pilot, app)
        count = app.focused
        assert isinstance(count, CountInput)
        await pilot.press("6", "h")  # 6 of 6 chambers moved on; the next count takes the h
        await settle(pilot)
        assert isinstance(app.screen, RaiseHoldModal)  # stop-work is never refused
        await pilot.press("escape")
        await settle(pilot)
        assert walk.evidence_widgets["dummies"].value == "6"  # nothing lost meanwhile


async def test_a_wrong_pin_clears_only_that_pin(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(_store(tmp_path, clock, "rounds-loaded"), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _walk(pilot, app)
        await pilot.press("6", "0", "0", "p")
        await settle(pilot)
        dialog = app.screen
        fields = list(dialog.query(SignerField))
        await pilot.press(*PINS[A], "enter", "9", "9", "9", "9", "enter")
        await settle(pilot)
        assert app.screen is dialog  # refused: the dialog stays, says why
        refusal = str(dialog.query_one("#refusal", Static).render())
        assert "wrong PIN for Jordan Lee" in refusal
        assert fields[0].pin_input.value == PINS[A]  # the armorer's PIN stands
        assert fields[1].pin_input.value == "" and app.focused is fields[1].pin_input
        await pilot.press(*PINS[AD], "enter")
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen)
        assert app.screen.run.signoffs["rounds-loaded"].result == "pass"


async def test_yes_no_and_serial_take_one_key_each(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(_store(tmp_path, clock, "inspect"), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await _walk(pilot, app)
        w = walk.evidence_widgets
        serial, bore, chambers = w["serial-in-hand"], w["bore-clear"], w["chambers-seen"]
        assert isinstance(serial, PickList) and isinstance(bore, YesNo)
        assert serial.value == "" and bore.value is None  # nothing entered for anyone
        assert app.focused is serial
        await pilot.press("7")  # not in the list: refused, said
        assert serial.value == "" and "press a number from 1 to 2" in str(
            walk.query_one("#walk-error", Static).render()
        )
        await pilot.press("1")  # the first serial in the list, and on
        assert serial.value == "COLT-SAA-0142" and app.focused is bore
        await pilot.press("q")  # a yes/no takes y or n only
        assert bore.value is None and "press y or n" in str(
            walk.query_one("#walk-error", Static).render()
        )
        await pilot.press("n")
        assert bore.value == "no" and app.focused is chambers  # one key, and on
        assert isinstance(chambers, CountInput)
        await pilot.press("6", "y", "p")
        await settle(pilot)
        fields = list(app.screen.query(SignerField))
        # Of two performers, the run's own is the one pre-selected; the others stay offered.
        assert [f.person for f in fields] == [A, AD, C]
        assert len(fields[2].chooser.names) >= 2  # Casey, Riley


async def test_the_called_state_short_form_and_a_full_call_moves_on(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(_store(tmp_path, clock, "ad-confirms"), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await _walk(pilot, app)
        await pilot.press("6", "d", "6")  # d6 fills all 6 chambers: nothing more to call
        assert walk.evidence_widgets["state-called"].value == "d6"
        assert app.focused is walk.query_one("#btn-pass")
        await pilot.press("p")
        await settle(pilot)
        await pilot.press(*PINS[AD], "enter", *PINS[A], "enter")
        await settle(pilot)
        signed = walk.run.signoffs["ad-confirms"]
        assert signed.result == "pass" and signed.evidence["state-called"] == {"dummy": 6}


async def test_next_take_starts_the_same_handoff_with_nothing_carried_over(
    tmp_path: Path,
) -> None:
    clock = Clock()
    app = new_app(_store(tmp_path, clock, None), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        walk = await _walk(pilot, app)
        assert walk.run.completed_at is not None
        assert "g starts the next take" in str(walk.query_one("#step-detail", Static).render())
        await pilot.press("g")
        await settle(pilot)
        again = app.screen
        assert isinstance(again, WalkScreen) and again.run_id == "R0003"
        run = again.run
        assert (run.firearm, run.performer, run.scene) == ("COLT-SAA-0142", C, "12A")
        assert not run.signoffs
        values = [w.value for w in again.evidence_widgets.values()]
        assert values == ["", "", ""]  # every item entered again, as seen
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.query_one("#runs").row_count >= 3  # back on the board


def test_crew_has_one_armorer_and_one_ad() -> None:
    """The pre-selection above rests on the day's people: one armorer and one AD here."""
    assert [n for n, roles, _ in CREW if "armorer" in roles] == [A]
    assert [n for n, roles, _ in CREW if "ad" in roles] == [AD]


async def test_a_list_of_more_than_nine_takes_the_number_then_enter() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Input

    items = [f"GUN-{n}" for n in range(1, 13)]

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield PickList("Firearm", items, one=True, id="pick")
            yield Input(id="after")

    app = Host()
    async with app.run_test() as pilot:
        pick = app.query_one("#pick", PickList)
        pick.focus()
        await pilot.press("1")
        assert pick.value == "" and app.focused is pick  # 1 may be the start of 10, 11, 12
        await pilot.press("2", "enter")
        assert pick.value == "GUN-12" and app.focused is app.query_one("#after")
        pick.focus()
        await pilot.press("1", "3", "enter")  # no 13th: refused, nothing picked anew
        assert pick.value == "GUN-12" and app.focused is pick
