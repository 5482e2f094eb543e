"""Custody, freshness, incidents, flags and wrap reconciliation: engine rules, both ways."""

from __future__ import annotations

from scenario_support import (
    OPENING_2,
    handoff,
    new_world,
    open_day,
    refused_code,
    sign_step,
    verify,
)
from support import ACTOR, ACTOR2, AD, ARMORER, SUPERVISOR, WRAP, World, cred, sign, start, walk

from safetyapp.domain import engine
from safetyapp.views import firearm_view

LOCKED_UP = ("locked-up", ARMORER, (AD,), {"firearms-locked": "COLT-1, GLOCK-2", "missing": "0"})


def full_handoff(world: World, serial: str = "COLT-1", actor=ACTOR, expended: str = "0") -> str:  # type: ignore[no-untyped-def]
    run = handoff(world, serial, actor)
    blanks = int(expended.split("=")[1]) if expended.startswith("B-") else 0
    verify(world, run, actor, 6 if serial == "COLT-1" else 15, blanks=blanks)
    for step in ("hand-over", "performer-check"):
        assert sign_step(world, run, step, actor).ok
    assert sign_step(world, run, "returned", actor, evidence={"rounds-expended": expended}).ok
    return run


# Custody --------------------------------------------------------------------------------------


def test_firearms_start_locked_and_the_opening_checkout_puts_them_with_the_armorer() -> None:
    world = new_world()
    assert world.state.custody("COLT-1").holder == "locked"
    open_day(world)
    custody = world.state.custody("COLT-1")
    assert (custody.holder, custody.name) == ("armorer", ARMORER[0])


def test_checkout_names_known_serials_still_in_storage() -> None:
    world = new_world()
    run = start(world, "opening")
    walk(world, run, OPENING_2[:5])
    bad = sign(world, run, "checkout", ARMORER, evidence={"firearms-out": "COLT-1, NOPE-9"})
    assert not bad.ok and "no firearm NOPE-9" in (bad.refused or "")
    twice = sign(world, run, "checkout", ARMORER, evidence={"firearms-out": "COLT-1 COLT-1"})
    assert not twice.ok and "twice" in (twice.refused or "")


def test_return_needs_the_firearm_with_this_runs_performer_and_moves_it_back() -> None:
    world = new_world()
    open_day(world)
    run = full_handoff(world)
    assert world.state.runs[run].completed_at is not None
    assert world.state.custody("COLT-1").name == ARMORER[0]


def test_mid_day_moves_are_the_armorers_and_need_an_open_day_to_leave_storage() -> None:
    world = new_world()
    early = world.do(engine.move_firearms, cred(ARMORER), ["COLT-1"], "armorer", "test")
    assert not early.ok and refused_code(world) == "no-open-day"
    open_day(world)
    by_ad = world.do(engine.move_firearms, cred(AD), ["COLT-1"], "locked", "lunch")
    assert not by_ad.ok and refused_code(world) == "wrong-role"
    assert world.do(engine.move_firearms, cred(ARMORER), ["COLT-1"], "locked", "lunch").ok
    again = world.do(engine.move_firearms, cred(ARMORER), ["COLT-1"], "locked", "lunch")
    assert not again.ok and "already locked" in (again.refused or "")
    refused = world.do(engine.start_run, engine_checklist("handoff"), firearm="COLT-1",
                       performer=ACTOR[0])  # fmt: skip
    assert not refused.ok and refused_code(world) == "custody"


def engine_checklist(name: str):  # type: ignore[no-untyped-def]
    from support import CHECKLISTS

    return CHECKLISTS[name]


def test_a_firearm_with_a_performer_cannot_be_moved_to_storage_around_the_return() -> None:
    world = new_world()
    open_day(world)
    run = handoff(world)
    verify(world, run)
    assert sign_step(world, run, "hand-over").ok
    grab = world.do(engine.move_firearms, cred(ARMORER), ["COLT-1"], "locked", "tidy up")
    assert not grab.ok and "return step" in (grab.refused or "")


# Freshness ------------------------------------------------------------------------------------


def test_time_limit_still_applies_before_the_handover() -> None:
    world = new_world()
    open_day(world)
    run = handoff(world)
    verify(world, run)
    world.tick(61)
    stale = sign_step(world, run, "hand-over")
    assert not stale.ok and "over its 60 min limit" in (stale.refused or "")


def test_a_long_take_does_not_make_the_return_stale() -> None:
    world = new_world()
    open_day(world)
    run = handoff(world)
    verify(world, run)
    assert sign_step(world, run, "hand-over").ok
    assert sign_step(world, run, "performer-check").ok
    world.tick(90)  # the take ran long: the firearm must still come back
    assert sign_step(world, run, "returned").ok


def test_firearm_view_gives_custody_and_the_age_of_the_last_verification() -> None:
    world = new_world()
    open_day(world)
    assert (
        firearm_view(world.state, world.state.firearms["COLT-1"], world.now)["last_verified"]
        is None
    )
    run = handoff(world)
    verify(world, run)
    world.tick(10)
    view = firearm_view(world.state, world.state.firearms["COLT-1"], world.now)
    assert view["custody"]["text"] == f"with the armorer {ARMORER[0]}"
    last = view["last_verified"]
    # ad-confirms, then the announcement (each action moves the test clock half a minute), then 10.
    assert last["step"] == "ad-confirms" and last["age_minutes"] == 11 and last["fresh"] is True
    world.do(engine.record_custody_break, cred(AD), "out of sight during the move")
    view = firearm_view(world.state, world.state.firearms["COLT-1"], world.now)
    assert view["last_verified"]["fresh"] is False


# Incidents ------------------------------------------------------------------------------------


def test_a_near_miss_holds_nothing_and_is_read_out_at_the_next_meeting() -> None:
    world = new_world()
    report = world.do(engine.report_incident, cred(ACTOR), "near-miss", "Muzzle swept the dolly")
    assert report.ok and [e["kind"] for e in report.events] == ["incident-reported"]
    incident = world.state.incidents["I0001"]
    assert incident.status == "to-read-out"
    review = world.do(engine.review_incident, "I0001", [cred(SUPERVISOR), cred(ARMORER)], "x")
    assert not review.ok and "read out at the next safety meeting" in (review.refused or "")
    meeting = start(world, "opening")
    walk(world, meeting, OPENING_2[:1])
    assert incident.status == "closed" and incident.read_out_in == meeting


def test_incident_reports_are_checked() -> None:
    world = new_world()
    assert not world.do(engine.report_incident, cred(ACTOR), "oops", "x").ok
    assert refused_code(world) == "kind"
    assert not world.do(engine.report_incident, cred(ACTOR), "injury", "  ").ok
    assert refused_code(world) == "no-note"
    assert not world.do(engine.report_incident, cred(ACTOR), "missing", "x", firearm="NOPE").ok


def test_a_missing_firearm_is_unaccounted_holds_the_day_and_blocks_wrap_until_found() -> None:
    world = new_world()
    open_day(world)
    report = world.do(engine.report_incident, cred(ARMORER), "missing", "Not in the case",
                      firearm="GLOCK-2")  # fmt: skip
    assert report.ok and world.state.custody("GLOCK-2").holder == "unaccounted"
    world.do(engine.review_incident, "I0001", [cred(SUPERVISOR), cred(ARMORER)], "Police told")
    wrap = world.do(engine.start_run, engine_checklist("wrap"))
    assert not wrap.ok and refused_code(world) == "custody-out"
    assert "GLOCK-2 is UNACCOUNTED FOR" in (wrap.refused or "")
    found = world.do(engine.move_firearms, cred(ARMORER), ["GLOCK-2"], "armorer", "found in truck")
    assert found.ok and world.state.custody("GLOCK-2").name == ARMORER[0]
    assert world.do(engine.start_run, engine_checklist("wrap")).ok


# Wrap reconciliation ----------------------------------------------------------------------------


def test_wrap_counts_reconcile_against_morning_minus_expended() -> None:
    world = new_world()
    open_day(world)
    full_handoff(world, "COLT-1", ACTOR, expended="B-1=4")
    run = start(world, "wrap")
    walk(world, run, [LOCKED_UP])
    short = sign(
        world, run, "counts-reconciled", ARMORER, AD, evidence={"counts": "D-1=36, B-1=19"}
    )
    assert short.events[0]["result"] == "fail"
    assert "B-1 counted 19, expected 20 (morning 24 - expended 4)" in short.events[0]["note"]
    assert short.events[1]["kind"] == "hold-raised"
    hold = short.events[1]["data"]["hold"]
    blocked = sign(world, run, "incidents-reviewed", SUPERVISOR, evidence={"open-concerns": "0"})
    assert not blocked.ok and world.state.day is not None  # the day cannot close
    late = world.do(engine.start_run, engine_checklist("handoff"), firearm="COLT-1",
                    performer=ACTOR2[0])  # fmt: skip
    assert not late.ok and refused_code(world) == "wrapping"
    world.do(engine.resolve_hold, hold, [cred(SUPERVISOR), cred(ARMORER)], "Recounted: 20")
    walk(world, run, [("counts-reconciled", ARMORER, (AD,), {"counts": "D-1=36, B-1=20"}), WRAP[2]])
    assert world.state.day is None


def test_a_lot_left_out_of_the_wrap_count_is_a_mismatch() -> None:
    world = new_world()
    open_day(world)
    run = start(world, "wrap")
    walk(world, run, [LOCKED_UP])
    missing = sign(world, run, "counts-reconciled", ARMORER, AD, evidence={"counts": "D-1=36"})
    assert missing.events[0]["result"] == "fail"
    assert "B-1 counted nothing, expected 24" in missing.events[0]["note"]


def test_lock_up_must_list_every_firearm_out_of_storage() -> None:
    world = new_world()
    open_day(world)
    run = start(world, "wrap")
    partial = sign(world, run, "locked-up", ARMORER, AD,
                   evidence={"firearms-locked": "COLT-1", "missing": "0"})  # fmt: skip
    assert partial.events[0]["result"] == "fail"
    assert "out of storage but not listed: GLOCK-2" in partial.events[0]["note"]
    assert world.state.custody("GLOCK-2").holder == "armorer"


def test_lot_counts_are_parsed_strictly() -> None:
    world = new_world()
    run = start(world, "opening")
    walk(world, run, OPENING_2[:2])
    for bad, why in [("D-1", "LOT=COUNT"), ("D-1=x", "whole number"), ("D-1=-2", "negative"),
                     ("D-1=1, D-1=2", "twice")]:  # fmt: skip
        decision = sign(world, run, "lots-listed", ARMORER, AD,
                        evidence={"lots": bad, "unlabelled": "0"})  # fmt: skip
        assert not decision.ok and why in (decision.refused or ""), bad
