"""One complete bundled handoff walked in the real TUI by keys alone, every key counted.

The one script behind the bench rows "handoff in the TUI: keystrokes" and "... keyboard
passes" and the test that holds the goal (tests/tui/test_handoff_keys.py). The demo production
(its practice PINs), today's opening signed through the engine (not counted), then from the
board: `n`, the firearm and performer by number, the scene, and the seven steps of the bundled
handoff, each evidence item entered as seen, each signature by its owner's PIN.

Run alone: ``python -m bench.handoff_keys STORE`` prints the tally as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from textual.screen import ModalScreen

from safetyapp.checklists import load_bundled
from safetyapp.demo import DEMO_CREW, seed_demo
from safetyapp.domain import engine
from safetyapp.domain.engine import Credential
from safetyapp.store.repository import Repository
from safetyapp.tui.app import SafetyApp

GOAL = 100
PINS = {name: pin for name, _, pin in DEMO_CREW}
BY_ROLE = {roles[0]: name for name, roles, _ in reversed(DEMO_CREW)}  # the first actor wins
ARMORER, AD, ACTOR = BY_ROLE["armorer"], BY_ROLE["ad"], BY_ROLE["actor"]
OPENING = {
    "attendees": "24", "concerns-read": "yes", "other-duties": "no",
    "lots": "D-2211=36,B-45LC-08=24", "unlabelled": "0", "live-rounds": "0",
    "unidentified-rounds": "0", "dummies-checked": "36", "failed-inert-check": "0",
    "firearms-out": "COLT-SAA-0142,RUB-G17-007",
}  # fmt: skip

# (who is at the keyboard, the keys) in order. "pin:" entries are a PIN then its Enter.
PIN = "pin"
SCRIPT: list[tuple[str, list[str]]] = [
    # The board: start a handoff; firearm 1 (COLT), performer 1, the scene, Enter.
    (ARMORER, ["n", "1", "1", "1", "2", "a", "enter"]),
    # Rounds for this setup: dummies 6 (of 6 chambers: moves on), blanks 0, live 0; pass.
    (ARMORER, ["6", "0", "0", "p"]),
    (ARMORER, [PIN]), (AD, [PIN]),
    # Inspection: serial 1 in the list, bore clear, 6 chambers seen, loads as listed; pass.
    (ARMORER, ["1", "y", "6", "y", "p"]),
    (ARMORER, [PIN]), (AD, [PIN]), (ACTOR, [PIN]),
    # The AD: 6 chambers seen, the armorer's call "d6" (fills every chamber: moves on); pass.
    (AD, ["6", "d", "6", "p"]),
    (AD, [PIN]), (ARMORER, [PIN]),
    # Announced: line of fire clear, no "hot" (no blanks), distance 0 (none), shields; pass.
    (AD, ["y", "n", "0", "y", "p"]),
    (AD, [PIN]),
    # Hand-over: nothing to enter; pass.
    (ARMORER, ["p"]),
    (ARMORER, [PIN]), (ACTOR, [PIN]),
    # The performer: witnessed the show-clear; pass.
    (ACTOR, ["y", "p"]),
    (ACTOR, [PIN]),
    # Return: rounds expended 0 (none fired), re-inspected clear; pass.
    (ARMORER, ["0", "y", "p"]),
    (ARMORER, [PIN]), (ACTOR, [PIN]),
]  # fmt: skip


@dataclass
class Tally:
    keystrokes: int = 0
    pin_entries: int = 0
    enters: int = 0
    dialogs: int = 0
    keyboard_passes: int = 0
    seconds: float = 0.0
    signed: dict[str, str] = field(default_factory=dict)  # step id: result
    people_signed: int = 0  # signers and witnesses recorded, over every step

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def prepare(store: Path) -> None:
    """The demo production with today opened (its opening checklist signed, not counted)."""
    if not seed_demo(store):
        raise RuntimeError(f"{store} already exists: give a new path")
    repo = Repository.open(store, load_bundled())
    opening = repo.checklist("opening")
    assert opening is not None
    run = repo.do(engine.start_run, opening)
    assert run.ok, run.refused
    while (step := repo.state.runs[str(run.run_id)].next_step()) is not None:
        signer = Credential(BY_ROLE[step.role], PINS[BY_ROLE[step.role]])
        witnesses = [Credential(BY_ROLE[r], PINS[BY_ROLE[r]]) for r in step.witnesses]
        evidence = {e.key: OPENING[e.key] for e in step.evidence}
        done = repo.do(engine.sign, run.run_id, step.id, signer, witnesses=witnesses,
                       evidence=evidence)  # fmt: skip
        assert done.ok and done.events[0]["result"] == "pass", done.refused or done.events[0]


async def walk(store: Path) -> Tally:
    """Press the script's keys in the real app; count keys, PIN entries, Enters, dialogs and
    keyboard passes; read back what the record holds."""
    tally = Tally()
    app = SafetyApp(store, poll_seconds=3600)
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        last_modal: object = None
        at_keyboard: str | None = None
        for who, keys in SCRIPT:
            if at_keyboard is not None and who != at_keyboard:
                tally.keyboard_passes += 1
            at_keyboard = who
            for key in keys:
                pressed = [*PINS[who], "enter"] if key == PIN else [key]
                tally.pin_entries += key == PIN
                for k in pressed:
                    await pilot.press(k)
                    tally.keystrokes += 1
                    tally.enters += k == "enter"
                    await _settle(pilot)
                    if isinstance(app.screen, ModalScreen) and app.screen is not last_modal:
                        tally.dialogs += 1
                        last_modal = app.screen
        tally.seconds = time.perf_counter() - started
        assert app.repo is not None
        state = app.repo.state
        handoff = [r for r in state.runs.values() if r.checklist.id == "handoff"]
        if len(handoff) != 1 or handoff[0].completed_at is None:
            where = handoff[0].next_step() if handoff else None
            raise RuntimeError(f"the scripted handoff did not complete (stopped at {where})")
        for step_id, signoff in handoff[0].signoffs.items():
            tally.signed[step_id] = signoff.result
            tally.people_signed += 1 + len(signoff.witnesses)
    return tally


async def _settle(pilot: object) -> None:
    await pilot.pause()  # type: ignore[attr-defined]
    await pilot.app.workers.wait_for_complete()  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


def walk_store(store: Path) -> Tally:
    """Prepare the store at `store` (a new path) and walk the handoff in the TUI."""
    prepare(store)
    return asyncio.run(walk(store))


if __name__ == "__main__":
    print(json.dumps(walk_store(Path(sys.argv[1])).as_dict()))
