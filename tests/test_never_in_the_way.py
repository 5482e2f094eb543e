"""Issue 14, item 1: the app is never in the way of a safe action (engine rules).

Taking a firearm back is always possible; a started run can be voided by the armorer and a
supervisor; a stop-work hold is never refused (verified with a right PIN, else unverified)."""

from __future__ import annotations

from support import (
    ACTOR,
    AD,
    ARMORER,
    SUPERVISOR,
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
from safetyapp.domain import events as ev
from safetyapp.domain.engine import Credential

HANDOFF = handoff_steps(ACTOR)


def _taken(world: World) -> str:
    """An open day and a handoff of COLT-1 to Casey, up to the take (the return step open)."""
    open_day(world)
    run = start(world, "handoff", firearm="COLT-1", performer=ACTOR[0], scene="12A")
    walk(world, run, HANDOFF[:6])
    assert world.state.custody("COLT-1").holder == "performer"
    return run


def _lock_out(world: World, person: tuple[str, list[str], str]) -> None:
    for _ in range(5):
        world.do(engine.raise_hold, Credential(person[0], "0000"), "probe", run=None)
    member = world.state.crew[person[0]]
    assert member.locked_until is not None and world.now < member.locked_until


# -- take back ------------------------------------------------------------------------------


def test_after_a_misfire_the_firearm_is_taken_back_at_once_and_the_run_finishes() -> None:
    world = setup_world()
    run = _taken(world)
    misfire = world.do(
        engine.report_incident, cred(ACTOR), "misfire", "click, no bang", firearm="COLT-1"
    )
    assert misfire.ok and world.state.open_holds()  # the whole day on hold
    # The return step is stopped by the hold; taking back is not.
    returned = HANDOFF[6]
    assert not sign(world, run, "returned", ARMORER, ACTOR, evidence=returned[3]).ok
    back = world.do(engine.take_back, cred(ARMORER), "COLT-1", "misfire: cleared and secured")
    assert back.ok, back.refused
    event = back.events[0]
    assert event["kind"] == ev.CUSTODY_TAKEN_BACK and event["run"] == run
    assert event["data"]["previous"] == "performer" and event["data"]["name"] == ARMORER[0]
    custody = world.state.custody("COLT-1")
    assert custody.holder == "armorer" and custody.name == ARMORER[0]
    # Once the misfire is reviewed, the return step records rounds and re-inspection; it
    # moves nothing (the firearm is already back) and completes the run.
    assert world.do(
        engine.review_incident,
        "I0001",
        [cred(SUPERVISOR), cred(ARMORER), cred(AD)],
        "cleared, cause: dud",
    ).ok
    done = sign(world, run, "returned", ARMORER, ACTOR, evidence=returned[3])
    assert done.ok, done.refused
    assert [e["kind"] for e in done.events] == [ev.SIGNED, ev.RUN_COMPLETED]


def test_after_did_not_witness_the_firearm_is_taken_back_and_a_new_handover_reverifies() -> None:
    world = setup_world()
    open_day(world)
    run = start(world, "handoff", firearm="COLT-1", performer=ACTOR[0])
    walk(world, run, HANDOFF[:5])
    failed = sign(world, run, "performer-check", ACTOR, evidence={"witnessed-show-clear": "no"})
    assert failed.ok and failed.events[0]["result"] == "fail"
    assert world.state.custody("COLT-1").holder == "performer"
    assert world.do(engine.take_back, cred(ARMORER), "COLT-1", "did not witness").ok
    assert world.state.custody("COLT-1").holder == "armorer"
    hold = world.state.open_holds()[0]
    assert world.do(
        engine.resolve_hold, hold.id, [cred(SUPERVISOR), cred(ARMORER)], "show clear again"
    ).ok
    # The custody changed after the checks: handing over again restarts from the ammunition.
    again = sign(world, run, "hand-over", ARMORER, ACTOR)
    assert not again.ok and "re-verified" in (again.refused or "")
    assert world.state.runs[run].next_step().id == "rounds-loaded"  # type: ignore[union-attr]
    walk(world, run, HANDOFF)
    assert world.state.runs[run].completed_at is not None


def test_take_back_during_a_performers_stop_work_hold() -> None:
    world = setup_world()
    _taken(world)
    assert world.do(engine.raise_hold, cred(ACTOR), "I don't like the angle").ok
    assert world.do(engine.take_back, cred(ARMORER), "COLT-1", "stop-work").ok
    assert world.state.custody("COLT-1").holder == "armorer"


def test_take_back_is_the_armorers_with_a_reason_and_only_from_outside_storage() -> None:
    world = setup_world()
    _taken(world)
    by_ad = world.do(engine.take_back, cred(AD), "COLT-1", "grabbed it")
    assert not by_ad.ok and "only the armorer" in (by_ad.refused or "")
    no_reason = world.do(engine.take_back, cred(ARMORER), "COLT-1", " ")
    assert not no_reason.ok and "say why" in (no_reason.refused or "")
    typo = world.do(engine.take_back, cred(ARMORER), "COLT-11", "x")
    assert not typo.ok and "did you mean 'COLT-1'" in (typo.refused or "")
    wrong_pin = world.do(engine.take_back, Credential(ARMORER[0], "9999"), "COLT-1", "x")
    assert not wrong_pin.ok and world.state.custody("COLT-1").holder == "performer"
    assert world.kinds()[-1] == ev.REFUSED  # every attempt on the record
    assert world.do(engine.take_back, cred(ARMORER), "COLT-1", "after the take").ok
    twice = world.do(engine.take_back, cred(ARMORER), "COLT-1", "again")
    assert not twice.ok and "already" in (twice.refused or "")
    assert world.do(engine.move_firearms, cred(ARMORER), ["GLOCK-2"], "locked", "lunch").ok
    stored = world.do(engine.take_back, cred(ARMORER), "GLOCK-2", "x")
    assert not stored.ok and "locked in storage" in (stored.refused or "")


# -- void -------------------------------------------------------------------------------------


def test_a_voided_run_no_longer_blocks_wrap() -> None:
    world = setup_world()
    open_day(world)
    run = start(world, "handoff", firearm="COLT-1", performer=ACTOR[0])
    walk(world, run, HANDOFF[:2])
    refused = world.do(engine.start_run, engine_checklist("wrap"))
    assert not refused.ok and "still open" in (refused.refused or "")
    voided = world.do(engine.void_run, run, [cred(SUPERVISOR), cred(ARMORER)], "scene cut")
    assert voided.ok, voided.refused
    event = voided.events[0]
    assert event["kind"] == ev.RUN_VOIDED and event["note"] == "scene cut"
    assert event["data"]["signers"] == [
        {"name": ARMORER[0], "role": "armorer"},
        {"name": SUPERVISOR[0], "role": "supervisor"},
    ]
    assert world.state.run_status(world.state.runs[run]) == "void"
    late = sign(world, run, "ad-confirms", AD, ARMORER, evidence=HANDOFF[2][3])
    assert not late.ok and "voided" in (late.refused or "")
    wrap = start(world, "wrap")
    assert wrap


def test_void_needs_the_armorer_and_a_supervisor_each_with_a_pin_and_a_reason() -> None:
    world = setup_world()
    open_day(world)
    run = start(world, "handoff", firearm="COLT-1", performer=ACTOR[0])
    cases = [
        ([cred(ARMORER)], "why", "two different people"),
        ([cred(ARMORER), cred(ARMORER)], "why", "two different people"),
        ([cred(ARMORER), cred(AD)], "why", "not one of each"),
        ([cred(ARMORER), Credential(SUPERVISOR[0], "0000")], "why", "wrong PIN"),
        ([cred(ARMORER), cred(SUPERVISOR)], "  ", "needs a reason"),
    ]
    for people, reason, said in cases:
        decision = world.do(engine.void_run, run, people, reason)
        assert not decision.ok and said in (decision.refused or ""), decision.refused
    typo = world.do(engine.void_run, "R0009", [cred(ARMORER), cred(SUPERVISOR)], "x")
    assert not typo.ok and "did you mean" in (typo.refused or "")
    assert world.state.run_status(world.state.runs[run]) == "open"


# -- hold raise is never refused --------------------------------------------------------------


def test_a_locked_out_performer_still_stops_work_unverified() -> None:
    world = setup_world()
    _lock_out(world, ACTOR)
    before = world.state.crew[ACTOR[0]].locked_until
    decision = world.do(engine.raise_hold, cred(ACTOR), "the rig is loose")
    assert decision.ok, decision.refused
    hold = world.state.holds[str(decision.hold_id)]
    assert hold.open and not hold.verified and "locked out" in (hold.unverified or "")
    assert hold.raised_by == ACTOR[0] and hold.run is None
    assert world.state.crew[ACTOR[0]].locked_until == before  # no lockout lifted by it
    # Resolving still needs the named signatures.
    assert not world.do(engine.resolve_hold, hold.id, [cred(SUPERVISOR)], "fixed").ok
    assert world.do(engine.resolve_hold, hold.id, [cred(SUPERVISOR), cred(ARMORER)], "fixed").ok


def test_a_hold_without_a_pin_or_from_someone_not_crewed_is_raised_unverified() -> None:
    world = setup_world()
    grip = world.do(engine.raise_hold, "  Dana\u200b  Grip\x07 ", "ladder in the line of fire")
    assert grip.ok
    hold = world.state.holds[str(grip.hold_id)]
    assert hold.raised_by == "Dana<U+200B> Grip<U+0007>" and not hold.verified
    assert hold.unverified == "not on the crew list"
    no_pin = world.do(engine.raise_hold, "casey MORGAN", "forgot my PIN")
    held = world.state.holds[str(no_pin.hold_id)]
    assert held.raised_by == ACTOR[0] and held.unverified == "no PIN given"
    right = world.do(engine.raise_hold, cred(AD), "camera in the line")
    assert world.state.holds[str(right.hold_id)].verified
    assert world.last(ev.HOLD_RAISED)["data"]["verified"] is True


def test_a_wrong_pin_raises_the_hold_and_counts_towards_a_lockout() -> None:
    world = setup_world()
    decision = world.do(engine.raise_hold, Credential(AD[0], "0000"), "smoke", run="R0099")
    assert decision.ok
    kinds = [e["kind"] for e in decision.events]
    assert kinds == [ev.REFUSED, ev.HOLD_RAISED]
    assert world.state.crew[AD[0]].failures == 1
    hold = world.state.holds[str(decision.hold_id)]
    assert not hold.verified and hold.run is None and "R0099 not found" in hold.reason
    empty = world.do(engine.raise_hold, cred(AD), "")
    assert empty.ok and "no reason given" in world.state.holds[str(empty.hold_id)].reason


def engine_checklist(name: str):  # type: ignore[no-untyped-def]
    from support import CHECKLISTS

    return CHECKLISTS[name]
