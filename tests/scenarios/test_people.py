"""Issue 15, "People and the pre-production gate": qualifications on file and the roles."""

from __future__ import annotations

from scenario_support import (
    handoff,
    new_world,
    open_day,
    refused_code,
    sign_step,
    verify,
)
from support import (
    ACTOR,
    AD,
    ARMORER,
    CHECKLISTS,
    PINS,
    SUPERVISOR,
    World,
    cheap_pin,
    cred,
    handoff_steps,
    sign,
    walk,
)

from safetyapp.domain import engine, qualifications
from safetyapp.domain import events as ev

MORGAN = ("Morgan Hale", ["armorer"], "7171")  # a second armorer
DANA = ("Dana Voss", ["actor"], "7272")  # a performer cast late
GRIP = ("Sam Grip", ["crew"], "7373")  # on set, no firearms role


def _add(world: World, person: tuple[str, list[str], str]) -> None:
    PINS.setdefault(person[0], person[2])
    added = world.do(engine.add_crew, cred(SUPERVISOR), person[0], person[1], cheap_pin(person[2]))
    assert added.ok, added.refused


def test_an_armorer_without_a_licence_in_date_cannot_sign_armorer_steps() -> None:
    world = new_world()
    open_day(world)
    _add(world, MORGAN)  # a second armorer joins mid-day
    run = handoff(world)
    duties = {"dummies": "6", "blanks": "0", "live-rounds": "0"}
    missing = sign(world, run, "rounds-loaded", MORGAN, AD, evidence=duties)
    assert not missing.ok and refused_code(world) == "no-licence"
    assert "Morgan Hale has no armorer licence or permit on record" in str(missing.refused)
    # An expired one is no better, and the refusal says when it expired.
    lapsed = world.do(engine.record_licence, cred(SUPERVISOR), MORGAN[0], "AL-88", "State board",
                      "2026-02-28")  # fmt: skip
    assert lapsed.ok and world.last(ev.CREW_LICENSED)["by"] == SUPERVISOR[0]
    expired = sign(world, run, "rounds-loaded", MORGAN, AD, evidence=duties)
    assert not expired.ok and "licence AL-88 (State board) expired on 2026-02-28" in str(
        expired.refused
    )
    day = world.now.date()
    assert qualifications.missing(world.state, MORGAN[0], day) == [
        "Morgan Hale's armorer licence AL-88 (State board) expired on 2026-02-28",
        "Morgan Hale has no firearms-safety training on record",
    ]
    # Only a safety supervisor enters one; then it is in date and the step signs.
    self_entered = world.do(engine.record_licence, cred(ARMORER), MORGAN[0], "AL-89", "Board",
                            "2027-01-01")  # fmt: skip
    assert not self_entered.ok and refused_code(world) == "not-authorised"
    assert world.do(engine.record_licence, cred(SUPERVISOR), MORGAN[0], "AL-89", "State board",
                    "2027-01-01").ok  # fmt: skip
    # A licence alone is not enough: whoever signs in a firearms role has training on file.
    untrained = sign(world, run, "rounds-loaded", MORGAN, AD, evidence=duties)
    assert not untrained.ok and refused_code(world) == "no-training"
    assert "Morgan Hale has no firearms-safety training on record" in str(untrained.refused)
    assert world.do(engine.record_training, cred(SUPERVISOR), MORGAN[0], "2026-02-20",
                    "Armorer course").ok  # fmt: skip
    assert sign(world, run, "rounds-loaded", MORGAN, AD, evidence=duties).ok


def test_a_first_ad_without_training_signs_and_witnesses_nothing() -> None:
    world = new_world()
    nia = ("Nia Park", ["ad"], "7474")  # a second 1st AD, joined after the gate
    _add(world, nia)
    assert world.state.gate.complete  # the gate looks at armorers and firearm kinds only
    run = world.do(engine.start_run, CHECKLISTS["opening"])
    assert run.ok, run.refused
    opening = str(run.run_id)
    meeting = {"attendees": "12", "concerns-read": "yes"}
    as_signer = sign(world, opening, "meeting-held", nia, ARMORER, evidence=meeting)
    assert not as_signer.ok and refused_code(world) == "no-training"
    assert "Nia Park has no firearms-safety training on record" in str(as_signer.refused)
    assert world.do(engine.record_training, cred(SUPERVISOR), nia[0], "2026-02-20",
                    "Set safety course").ok  # fmt: skip
    assert sign(world, opening, "meeting-held", nia, ARMORER, evidence=meeting).ok


def test_taking_the_gun_back_is_never_blocked_by_a_lapsed_licence() -> None:
    # The armorer's licence runs out on the shooting day: in date that day, not the next.
    world = new_world(licence_expires="2026-03-02")
    open_day(world)
    run = handoff(world)
    verify(world, run)
    assert sign_step(world, run, "hand-over").ok
    assert sign_step(world, run, "performer-check").ok
    world.tick(24 * 60)  # past midnight: the licence has lapsed
    back = sign_step(world, run, "returned")
    assert back.ok, back.refused
    assert world.state.custody("COLT-1").holder == "armorer"
    lapsed = qualifications.licence_problem(world.state.crew[ARMORER[0]], world.now.date())
    assert lapsed is not None and "expired on 2026-03-02" in lapsed


def test_a_performer_without_recorded_training_cannot_receive_a_firearm() -> None:
    world = new_world()
    open_day(world)
    _add(world, DANA)  # cast after the gate
    run = handoff(world, actor=DANA)
    assert sign_step(world, run, "rounds-loaded", actor=DANA).ok  # the armorer and the AD
    # The performer witnesses the inspection: refused already there, long before the hand-over.
    refused = sign_step(world, run, "inspect", actor=DANA)
    assert not refused.ok and refused_code(world) == "no-training"
    assert "Dana Voss has no firearms-safety training on record" in str(refused.refused)
    assert world.state.custody("COLT-1").holder == "armorer"
    future = world.do(engine.record_training, cred(SUPERVISOR), DANA[0], "2027-01-01", "Course")
    assert not future.ok and "in the future" in str(future.refused)
    trained = world.do(engine.record_training, cred(SUPERVISOR), DANA[0], "2026-02-20",
                       "Set safety course")  # fmt: skip
    assert trained.ok and world.last(ev.CREW_TRAINED)["data"]["provider"] == "Set safety course"
    walk(world, run, handoff_steps(DANA, 6)[1:4])  # the rest of the verification, up to hand-over
    handed = sign_step(world, run, "hand-over", actor=DANA)
    assert handed.ok, handed.refused
    assert world.state.custody("COLT-1").name == DANA[0]


def test_a_bad_qualification_date_is_refused_clearly() -> None:
    world = new_world()
    bad = world.do(engine.record_training, cred(SUPERVISOR), ACTOR[0], "2/20/2026", "Course")
    assert not bad.ok and "YYYY-MM-DD" in str(bad.refused)
    # Other ISO forms would be read as another date than the one meant: only YYYY-MM-DD.
    for other in ("2027-W01-1", "20270101", "2027-001"):
        week = world.do(engine.record_licence, cred(SUPERVISOR), ARMORER[0], "AL-9", "Board", other)
        assert not week.ok and "YYYY-MM-DD" in str(week.refused), other
    nobody = world.do(engine.record_licence, cred(SUPERVISOR), ACTOR[0], "X", "Y", "2027-01-01")
    assert not nobody.ok and "not crewed as Armorer" in str(nobody.refused)


def test_the_safety_advisor_is_never_the_supervisor() -> None:
    world = new_world()
    both = world.do(engine.add_crew, cred(SUPERVISOR), "Lee Park", ["supervisor", "advisor"],
                    cheap_pin("8181"))  # fmt: skip
    assert not both.ok and "never the same person" in str(both.refused)
    PINS.setdefault("Lee Park", "8181")
    assert world.do(engine.add_crew, cred(SUPERVISOR), "Lee Park", ["advisor"],
                    cheap_pin("8181")).ok  # fmt: skip
    assert world.do(engine.add_crew, cred(SUPERVISOR), "Kim Roe", ["supervisor"],
                    cheap_pin("8282")).ok  # fmt: skip
    PINS.setdefault("Kim Roe", "8282")
    grant = world.do(engine.grant_role, cred("Kim Roe"), "Lee Park", "supervisor")
    assert not grant.ok and refused_code(world) == "roles"


def test_crew_without_a_firearms_role_raise_holds_and_report_near_misses() -> None:
    world = new_world()
    _add(world, GRIP)
    open_day(world)
    near = world.do(engine.report_incident, cred(GRIP), "near-miss", "Muzzle swept the dolly")
    assert near.ok and near.events[0]["by"] == GRIP[0]
    hold = world.do(engine.raise_hold, cred(GRIP), "Cable across the line of fire")
    assert hold.ok and world.state.holds[str(hold.hold_id)].verified
    # They sign no checklist step.
    resolve = world.do(engine.resolve_hold, str(hold.hold_id), [cred(SUPERVISOR), cred(ARMORER)],
                       "cable moved")  # fmt: skip
    assert resolve.ok
    handoff_run = handoff(world)
    signed = sign(world, handoff_run, "rounds-loaded", GRIP, AD,
                  evidence={"dummies": "6", "blanks": "0", "live-rounds": "0"})  # fmt: skip
    assert not signed.ok and refused_code(world) == "wrong-role"
    assert qualifications.missing(world.state, GRIP[0], world.now.date()) == []


def test_a_misfire_review_needs_the_supervisor_the_armorer_and_the_first_ad() -> None:
    world = new_world()
    open_day(world)
    misfire = world.do(engine.report_incident, cred(ACTOR), "misfire", "click, no bang",
                       firearm="COLT-1")  # fmt: skip
    incident = str(misfire.incident_id)
    two = world.do(engine.review_incident, incident, [cred(SUPERVISOR), cred(ARMORER)], "dud")
    assert not two.ok and "Safety supervisor and Armorer and 1st AD" in str(two.refused)
    three = world.do(engine.review_incident, incident,
                     [cred(SUPERVISOR), cred(ARMORER), cred(AD)], "dud primer")  # fmt: skip
    assert three.ok, three.refused
    roles = [r["role"] for r in world.last(ev.HOLD_RESOLVED)["data"]["resolvers"]]
    assert roles == ["supervisor", "armorer", "ad"]
