"""Every engine rule, both ways: the allowed path and the refusal (which is itself recorded)."""

from __future__ import annotations

from support import (
    ACTOR,
    ACTOR2,
    AD,
    ARMORER,
    OPENING,
    SUPERVISOR,
    WRAP,
    World,
    adopt,
    cred,
    handoff_steps,
    open_day,
    setup_world,
    sign,
    start,
    walk,
)

from safetyapp.domain import engine
from safetyapp.domain.engine import Credential


def refused_code(world: World) -> str:
    return str(world.last("refused")["data"]["code"])


def handoff(world: World, firearm: str = "COLT-1", actor: object = ACTOR) -> str:
    return start(world, "handoff", firearm=firearm, performer=actor[0], scene="12A")  # type: ignore[index]


# Rule 1: order -------------------------------------------------------------------------------


def test_order_refuses_a_later_step_and_records_the_attempt() -> None:
    world = setup_world()
    run = start(world, "opening")
    decision = sign(world, run, "no-other-duties", ARMORER, evidence={"other-duties": "no"})
    assert not decision.ok and "out of order" in (decision.refused or "")
    assert refused_code(world) == "out-of-order"
    assert world.state.runs[run].step_status("no-other-duties") == "locked"


def test_order_allows_steps_in_sequence() -> None:
    world = setup_world()
    run = open_day(world)
    assert world.state.runs[run].completed_at is not None
    assert world.kinds()[-2:] == ["run-completed", "day-opened"]


def test_a_signed_step_cannot_be_signed_again() -> None:
    world = setup_world()
    run = start(world, "opening")
    step, by, witnesses, evidence = OPENING[0]
    assert sign(world, run, step, by, *witnesses, evidence=evidence).ok
    assert not sign(world, run, step, by, *witnesses, evidence=evidence).ok
    assert refused_code(world) == "already-signed"


# Rule 2: role --------------------------------------------------------------------------------


def test_wrong_role_is_refused() -> None:
    world = setup_world()
    run = start(world, "opening")
    decision = sign(world, run, "meeting-held", ACTOR, ARMORER, evidence=OPENING[0][3])
    assert not decision.ok and "not crewed as 1st AD" in (decision.refused or "")
    assert refused_code(world) == "wrong-role"


def test_witness_must_hold_the_witness_role() -> None:
    world = setup_world()
    run = start(world, "opening")
    decision = sign(world, run, "meeting-held", AD, ACTOR, evidence=OPENING[0][3])
    assert not decision.ok and "witness" in (decision.refused or "")


def test_missing_witness_is_refused() -> None:
    world = setup_world()
    run = start(world, "opening")
    decision = sign(world, run, "meeting-held", AD, evidence=OPENING[0][3])
    assert not decision.ok and refused_code(world) == "witnesses"


# Rule 3: separation of duties -----------------------------------------------------------------


def test_witness_is_never_the_signer() -> None:
    world = setup_world([("Dual", ["armorer", "ad"], "7777"), ACTOR, SUPERVISOR])
    run = start(world, "opening")
    decision = sign(world, run, "meeting-held", "Dual", "Dual", evidence=OPENING[0][3])
    assert not decision.ok and refused_code(world) == "same-person"


def test_one_person_cannot_act_in_two_roles_in_one_run() -> None:
    world = setup_world([("Dual", ["armorer", "ad"], "7777"), AD, ARMORER, ACTOR, SUPERVISOR])
    run = start(world, "opening")
    assert sign(world, run, "meeting-held", "Dual", ARMORER, evidence=OPENING[0][3]).ok  # as AD
    decision = sign(world, run, "no-other-duties", "Dual", evidence={"other-duties": "no"})
    assert not decision.ok and refused_code(world) == "separation"
    assert sign(world, run, "no-other-duties", ARMORER, evidence={"other-duties": "no"}).ok


def test_ad_confirmation_never_signed_by_the_inspecting_armorer() -> None:
    world = setup_world([("Dual", ["armorer", "ad"], "7777"), AD, ARMORER, ACTOR, SUPERVISOR])
    open_day(world)
    run = handoff(world)
    steps = handoff_steps(ACTOR)
    walk(world, run, [("rounds-loaded", "Dual", (AD,), steps[0][3])])
    walk(world, run, [("inspect", "Dual", (AD, ACTOR), steps[1][3])])
    # Dual also holds the AD role, but signed the inspection: the confirmation must be someone else.
    decision = sign(world, run, "ad-confirms", "Dual", ARMORER, evidence=steps[2][3])
    assert not decision.ok and refused_code(world) == "separation"
    assert sign(world, run, "ad-confirms", AD, ARMORER, evidence=steps[2][3]).ok


# Rule 4: failure is loud ----------------------------------------------------------------------


def test_failed_step_raises_a_hold_and_locks_the_rest() -> None:
    world = setup_world()
    run = start(world, "opening")
    walk(world, run, OPENING[:2])
    decision = sign(world, run, "lots-listed", ARMORER, AD, result="fail", note="mixed box")
    assert decision.ok
    assert [e["kind"] for e in decision.events] == ["signed", "hold-raised"]
    assert world.state.run_status(world.state.runs[run]) == "hold"
    assert world.state.runs[run].step_status("live-rounds-zero") == "locked"
    blocked = sign(world, run, "live-rounds-zero", ARMORER, AD, evidence=OPENING[3][3])
    assert not blocked.ok and refused_code(world) == "on-hold"


def test_evidence_contradicting_a_pass_is_recorded_as_failure() -> None:
    world = setup_world()
    run = start(world, "opening")
    walk(world, run, OPENING[:3])
    decision = sign(
        world, run, "live-rounds-zero", ARMORER, AD,
        evidence={"live-rounds": "1", "unidentified-rounds": "0"},
    )  # fmt: skip
    assert decision.events[0]["result"] == "fail"
    assert "Live rounds found: 1, expected 0" in decision.events[0]["note"]
    assert decision.events[1]["kind"] == "hold-raised"


def test_chambers_seen_must_equal_the_firearms_chambers() -> None:
    world = setup_world()
    open_day(world)
    run = handoff(world)
    steps = handoff_steps(ACTOR)
    walk(world, run, steps[:2])
    short = {"chambers-seen": "4", "state-called": "cold"}
    decision = sign(world, run, "ad-confirms", AD, ARMORER, evidence=short)
    assert decision.events[0]["result"] == "fail"
    assert "Chambers the AD saw: 4, expected 6" in decision.events[0]["note"]


def test_resolved_hold_reopens_the_failed_layer_from_its_first_step() -> None:
    world = setup_world()
    run = start(world, "opening")
    walk(world, run, OPENING[:3])
    sign(world, run, "live-rounds-zero", ARMORER, AD, result="fail", note="one live round")
    hold = world.last("hold-raised")["data"]["hold"]
    decision = world.do(
        engine.resolve_hold, hold, [cred(SUPERVISOR), cred(ARMORER)], "Round removed, police called"
    )
    assert decision.ok
    state = world.state.runs[run]
    assert state.step_status("lots-listed") == "open"  # first step of the failed layer
    assert state.step_status("no-other-duties") == "passed"  # earlier layers stand
    walk(world, run, OPENING[2:])
    assert state.completed_at is not None


def test_hold_resolution_needs_two_different_people_in_the_named_roles() -> None:
    world = setup_world()
    run = start(world, "opening")
    sign(world, run, "meeting-held", AD, ARMORER, result="fail", note="no meeting")
    hold = world.last("hold-raised")["data"]["hold"]
    one = world.do(engine.resolve_hold, hold, [cred(SUPERVISOR), cred(SUPERVISOR)], "x")
    assert not one.ok and refused_code(world) == "same-person"
    wrong = world.do(engine.resolve_hold, hold, [cred(SUPERVISOR), cred(ACTOR)], "x")
    assert not wrong.ok and refused_code(world) == "resolvers"
    ok = world.do(engine.resolve_hold, hold, [cred(ARMORER), cred(SUPERVISOR)], "meeting held")
    assert ok.ok and not world.state.holds[hold].open


def test_anyone_may_raise_a_hold_and_it_blocks_the_day() -> None:
    world = setup_world()
    open_day(world)
    decision = world.do(engine.raise_hold, cred(ACTOR2), "Camera crew walked off: unsafe")
    assert decision.ok
    refused = world.do(engine.start_run, __import__("support").CHECKLISTS["handoff"],
                       firearm="COLT-1", performer=ACTOR[0])  # fmt: skip
    assert not refused.ok and refused_code(world) == "on-hold"


# Rule 5: no silent skip -----------------------------------------------------------------------


def test_the_inert_check_takes_no_not_applicable() -> None:
    world = setup_world()
    run = start(world, "opening")
    walk(world, run, OPENING[:4])
    decision = sign(world, run, "dummies-inert", ARMORER, AD, result="na", na_reason="no dummies")
    assert not decision.ok and refused_code(world) == "na-not-allowed"


def test_not_applicable_only_where_allowed_and_with_a_reason() -> None:
    from pathlib import Path

    from safetyapp.domain.checklist import parse_checklist

    text = (Path(__file__).parents[1] / "checklists" / "opening.yaml").read_text()
    text = text.replace(
        "        prompt: >\n          Side hole",
        "        na_allowed: true\n        prompt: >\n          Side hole",
    )
    assert "na_allowed: true" in text
    opening = parse_checklist(text, "opening.yaml")
    world = setup_world()
    assert adopt(world, opening).ok  # an edited version runs only once adopted
    decision = world.do(engine.start_run, opening)
    run = str(decision.run_id)
    walk(world, run, OPENING[:4])
    assert not sign(world, run, "checkout", ARMORER, result="na", na_reason="x").ok  # locked
    no_reason = sign(world, run, "dummies-inert", ARMORER, AD, result="na")
    assert not no_reason.ok and refused_code(world) == "na-reason"
    ok = sign(world, run, "dummies-inert", ARMORER, AD, result="na", na_reason="no dummies today")
    assert ok.ok and ok.events[0]["result"] == "na"
    not_allowed = sign(world, run, "checkout", ARMORER, result="na", na_reason="lazy")
    assert not not_allowed.ok and refused_code(world) == "na-not-allowed"


def test_pass_without_required_evidence_is_refused() -> None:
    world = setup_world()
    run = start(world, "opening")
    decision = sign(world, run, "meeting-held", AD, ARMORER, evidence={"attendees": "12"})
    assert not decision.ok and "concerns-read" in (decision.refused or "")


# Rule 6: freshness ----------------------------------------------------------------------------


def test_stale_verification_must_be_redone() -> None:
    world = setup_world()
    open_day(world)
    run = handoff(world)
    steps = handoff_steps(ACTOR)
    walk(world, run, steps[:1])
    world.tick(61)  # rounds-loaded is valid for 60 minutes
    decision = sign(world, run, "inspect", ARMORER, AD, ACTOR, evidence=steps[1][3])
    assert not decision.ok and "re-verified" in (decision.refused or "")
    assert world.kinds()[-1] == "layer-stale"
    assert world.state.runs[run].step_status("rounds-loaded") == "open"
    walk(world, run, steps[:2])  # redone, then it continues


def test_fresh_verification_within_its_limit_is_accepted() -> None:
    world = setup_world()
    open_day(world)
    run = handoff(world)
    steps = handoff_steps(ACTOR)
    walk(world, run, steps[:1])
    world.tick(50)
    walk(world, run, steps[1:2])


# Rule 7: prerequisites ------------------------------------------------------------------------


def test_no_handoff_before_the_day_is_opened() -> None:
    world = setup_world()
    decision = world.do(
        engine.start_run, __import__("support").CHECKLISTS["handoff"],
        firearm="COLT-1", performer=ACTOR[0],
    )  # fmt: skip
    assert not decision.ok and refused_code(world) == "no-open-day"
    open_day(world)
    handoff(world)


def test_full_day_then_no_handoff_after_wrap() -> None:
    world = setup_world()
    open_day(world)
    first = handoff(world, "COLT-1", ACTOR)
    walk(world, first, handoff_steps(ACTOR))
    second = handoff(world, "GLOCK-2", ACTOR2)
    walk(world, second, handoff_steps(ACTOR2, chambers=15))
    wrap = start(world, "wrap")
    walk(world, wrap, WRAP)
    assert world.kinds()[-1] == "day-wrapped" and world.state.day is None
    late = world.do(
        engine.start_run, __import__("support").CHECKLISTS["handoff"],
        firearm="COLT-1", performer=ACTOR[0],
    )  # fmt: skip
    assert not late.ok and refused_code(world) == "no-open-day"


def test_wrap_refused_while_a_handoff_is_open() -> None:
    world = setup_world()
    open_day(world)
    handoff(world)
    decision = world.do(engine.start_run, __import__("support").CHECKLISTS["wrap"])
    assert not decision.ok and refused_code(world) == "runs-open"


def test_handoff_needs_a_known_firearm_and_a_performer() -> None:
    world = setup_world()
    open_day(world)
    cl = __import__("support").CHECKLISTS["handoff"]
    assert not world.do(engine.start_run, cl, firearm="NOPE", performer=ACTOR[0]).ok
    assert not world.do(engine.start_run, cl, firearm="COLT-1", performer=AD[0]).ok
    assert refused_code(world) == "not-performer"


# PINs and identity ----------------------------------------------------------------------------


def test_wrong_pin_is_refused_and_recorded_without_the_pin() -> None:
    world = setup_world()
    run = start(world, "opening")
    decision = world.do(
        engine.sign, run, "meeting-held", Credential(AD[0], "9999"),
        witnesses=[cred(ARMORER)], evidence=dict(OPENING[0][3]),
    )  # fmt: skip
    assert not decision.ok and refused_code(world) == "wrong-pin"
    assert "9999" not in repr(world.log)


def test_wrong_witness_pin_counts_against_the_witness() -> None:
    world = setup_world()
    run = start(world, "opening")
    world.do(
        engine.sign, run, "meeting-held", cred(AD),
        witnesses=[Credential(ARMORER[0], "0000")], evidence=dict(OPENING[0][3]),
    )  # fmt: skip
    assert world.last("refused")["data"]["person"] == ARMORER[0]
    assert world.state.crew[ARMORER[0]].failures == 1
    assert world.state.crew[AD[0]].failures == 0


def test_five_wrong_pins_lock_out_for_five_minutes() -> None:
    world = setup_world()
    run = start(world, "opening")
    bad = Credential(AD[0], "0000")
    for _ in range(5):
        world.do(engine.sign, run, "meeting-held", bad, witnesses=[cred(ARMORER)])
    assert world.kinds()[-1] == "lockout"
    locked = sign(world, run, "meeting-held", AD, ARMORER, evidence=OPENING[0][3])
    assert not locked.ok and refused_code(world) == "locked"
    world.tick(5)
    assert sign(world, run, "meeting-held", AD, ARMORER, evidence=OPENING[0][3]).ok


def test_unknown_person_is_refused() -> None:
    world = setup_world()
    run = start(world, "opening")
    decision = world.do(engine.sign, run, "meeting-held", Credential("Nobody", "1234"))
    assert not decision.ok and refused_code(world) == "unknown-person"


def test_pin_change_needs_the_owner_or_a_supervisor() -> None:
    world = setup_world()
    from support import cheap_pin

    assert not world.do(engine.set_pin, AD[0], cred(ACTOR), cheap_pin("8888")).ok
    assert world.do(engine.set_pin, AD[0], cred(SUPERVISOR), cheap_pin("8888")).ok


# Ammunition -----------------------------------------------------------------------------------


def test_live_ammunition_is_refused_and_holds_the_day() -> None:
    world = setup_world()
    decision = world.do(engine.add_ammo, cred(ARMORER), "L-9", "live", 50, "range box")
    assert not decision.ok
    assert [e["kind"] for e in decision.events] == ["refused", "hold-raised"]
    assert "L-9" not in world.state.lots
    hold = world.state.open_holds()[0]
    assert hold.run is None and hold.cause == "live-ammunition"
    assert world.do(engine.add_ammo, cred(ARMORER), "B-2", "blank", 10, "supplier").ok


def test_checklist_declared_distinct_signers_within_one_role() -> None:
    from safetyapp.domain.checklist import parse_checklist

    text = """
id: two-person
title: Two-person count
version: 1
scope: opening
layers:
  - id: count
    title: Count
    catches: one person counting alone
    steps:
      - {id: first-count, title: First count, role: armorer, attests: I counted}
      - {id: second-count, title: Second count, role: armorer, attests: I counted again,
         distinct_from: [first-count]}
"""
    checklist = parse_checklist(text, "two-person.yaml")
    world = setup_world([ARMORER, ("Second Armorer", ["armorer"], "8888"), SUPERVISOR])
    adopt(world, checklist)
    run = world.do(engine.start_run, checklist).events[0]["run"]
    assert sign(world, run, "first-count", ARMORER).ok
    same = sign(world, run, "second-count", ARMORER)
    assert not same.ok and refused_code(world) == "separation"
    assert sign(world, run, "second-count", "Second Armorer").ok


def test_the_record_carries_each_checklist_version_once_and_names_it_after() -> None:
    world = setup_world()
    start(world, "opening")
    walk(world, world.last("run-started")["run"], OPENING)
    handoff(world)
    handoff(world, "GLOCK-2", ACTOR2)
    adopted = [e for e in world.log if e["kind"] == "checklist-adopted"]
    assert sorted(e["data"]["checklist"]["id"] for e in adopted) == [
        "handoff",
        "meeting",
        "opening",
        "prep",
        "wrap",
    ]
    starts = [e for e in world.log if e["kind"] == "run-started"]
    assert not [e for e in starts if "checklist" in e["data"]]  # runs name it by digest only
    assert {e["data"]["digest"] for e in starts} <= {e["data"]["digest"] for e in adopted}
    # A fresh fold of the record rebuilds every run with its checklist.
    from safetyapp.domain.state import fold

    again = fold(world.log)
    assert [r.checklist for r in again.runs.values()] == [
        r.checklist for r in world.state.runs.values()
    ]


def test_a_run_naming_an_unadopted_checklist_cannot_be_folded() -> None:
    import pytest

    from safetyapp.domain.state import fold

    world = setup_world()
    start(world, "opening")
    event = dict(world.last("run-started"))
    with pytest.raises(LookupError, match="no earlier event adopted"):
        fold([{**event, "data": dict(event["data"])}])
