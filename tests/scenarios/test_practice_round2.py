"""Issue 15, the practice round 2: each gap as a scenario on the pure engine."""

from __future__ import annotations

import support
from scenario_support import (
    OPENING_2,
    handoff,
    new_world,
    open_day,
    refused_code,
    sign_step,
)
from support import ACTOR, ACTOR2, AD, ARMORER, SUPERVISOR, cred, sign, start, walk

from safetyapp.domain import engine
from safetyapp.domain import events as ev

# -- Ammunition ---------------------------------------------------------------------------------


def test_a_live_round_found_at_a_handoff_holds_every_firearm_for_the_day() -> None:
    world = new_world()
    open_day(world)
    first = handoff(world, "COLT-1")
    found = sign_step(world, first, "rounds-loaded", evidence={"live-rounds": "1"})
    assert found.ok and found.events[0]["result"] == "fail"
    incident = world.last(ev.INCIDENT_REPORTED)
    assert incident["data"]["incident_kind"] == "live-round" and incident["data"]["hold"]
    day_holds = [h for h in world.state.open_holds() if h.run is None]
    assert day_holds and day_holds[0].incident == incident["data"]["incident"]
    # The other firearm, loaded from the same boxes, stops too.
    other = world.do(engine.start_run, _checklist("handoff"), firearm="GLOCK-2",
                     performer=ACTOR2[0], scene="12B")  # fmt: skip
    assert not other.ok and refused_code(world) == "on-hold"
    # The review a misfire needs lifts the day hold.
    review = world.do(engine.review_incident, incident["data"]["incident"],
                      [cred(SUPERVISOR), cred(ARMORER), cred(AD)], "Round removed; boxes recounted")  # fmt: skip
    assert review.ok, review.refused
    assert not [h for h in world.state.open_holds() if h.run is None]


def test_an_unidentified_round_at_the_opening_holds_the_day_and_records_an_incident() -> None:
    world = new_world()
    run = start(world, "opening")
    walk(world, run, OPENING_2[:3])
    found = sign(world, run, "live-rounds-zero", ARMORER, AD,
                 evidence={"live-rounds": "0", "unidentified-rounds": "2"})  # fmt: skip
    assert found.events[0]["result"] == "fail"
    kinds = [i.kind for i in world.state.incidents.values()]
    assert kinds == ["live-round"]
    assert [h for h in world.state.open_holds() if h.run is None]


def _checklist(name: str):  # type: ignore[no-untyped-def]
    from support import CHECKLISTS

    return CHECKLISTS[name]


def _lots(world, lots: str) -> str:  # type: ignore[no-untyped-def]
    run = start(world, "opening")
    walk(world, run, OPENING_2[:2])
    decision = sign(world, run, "lots-listed", ARMORER, AD,
                    evidence={"lots": lots, "unlabelled": "0"})  # fmt: skip
    assert decision.ok, decision.refused
    return str(decision.events[0]["result"])


def test_a_declared_lot_left_out_of_the_ammunition_check_fails() -> None:
    world = new_world()
    assert _lots(world, "D-1=36") == "fail"  # B-1 left out
    assert "B-1" in world.last(ev.SIGNED)["note"]
    assert world.last(ev.HOLD_RAISED)["data"]["hold"]


def test_a_count_that_differs_from_the_declared_count_fails_and_holds() -> None:
    world = new_world()
    assert _lots(world, "D-1=34, B-1=24") == "fail"
    assert "declared 36" in world.last(ev.SIGNED)["note"]


def test_lots_none_fails_the_ammunition_check() -> None:
    world = new_world()
    assert _lots(world, "none") == "fail"


def test_every_declared_lot_counted_as_declared_passes() -> None:
    world = new_world()
    assert _lots(world, "D-1=36, B-1=24") == "pass"


def test_every_dummy_out_is_checked_inert() -> None:
    world = new_world()
    run = start(world, "opening")
    walk(world, run, OPENING_2[:4])
    few = sign(world, run, "dummies-inert", ARMORER, AD,
               evidence={"dummies-checked": "2", "failed-inert-check": "0"})  # fmt: skip
    assert few.events[0]["result"] == "fail" and "36" in few.events[0]["note"]


def test_the_inert_check_cannot_be_not_applicable() -> None:
    world = new_world()
    run = start(world, "opening")
    walk(world, run, OPENING_2[:4])
    na = sign(world, run, "dummies-inert", ARMORER, AD, result="na", na_reason="skipped")
    assert not na.ok and refused_code(world) == "na-not-allowed"


def test_a_lot_needs_its_source() -> None:
    world = new_world()
    decision = world.do(engine.add_ammo, cred(ARMORER), "D-9", "dummy", 6, "  ")
    assert not decision.ok and refused_code(world) == "no-source"


def test_a_lot_added_mid_day_joins_the_days_reconciliation() -> None:
    world = new_world()
    open_day(world)
    assert world.do(engine.add_ammo, cred(ARMORER), "D-9", "dummy", 6, "Prop house B").ok
    assert world.state.ammo_reconciliation()["D-9"] == (6, 0, 6)
    run = start(world, "wrap")
    walk(world, run, [("locked-up", ARMORER, (AD,), {"firearms-locked": "COLT-1, GLOCK-2",
                                                     "missing": "0"})])  # fmt: skip
    left_out = sign(
        world, run, "counts-reconciled", ARMORER, AD, evidence={"counts": "D-1=36, B-1=24"}
    )
    assert left_out.events[0]["result"] == "fail" and "D-9" in left_out.events[0]["note"]


def test_more_rounds_loaded_than_the_firearm_has_chambers_fails() -> None:
    world = new_world()
    open_day(world)
    run = handoff(world)
    nine = sign_step(world, run, "rounds-loaded", evidence={"dummies": "9"})
    assert nine.events[0]["result"] == "fail" and "holds 6" in nine.events[0]["note"]


def test_more_rounds_expended_than_loaded_fails() -> None:
    world = new_world()
    open_day(world)
    run = handoff(world)
    blanks = {"dummies": "0", "blanks": "6"}
    assert sign_step(world, run, "rounds-loaded", evidence=blanks).events[0]["result"] == "pass"
    assert sign_step(world, run, "inspect").events[0]["result"] == "pass"
    called = sign_step(world, run, "ad-confirms", evidence={"state-called": "blanks x6"})
    assert called.events[0]["result"] == "pass", called.events[0]["note"]
    hot = {"hot-announced": "yes", "safe-distance": "20"}
    assert sign_step(world, run, "announced", evidence=hot).events[0]["result"] == "pass"
    for step in ("hand-over", "performer-check"):
        assert sign_step(world, run, step).events[0]["result"] == "pass"
    back = sign_step(world, run, "returned", evidence={"rounds-expended": "B-1=9"})
    assert back.events[0]["result"] == "fail" and "9 blank" in back.events[0]["note"]


def test_a_blank_firing_firearm_needs_its_chambers() -> None:
    world = new_world()
    decision = world.do(
        engine.add_firearm, cred(ARMORER), "SAA-3", "Revolver", "blank-firing", None
    )
    assert not decision.ok and refused_code(world) == "chambers"


def test_a_firearm_without_chambers_recorded_does_not_pass_chambers_seen_3() -> None:
    world = new_world()
    assert world.do(engine.add_firearm, cred(ARMORER), "RUB-1", "Rubber", "rubber", None).ok
    open_day(world)
    assert world.do(engine.move_firearms, cred(ARMORER), ["RUB-1"], "armorer", "for 14A").ok
    run = handoff(world, "RUB-1")
    sign_step(world, run, "rounds-loaded", evidence={"dummies": "0"})
    seen = sign_step(
        world, run, "inspect", evidence={"serial-in-hand": "RUB-1", "chambers-seen": "3"}
    )
    assert seen.events[0]["result"] == "fail"


# -- The state called and the announcement -------------------------------------------------------


def _to_announcement(world, blanks: str = "6", called: str = "blanks x6") -> str:  # type: ignore[no-untyped-def]
    open_day(world)
    run = handoff(world)
    loads = {"dummies": "0", "blanks": blanks}
    assert sign_step(world, run, "rounds-loaded", evidence=loads).events[0]["result"] == "pass"
    assert sign_step(world, run, "inspect").events[0]["result"] == "pass"
    done = sign_step(world, run, "ad-confirms", evidence={"state-called": called})
    assert done.ok and done.events[0]["result"] == "pass", done.events[0]["note"]
    return run


def test_cold_called_with_six_blanks_loaded_fails() -> None:
    world = new_world()
    open_day(world)
    run = handoff(world)
    sign_step(world, run, "rounds-loaded", evidence={"dummies": "0", "blanks": "6"})
    sign_step(world, run, "inspect")
    cold = sign_step(world, run, "ad-confirms", evidence={"state-called": "cold"})
    assert cold.events[0]["result"] == "fail" and "blanks x6" in cold.events[0]["note"]


def test_the_state_is_called_from_a_fixed_set() -> None:
    world = new_world()
    open_day(world)
    run = handoff(world)
    sign_step(world, run, "rounds-loaded")
    sign_step(world, run, "inspect")
    free = sign_step(world, run, "ad-confirms", evidence={"state-called": "as loaded"})
    assert not free.ok and refused_code(world) == "evidence"


def test_a_mix_is_spelled_out_and_matches_the_loads() -> None:
    world = new_world()
    open_day(world)
    run = handoff(world)
    sign_step(world, run, "rounds-loaded", evidence={"dummies": "3", "blanks": "3"})
    sign_step(world, run, "inspect")
    mix = sign_step(world, run, "ad-confirms", evidence={"state-called": "dummies x3, blanks x3"})
    assert mix.events[0]["result"] == "pass", mix.events[0]["note"]


def test_blanks_loaded_need_hot_called_to_the_set() -> None:
    world = new_world()
    run = _to_announcement(world)
    quiet = sign_step(
        world, run, "announced", evidence={"hot-announced": "no", "safe-distance": "20"}
    )
    assert quiet.events[0]["result"] == "fail" and "hot" in quiet.events[0]["note"].lower()


def test_blanks_need_the_safe_distance_or_a_risk_assessed_reason() -> None:
    world = new_world()
    run = _to_announcement(world)
    near = sign_step(
        world, run, "announced", evidence={"hot-announced": "yes", "safe-distance": "12"}
    )
    assert near.events[0]["result"] == "fail" and "20 ft" in near.events[0]["note"]


def test_a_shorter_distance_with_its_risk_assessed_reason_passes() -> None:
    world = new_world()
    run = _to_announcement(world)
    reasoned = sign_step(world, run, "announced",
                         evidence={"hot-announced": "yes",
                                   "safe-distance": "12: RA-4 section 3, shield in place"})  # fmt: skip
    assert reasoned.events[0]["result"] == "pass", reasoned.events[0]["note"]
    assert reasoned.events[0]["data"]["evidence"]["safe-distance"]["feet"] == 12


def test_no_distance_recorded_with_blanks_loaded_fails() -> None:
    world = new_world()
    run = _to_announcement(world)
    none = sign_step(
        world, run, "announced", evidence={"hot-announced": "yes", "safe-distance": "none"}
    )
    assert none.events[0]["result"] == "fail"


def test_a_swapped_firearm_fails_the_inspection() -> None:
    world = new_world()
    open_day(world)
    run = handoff(world, "COLT-1")
    sign_step(world, run, "rounds-loaded")
    swapped = sign_step(world, run, "inspect", evidence={"serial-in-hand": "GLOCK-2"})
    assert swapped.events[0]["result"] == "fail" and "swapped" in swapped.events[0]["note"]


def test_a_repeated_evidence_key_is_refused_by_the_engine() -> None:
    world = new_world()
    open_day(world)
    run = handoff(world)
    sign_step(world, run, "rounds-loaded")
    pairs = [("serial-in-hand", "COLT-1"), ("bore-clear", "yes"), ("chambers-seen", "3"),
             ("chambers-seen", "6"), ("loads-as-listed", "yes")]  # fmt: skip
    twice = world.do(engine.sign, run, "inspect", cred(ARMORER),
                     witnesses=[cred(AD), cred(ACTOR)], evidence=pairs)  # fmt: skip
    assert not twice.ok and refused_code(world) == "evidence-repeated"
    assert "chambers-seen" in (twice.refused or "")


# -- Meetings and custody -------------------------------------------------------------------------


def test_no_handoff_on_a_later_local_day_without_its_safety_meeting() -> None:
    world = new_world()
    open_day(world)
    world.tick(26 * 60)  # 26 hours after the opening
    late = world.do(engine.start_run, _checklist("handoff"), firearm="COLT-1",
                    performer=ACTOR[0], scene="12A")  # fmt: skip
    assert not late.ok and refused_code(world) == "no-meeting-today"


def test_days_are_the_productions_local_dates() -> None:
    from datetime import UTC, datetime

    from support import World, cheap_pin

    world = World()
    world.now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 07:00 in Los Angeles
    from support import CHECKLISTS

    created = world.do(engine.create_production, "P", SUPERVISOR[0], cheap_pin(SUPERVISOR[2]),
                       timezone="America/Los_Angeles", adopt=CHECKLISTS.values())  # fmt: skip
    assert created.ok and world.state.timezone == "America/Los_Angeles"
    from scenario_support import populate

    world.created = True  # type: ignore[attr-defined]
    populate(world)
    open_day(world)
    world.now = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 22:00 the same local day
    assert world.do(engine.start_run, _checklist("handoff"), firearm="COLT-1",
                    performer=ACTOR[0], scene="night").ok  # fmt: skip


def test_an_unknown_time_zone_is_refused() -> None:
    from support import World, cheap_pin

    world = World()
    bad = world.do(engine.create_production, "P", SUPERVISOR[0], cheap_pin(SUPERVISOR[2]),
                   timezone="Mars/Olympus")  # fmt: skip
    assert not bad.ok and "time zone" in (bad.refused or "")


def test_after_a_misfire_review_firearms_resume_only_after_a_fresh_meeting() -> None:
    world = new_world()
    open_day(world)
    report = world.do(engine.report_incident, cred(ARMORER), "misfire", "Click, no bang",
                      firearm="COLT-1")  # fmt: skip
    incident = str(report.incident_id)
    assert world.do(engine.review_incident, incident, [cred(SUPERVISOR), cred(ARMORER), cred(AD)],
                    "Primer seated badly; lot set aside").ok  # fmt: skip
    blocked = world.do(engine.start_run, _checklist("handoff"), firearm="COLT-1",
                       performer=ACTOR[0], scene="12A")  # fmt: skip
    assert not blocked.ok and refused_code(world) == "meeting-needed"
    meeting = start(world, "meeting")
    met = sign(world, meeting, "meeting-held", AD, ARMORER,
               evidence={"attendees": "14", "concerns-read": "yes"})  # fmt: skip
    assert met.ok and met.events[0]["result"] == "pass"
    assert incident in met.events[0]["data"]["read_out"]
    assert world.do(engine.start_run, _checklist("handoff"), firearm="COLT-1",
                    performer=ACTOR[0], scene="12A").ok  # fmt: skip


def test_a_meeting_has_at_least_one_person_and_never_a_negative_count() -> None:
    world = new_world()
    run = start(world, "opening")
    nobody = sign(world, run, "meeting-held", AD, ARMORER,
                  evidence={"attendees": "0", "concerns-read": "yes"})  # fmt: skip
    assert nobody.events[0]["result"] == "fail" and "at least 1" in nobody.events[0]["note"]
    world2 = new_world()
    run2 = start(world2, "opening")
    negative = sign(world2, run2, "meeting-held", AD, ARMORER,
                    evidence={"attendees": "-4", "concerns-read": "yes"})  # fmt: skip
    assert not negative.ok and "negative" in (negative.refused or "")


def test_a_custody_break_is_recordable_with_every_firearm_locked() -> None:
    world = new_world()
    brk = world.do(engine.record_custody_break, cred(ACTOR2), "ammunition cart left open")
    assert brk.ok and brk.events[0]["data"]["ammunition"] is True


def test_ammunition_out_of_sight_makes_the_ammunition_layer_stale() -> None:
    world = new_world()
    open_day(world)
    run = handoff(world)
    assert sign_step(world, run, "rounds-loaded").events[0]["result"] == "pass"
    assert world.do(engine.move_firearms, cred(ARMORER), ["COLT-1", "GLOCK-2"], "locked",
                    "lunch").ok  # fmt: skip
    assert world.do(engine.record_custody_break, cred(ACTOR2), "ammunition cart left open").ok
    assert world.do(engine.move_firearms, cred(ARMORER), ["COLT-1", "GLOCK-2"], "armorer",
                    "after lunch").ok  # fmt: skip
    stale = sign_step(world, run, "inspect")
    assert not stale.ok and refused_code(world) == "stale"
    # Still stale on its own account: an ammunition break alone (no firearm moved).
    world2 = new_world()
    open_day(world2)
    run2 = handoff(world2)
    sign_step(world2, run2, "rounds-loaded")
    assert world2.do(engine.record_custody_break, cred(ACTOR2), "blanks box left open").ok
    again = sign_step(world2, run2, "inspect")
    assert not again.ok and "ammunition was out of the armorer's sight" in (again.refused or "")


def test_after_a_bore_obstruction_is_cleared_the_ammunition_layer_reopens() -> None:
    world = new_world()
    open_day(world)
    run = handoff(world)
    sign_step(world, run, "rounds-loaded")
    blocked = sign_step(world, run, "inspect", evidence={"bore-clear": "no"})
    assert blocked.events[0]["result"] == "fail"
    hold = str(blocked.hold_id)
    assert world.do(engine.resolve_hold, hold, [cred(SUPERVISOR), cred(ARMORER)],
                    "Obstruction cleared, rounds unloaded").ok  # fmt: skip
    assert world.state.runs[run].next_step().id == "rounds-loaded"  # type: ignore[union-attr]


def test_the_rounds_on_hand_are_the_last_wraps_count_also_from_a_checkpoint() -> None:
    """Six blanks fired on day 1, its wrap counts 18 of 24: 18 are on hand on day 2, in the
    full fold and in a state restored from a checkpoint taken once day 2 is open (where day 1's
    wrap is one of the compact rows, without its sign-offs)."""
    from safetyapp.domain.snapshot import from_checkpoint, to_checkpoint

    world = new_world()
    open_day(world)
    run = handoff(world)
    for step, evidence in (("rounds-loaded", {"dummies": "0", "blanks": "6"}), ("inspect", {}),
                           ("ad-confirms", {"state-called": "blanks x6"}),
                           ("announced", {"hot-announced": "yes", "safe-distance": "20"}),
                           ("hand-over", {}), ("performer-check", {}),
                           ("returned", {"rounds-expended": "B-1=6"})):  # fmt: skip
        done = sign_step(world, run, step, evidence=evidence)
        assert done.ok and done.events[0]["result"] == "pass", done
    wrap = start(world, "wrap")
    walk(world, wrap, [("locked-up", ARMORER, (AD,), {"firearms-locked": "COLT-1, GLOCK-2",
                                                      "missing": "0"}),
                       ("counts-reconciled", ARMORER, (AD,), {"counts": "D-1=36, B-1=18"}),
                       ("incidents-reviewed", SUPERVISOR, (), {"open-concerns": "0"})])  # fmt: skip
    assert world.state.lots_on_hand() == {"D-1": 36, "B-1": 18}
    day2 = [*OPENING_2[:2], ("lots-listed", ARMORER, (AD,), {"lots": "D-1=36, B-1=18",
                                                            "unlabelled": "0"}), *OPENING_2[3:]]  # fmt: skip
    open_day(world, day2)
    assert len(world.state.days) == 2 and world.state.day is not None
    restored, stubs = from_checkpoint(to_checkpoint(world.state))
    assert wrap in stubs  # day 1's wrap: a compact row
    assert restored.lots_on_hand() == world.state.lots_on_hand() == {"D-1": 36, "B-1": 18}


def test_a_second_wrap_is_refused_while_one_is_in_progress() -> None:
    """One wrap counts the day's lots (the rounds on hand are the last completed wrap's): a
    second one started beside it is refused, as a second opening or gate run is."""
    world = new_world()
    open_day(world)
    first = start(world, "wrap")
    second = world.do(engine.start_run, support.CHECKLISTS["wrap"])
    assert not second.ok and first in (second.refused or "")
    assert refused_code(world) == "duplicate-run"
