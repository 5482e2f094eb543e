"""Driving the real TUI with keys, on a real store in tmp_path, with a frozen clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from support import gate, qualify
from textual.pilot import Pilot
from textual.widgets import Input, Select

from safetyapp.checklists import load_bundled
from safetyapp.domain import engine
from safetyapp.domain.auth import hash_pin
from safetyapp.domain.engine import Credential
from safetyapp.store.repository import Repository
from safetyapp.tui.app import SafetyApp
from safetyapp.tui.widgets.entry import PickList, YesNo
from safetyapp.tui.widgets.person import PersonChoice
from safetyapp.tui.widgets.signer import SignerField

T0 = datetime.fromisoformat("2026-03-02T07:00:00+00:00")
CREW = [
    ("Alex Reyes", ["armorer"], "1111"),
    ("Jordan Lee", ["ad"], "2222"),
    ("Casey Morgan", ["actor"], "3333"),
    ("Riley Chen", ["actor"], "4444"),
    ("Pat Okafor", ["supervisor"], "5555"),
]
PINS = {name: pin for name, _, pin in CREW}


class Clock:
    """A clock tests move by hand: every event time is reproducible."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=7)
        return self.now


def make_store(
    path: Path,
    clock: Clock,
    crew: list[tuple[str, list[str], str]] | None = None,
    *,
    walk_gate: bool = True,
) -> Path:
    """A production with crew (fixed salts, cheap scrypt, qualifications on file), two firearms
    and two lots, and its pre-production gate complete (unless `walk_gate` is False)."""
    people = crew or CREW
    founder = next((p for p in people if "supervisor" in p[1]), None)
    if founder is None:  # every production has its safety supervisor from the start
        founder = ("Pat Okafor", ["supervisor"], "5555")
        people = [*people, founder]
    for name, _, pin in people:
        PINS.setdefault(name, pin)

    def cheap(person: tuple[str, list[str], str]) -> dict[str, Any]:
        salt = f"salt-{people.index(person):011d}".encode()
        return hash_pin(person[2], salt, n=16)

    repo = Repository.create(path, "Dusk Rider", founder[0], cheap(founder), load_bundled(), clock)
    boss = Credential(founder[0], founder[2])
    for person in people:
        if person is not founder:
            assert repo.do(engine.add_crew, boss, person[0], person[1], cheap(person)).ok
    qualify(repo.do, boss, people)
    armorer = next(p for p in people if "armorer" in p[1])
    arm = Credential(armorer[0], armorer[2])
    assert repo.do(
        engine.add_firearm, arm, "COLT-SAA-0142", "Single-action revolver", "blank-firing", 6
    ).ok
    assert repo.do(engine.add_firearm, arm, "RUB-G17-007", "Rubber pistol", "rubber", None).ok
    assert repo.do(engine.add_ammo, arm, "D-2211", "dummy", 36, "Prop house A").ok
    assert repo.do(engine.add_ammo, arm, "B-45LC-08", "blank", 24, "Blank supplier B").ok
    if walk_gate:
        gate(repo.do, repo.state, PINS)
    return path


def new_app(path: Path, clock: Clock) -> SafetyApp:
    return SafetyApp(path, clock=clock, poll_seconds=3600)


async def choose(pilot: Pilot[Any], select: Select[Any] | PersonChoice, index: int) -> None:
    """Open a Select (or a person chooser: the same keys) with Enter, move down to option
    `index` (1 = first real option), Enter."""
    select.focus()
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press(*(["down"] * index), "enter")
    await pilot.pause()


async def fill_evidence(pilot: Pilot[Any], values: dict[str, str]) -> None:
    screen = pilot.app.screen
    for key, value in values.items():
        widget = screen.evidence_widgets[key]  # type: ignore[attr-defined]
        widget.focus()
        if isinstance(widget, YesNo):
            await pilot.press(value[0])  # one key: y or n
        elif isinstance(widget, PickList):  # by number in its list; "none" is 0
            picks = [i.strip() for i in value.split(",") if i.strip() not in ("", "none")]
            numbers = [str(widget.items.index(i) + 1) for i in picks] or ["0"]
            await pilot.press(*numbers, *([] if widget.one else ["enter"]))
        else:
            assert isinstance(widget, Input)
            await pilot.press(*value)
    await pilot.pause()


async def sign_in_modal(
    pilot: Pilot[Any], people: list[str], note: str = "", pins: dict[str, str] | None = None
) -> None:
    """In the sign-off (or hold) modal: choose each person, type their PIN, the note, submit."""
    pins = pins or PINS
    screen = pilot.app.screen
    shown = [f for f in screen.query(SignerField) if f.display]  # (a third only when needed)
    for field, name in zip(shown, people, strict=True):
        if field.person != name:  # pre-selected when expected: choose only another person
            field.chooser.value = None  # the list then opens at its top
            await choose(pilot, field.chooser, [p.name for p in field.people].index(name) + 1)
        field.query_one(".pin", Input).focus()
        await pilot.press(*pins[name])
    for wid in ("#note", "#reason", "#action"):
        found = screen.query(wid)
        if found:
            found.first().focus()
            await pilot.press(*note) if note else None
            await pilot.press("enter")
            break
    await settle(pilot)


async def settle(pilot: Pilot[Any]) -> None:
    """Let background jobs (sign-offs, PIN checks, reports, exports) finish, then redraw."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def walk_step(
    pilot: Pilot[Any], key: str, people: list[str], evidence: dict[str, str], note: str = ""
) -> None:
    """Fill the open step's evidence, press the result key, sign in the modal."""
    await fill_evidence(pilot, evidence)
    pilot.app.screen.query_one("#stepper-pane").focus()
    await pilot.press(key)
    await pilot.pause()
    await sign_in_modal(pilot, people, note)
