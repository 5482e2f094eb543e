"""One scenario per failure mode of the 2021 case (the table in the domain reference).

Each drives the real engine (and, where the point is the record, the real store) the way the
crew would, and asserts that the named layer catches it: a hold, a refusal or a flag, and what
the record then shows. Each fails if its layer is taken out of the checklist or the engine.
"""

from __future__ import annotations

from pathlib import Path

from scenario_support import (
    OPENING_2,
    handoff,
    new_world,
    open_day,
    refused_code,
    sign_step,
    store_world,
    verify,
)
from support import (
    ACTOR,
    ACTOR2,
    AD,
    ARMORER,
    CHECKLISTS,
    SUPERVISOR,
    WRAP,
    adopt,
    cred,
    handoff_steps,
    sign,
    start,
    walk,
)

from safetyapp.domain import engine
from safetyapp.domain import events as ev
from safetyapp.domain.engine import Credential

DUAL = ("Dual Role", ["armorer", "ad"], "7777")


def test_bulletin_adopted_on_paper_but_never_practised(tmp_path: Path) -> None:
    """Layer: every layer signed, every day. A day without its opening has no handoffs, and the
    attempt is on the record."""
    world = store_world(tmp_path)
    attempt = world.do(
        engine.start_run, CHECKLISTS["handoff"], firearm="COLT-1", performer=ACTOR[0]
    )
    assert not attempt.ok and refused_code(world) == "no-open-day"
    assert world.state.days == [] and world.state.custody("COLT-1").holder == "locked"
    flagged = world.audit(flagged=True)
    refusals = [e["data"]["code"] for e in flagged if e["kind"] == "refused"]
    assert refusals == ["no-open-day"]  # (the rest flagged: the set-up's crew and inventory)
    assert {e["kind"] for e in flagged} - {"refused"} <= {*ev.AUTHORITY_KINDS, ev.CHECKLIST_ADOPTED}
    assert "complete the opening checklist" in flagged[-1]["note"]
    # The practised day: opening signed layer by layer, each with its signer on the record.
    opening = open_day(world)
    signed = world.audit(kind="signed")
    assert {e["step"] for e in signed if e["run"] == opening} == {s[0] for s in OPENING_2}
    assert world.do(engine.start_run, CHECKLISTS["handoff"], firearm="COLT-1",
                    performer=ACTOR[0]).ok  # fmt: skip


def test_ammunition_from_several_sources_loose_dummies_and_live_rounds() -> None:
    """Layer: the opening ammunition check (source, lot, per-round inert check)."""
    world = new_world()
    run = start(world, "opening")
    walk(world, run, OPENING_2[:2])
    # A lot nobody declared (loose leftover dummies of unknown origin) cannot be counted in.
    unknown = sign(world, run, "lots-listed", ARMORER, AD,
                   evidence={"lots": "D-1=36, LOOSE=12", "unlabelled": "0"})  # fmt: skip
    assert not unknown.ok and "no ammunition lot LOOSE" in (unknown.refused or "")
    walk(world, run, OPENING_2[2:3])
    # A live round with the same headstamp as the dummies: hold, incident, the day cannot start.
    found = sign(world, run, "live-rounds-zero", ARMORER, AD,
                 evidence={"live-rounds": "0", "unidentified-rounds": "1"})  # fmt: skip
    assert found.events[0]["result"] == "fail"
    kinds = [e["kind"] for e in found.events[1:]]
    assert kinds == ["hold-raised", "incident-reported", "hold-raised"]
    incident = next(iter(world.state.incidents.values()))
    assert incident.kind == "live-round" and "Unidentified rounds found: 1" in incident.note
    assert world.state.run_status(world.state.runs[run]) == "hold" and world.state.day is None
    assert world.state.holds[str(incident.hold)].run is None  # the whole day's firearm work
    late = world.do(engine.start_run, CHECKLISTS["handoff"], firearm="COLT-1", performer=ACTOR[0])
    assert not late.ok and refused_code(world) == "on-hold"
    # Declaring a live lot is refused and holds the whole day.
    live = world.do(engine.add_ammo, cred(ARMORER), "L-1", "live", 50, "range box")
    assert not live.ok and "L-1" not in world.state.lots
    assert world.state.open_holds()[-1].run is None
    assert world.state.open_holds()[-1].cause == "live-ammunition"


def test_a_live_round_was_in_the_revolver() -> None:
    """Layer: the handoff ammunition check. Live rounds found > 0 holds the run."""
    world = new_world()
    open_day(world)
    run = handoff(world)
    loaded = sign_step(world, run, "rounds-loaded", evidence={"live-rounds": "1"})
    assert loaded.events[0]["result"] == "fail"
    assert loaded.events[1]["kind"] == "hold-raised"
    assert world.state.run_status(world.state.runs[run]) == "hold"
    blocked = sign_step(world, run, "inspect")
    assert not blocked.ok and refused_code(world) == "on-hold"
    assert world.state.custody("COLT-1").holder == "armorer"  # never reached the performer
    assert [i.kind for i in world.state.incidents.values()] == ["live-round"]


def test_ammunition_left_on_an_open_cart_over_lunch_and_no_recheck_after() -> None:
    """Layer: custody break. Verification goes stale; the handoff restarts at the ammunition
    check, and the record says why."""
    world = new_world()
    open_day(world)
    run = handoff(world)
    verify(world, run)
    # Lunch: the armorer locks the firearm away, then takes it out again.
    assert world.do(engine.move_firearms, cred(ARMORER), ["COLT-1"], "locked", "lunch").ok
    world.tick(40)
    assert world.do(engine.move_firearms, cred(ARMORER), ["COLT-1"], "armorer", "after lunch").ok
    stale = sign_step(world, run, "hand-over")
    assert not stale.ok and refused_code(world) == "stale"
    record = world.last("layer-stale")
    assert record["data"]["layer"] == "setup-ammunition" and "lunch" in record["note"]
    assert world.state.runs[run].step_status("rounds-loaded") == "open"
    assert world.state.custody("COLT-1").holder == "armorer"
    # Nobody locked anything, but someone saw the ammunition on an open cart: same result.
    verify(world, run)
    brk = world.do(engine.record_custody_break, cred(ACTOR2), "ammunition on an open cart")
    assert brk.ok
    again = sign_step(world, run, "hand-over")
    assert not again.ok and "open cart" in world.last("layer-stale")["note"]
    # Redone from the ammunition check, the handoff goes ahead.
    verify(world, run)
    assert sign_step(world, run, "hand-over").ok
    assert world.state.custody("COLT-1").holder == "performer"


def test_called_cold_after_the_ad_saw_only_some_chambers() -> None:
    """Layer: show-safe per chamber; the armorer calls the state. A chamber not seen fails;
    an out-of-order sign-off is refused."""
    world = new_world()
    open_day(world)
    run = handoff(world)
    early = sign_step(world, run, "ad-confirms")
    assert not early.ok and refused_code(world) == "out-of-order"
    walk(world, run, handoff_steps(ACTOR)[:2])
    armorer_vouches = sign(world, run, "ad-confirms", ARMORER, AD,
                           evidence={"chambers-seen": "6", "state-called": "cold"})  # fmt: skip
    assert not armorer_vouches.ok and refused_code(world) == "wrong-role"
    short = sign_step(world, run, "ad-confirms", evidence={"chambers-seen": "4"})
    assert short.events[0]["result"] == "fail"
    assert "Chambers the AD saw: 4, expected 6" in short.events[0]["note"]
    assert world.state.run_status(world.state.runs[run]) == "hold"


def test_the_ad_not_the_armorer_handed_the_gun_over() -> None:
    """Layer: handoff only by the armorer; custody. The AD cannot sign the armorer's steps, and
    a firearm not in the armorer's custody is never handed over."""
    world = new_world()
    checkout_one = [*OPENING_2[:-1], ("checkout", ARMORER, (), {"firearms-out": "COLT-1"})]
    open_day(world, checkout_one)
    run = handoff(world)
    verify(world, run)
    by_ad = sign(world, run, "hand-over", AD, ACTOR)
    assert not by_ad.ok and refused_code(world) == "wrong-role"
    assert world.state.custody("COLT-1").holder == "armorer"
    assert world.state.custody("COLT-1").name == ARMORER[0]
    # GLOCK-2 never left storage through the armorer: no handoff names it.
    other = world.do(engine.start_run, CHECKLISTS["handoff"], firearm="GLOCK-2",
                     performer=ACTOR2[0])  # fmt: skip
    assert not other.ok and refused_code(world) == "custody"
    assert "not in the armorer's custody" in (other.refused or "")
    assert sign_step(world, run, "hand-over").ok
    assert world.state.custody("COLT-1").name == ACTOR[0]
    # A performer returns it to the armorer, not to the AD.
    sign_step(world, run, "performer-check")
    by_ad_back = sign(world, run, "returned", AD, ACTOR,
                      evidence={"rounds-expended": "0", "reinspected-clear": "yes"})  # fmt: skip
    assert not by_ad_back.ok and refused_code(world) == "wrong-role"
    assert world.state.custody("COLT-1").holder == "performer"


def test_the_armorer_was_stretched_across_two_jobs() -> None:
    """Layer: dedicated-armorer attestation. Other duties raise a flag that a safety
    supervisor acknowledges before any handoff."""
    world = new_world()
    steps = [
        OPENING_2[0],
        ("no-other-duties", ARMORER, (), {"other-duties": "yes"}),
        *OPENING_2[2:],
    ]
    open_day(world, steps)
    (flag,) = world.state.open_flags()
    assert "Any other department duties today: yes" in flag.reason
    blocked = world.do(
        engine.start_run, CHECKLISTS["handoff"], firearm="COLT-1", performer=ACTOR[0]
    )
    assert not blocked.ok and refused_code(world) == "flag-open"
    not_supervisor = world.do(engine.acknowledge_flag, flag.id, cred(AD), "fine")
    assert not not_supervisor.ok and refused_code(world) == "wrong-role"
    ack = world.do(engine.acknowledge_flag, flag.id, cred(SUPERVISOR),
                   "Props duties moved to the props assistant")  # fmt: skip
    assert ack.ok and not world.state.open_flags()
    assert handoff(world)


def test_the_same_person_checked_and_vouched() -> None:
    """Layer: separation of duties. One person cannot sign as armorer and AD in one run."""
    world = new_world([DUAL, AD, ARMORER, ACTOR, ACTOR2, SUPERVISOR])
    open_day(world)
    run = handoff(world)
    steps = handoff_steps(ACTOR)
    walk(world, run, [("rounds-loaded", DUAL, (AD,), steps[0][3])])
    walk(world, run, [("inspect", DUAL, (AD, ACTOR), steps[1][3])])
    vouch = sign(world, run, "ad-confirms", DUAL, ARMORER, evidence=steps[2][3])
    assert not vouch.ok and refused_code(world) == "separation"
    self_witness = sign(world, run, "ad-confirms", DUAL, DUAL, evidence=steps[2][3])
    assert not self_witness.ok and refused_code(world) in ("same-person", "separation")
    assert world.state.runs[run].step_status("ad-confirms") == "open"
    # The same rule in the opening: who ran the meeting as AD does not attest as armorer.
    world2 = new_world([DUAL, AD, ARMORER, ACTOR, ACTOR2, SUPERVISOR])
    opening = start(world2, "opening")
    walk(world2, opening, [("meeting-held", DUAL, (ARMORER,), OPENING_2[0][3])])
    both = sign(world2, opening, "no-other-duties", DUAL, evidence={"other-duties": "no"})
    assert not both.ok and refused_code(world2) == "separation"


def test_the_performer_relied_on_others_word() -> None:
    """Layer: performer check. The handoff is incomplete until the named performer signs."""
    world = new_world()
    open_day(world)
    run = handoff(world)
    verify(world, run)
    assert sign_step(world, run, "hand-over").ok
    skip = sign_step(world, run, "returned")
    assert not skip.ok and refused_code(world) == "out-of-order"
    for_them = sign(world, run, "performer-check", ACTOR2,
                    evidence={"witnessed-show-clear": "yes"})  # fmt: skip
    assert not for_them.ok and refused_code(world) == "not-the-performer"
    wrap = world.do(engine.start_run, CHECKLISTS["wrap"])
    assert not wrap.ok and refused_code(world) == "runs-open"
    didnt_see = sign_step(world, run, "performer-check", evidence={"witnessed-show-clear": "no"})
    assert didnt_see.events[0]["result"] == "fail"
    assert world.state.runs[run].completed_at is None


def test_earlier_misfires_and_discharges_not_acted_on() -> None:
    """Layer: the incident log. A discharge or misfire holds the day until a supervisor and the
    armorer sign a review; it is read out at the next safety meeting."""
    world = new_world()
    open_day(world)
    report = world.do(engine.report_incident, cred(ACTOR2), "misfire",
                      "Second misfire on COLT-1 this week", firearm="COLT-1")  # fmt: skip
    assert report.ok and [e["kind"] for e in report.events] == ["incident-reported", "hold-raised"]
    (incident,) = world.state.incidents.values()
    blocked = world.do(
        engine.start_run, CHECKLISTS["handoff"], firearm="COLT-1", performer=ACTOR[0]
    )
    assert not blocked.ok and refused_code(world) == "on-hold"
    wrong = world.do(engine.review_incident, incident.id, [cred(SUPERVISOR), cred(ACTOR)], "ok")
    assert not wrong.ok and refused_code(world) == "resolvers"
    # UK practice: the 1st AD is consulted before reset. The supervisor and the armorer alone
    # are not enough (REVIEW_ROLES).
    two = world.do(engine.review_incident, incident.id, [cred(SUPERVISOR), cred(ARMORER)], "ok")
    assert not two.ok and "1st AD" in str(two.refused)
    reviewed = world.do(engine.review_incident, incident.id, [cred(SUPERVISOR), cred(ARMORER), cred(AD)],
                        "Cylinder timing fault; COLT-1 withdrawn for repair")  # fmt: skip
    assert reviewed.ok and incident.status == "to-read-out"
    assert world.state.open_holds() == []
    discharge = world.do(engine.report_incident, cred(ACTOR), "unintended-discharge", "Went off")
    assert (
        discharge.ok
        and world.state.open_holds()[0].incident == discharge.events[0]["data"]["incident"]
    )


def test_a_safety_concern_said_super_unsafe_and_the_camera_crew_walked_off(tmp_path: Path) -> None:
    """Layer: stop-work / safety concern. Anyone files it; it holds until answered; it is shown
    at the next meeting and stays in the record."""
    world = store_world(tmp_path)
    open_day(world)
    filed = world.do(engine.report_incident, cred(ACTOR2), "safety-concern",
                     "This set is super unsafe: camera crew walked off")  # fmt: skip
    assert filed.ok
    (concern,) = world.state.incidents.values()
    assert concern.status == "on-hold"
    stopped = world.do(
        engine.start_run, CHECKLISTS["handoff"], firearm="COLT-1", performer=ACTOR[0]
    )
    assert not stopped.ok and refused_code(world) == "on-hold"
    world.do(engine.review_incident, concern.id, [cred(SUPERVISOR), cred(ARMORER)],
             "Met the camera crew; safe angles and shields reset")  # fmt: skip
    # Wrap the day, then the next morning's meeting must read it out.
    wrap = start(world, "wrap")
    walk(world, wrap, [
        ("locked-up", ARMORER, (AD,), {"firearms-locked": "COLT-1, GLOCK-2", "missing": "0"}),
        ("counts-reconciled", ARMORER, (AD,), {"counts": "D-1=36, B-1=24"}),
        WRAP[2],
    ])  # fmt: skip
    assert [i.id for i in world.state.to_read_out(["safety-concern"])] == [concern.id]
    meeting = open_day(world)
    assert world.state.incidents[concern.id].read_out_in == meeting
    record = world.audit(kind="incident-reported")
    assert record[0]["note"] == "This set is super unsafe: camera crew walked off"
    resolved = world.audit(kind="hold-resolved")
    assert resolved[0]["data"]["incident"] == concern.id


def test_safety_meetings_were_not_held_daily() -> None:
    """Layer: the opening safety meeting. No handoff on a day without a signed meeting."""
    world = new_world()
    open_day(world)
    wrap = start(world, "wrap")
    walk(world, wrap, [
        ("locked-up", ARMORER, (AD,), {"firearms-locked": "COLT-1, GLOCK-2", "missing": "0"}),
        ("counts-reconciled", ARMORER, (AD,), {"counts": "D-1=36, B-1=24"}),
        WRAP[2],
    ])  # fmt: skip
    day2 = world.do(engine.start_run, CHECKLISTS["handoff"], firearm="COLT-1", performer=ACTOR[0])
    assert not day2.ok and refused_code(world) == "no-open-day"
    run = start(world, "opening")
    checkout_first = sign(world, run, "checkout", ARMORER, evidence={"firearms-out": "COLT-1"})
    assert not checkout_first.ok and refused_code(world) == "out-of-order"
    assert world.state.custody("COLT-1").holder == "locked"
    # Attendees present, but the open near misses and concerns not read out: not a meeting.
    no_meeting = sign(world, run, "meeting-held", AD, ARMORER,
                      evidence={"attendees": "12", "concerns-read": "no"})  # fmt: skip
    assert no_meeting.events[0]["result"] == "fail"
    assert "concerns read out" in no_meeting.events[0]["note"], no_meeting.events[0]["note"]


def test_the_armorer_was_away_on_props_work_when_the_rehearsal_began() -> None:
    """Layer: handoff only by the armorer, in person (their own PIN), and only the armorer who
    holds the firearm."""
    other = ("Second Armorer", ["armorer"], "8888")
    world = new_world([*[p for p in (ARMORER, AD, ACTOR, ACTOR2, SUPERVISOR)], other])
    open_day(world)
    run = handoff(world, scene="rehearsal")
    verify(world, run)
    typed_name = world.do(engine.sign, run, "hand-over", Credential(ARMORER[0], "0000"),
                          witnesses=[cred(ACTOR)])  # fmt: skip
    assert not typed_name.ok and refused_code(world) == "wrong-pin"
    stand_in = sign(world, run, "hand-over", other, ACTOR)
    assert not stand_in.ok and refused_code(world) == "custody"
    assert world.state.custody("COLT-1").name == ARMORER[0]


def test_schedule_and_budget_pressure_no_override_without_a_reason(tmp_path: Path) -> None:
    """Layer: no override without a recorded reason and a supervisor. Every override is on the
    record."""
    world = store_world(tmp_path)
    run = start(world, "opening")
    walk(world, run, OPENING_2[:4])
    no_na = sign(world, run, "dummies-inert", ARMORER, AD, result="na", na_reason="no time")
    assert not no_na.ok and refused_code(world) == "na-not-allowed"  # every dummy, every time
    walk(world, run, OPENING_2[4:5])
    sign(world, run, "checkout", ARMORER, result="fail", note="behind schedule, skip the log")
    (hold,) = world.state.open_holds()
    alone = world.do(engine.resolve_hold, hold.id, [cred(SUPERVISOR)], "just go")
    assert not alone.ok and refused_code(world) == "resolvers"
    blank = world.do(engine.resolve_hold, hold.id, [cred(SUPERVISOR), cred(ARMORER)], "  ")
    assert not blank.ok and refused_code(world) == "no-action"
    assert world.do(engine.resolve_hold, hold.id, [cred(SUPERVISOR), cred(ARMORER)],
                    "Checkout redone by serial").ok  # fmt: skip
    overrides = [e for e in world.audit() if e["result"] in ("na", "resolved")]
    assert [e["note"] for e in overrides] == ["Checkout redone by serial"]
    assert {r["role"] for r in overrides[0]["data"]["resolvers"]} == {"supervisor", "armorer"}


def test_not_applicable_needs_its_reason_on_the_record() -> None:
    """Layer: an N/A, where a checklist version allows one, is refused without its reason
    (no bundled step allows N/A: an edited opening, adopted, does here)."""
    from safetyapp.domain.checklist import parse_checklist

    text = (Path(__file__).parents[2] / "checklists" / "opening.yaml").read_text()
    text = text.replace(
        "        prompt: >\n          Side hole",
        "        na_allowed: true\n        prompt: >\n          Side hole",
    )
    assert "na_allowed: true" in text
    opening = parse_checklist(text, "opening.yaml")
    world = new_world()
    adopt(world, opening)
    run = str(world.do(engine.start_run, opening).run_id)
    walk(world, run, OPENING_2[:4])
    silent = sign(world, run, "dummies-inert", ARMORER, AD, result="na", na_reason="  ")
    assert not silent.ok and refused_code(world) == "na-reason"
    said = sign(world, run, "dummies-inert", ARMORER, AD, result="na", na_reason="none today")
    assert said.ok and said.events[0]["note"] == "not applicable: none today"


def test_the_firearm_was_pointed_toward_the_camera_crew_during_a_rehearsal() -> None:
    """Layer: the AD's announcement (safe angles, line of fire), rehearsals included."""
    world = new_world()
    open_day(world)
    run = handoff(world, scene="rehearsal")
    walk(world, run, handoff_steps(ACTOR)[:3])
    pointed = sign_step(world, run, "announced", evidence={"line-of-fire-clear": "no"})
    assert pointed.events[0]["result"] == "fail"
    assert world.state.holds[pointed.events[1]["data"]["hold"]].run == run
    blocked = sign_step(world, run, "hand-over")
    assert not blocked.ok and refused_code(world) == "on-hold"
    assert world.state.custody("COLT-1").holder == "armorer"
