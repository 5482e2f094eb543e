"""Walked days written into real store files, for the report and export tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support import (
    ACTOR,
    ACTOR2,
    AD,
    ARMORER,
    CHECKLISTS,
    OPENING,
    SUPERVISOR,
    WRAP,
    World,
    cred,
    handoff_steps,
    open_day,
    setup_world,
    sign,
    start,
    walk,
)

from safetyapp.domain import engine
from safetyapp.store.credentials import write_credentials
from safetyapp.store.journal import Journal

HOLD_ACTION = "Unlabelled box removed from set and quarantined; lots recounted"


def walked_day(world: World | None = None) -> World:
    """Opening with a failed and resolved layer, a refusal, two handoffs, and wrap."""
    world = world or setup_world()
    run = start(world, "opening")
    walk(world, run, OPENING[:2])
    failed = sign(
        world, run, "lots-listed", ARMORER, AD, evidence={"lots": "D-1=36", "unlabelled": "1"}
    )
    assert failed.ok and failed.events[0]["result"] == "fail"
    hold = next(e for e in failed.events if e["kind"] == "hold-raised")["data"]["hold"]
    assert world.do(engine.resolve_hold, hold, [cred(SUPERVISOR), cred(ARMORER)], HOLD_ACTION).ok
    walk(world, run, OPENING[2:])
    first = start(world, "handoff", firearm="COLT-1", performer=ACTOR[0], scene="12A")
    # A refusal: the AD tries to sign the armorer's step.
    refused = sign(world, first, "rounds-loaded", AD, ARMORER,
                   evidence={"dummies": "6", "blanks": "0", "live-rounds": "0"})  # fmt: skip
    assert not refused.ok
    walk(world, first, handoff_steps(ACTOR))
    second = start(world, "handoff", firearm="GLOCK-2", performer=ACTOR2[0], scene="14")
    walk(world, second, handoff_steps(ACTOR2, chambers=15))
    wrap = start(world, "wrap")
    walk(world, wrap, WRAP)
    return world


def three_days() -> World:
    """Two whole days, then a third left mid-work: an open handoff, a wrong PIN and a
    day-wide hold still open."""
    world = walked_day(walked_day())
    open_day(world)
    run = start(world, "handoff", firearm="COLT-1", performer=ACTOR[0], scene="30")
    for step, by, witnesses, evidence in handoff_steps(ACTOR)[:3]:
        assert sign(world, run, step, by, *witnesses, evidence=evidence).ok
    world.do(engine.sign, run, "announced", engine.Credential(AD[0], "9999"), evidence={})
    assert world.do(engine.raise_hold, cred(ACTOR2), "Smoke on set: stop").ok
    return world


def payloads(world: World) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k != "seq"} for e in world.log]


def write_store(world: World, path: Path) -> Path:
    """The world's record as a store file, with its credentials file beside it."""
    write_credentials(path, dict(world.state.credentials))
    Journal.create(path, payloads(world))
    return path


__all__ = ["CHECKLISTS", "HOLD_ACTION", "payloads", "three_days", "walked_day", "write_store"]
