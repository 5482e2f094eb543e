"""Issue 14's "done when", as a new user would try it on a real store: a misfire mid-take, the
firearm taken back at once, the run voided, a stop-work hold from a locked-out performer, wrap:
all without a workaround (no faked hand-over and return, no borrowed PIN)."""

from __future__ import annotations

from pathlib import Path

from scenario_support import handoff, open_day, store_world
from support import ACTOR, AD, ARMORER, SUPERVISOR, cred, handoff_steps, walk

from safetyapp.audit.report import build_report, day_records
from safetyapp.domain import engine
from safetyapp.domain import events as ev
from safetyapp.domain.engine import Credential


def test_misfire_take_back_void_locked_out_stop_work_then_wrap(tmp_path: Path) -> None:
    world = store_world(tmp_path)
    open_day(world)
    run = handoff(world, "COLT-1", ACTOR, scene="12A")
    walk(world, run, handoff_steps(ACTOR)[:6])  # mid-take: the performer holds the revolver
    assert world.state.custody("COLT-1").holder == "performer"

    # A misfire: the whole day on hold.
    misfire = world.do(engine.report_incident, cred(ACTOR), "misfire", "click, no bang",
                       firearm="COLT-1")  # fmt: skip
    assert misfire.ok and misfire.hold_id is not None

    # The armorer takes the revolver back at once, hold or not.
    back = world.do(engine.take_back, cred(ARMORER), "COLT-1", "misfire: cleared and secured")
    assert back.ok, back.refused
    assert world.state.custody("COLT-1").describe() == f"with the armorer {ARMORER[0]}"

    # The take is over: the run is voided by the armorer and the safety supervisor.
    void = world.do(engine.void_run, run, [cred(ARMORER), cred(SUPERVISOR)], "scene cut")
    assert void.ok, void.refused

    # The performer, locked out after five wrong PINs, still stops work.
    for _ in range(5):
        world.do(engine.record_custody_break, Credential(ACTOR[0], "0000"), "probe")
    assert world.state.crew[ACTOR[0]].locked_until is not None
    stop = world.do(engine.raise_hold, cred(ACTOR), "I don't trust that revolver today")
    assert stop.ok and stop.hold_id is not None
    assert not world.state.holds[stop.hold_id].verified

    # The holds are answered by the named roles, then the day wraps.
    review = world.do(engine.review_incident, "I0001", [cred(SUPERVISOR), cred(ARMORER), cred(AD)],
                      "cause: dud primer; revolver cleared; fresh meeting before resuming")  # fmt: skip
    assert review.ok, review.refused
    answered = world.do(engine.resolve_hold, stop.hold_id, [cred(SUPERVISOR), cred(ARMORER)],
                        "spoke with Casey; revolver out of use for the day")  # fmt: skip
    assert answered.ok, answered.refused
    wrap = world.do(engine.start_run, world.repo.checklists["wrap"])
    assert wrap.ok, wrap.refused
    walk(
        world,
        str(wrap.run_id),
        [
            ("locked-up", ARMORER, (AD,), {"firearms-locked": "COLT-1, GLOCK-2", "missing": "0"}),
            ("counts-reconciled", ARMORER, (AD,), {"counts": "D-1=36, B-1=24"}),
            ("incidents-reviewed", SUPERVISOR, (), {"open-concerns": "0"}),
        ],
    )
    assert world.kinds()[-1] == ev.DAY_WRAPPED
    assert {world.state.custody(s).holder for s in world.state.firearms} == {"locked"}

    # On the record, in the report: the take-back, the void, the unverified stop.
    state = world.state
    day = state.days[-1]
    records = day_records(state, world.repo.journal.records(), day)
    report = build_report(state, records, world.repo.journal.verify(), day=day,
                          generated_at=world.now)  # fmt: skip
    text = repr(report)
    assert "VOIDED" in text and "scene cut" in text and "TAKEN BACK" in text
    assert "UNVERIFIED" in text and "locked out" in text
