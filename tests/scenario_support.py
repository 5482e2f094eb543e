"""Scenario helpers: the crew's day on the pure World, or on a real store in tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from support import (
    ACTOR,
    AD,
    ARMORER,
    CHECKLISTS,
    CREW,
    OPENING,
    SUPERVISOR,
    World,
    cheap_pin,
    gate,
    handoff_steps,
    seed,
    sign,
    start,
    walk,
)

from safetyapp.audit.query import AuditFilter, select
from safetyapp.domain import engine
from safetyapp.domain.engine import Decision
from safetyapp.store.repository import Repository

Person = tuple[str, list[str], str]


class StoreWorld(World):
    """The same walk as World, but every action goes through the real Repository and journal."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        founder = SUPERVISOR
        self.repo = Repository.create(
            path, "Test Production", founder[0], cheap_pin(founder[2]), CHECKLISTS,
            clock=lambda: self.now,
        )  # fmt: skip
        self.state = self.repo.state
        self.created = True

    def do(self, action: Callable[..., Decision], *args: Any, **kwargs: Any) -> Decision:
        decision = self.repo.do(action, *args, **kwargs)
        self.log = self.repo.journal.records()
        self.tick(0.5)
        return decision

    def audit(self, **flt: Any) -> list[dict[str, Any]]:
        return select(self.repo, AuditFilter(**flt))


def populate(
    world: World, crew: list[Person] | None = None, licence_expires: str | None = None
) -> World:
    """Crew, two firearms, a dummy lot and a blank lot (the production already exists)."""
    created = getattr(world, "created", False)
    _, arm = seed(world.do, crew or CREW, created=created, licence_expires=licence_expires)
    assert world.do(engine.add_firearm, arm, "COLT-1", "Revolver", "blank-firing", 6).ok
    assert world.do(engine.add_firearm, arm, "GLOCK-2", "Pistol", "blank-firing", 15).ok
    assert world.do(engine.add_ammo, arm, "D-1", "dummy", 36, "Prop house").ok
    assert world.do(engine.add_ammo, arm, "B-1", "blank", 24, "Blank supplier").ok
    gate(world.do, world.state)
    return world


def new_world(crew: list[Person] | None = None, licence_expires: str | None = None) -> World:
    return populate(World(), crew, licence_expires)


def store_world(tmp_path: Path, crew: list[Person] | None = None) -> StoreWorld:
    world = StoreWorld(tmp_path / "record.jsonl")
    populate(world, crew)
    return world


OPENING_2 = [
    *OPENING[:2],
    ("lots-listed", ARMORER, (AD,), {"lots": "D-1=36, B-1=24", "unlabelled": "0"}),
    *OPENING[3:],
]


def open_day(world: World, steps: list[Any] | None = None) -> str:
    run = start(world, "opening")
    walk(world, run, steps or OPENING_2)
    return run


def refused_code(world: World) -> str:
    return str(world.last("refused")["data"]["code"])


def handoff(world: World, serial: str = "COLT-1", actor: Person = ACTOR, scene: str = "12A") -> str:
    return start(world, "handoff", firearm=serial, performer=actor[0], scene=scene)


def verify(
    world: World, run: str, actor: Person = ACTOR, chambers: int = 6, blanks: int = 0
) -> None:
    """The three verification layers and the announcement, up to (not including) the hand-over."""
    walk(world, run, handoff_steps(actor, chambers, blanks=blanks)[:4])


def step_args(
    actor: Person, step: str, chambers: int = 6
) -> tuple[Any, tuple[Any, ...], dict[str, str]]:
    for sid, by, witnesses, evidence in handoff_steps(actor, chambers):
        if sid == step:
            return by, witnesses, evidence
    raise KeyError(step)


def sign_step(world: World, run: str, step: str, actor: Person = ACTOR, **kw: Any) -> Decision:
    by, witnesses, evidence = step_args(actor, step)
    evidence = {**evidence, **kw.pop("evidence", {})}
    return sign(world, run, step, by, *witnesses, evidence=evidence, **kw)
