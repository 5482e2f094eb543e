"""Issue 15, the pre-production gate: no opening until it is complete, checked against the
qualifications on record, and redone when the firearms plan changes."""

from __future__ import annotations

from pathlib import Path

from scenario_support import new_world, open_day, refused_code
from support import (
    ACTOR,
    ARMORER,
    CHECKLISTS,
    CREW,
    PINS,
    SUPERVISOR,
    World,
    cheap_pin,
    cred,
    gate,
    seed,
    sign,
)

from safetyapp.domain import engine

MORGAN = ("Morgan Hale", ["armorer"], "7171")
DANA = ("Dana Voss", ["actor"], "7272")


def _no_gate_world() -> World:
    world = World()
    _, arm = seed(world.do, CREW)
    assert world.do(engine.add_firearm, arm, "COLT-1", "Revolver", "blank-firing", 6).ok
    assert world.do(engine.add_ammo, arm, "D-1", "dummy", 36, "Prop house").ok
    return world


def _add(world: World, person: tuple[str, list[str], str]) -> None:
    PINS.setdefault(person[0], person[2])
    assert world.do(engine.add_crew, cred(SUPERVISOR), person[0], person[1],
                    cheap_pin(person[2])).ok  # fmt: skip


def test_no_opening_before_the_pre_production_gate_is_complete() -> None:
    world = _no_gate_world()
    refused = world.do(engine.start_run, CHECKLISTS["opening"])
    assert not refused.ok and refused_code(world) == "no-gate"
    assert "pre-production gate was never completed" in str(refused.refused)
    run = str(world.do(engine.start_run, CHECKLISTS["prep"]).run_id)
    assert run == "G0001"  # numbered apart: the day's runs keep R0001...
    blank = sign(world, run, "risk-assessment", SUPERVISOR, evidence={"on-file": "yes"})
    assert not blank.ok and "reference" in str(blank.refused)
    assert not world.state.gate.complete and world.state.gate.run == run
    steps = [
        ("risk-assessment", (), {"reference": "RA-7 rev 1", "on-file": "yes"}),
        ("armorer-hired", (ARMORER,), {"armorer-only": "yes"}),
        ("licences-in-date", (), {"licences-in-date": "yes"}),
        ("training-complete", (), {"training-complete": "yes"}),
    ]
    for step, witnesses, evidence in steps:
        assert not world.do(engine.start_run, CHECKLISTS["opening"]).ok
        signed = sign(world, run, step, SUPERVISOR, *witnesses, evidence=evidence)
        assert signed.ok and signed.events[0]["result"] == "pass", signed
    assert world.state.gate.complete and world.state.gate.last is not None
    assert world.state.gate.last.kinds == ("blank-firing",)
    opened = world.do(engine.start_run, CHECKLISTS["opening"])
    assert opened.ok and opened.run_id == "R0001"


def test_a_gate_signed_yes_while_the_record_lacks_a_licence_or_training_fails_naming_them() -> None:
    world = _no_gate_world()
    _add(world, MORGAN)  # an armorer with no licence on record
    _add(world, DANA)  # a performer with no training on record
    run = str(world.do(engine.start_run, CHECKLISTS["prep"]).run_id)
    assert sign(world, run, "risk-assessment", SUPERVISOR,
                evidence={"reference": "RA-7 rev 1", "on-file": "yes"}).ok  # fmt: skip
    assert sign(world, run, "armorer-hired", SUPERVISOR, ARMORER,
                evidence={"armorer-only": "yes"}).ok  # fmt: skip
    licences = sign(world, run, "licences-in-date", SUPERVISOR,
                    evidence={"licences-in-date": "yes"})  # fmt: skip
    assert licences.ok and licences.events[0]["result"] == "fail"
    assert "Morgan Hale has no armorer licence or permit on record" in licences.events[0]["note"]
    assert world.state.open_holds() and not world.state.gate.complete
    assert not world.do(engine.start_run, CHECKLISTS["opening"]).ok
    # Entered, the hold resolved, the layer signed again: now training is what is missing.
    hold = world.state.open_holds()[0].id
    assert world.do(engine.record_licence, cred(SUPERVISOR), MORGAN[0], "AL-9", "State board",
                    "2027-06-30").ok  # fmt: skip
    assert world.do(engine.resolve_hold, hold, [cred(SUPERVISOR), cred(ARMORER)],
                    "licence AL-9 entered").ok  # fmt: skip
    assert sign(world, run, "armorer-hired", SUPERVISOR, ARMORER,
                evidence={"armorer-only": "yes"}).ok  # fmt: skip
    assert sign(world, run, "licences-in-date", SUPERVISOR,
                evidence={"licences-in-date": "yes"}).events[0]["result"] == "pass"  # fmt: skip
    training = sign(world, run, "training-complete", SUPERVISOR,
                    evidence={"training-complete": "yes"})  # fmt: skip
    assert training.events[0]["result"] == "fail"
    note = training.events[0]["note"]
    assert "Dana Voss has no firearms-safety training on record" in note
    assert "Morgan Hale has no firearms-safety training on record" in note
    assert not world.state.gate.complete


def test_the_gate_is_redone_when_the_plan_changes() -> None:
    world = new_world()
    open_day(world)
    gate_run = world.state.gate.last
    assert world.state.gate.complete and gate_run is not None
    # A new kind of firearm: the next opening waits for the gate again.
    arm = cred(ARMORER)
    assert world.do(engine.add_firearm, arm, "RUB-3", "Rubber pistol", "rubber", None).ok
    state = world.state.gate
    assert not state.complete and "a new kind of firearm (rubber)" in state.reason
    # Not even mid-day: the rubber pistol is handed to no one before the gate is walked again.
    assert world.do(engine.move_firearms, arm, ["RUB-3"], "armorer", "for scene 12A").ok
    mid_day = world.do(engine.start_run, CHECKLISTS["handoff"], firearm="RUB-3",
                       performer=ACTOR[0], scene="12A")  # fmt: skip
    assert not mid_day.ok and refused_code(world) == "no-gate"
    assert "no handoff of RUB-3 (rubber)" in str(mid_day.refused)
    refused = world.do(engine.start_run, CHECKLISTS["opening"])
    assert not refused.ok and refused_code(world) == "no-gate"
    assert f"the plan changed since gate {gate_run.run}" in str(refused.refused)
    assert gate(world.do, world.state) == "G0002"
    assert world.state.gate.complete
    # Another firearm of a kind already covered changes nothing; a new armorer does.
    assert world.do(engine.add_firearm, arm, "COLT-9", "Revolver", "blank-firing", 6).ok
    assert world.state.gate.complete
    PINS.setdefault(MORGAN[0], MORGAN[2])
    assert world.do(engine.add_crew, cred(SUPERVISOR), MORGAN[0], MORGAN[1],
                    cheap_pin(MORGAN[2])).ok  # fmt: skip
    assert "a new armorer (Morgan Hale)" in world.state.gate.reason


def test_the_demo_opens_on_a_complete_gate_with_its_crew_qualified(tmp_path: Path) -> None:
    from safetyapp.demo import DEMO_CREW, seed_demo
    from safetyapp.domain import qualifications
    from safetyapp.store.repository import Repository

    path = tmp_path / "demo.jsonl"
    assert seed_demo(path)
    repo = Repository.open(path, CHECKLISTS)
    state = repo.state
    assert state.gate.complete and state.gate.last is not None
    assert state.gate.last.run == "G0001"
    today = engine.local_date(state, repo.clock())
    assert all(qualifications.missing(state, name, today) == [] for name, _, _ in DEMO_CREW)
    opened = repo.do(engine.start_run, CHECKLISTS["opening"])
    assert opened.ok and opened.run_id == "R0001"
