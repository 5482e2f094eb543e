"""Replay (issue 13 item 1): every event is re-checked against the engine's own rules from the
state before it. For each rule, a forged event that breaks only that rule is caught, naming its
seq and the rule; honest records (built through the engine) replay cleanly."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from support import (
    ACTOR,
    ACTOR2,
    AD,
    ARMORER,
    CHECKLISTS,
    SUPERVISOR,
    World,
    cred,
    handoff_steps,
    open_day,
    qualify,
    setup_world,
    sign,
    start,
    walk,
)

from safetyapp.domain import engine
from safetyapp.domain import events as ev
from safetyapp.domain.events import EventKind
from safetyapp.domain.replay import RIDER, RULES, ReplayMismatch, replay
from safetyapp.domain.snapshot import to_view
from safetyapp.store.chain import canonical
from safetyapp.store.journal import Journal
from safetyapp.store.repository import Repository, StoreForged

Forge = Callable[[World], dict[str, Any]]


def test_every_event_kind_has_a_replay_rule() -> None:
    """A new kind fails here until it registers its rule (see safetyapp.domain.replay)."""
    missing = [k for k in EventKind if k not in RULES]
    assert not missing, f"register a replay rule for: {missing}"
    assert RULES[EventKind.SIGNED] is not RIDER and RULES[EventKind.RUN_COMPLETED] is RIDER


def _handoff(world: World, upto: str) -> str:
    """An open day and a handoff run signed honestly up to (not including) step ``upto``."""
    open_day(world)
    run = start(world, "handoff", firearm="COLT-1", performer=ACTOR[0])
    steps = handoff_steps(ACTOR)
    walk(world, run, steps[: [s[0] for s in steps].index(upto)])
    return run


def _signed(world: World, run: str, step: str, by: Any, *wit: Any, **kw: Any) -> dict[str, Any]:
    """The `signed` event the engine would record for this honest attempt (not applied)."""
    decision = engine.sign(
        world.state, run, step, cred(by), world.now, witnesses=[cred(w) for w in wit], **kw
    )
    assert decision.ok, decision.refused
    return copy.deepcopy(decision.events[0])


def _ad_confirms(world: World) -> tuple[str, dict[str, Any]]:
    run = _handoff(world, "ad-confirms")
    evidence = {"chambers-seen": "6", "state-called": "dummies x6"}
    return run, _signed(world, run, "ad-confirms", AD, ARMORER, evidence=evidence)


def forge_wrong_role(world: World) -> dict[str, Any]:
    _, event = _ad_confirms(world)
    event["by"] = ARMORER[0]  # the armorer signs the AD's show-safe
    event["data"]["witnesses"] = [{"name": AD[0], "role": "armorer"}]
    return event


def forge_self_witness(world: World) -> dict[str, Any]:
    _, event = _ad_confirms(world)
    event["data"]["witnesses"] = [{"name": AD[0], "role": "armorer"}]
    return event


def forge_issue_attack(world: World) -> dict[str, Any]:
    _, event = _ad_confirms(world)
    event["by"] = ARMORER[0]
    event["data"]["witnesses"] = [{"name": ARMORER[0], "role": "armorer"}]
    return event


def forge_wrong_witness_role(world: World) -> dict[str, Any]:
    _, event = _ad_confirms(world)
    event["data"]["witnesses"] = [{"name": SUPERVISOR[0], "role": "armorer"}]
    return event


def forge_missing_witness(world: World) -> dict[str, Any]:
    _, event = _ad_confirms(world)
    event["data"]["witnesses"] = []
    return event


def forge_out_of_order(world: World) -> dict[str, Any]:
    _, event = _ad_confirms(world)
    event["step"] = "announced"
    event["data"] |= {"evidence": {"line-of-fire-clear": True}, "witnesses": []}
    return event


def forge_contradicting_pass(world: World) -> dict[str, Any]:
    run = _handoff(world, "rounds-loaded")
    evidence = {"dummies": "6", "blanks": "0", "live-rounds": "0"}
    event = _signed(world, run, "rounds-loaded", ARMORER, AD, evidence=evidence)
    event["data"]["evidence"]["live-rounds"] = 1  # a live round, recorded as a pass
    return event


def forge_separation(world: World) -> dict[str, Any]:
    # Jordan Lee is also crewed as armorer and inspects (Riley Chen, also an AD, witnesses);
    # then Jordan confirms his own inspection as the AD.
    boss = cred(SUPERVISOR)
    assert world.do(engine.grant_role, boss, AD[0], "armorer").ok
    assert world.do(engine.grant_role, boss, ACTOR2[0], "ad").ok
    qualify(world.do, boss, [(AD[0], ["armorer"], "")])
    open_day(world)
    run = start(world, "handoff", firearm="COLT-1", performer=ACTOR[0])
    loaded = {"dummies": "6", "blanks": "0", "live-rounds": "0"}
    inspected = {"serial-in-hand": "COLT-1", "bore-clear": "yes", "chambers-seen": "6",
                 "loads-as-listed": "yes"}  # fmt: skip
    assert sign(world, run, "rounds-loaded", AD, ACTOR2, evidence=loaded).ok
    assert sign(world, run, "inspect", AD, ACTOR2, ACTOR, evidence=inspected).ok
    event = _signed(
        world, run, "ad-confirms", ACTOR2, ARMORER,
        evidence={"chambers-seen": "6", "state-called": "dummies x6"},
    )  # fmt: skip
    event["by"] = AD[0]
    return event


def forge_handoff_no_opening(world: World) -> dict[str, Any]:
    other = setup_world()
    open_day(other)
    decision = engine.start_run(
        other.state, CHECKLISTS["handoff"], world.now, firearm="COLT-1", performer=ACTOR[0]
    )
    assert decision.ok
    event = copy.deepcopy(decision.events[0])
    event["data"]["day"] = 1
    event["run"] = "R0001"
    event["data"]["checklist"] = CHECKLISTS["handoff"].text()
    return event


def forge_sign_during_hold(world: World) -> dict[str, Any]:
    run, event = _ad_confirms(world)
    assert world.do(engine.raise_hold, cred(ACTOR), "the barrel looked odd", run=run).ok
    event["time"] = ev.iso(world.now)
    return event


def forge_hold_resolved_by_one(world: World) -> dict[str, Any]:
    run, _ = _ad_confirms(world)
    assert world.do(engine.raise_hold, cred(ACTOR), "the barrel looked odd", run=run).ok
    hold = world.last(ev.HOLD_RAISED)["data"]["hold"]
    who = [cred(SUPERVISOR), cred(ARMORER)]
    decision = engine.resolve_hold(world.state, hold, who, "re-inspected", world.now)
    assert decision.ok, decision.refused
    event = copy.deepcopy(decision.events[0])
    event["data"]["resolvers"] = event["data"]["resolvers"][:1]
    return event


def forge_crew_by_non_supervisor(world: World) -> dict[str, Any]:
    event = copy.deepcopy(next(e for e in world.log if e["data"].get("name") == ACTOR2[0]))
    event.pop("seq")
    event["data"]["name"] = "Dana Voss"
    event["by"] = ARMORER[0]
    event["time"] = ev.iso(world.now)
    return event


def forge_checkout_no_day(world: World) -> dict[str, Any]:
    return ev.event(
        ev.CUSTODY_CHANGED, world.now, by=ARMORER[0], role="armorer", result="armorer",
        note="needed early", serial="COLT-1", holder="armorer", name=ARMORER[0],
        previous="locked", previous_name=None,
    )  # fmt: skip


def forge_handoff_from_storage(world: World) -> dict[str, Any]:
    open_day(world)
    assert world.do(engine.move_firearms, cred(ARMORER), ["COLT-1"], "locked", "lunch").ok
    return ev.event(
        ev.RUN_STARTED, world.now, run=f"R{len(world.state.runs) + 1:04d}",
        note=CHECKLISTS["handoff"].title, checklist_id="handoff",
        version=CHECKLISTS["handoff"].version, digest=CHECKLISTS["handoff"].digest(), day=1,
        firearm="COLT-1", performer=ACTOR[0], scene=None,
        checklist=CHECKLISTS["handoff"].text(),
    )  # fmt: skip


def forge_run_completed_alone(world: World) -> dict[str, Any]:
    run = _handoff(world, "announced")
    return ev.event(ev.RUN_COMPLETED, world.now, run=run, note="Handoff")


def forge_lockout(world: World) -> dict[str, Any]:
    return ev.event(ev.LOCKOUT, world.now, by=AD[0], note="5 wrong PINs in a row")


def forge_flag_ack_by_non_supervisor(world: World) -> dict[str, Any]:
    open_day(world)
    run = start(world, "handoff", firearm="COLT-1", performer=ACTOR[0])
    return ev.event(
        ev.FLAG_ACKNOWLEDGED, world.now, by=AD[0], role="supervisor", run=run,
        result="acknowledged", note="fine", flag="F0001",
    )  # fmt: skip


def forge_extra_field(world: World) -> dict[str, Any]:
    _, event = _ad_confirms(world)
    event["data"]["approved_by_studio"] = True
    return event


# rule -> forgery breaking only that rule (the seq is the forged event's: the record's last)
FORGERIES: dict[str, tuple[Forge, str]] = {
    "signer's role": (forge_wrong_role, "wrong-role"),
    "the issue's attack (armorer signs the AD's step, witnesses himself)": (
        forge_issue_attack,
        "wrong-role",
    ),
    "a witness is never the signer": (forge_self_witness, "same-person"),
    "witness's role": (forge_wrong_witness_role, "wrong-role"),
    "witness count": (forge_missing_witness, "witnesses"),
    "order": (forge_out_of_order, "out-of-order"),
    "evidence against expect": (forge_contradicting_pass, "evidence-against-expect"),
    "separation of duties": (forge_separation, "separation"),
    "the day's prerequisites": (forge_handoff_no_opening, "no-open-day"),
    "holds block signing": (forge_sign_during_hold, "on-hold"),
    "a hold is resolved by two": (forge_hold_resolved_by_one, "resolvers"),
    "crew changes by a supervisor": (forge_crew_by_non_supervisor, "not-authorised"),
    "custody: storage leaves only on an open day": (forge_checkout_no_day, "no-open-day"),
    "custody: a handoff starts with the armorer": (forge_handoff_from_storage, "custody"),
    "a run completes only with its last step": (forge_run_completed_alone, "not-a-decision"),
    "a lockout only after wrong PINs": (forge_lockout, "not-a-decision"),
    "flags are acknowledged by a supervisor": (forge_flag_ack_by_non_supervisor, "no-flag"),
    "nothing the engine never writes": (forge_extra_field, "field"),
}


def _forged_log(forge: Forge) -> tuple[list[dict[str, Any]], int]:
    world = setup_world()
    world.tick(5)
    forged = forge(world)
    log = [{k: v for k, v in e.items() if k != "seq"} for e in world.log]
    log.append({k: v for k, v in forged.items() if k != "seq"})
    return log, len(log)


def _numbered(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**e, "seq": n, "prev_hash": "0" * 64, "hash": "0" * 64} for n, e in enumerate(log, 1)]


def test_honest_prefixes_of_the_forgeries_replay() -> None:
    for forge, _ in FORGERIES.values():
        log, _ = _forged_log(forge)
        replay(_numbered(log[:-1]))


@pytest.mark.parametrize("name", list(FORGERIES))
def test_forgery_breaking_one_rule_is_caught(name: str) -> None:
    forge, rule = FORGERIES[name]
    log, seq = _forged_log(forge)
    with pytest.raises(ReplayMismatch) as caught:
        replay(_numbered(log))
    assert caught.value.seq == seq, caught.value
    assert caught.value.rule.startswith(rule), caught.value


def test_run_of_a_checklist_with_a_layer_removed_is_caught() -> None:
    world = setup_world()
    open_day(world)
    text = CHECKLISTS["handoff"].text()
    text["layers"] = [layer for layer in text["layers"] if layer["id"] != "show-safe"]
    from safetyapp.domain.checklist import digest_of

    forged = ev.event(
        ev.RUN_STARTED, world.now, run="R0002", note=text["title"], checklist_id="handoff",
        version=text["version"], digest=digest_of(text), day=1, firearm="COLT-1",
        performer=ACTOR[0], scene=None, checklist=text,
    )  # fmt: skip
    log = [{k: v for k, v in e.items() if k != "seq"} for e in world.log] + [forged]
    with pytest.raises(ReplayMismatch):
        replay(_numbered(log))


def test_a_forged_adoption_is_caught() -> None:
    """A weakened checklist put on the record as adopted: a founding adoption after the
    founding, or one adopted by one person in both roles; each is caught by replay."""
    from safetyapp.domain.engine.checklists import adoption_event
    from safetyapp.domain.state import checklist_from_record

    world = setup_world()
    text = CHECKLISTS["handoff"].text()
    text["layers"] = [layer for layer in text["layers"] if layer["id"] != "show-safe"]
    text["version"] = 99
    weak = checklist_from_record(text)
    boss = {"name": SUPERVISOR[0], "role": "supervisor"}
    late_founding = adoption_event(weak, [boss], world.now, founding=True)
    twice = adoption_event(weak, [boss, {"name": SUPERVISOR[0], "role": "armorer"}], world.now)
    base = [{k: v for k, v in e.items() if k != "seq"} for e in world.log]
    for forged in (late_founding, twice):
        with pytest.raises(ReplayMismatch) as caught:
            replay(_numbered([*base, forged]))
        assert caught.value.seq == len(base) + 1, caught.value


# -- the store: verify, open, salvage --------------------------------------------------------


def _store(tmp_path: Path, log: list[dict[str, Any]]) -> Path:
    db = tmp_path / "record.jsonl"
    Journal.create(db, log)
    return db


def test_forged_store_is_damaged_for_every_reader(tmp_path: Path) -> None:
    log, seq = _forged_log(forge_issue_attack)
    db = _store(tmp_path, log)
    before = db.read_bytes()
    with pytest.raises(StoreForged) as caught:
        Repository.open(db, CHECKLISTS)
    assert caught.value.seq == seq and caught.value.rule == "wrong-role"
    from safetyapp.store.repository import verify_replayed

    result = verify_replayed(Journal.open(db))
    assert not result.ok and result.first_bad_seq == seq and result.count == seq - 1
    assert "wrong-role" in (result.problem or "")
    assert db.read_bytes() == before


def test_salvage_cuts_before_the_forged_event(tmp_path: Path) -> None:
    from safetyapp.store.salvage import salvage

    log, seq = _forged_log(forge_wrong_role)
    db = _store(tmp_path, log)
    result = salvage(db, tmp_path / "saved.jsonl")
    assert result.kept == seq - 1 and result.first_bad_line == seq, result
    assert Repository.open(tmp_path / "saved.jsonl", CHECKLISTS).state.last_seq == seq - 1


def test_snapshot_is_not_written_from_a_damaged_fold(tmp_path: Path) -> None:
    log, _ = _forged_log(forge_issue_attack)
    db = _store(tmp_path, log[:-1])
    repo = Repository.open(db, CHECKLISTS)
    # Another process (or a hand) appends the forged event: the next catch-up finds it.
    Journal.open(db).append(log[-1:])
    with pytest.raises(StoreForged):
        repo.refresh()
    assert not repo.save_snapshot()
    with pytest.raises(StoreForged):
        repo.execute(lambda state, now: engine.Decision([]))


# -- honest random days replay cleanly -------------------------------------------------------

_ACTIONS = st.lists(
    st.tuples(st.integers(0, 9), st.integers(0, 4), st.integers(0, 3)), min_size=1, max_size=40
)


def _honest_day(world: World, actions: list[tuple[int, int, int]]) -> None:
    """A day built through the engine from random choices: right and wrong signers, failing
    evidence, n/a, holds and their resolution, breaks, lock-ups; refusals included."""
    people = [ARMORER, AD, ACTOR, ACTOR2, SUPERVISOR]
    run = open_day(world)
    handoff: str | None = None
    for what, who, extra in actions:
        world.tick(extra * 7)
        state = world.state
        if handoff is None or state.runs[handoff].completed_at is not None:
            d = world.do(engine.start_run, CHECKLISTS["handoff"], firearm=["COLT-1", "GLOCK-2"][extra % 2], performer=ACTOR[0])  # fmt: skip
            handoff = d.run_id if d.ok else None
            continue
        r = state.runs[handoff]
        nxt = r.next_step()
        plan = {s[0]: s for s in handoff_steps(ACTOR, 6 if r.firearm == "COLT-1" else 15)}
        if what <= 5 and nxt is not None:
            step, by, wit, evidence = plan[nxt.id]
            evidence = dict(evidence)
            if what == 1 and evidence:
                key = next(iter(evidence))
                evidence[key] = {"yes": "no", "0": "1"}.get(evidence[key], "1")
            if what == 2:
                by = people[who]
            sign(world, handoff, step, by, *wit, evidence=evidence)
        elif what == 6:
            world.do(engine.raise_hold, cred(people[who]), "stop", run=handoff)
        elif what == 7:
            for hold in state.open_holds():
                world.do(engine.resolve_hold, hold.id, [cred(SUPERVISOR), cred(ARMORER)], "fixed")
        elif what == 8:
            world.do(engine.record_custody_break, cred(people[who]), "left on a cart")
        else:
            world.do(engine.move_firearms, cred(ARMORER), ["GLOCK-2"], ["locked", "armorer"][extra % 2], "lunch")  # fmt: skip
    assert run


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)  # fmt: skip
@given(_ACTIONS)
def test_honest_random_days_replay_cleanly(actions: list[tuple[int, int, int]]) -> None:
    world = setup_world()
    _honest_day(world, actions)
    log = _numbered([{k: v for k, v in e.items() if k != "seq"} for e in world.log])
    replayed = replay(log)
    fake = '"' + "0" * 64 + '"'  # the test's log carries no hashes
    got = canonical(to_view(replayed)).replace(fake, "null").replace('"head_hash":null', "")
    want = canonical(to_view(world.state)).replace('"head_hash":""', "")
    assert got == want


def _forged_store_with_checkpoint(tmp_path: Path) -> tuple[Path, int]:
    """A forged event (hash-valid) in the part before a sealed checkpoint, the checkpoint
    folded from it without replay: what someone with the key file (or an older version) could
    leave. Its seal and prefix digest are genuine, so the app starts from it."""
    from safetyapp.domain.snapshot import to_checkpoint
    from safetyapp.domain.state import State
    from safetyapp.store.snapshot import write_snapshot

    log, seq = _forged_log(forge_issue_attack)
    db = _store(tmp_path, log)
    journal = Journal.open(db)
    state = State()
    for record in journal.records():
        state.apply(record)  # no replay: the forgery folds like any event
    assert write_snapshot(db, journal.mark(), to_checkpoint(state))
    return db, seq


@pytest.mark.parametrize("child", [False, True])
def test_a_forged_event_before_the_checkpoint_is_found_by_the_background_check(
    tmp_path: Path, child: bool
) -> None:
    db, seq = _forged_store_with_checkpoint(tmp_path)
    before = db.read_bytes()
    repo = Repository.open_quick(db, CHECKLISTS)
    assert repo.loading and repo.journal.partial  # started from the checkpoint
    if child:
        repo.check_in_child()  # the app's: the streamed fold in a child process replays too
    else:
        repo.load_rest()
    with pytest.raises(StoreForged) as caught:
        repo.ensure_loaded()
    assert caught.value.seq == seq and caught.value.rule == "wrong-role"
    with pytest.raises(StoreForged):  # damaged for good: nothing is written
        repo.do(engine.raise_hold, cred(SUPERVISOR), "after the forgery")
    assert not repo.save_snapshot()
    assert db.read_bytes() == before
    with pytest.raises(StoreForged):  # and the full fold says the same
        _ = repo.full_state


def test_verify_finds_a_forged_event_before_a_checkpoint(tmp_path: Path) -> None:
    from safetyapp.store.repository import check_checkpoint
    from safetyapp.store.snapshot import read_saved

    db, seq = _forged_store_with_checkpoint(tmp_path)
    saved = read_saved(db)
    assert saved is not None and saved.sealed
    with pytest.raises(StoreForged) as caught:
        check_checkpoint(db, saved)
    assert caught.value.seq == seq


def test_the_last_safety_meeting_is_known_after_a_checkpoint() -> None:
    """The handoff's safety-meeting check reads the last meeting's time from the fold's index;
    a state restored from a checkpoint has the same (it is rebuilt from the runs)."""
    from safetyapp.domain.snapshot import from_checkpoint, to_checkpoint

    world = setup_world()
    assert world.state.last_meeting_at == ""
    opening = open_day(world)
    done = world.state.runs[opening].completed_at
    assert done is not None and world.state.last_meeting_at == done
    restored, _ = from_checkpoint(to_checkpoint(world.state))
    assert restored.last_meeting_at == done
