"""Runs: starting a checklist run and signing its steps (order, people, freshness)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from safetyapp.domain import clock
from safetyapp.domain import events as ev
from safetyapp.domain import names as naming
from safetyapp.domain.checklist import Checklist, Evidence, Step
from safetyapp.domain.engine.checklists import check_adopted
from safetyapp.domain.engine.common import (
    Credential,
    Decision,
    Result,
    _authenticate,
    _check_no_open_flag,
    _check_with_armorer,
    _hold_event,
    _Refusal,
    _refuse,
    _title,
    local_date,
)
from safetyapp.domain.engine.custody import _check_custody, _custody_events
from safetyapp.domain.engine.judging import _check_evidence, _findings_events, _judge
from safetyapp.domain.incidents import INCIDENT_TITLES, MEETING_AFTER_KINDS
from safetyapp.domain.qualifications import licence_problem, training_problem
from safetyapp.domain.roles import FIREARMS_ROLES
from safetyapp.domain.state import CrewMember, Run, State


def start_run(
    state: State,
    checklist: Checklist,
    now: datetime,
    *,
    firearm: str | None = None,
    performer: str | None = None,
    scene: str | None = None,
) -> Decision:
    """Start a run of an adopted checklist version (see ``engine.checklists``) for a context.
    The pre-production gate's runs are numbered apart (G0001, ...): the days' runs keep theirs."""
    prep = checklist.scope == "prep"
    if prep:
        run_id = f"G{state.gate_runs + 1:04d}"
    else:
        run_id = f"R{len(state.runs) - state.gate_runs + 1:04d}"
    try:
        check_adopted(state, checklist)
        _check_can_start(state, checklist, firearm, performer)
        if checklist.scope == "handoff":
            _check_meeting(state, now)
    except _Refusal as refusal:
        return _refuse(refusal, now, run=None, action=f"start {checklist.id}")
    day = None if prep else state.day.number if state.day else len(state.days) + 1
    # The version's full text is on the record in its `checklist-adopted` event; the run names it.
    data: dict[str, Any] = {
        "checklist_id": checklist.id,
        "version": checklist.version,
        "digest": checklist.digest(),
        "day": day,
        "firearm": firearm,
        "performer": performer,
        "scene": scene,
    }
    return Decision([ev.event(ev.RUN_STARTED, now, run=run_id, note=checklist.title, **data)])


def _check_can_start(
    state: State, checklist: Checklist, firearm: str | None, performer: str | None
) -> None:
    day_holds = [h for h in state.open_holds() if h.run is None]
    if day_holds:
        h = day_holds[0]
        raise _Refusal(f"the day is on HOLD ({h.id}: {h.reason}); resolve it first", "on-hold")
    scope = checklist.scope
    if scope == "prep":
        for run in state.open_runs():
            if run.checklist.scope == "prep":
                raise _Refusal(f"gate run {run.id} is already in progress", "duplicate-run")
        return
    if scope == "opening":
        gate = state.gate
        if not gate.complete:
            raise _Refusal(
                f"no opening before the pre-production gate is complete: {gate.reason}"
                " (the safety supervisor walks it: `run start prep`)",
                "no-gate",
            )
        if state.day is not None:
            raise _Refusal(f"day {state.day.number} is already open; wrap it first", "day-open")
        for run in state.open_runs():
            if run.checklist.scope == "opening":
                raise _Refusal(f"opening run {run.id} is already in progress", "duplicate-run")
        return
    if scope in ("handoff", "wrap", "meeting") and state.day is None:
        raise _Refusal(
            "no open day: complete the opening checklist (safety meeting, ammunition check) first",
            "no-open-day",
        )
    if scope == "wrap":
        for run in state.open_runs():
            if run.checklist.scope == "wrap":  # one wrap counts the day's lots, not two
                raise _Refusal(f"wrap run {run.id} is already in progress", "duplicate-run")
        unfinished = [r.id for r in state.open_runs() if r.checklist.scope == "handoff"]
        if unfinished:
            runs = ", ".join(unfinished)
            raise _Refusal(f"handoff runs still open: {runs}; finish them before wrap", "runs-open")
        out = [
            f"{serial} is {state.custody(serial).describe()}"
            for serial in state.firearms
            if state.custody(serial).holder in ("performer", "unaccounted")
        ]
        if out:
            raise _Refusal(
                f"wrap refused: {'; '.join(out)}; every firearm comes back to the armorer first",
                "custody-out",
            )
    if scope == "handoff":
        _check_gate_covers(state, firearm)
        _check_handoff_context(state, firearm, performer)
        _check_no_open_flag(state)
        for run in state.open_runs():
            if run.checklist.scope == "wrap":
                raise _Refusal(f"wrap run {run.id} is in progress: no more handoffs", "wrapping")
        assert firearm is not None
        _check_with_armorer(state, firearm)


def _check_meeting(state: State, now: datetime) -> None:
    """A safety meeting per shooting day, by the production's local calendar date; and after a
    misfire, discharge or live round, a fresh one once its review is signed."""
    day = state.day
    assert day is not None
    opened, today = local_date(state, ev.parse_time(day.opened_at)), local_date(state, now)
    if opened != today:
        raise _Refusal(
            f"day {day.number}'s safety meeting was on {opened} ({state.timezone}); today is"
            f" {today}: a safety meeting every shooting day. Wrap day {day.number} and open"
            " today with its meeting",
            "no-meeting-today",
        )
    last = state.last_meeting_at
    for incident in state.incidents.values():
        reviewed = incident.reviewed_at or ""
        if incident.kind in MEETING_AFTER_KINDS and reviewed > last:
            raise _Refusal(
                f"{INCIDENT_TITLES[incident.kind]} {incident.id} was reviewed at"
                f" {clock.shown(reviewed, state.timezone)}: firearm work resumes after a fresh safety"
                " meeting (`run start meeting`, signed by the AD and the armorer)",
                "meeting-needed",
            )


def _check_handoff_context(state: State, firearm: str | None, performer: str | None) -> None:
    if not firearm or firearm not in state.firearms:
        known = ", ".join(state.firearms) or "none yet"
        raise _Refusal(
            f"a handoff names a firearm from the inventory (known: {known})", "no-firearm"
        )
    if not performer or performer not in state.crew:
        raise _Refusal("a handoff names the performer, a crew member", "no-performer")
    if "actor" not in state.crew[performer].roles:
        raise _Refusal(f"{performer} is not crewed as a performer", "not-performer")
    for run in state.open_runs():
        if run.firearm == firearm:
            raise _Refusal(f"firearm {firearm} is already in open run {run.id}", "duplicate-run")


def sign(
    state: State,
    run_id: str,
    step_id: str,
    signer: Credential,
    now: datetime,
    *,
    witnesses: list[Credential] | None = None,
    result: Result = "pass",
    evidence: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    note: str = "",
    na_reason: str = "",
) -> Decision:
    """Sign one step of a run, enforcing order, role, separation, evidence and freshness.
    `evidence` as entered: a mapping, or (key, value) pairs in the order given (a key given
    twice is refused)."""
    witnesses = witnesses or []
    context: dict[str, Any] = {"run": run_id, "step": step_id, "by": signer.name}
    try:
        run = state.runs.get(run_id)
        if run is None:
            raise _Refusal(f"no run {run_id}; {_run_hint(state, run_id)}", "no-run")
        step = run.checklist.step(step_id)
        if step is None:
            steps = [s.id for _, s in run.checklist.steps()]
            hint = naming.suggest(step_id, steps, f"steps of {run_id}")
            raise _Refusal(f"run {run_id} has no step '{step_id}'; {hint}", "no-step")
        context["role"] = step.role
        for cred in [signer, *witnesses]:
            _authenticate(state, cred, now)
        _check_open(state, run, step, now)
        _check_people(state, run, step, signer, witnesses)
        _check_qualified(state, run, step, signer, witnesses, now)
        values = _check_evidence(state, run, step, evidence or {}, result, now)
        _check_custody(state, run, step, signer, values)
        final, why, findings = _judge(state, run, step, result, values, note, na_reason, now)
    except _Refusal as refusal:
        return _refuse(refusal, now, action="sign", **context)
    witness_list = [{"name": w.name, "role": step.witnesses[i]} for i, w in enumerate(witnesses)]
    layer = run.layer_of(step.id)
    signed = ev.event(
        ev.SIGNED,
        now,
        by=signer.name,
        role=step.role,
        run=run.id,
        step=step.id,
        result=final,
        note=note if not why else (f"{why}; {note}" if note else why),
        layer=layer.id,
        attests=step.attests,
        witnesses=witness_list,
        evidence=values,
    )
    if final == "pass" and step.acknowledges:
        signed["data"]["read_out"] = [i.id for i in state.to_read_out(step.acknowledges)]
    out = [signed]
    if final == "fail":
        reason = f"{step.title} failed ({layer.title}): {why or note or 'marked failed'}"
        out.append(_hold_event(state, now, reason, cause="step-failed", run=run.id, by=signer.name))
        out[-1]["data"]["layer"] = _reopens(run, step, layer.id, findings)
        out[-1]["step"] = step.id
    held = sum(1 for e in out if e["kind"] == ev.HOLD_RAISED)
    out.extend(_findings_events(state, run, step, signer.name, findings, now, held))
    out.extend(_custody_events(state, run, step, signer.name, final, values, now))
    if final != "fail" and _is_last(run, step):
        out.extend(_completion(state, run, now))
    return Decision(out)


def _reopens(run: Run, step: Step, layer_id: str, findings: list[tuple[Evidence, str]]) -> str:
    """The layer a failed step's run is signed again from once its hold is resolved: the
    earliest layer its failing evidence reaches (`reopens:`), else the step's own layer."""
    reach = {spec.reopens for spec, _ in findings if spec.reopens is not None}
    for layer in run.checklist.layers:
        if layer.id in reach or layer.id == layer_id:
            return layer.id
    return layer_id


def _is_last(run: Run, step: Step) -> bool:
    return run.checklist.steps()[-1][1].id == step.id


def _completion(state: State, run: Run, now: datetime) -> list[dict[str, Any]]:
    out = [ev.event(ev.RUN_COMPLETED, now, run=run.id, note=run.checklist.title)]
    if run.checklist.scope == "opening":
        out.append(ev.event(ev.DAY_OPENED, now, run=run.id, day=len(state.days) + 1))
    elif run.checklist.scope == "wrap" and state.day is not None:
        out.append(ev.event(ev.DAY_WRAPPED, now, run=run.id, day=state.day.number))
    return out


def _run_hint(state: State, typed: str) -> str:
    """ "did you mean" for a mistyped run id: among the open runs, else every run."""
    pool = [r.id for r in state.open_runs()] or list(state.runs)
    return naming.suggest(typed, pool, "open runs" if state.open_runs() else "runs")


def _check_open(state: State, run: Run, step: Step, now: datetime) -> None:
    if run.voided_at is not None:
        raise _Refusal(f"run {run.id} was voided ({run.void_reason})", "voided")
    if run.completed_at is not None:
        raise _Refusal(f"run {run.id} is already complete", "complete")
    blocking = state.holds_blocking(run.id)
    if blocking:
        h = blocking[0]
        raise _Refusal(f"run {run.id} is on HOLD ({h.id}: {h.reason}); resolve it first", "on-hold")
    # The return step relies on no earlier verification: the firearm is coming back.
    stale = None if step.custody == "to-armorer" else stale_layer(state, run, now)
    if stale is not None:
        layer_id, reason = stale
        stale_event = ev.event(ev.LAYER_STALE, now, run=run.id, note=reason, layer=layer_id)
        raise _Refusal(reason, "stale", [stale_event])
    if step.id in run.signoffs:
        raise _Refusal(f"step '{step.id}' is already signed in run {run.id}", "already-signed")
    nxt = run.next_step()
    if nxt is None or nxt.id != step.id:
        assert nxt is not None
        raise _Refusal(
            f"out of order: '{step.id}' is locked; '{nxt.id}' ({nxt.title}) must be signed first",
            "out-of-order",
        )


def _handed_over(state: State, run: Run) -> bool:
    """True while this run's firearm is with its performer after a passed hand-over: its
    verifications are spent. Once the firearm is taken back, they are stale again (its custody
    changed): a new hand-over in the run restarts from the ammunition check."""
    if run.firearm is None:
        return False
    custody = state.custody(run.firearm)
    if custody.holder != "performer" or custody.run != run.id:
        return False
    for signoff in run.history:
        step = run.checklist.step(signoff.step)
        if step is not None and step.custody == "to-performer" and signoff.result == "pass":
            return True
    return False


def stale_layer(state: State, run: Run, now: datetime) -> tuple[str, str] | None:
    """The first layer whose verification is no longer valid, with the reason: custody of the
    run's firearm changed (or was broken) after it was signed, or its time limit passed.
    Once the firearm has been handed over, the verifications have done their job. The walk and
    the board show this before anyone signs (STALE); signing then records the `layer-stale`."""
    if run.closed or _handed_over(state, run):
        return None
    firearm_mark = state.last_custody_mark(run.firearm) if run.firearm else None
    ammo_mark = state.ammo_marks[-1] if state.ammo_marks else None
    for layer, step in run.checklist.steps():
        done = run.signoffs.get(step.id)
        if done is None or step.valid_minutes is None:
            continue
        if layer.ammunition and ammo_mark is not None and done.seq < ammo_mark.seq:
            at = ammo_mark.time[11:16]
            reason = (
                f"the ammunition was out of the armorer's sight at {at} UTC ({ammo_mark.reason})"
                f" after '{step.title}' was verified: layer '{layer.title}' must be re-verified"
                " from its first step"
            )
            return layer.id, reason
        mark = firearm_mark
        if mark is not None and done.seq < mark.seq:
            at = mark.time[11:16]
            reason = (
                f"custody of {run.firearm} changed or was broken at {at} UTC ({mark.reason}) after"
                f" '{step.title}' was verified: layer '{layer.title}' must be re-verified from"
                " its first step"
            )
            return layer.id, reason
        age = now - ev.parse_time(done.time)
        if age > timedelta(minutes=step.valid_minutes):
            minutes = int(age.total_seconds() // 60)
            reason = (
                f"'{step.title}' was verified {minutes} min ago, over its {step.valid_minutes} min"
                f" limit: layer '{layer.title}' must be re-verified from its first step"
            )
            return layer.id, reason
    return None


def _check_gate_covers(state: State, firearm: str | None) -> None:
    """A handoff only of a firearm of a kind the last pre-production gate covered: a kind added
    since (the plan changed) waits for the gate to be walked again, even mid-day. A new armorer
    is held at each armorer step by the licence and training rules instead."""
    known = state.firearms.get(firearm or "")
    done = state.gate_done
    if known is None or (done is not None and known.kind in done.kinds):
        return
    why = state.gate.reason if done is not None else "the pre-production gate was never completed"
    raise _Refusal(
        f"no handoff of {known.serial} ({known.kind}): {why}"
        " (the safety supervisor walks the gate again: `run start prep`)",
        "no-gate",
    )


def _check_qualified(
    state: State,
    run: Run,
    step: Step,
    signer: Credential,
    witnesses: list[Credential],
    now: datetime,
) -> None:
    """Qualifications on file: an armorer step is signed only with an armorer licence in date
    on the day; everyone signing or witnessing in a firearms role (armorer, 1st AD, performer)
    has firearms-safety training on file; a performer without recorded training never receives
    a firearm. The return step is exempt: taking the gun back is never blocked."""
    day = local_date(state, now)
    member = state.crew[signer.name]
    returning = step.custody == "to-armorer"
    armorer_step = step.role == "armorer" and not returning
    if armorer_step and (why := licence_problem(member, day)):
        raise _Refusal(
            f"{why}: an armorer step is signed only with a licence in date"
            " (a safety supervisor enters it with `crew licence`)",
            "no-licence",
        )
    people = [
        (signer.name, step.role),
        *zip((w.name for w in witnesses), step.witnesses, strict=True),
    ]
    for name, role in people:
        person = state.crew[name]
        if role in FIREARMS_ROLES and not returning and (why := training_problem(person, day)):
            raise _Refusal(
                f"{why}: a {_title(role)} signs or witnesses only with firearms-safety training"
                " on file (a safety supervisor enters it with `crew train`)",
                "no-training",
            )
    performer = state.crew.get(run.performer or "")
    receives = step.custody == "to-performer" and performer is not None
    if receives and performer is not None and (why := training_problem(performer, day)):
        raise _Refusal(
            f"{why}: a performer receives a firearm only with training on file"
            " (a safety supervisor enters it with `crew train`)",
            "no-training",
        )


def _check_people(
    state: State, run: Run, step: Step, signer: Credential, witnesses: list[Credential]
) -> None:
    member = state.crew[signer.name]
    if step.role not in member.roles:
        raise _Refusal(
            f"{signer.name} is not crewed as {_title(step.role)}; this step is signed by the"
            f" {_title(step.role)}",
            "wrong-role",
        )
    if len(witnesses) != len(step.witnesses):
        need = ", ".join(_title(r) for r in step.witnesses) or "none"
        raise _Refusal(
            f"this step needs {len(step.witnesses)} witness(es) ({need}), got {len(witnesses)}",
            "witnesses",
        )
    names = [signer.name, *[w.name for w in witnesses]]
    if len(set(names)) != len(names):
        raise _Refusal(
            "the same person appears twice: a witness is never the signer", "same-person"
        )
    for cred, role in zip(witnesses, step.witnesses, strict=True):
        if role not in state.crew[cred.name].roles:
            raise _Refusal(f"witness {cred.name} is not crewed as {_title(role)}", "wrong-role")
    for name, role in [(signer.name, step.role), *zip(names[1:], step.witnesses, strict=True)]:
        before = run.roles_by_person.get(name)
        if before is not None and before != role:
            raise _Refusal(
                f"{name} already acted as {_title(before)} in run {run.id}; one person cannot"
                f" also act as {_title(role)} in the same run",
                "separation",
            )
    if run.performer is not None:
        for name, role in [(signer.name, step.role), *zip(names[1:], step.witnesses, strict=True)]:
            if role == "actor" and name != run.performer:
                raise _Refusal(
                    f"this run is for performer {run.performer}; {name} cannot act as the"
                    " performer in it",
                    "not-the-performer",
                )
    for other in step.distinct_from:
        done = run.signoffs.get(other)
        if done is not None and done.by == signer.name:
            raise _Refusal(
                f"{signer.name} signed '{other}'; '{step.id}' must be signed by someone else",
                "separation",
            )


def void_run(
    state: State, run_id: str, signers: list[Credential], reason: str, now: datetime
) -> Decision:
    """Void a started run that will not be finished (a misfire, a change of plan): the armorer
    and a safety supervisor, two different people, each with their own PIN, and a reason. On
    the record, the audit and the report; a voided run no longer blocks wrap and nothing more
    is signed in it. It moves no firearm: custody follows the real gun (`take_back`)."""
    run = state.runs.get(run_id)
    by = signers[0].name if signers else None
    try:
        if run is None:
            raise _Refusal(f"no run {run_id}; {_run_hint(state, run_id)}", "no-run")
        if run.voided_at is not None:
            raise _Refusal(f"run {run_id} was already voided", "voided")
        if run.completed_at is not None:
            raise _Refusal(f"run {run_id} is complete: a complete run is not voided", "complete")
        if not reason.strip():
            raise _Refusal("voiding a run needs a reason", "no-reason")
        names = [c.name for c in signers]
        if len(signers) != 2 or len(set(names)) != 2:
            raise _Refusal(
                "a run is voided by the armorer and a safety supervisor: two different people",
                "signers",
            )
        members = [_authenticate(state, cred, now) for cred in signers]
        assigned = _void_roles(members)
    except _Refusal as refusal:
        return _refuse(refusal, now, by=by, run=run_id, action=f"void {run_id}")
    assert run is not None
    voided = ev.event(
        ev.RUN_VOIDED, now, by=assigned[0]["name"], role=assigned[0]["role"], run=run.id,
        result="void", note=reason.strip(), signers=assigned,
    )  # fmt: skip
    return Decision([voided])


def _void_roles(members: list[CrewMember]) -> list[dict[str, str]]:
    first, second = members
    for a, b in ((first, second), (second, first)):
        if "armorer" in a.roles and "supervisor" in b.roles:
            return [{"name": a.name, "role": "armorer"}, {"name": b.name, "role": "supervisor"}]
    raise _Refusal(
        f"a run is voided by the armorer and a safety supervisor: {first.name} and {second.name}"
        " are not one of each",
        "signers",
    )
