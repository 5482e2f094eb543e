"""Test support: a pure in-memory world (state + frozen clock) and walkers for whole checklists.

PINs here are hashed with a tiny scrypt cost so the suite stays fast; the production cost is
used everywhere else (CLI tests, demo).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from safetyapp.checklists import load_bundled
from safetyapp.domain import engine
from safetyapp.domain.auth import hash_pin
from safetyapp.domain.checklist import Checklist
from safetyapp.domain.engine import Credential, Decision
from safetyapp.domain.roles import FIREARMS_ROLES
from safetyapp.domain.state import State

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
CHECKLISTS = load_bundled()

ARMORER = ("Alex Reyes", ["armorer"], "1111")
AD = ("Jordan Lee", ["ad"], "2222")
ACTOR = ("Casey Morgan", ["actor"], "3333")
ACTOR2 = ("Riley Chen", ["actor"], "4444")
SUPERVISOR = ("Pat Okafor", ["supervisor"], "5555")
ACTOR3 = ("Sam Ortiz", ["actor"], "6666")
CREW = [ARMORER, AD, ACTOR, ACTOR2, SUPERVISOR, ACTOR3]
PINS = {name: pin for name, _, pin in CREW}


def cheap_pin(pin: str) -> dict[str, Any]:
    return hash_pin(pin, b"test-salt-16byte", n=16)


Person = tuple[str, list[str], str]


def seed(
    do: Callable[..., Decision],
    crew: list[Person],
    production: str = "Test Production",
    *,
    pin: Callable[[Person], dict[str, Any]] = lambda p: cheap_pin(p[2]),
    created: bool = False,
    licence_expires: str | None = None,
) -> tuple[Credential, Credential]:
    """Set up a production the way the product does: created with its first safety supervisor
    (the first of `crew` crewed as one, else SUPERVISOR), who adds the rest of the crew; the
    first armorer adds nothing here (see `stock`). Returns (supervisor, armorer) credentials."""
    founder = next((p for p in crew if "supervisor" in p[1]), SUPERVISOR)
    for name, _, p in [*crew, founder]:
        PINS.setdefault(name, p)
    if not created:
        created_ok = do(
            engine.create_production,
            production,
            founder[0],
            pin(founder),
            adopt=CHECKLISTS.values(),
        )
        assert created_ok.ok
    boss = Credential(founder[0], founder[2])
    for person in crew:
        name, roles, _ = person
        if name == founder[0]:
            assert roles == ["supervisor"], f"the founding supervisor {name} has one role"
            continue
        decision = do(engine.add_crew, boss, name, roles, pin(person))
        assert decision.ok, decision.refused
    qualify(do, boss, crew, licence_expires or LICENCE_EXPIRES)
    armorer = next((p for p in crew if "armorer" in p[1]), None)
    arm = Credential(armorer[0], armorer[2]) if armorer else boss
    return boss, arm


TRAINED_ON = "2026-01-15"
LICENCE_EXPIRES = "2030-12-31"


def qualify(
    do: Callable[..., Decision],
    boss: Credential,
    crew: list[Person],
    expires: str = LICENCE_EXPIRES,
) -> None:
    """The qualifications a walk needs, entered by the safety supervisor `boss`: an armorer
    licence in date for each armorer, firearms-safety training for everyone crewed in a
    firearms role (the one place tests set these up)."""
    for name, roles, _ in crew:
        if "armorer" in roles:
            lic = do(engine.record_licence, boss, name, f"AL-{len(name)}", "Test board", expires)
            assert lic.ok, lic.refused
        if any(r in FIREARMS_ROLES for r in roles):
            trained = do(engine.record_training, boss, name, TRAINED_ON, "Test safety course")
            assert trained.ok, trained.refused


def cred(person: tuple[str, list[str], str] | str) -> Credential:
    name = person if isinstance(person, str) else person[0]
    return Credential(name, PINS[name])


class World:
    """State folded from the engine's own events, with a clock the test moves."""

    def __init__(self) -> None:
        self.state = State()
        self.now = START
        self.log: list[dict[str, Any]] = []

    def tick(self, minutes: float = 1) -> None:
        self.now += timedelta(minutes=minutes)

    def do(self, action: Callable[..., Decision], *args: Any, **kwargs: Any) -> Decision:
        decision = action(self.state, *args, now=self.now, **kwargs)
        if decision.events:
            self.state.credentials.update(decision.credentials)  # the credentials file's part
        for event in decision.events:
            event = {**event, "seq": len(self.log) + 1}
            self.log.append(event)
            self.state.apply(event)
        self.tick(0.5)
        return decision

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.log]

    def last(self, kind: str) -> dict[str, Any]:
        return next(e for e in reversed(self.log) if e["kind"] == kind)


def setup_world(crew: list[tuple[str, list[str], str]] | None = None) -> World:
    world = World()
    _, arm = seed(world.do, crew or CREW)
    assert world.do(engine.add_firearm, arm, "COLT-1", "Revolver", "blank-firing", 6).ok
    assert world.do(engine.add_firearm, arm, "GLOCK-2", "Pistol", "blank-firing", 15).ok
    assert world.do(engine.add_ammo, arm, "D-1", "dummy", 36, "Prop house").ok
    gate(world.do, world.state)
    return world


def adopt(world: World, checklist: Checklist) -> Decision:
    """A checklist version of the test's own, adopted by a safety supervisor and an armorer."""
    supervisor = next(n for n, m in world.state.crew.items() if "supervisor" in m.roles)
    armorer = next(n for n, m in world.state.crew.items() if "armorer" in m.roles)
    decision = world.do(engine.adopt_checklist, cred(supervisor), cred(armorer), checklist)
    assert decision.ok, decision.refused
    return decision


def gate(do: Callable[..., Decision], state: State, pins: dict[str, str] | None = None) -> str:
    """Walk the pre-production gate (the one place tests do): the production's first safety
    supervisor signs, its first armorer witnesses; returns the gate run's id."""
    pins = pins if pins is not None else PINS
    active = [m for m in state.crew.values() if m.active]
    boss = next(m.name for m in active if "supervisor" in m.roles)
    armorer = next(m.name for m in active if "armorer" in m.roles)
    started = do(engine.start_run, CHECKLISTS["prep"])
    assert started.ok, started.refused
    run = str(started.run_id)
    steps = [
        ("risk-assessment", [], {"reference": "RA-2026-01 rev 2", "on-file": "yes"}),
        ("armorer-hired", [armorer], {"armorer-only": "yes"}),
        ("licences-in-date", [], {"licences-in-date": "yes"}),
        ("training-complete", [], {"training-complete": "yes"}),
    ]
    for step, witnesses, evidence in steps:
        signed = do(
            engine.sign, run, step, Credential(boss, pins[boss]),
            witnesses=[Credential(w, pins[w]) for w in witnesses], evidence=evidence,
        )  # fmt: skip
        assert signed.ok and signed.events[0]["result"] == "pass", signed
    return run


def start(world: World, checklist: str, **context: Any) -> str:
    if checklist == "opening" and not world.state.gate.complete:
        gate(world.do, world.state)  # an opening needs the gate: walked here, once
    decision = world.do(engine.start_run, CHECKLISTS[checklist], **context)
    assert decision.ok, decision.refused
    return str(decision.events[0]["run"])


def sign(
    world: World,
    run: str,
    step: str,
    by: Any,
    *witnesses: Any,
    evidence: dict[str, str] | None = None,
    **kwargs: Any,
) -> Decision:
    return world.do(
        engine.sign,
        run,
        step,
        cred(by),
        witnesses=[cred(w) for w in witnesses],
        evidence=evidence or {},
        **kwargs,
    )


OPENING = [
    ("meeting-held", AD, (ARMORER,), {"attendees": "24", "concerns-read": "yes"}),
    ("no-other-duties", ARMORER, (), {"other-duties": "no"}),
    ("lots-listed", ARMORER, (AD,), {"lots": "D-1=36", "unlabelled": "0"}),
    ("live-rounds-zero", ARMORER, (AD,), {"live-rounds": "0", "unidentified-rounds": "0"}),
    ("dummies-inert", ARMORER, (AD,), {"dummies-checked": "36", "failed-inert-check": "0"}),
    ("checkout", ARMORER, (), {"firearms-out": "COLT-1, GLOCK-2"}),
]


# The fixtures' firearms by their chambers: the serial read at the inspection.
_SERIAL_BY_CHAMBERS = {6: "COLT-1", 15: "GLOCK-2"}


def handoff_steps(
    actor: Any, chambers: int = 6, serial: str | None = None, blanks: int = 0
) -> list[tuple[str, Any, tuple[Any, ...], dict[str, str]]]:
    """A handoff that passes: six dummies (or `blanks` blank rounds, announced "hot" at 20 ft)."""
    serial = serial or _SERIAL_BY_CHAMBERS[chambers]
    loads = {"dummies": "0", "blanks": str(blanks)} if blanks else {"dummies": "6", "blanks": "0"}
    called = f"blanks x{blanks}" if blanks else "dummies x6"
    hot = (
        {"hot-announced": "yes", "safe-distance": "20"}
        if blanks
        else {"hot-announced": "no", "safe-distance": "none"}
    )
    return [
        ("rounds-loaded", ARMORER, (AD,), {**loads, "live-rounds": "0"}),
        ("inspect", ARMORER, (AD, actor), {"serial-in-hand": serial, "bore-clear": "yes", "chambers-seen": str(chambers), "loads-as-listed": "yes"}),
        ("ad-confirms", AD, (ARMORER,), {"chambers-seen": str(chambers), "state-called": called}),
        ("announced", AD, (), {"line-of-fire-clear": "yes", **hot, "shields": "yes"}),
        ("hand-over", ARMORER, (actor,), {}),
        ("performer-check", actor, (), {"witnessed-show-clear": "yes"}),
        ("returned", ARMORER, (actor,), {"rounds-expended": "0", "reinspected-clear": "yes"}),
    ]  # fmt: skip


WRAP = [
    ("locked-up", ARMORER, (AD,), {"firearms-locked": "COLT-1, GLOCK-2", "missing": "0"}),
    ("counts-reconciled", ARMORER, (AD,), {"counts": "D-1=36"}),
    ("incidents-reviewed", SUPERVISOR, (), {"open-concerns": "0"}),
]


def walk(
    world: World, run: str, steps: list[tuple[str, Any, tuple[Any, ...], dict[str, str]]]
) -> None:
    for step, by, witnesses, evidence in steps:
        decision = sign(world, run, step, by, *witnesses, evidence=evidence)
        assert decision.ok, f"{step}: {decision.refused}"
        assert decision.events[0]["result"] == "pass", decision.events[0]["note"]


def open_day(world: World) -> str:
    run = start(world, "opening")
    walk(world, run, OPENING)
    return run
