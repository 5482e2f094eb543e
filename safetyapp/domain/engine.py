"""The layered-check engine: pure rules from (state, command, now) to events.

Every function returns a Decision: the events to append and, when the attempt is refused, the
reason. Refusals are events too, so every attempt is on the record. No IO, no clock reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from safetyapp.domain import events as ev
from safetyapp.domain.auth import MAX_FAILURES, check_pin
from safetyapp.domain.checklist import Checklist, Evidence, Step
from safetyapp.domain.roles import ROLE_TITLES, ROLES
from safetyapp.domain.state import CrewMember, Run, State

Result = Literal["pass", "fail", "na"]
AMMO_TYPES = ("dummy", "blank")
FIREARM_KINDS = ("blank-firing", "non-firing", "rubber", "airsoft")


@dataclass(frozen=True)
class Credential:
    """A person identifying themselves with their own PIN."""

    name: str
    pin: str = field(repr=False)


@dataclass(frozen=True)
class Decision:
    events: list[dict[str, Any]]
    refused: str | None = None

    @property
    def ok(self) -> bool:
        return self.refused is None


class _Refusal(Exception):
    def __init__(
        self,
        reason: str,
        code: str,
        events: list[dict[str, Any]] | None = None,
        person: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason, self.code, self.extra, self.person = reason, code, events or [], person


def _title(role: str) -> str:
    return ROLE_TITLES.get(role, role)


# -- setup ------------------------------------------------------------------------------------


def create_production(state: State, name: str, now: datetime) -> Decision:
    name = name.strip()
    if not name:
        return Decision([], "a production needs a name")
    if state.production is not None:
        return Decision([], f"this store already holds production '{state.production}'")
    return Decision([ev.event(ev.PRODUCTION_CREATED, now, name=name)])


def add_crew(
    state: State, name: str, roles: list[str], pin: dict[str, Any], now: datetime
) -> Decision:
    name = name.strip()
    if not name:
        return Decision([], "a crew member needs a name")
    if name in state.crew:
        return Decision([], f"there is already a crew member named '{name}'")
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        return Decision([], f"roles must be among: {', '.join(ROLES)}")
    roles = list(dict.fromkeys(roles))
    return Decision([ev.event(ev.CREW_ADDED, now, name=name, roles=roles, pin=pin)])


def set_pin(
    state: State, name: str, authoriser: Credential, pin: dict[str, Any], now: datetime
) -> Decision:
    """A PIN is changed by its owner (with the old PIN) or reset by a supervisor."""
    if name not in state.crew:
        return Decision([], f"no crew member named '{name}'")
    try:
        member = _authenticate(state, authoriser, now)
        if member.name != name and "supervisor" not in member.roles:
            raise _Refusal(
                f"only {name} or a safety supervisor may set {name}'s PIN", "not-authorised"
            )
    except _Refusal as refusal:
        return _refuse(refusal, now, by=authoriser.name, action="set-pin")
    return Decision([ev.event(ev.CREW_PIN_SET, now, by=authoriser.name, name=name, pin=pin)])


def add_firearm(
    state: State, serial: str, description: str, kind: str, chambers: int | None, now: datetime
) -> Decision:
    serial = serial.strip()
    if not serial:
        return Decision([], "a firearm needs a serial number")
    if serial in state.firearms:
        return Decision([], f"firearm {serial} is already in the inventory")
    if kind not in FIREARM_KINDS:
        return Decision([], f"kind must be one of: {', '.join(FIREARM_KINDS)}")
    if chambers is not None and chambers < 1:
        return Decision([], "chambers must be at least 1")
    data: dict[str, Any] = {
        "serial": serial,
        "description": description,
        "kind": kind,
        "chambers": chambers,
    }
    return Decision([ev.event(ev.FIREARM_ADDED, now, **data)])


def add_ammo(
    state: State, lot: str, ammo_type: str, count: int, source: str, now: datetime
) -> Decision:
    """Declare an ammunition lot. Live ammunition is never a valid lot: refused and held."""
    lot = lot.strip()
    if ammo_type == "live":
        reason = f"live ammunition declared (lot {lot}): live rounds never come onto a set"
        refusal = ev.event(
            ev.REFUSED, now, result="refused", note=reason, code="live-ammunition", lot=lot
        )
        hold = _hold_event(state, now, reason, cause="live-ammunition", run=None, by=None)
        return Decision([refusal, hold], reason)
    if not lot:
        return Decision([], "a lot needs an id")
    if lot in state.lots:
        return Decision([], f"lot {lot} is already declared")
    if ammo_type not in AMMO_TYPES:
        return Decision([], f"ammunition type must be one of: {', '.join(AMMO_TYPES)}")
    if count < 0:
        return Decision([], "count cannot be negative")
    data: dict[str, Any] = {"lot": lot, "type": ammo_type, "count": count, "source": source}
    return Decision([ev.event(ev.AMMO_ADDED, now, **data)])


# -- runs -------------------------------------------------------------------------------------


def start_run(
    state: State,
    checklist: Checklist,
    now: datetime,
    *,
    firearm: str | None = None,
    performer: str | None = None,
    scene: str | None = None,
) -> Decision:
    run_id = f"R{len(state.runs) + 1:04d}"
    try:
        _check_can_start(state, checklist, firearm, performer)
    except _Refusal as refusal:
        return _refuse(refusal, now, run=None, action=f"start {checklist.id}")
    day = state.day.number if state.day else len(state.days) + 1
    data: dict[str, Any] = {
        "checklist_id": checklist.id,
        "version": checklist.version,
        "digest": checklist.digest(),
        "checklist": checklist.model_dump(mode="json"),
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
    if scope == "opening":
        if state.day is not None:
            raise _Refusal(f"day {state.day.number} is already open; wrap it first", "day-open")
        for run in state.open_runs():
            if run.checklist.scope == "opening":
                raise _Refusal(f"opening run {run.id} is already in progress", "duplicate-run")
        return
    if scope in ("handoff", "wrap") and state.day is None:
        raise _Refusal(
            "no open day: complete the opening checklist (safety meeting, ammunition check) first",
            "no-open-day",
        )
    if scope == "wrap":
        unfinished = [r.id for r in state.open_runs() if r.checklist.scope == "handoff"]
        if unfinished:
            runs = ", ".join(unfinished)
            raise _Refusal(f"handoff runs still open: {runs}; finish them before wrap", "runs-open")
    if scope == "handoff":
        _check_handoff_context(state, firearm, performer)


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
    evidence: dict[str, str] | None = None,
    note: str = "",
    na_reason: str = "",
) -> Decision:
    """Sign one step of a run, enforcing order, role, separation, evidence and freshness."""
    witnesses = witnesses or []
    context: dict[str, Any] = {"run": run_id, "step": step_id, "by": signer.name}
    try:
        run = state.runs.get(run_id)
        if run is None:
            raise _Refusal(f"no run {run_id}", "no-run")
        step = run.checklist.step(step_id)
        if step is None:
            raise _Refusal(f"run {run_id} has no step '{step_id}'", "no-step")
        context["role"] = step.role
        for cred in [signer, *witnesses]:
            _authenticate(state, cred, now)
        _check_open(state, run, step, now)
        _check_people(state, run, step, signer, witnesses)
        values = _check_evidence(state, run, step, evidence or {}, result)
        final, why = _judge(state, run, step, result, values, note, na_reason)
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
    out = [signed]
    if final == "fail":
        reason = f"{step.title} failed ({layer.title}): {why or note or 'marked failed'}"
        out.append(_hold_event(state, now, reason, cause="step-failed", run=run.id, by=signer.name))
        out[-1]["data"]["layer"] = layer.id
        out[-1]["step"] = step.id
    elif _is_last(run, step):
        out.extend(_completion(state, run, now))
    return Decision(out)


def _is_last(run: Run, step: Step) -> bool:
    return run.checklist.steps()[-1][1].id == step.id


def _completion(state: State, run: Run, now: datetime) -> list[dict[str, Any]]:
    out = [ev.event(ev.RUN_COMPLETED, now, run=run.id, note=run.checklist.title)]
    if run.checklist.scope == "opening":
        out.append(ev.event(ev.DAY_OPENED, now, run=run.id, day=len(state.days) + 1))
    elif run.checklist.scope == "wrap" and state.day is not None:
        out.append(ev.event(ev.DAY_WRAPPED, now, run=run.id, day=state.day.number))
    return out


def _authenticate(state: State, cred: Credential, now: datetime) -> CrewMember:
    member = state.crew.get(cred.name)
    if member is None:
        raise _Refusal(f"no crew member named '{cred.name}'", "unknown-person")
    if member.locked_until is not None and now < member.locked_until:
        until = member.locked_until.strftime("%H:%M:%S UTC")
        raise _Refusal(
            f"{member.name} is locked out after {MAX_FAILURES} wrong PINs until {until}", "locked"
        )
    if not check_pin(cred.pin, member.pin):
        lock = []
        if member.failures + 1 >= MAX_FAILURES:
            lock = [ev.event(ev.LOCKOUT, now, by=member.name, note="5 wrong PINs in a row")]
        raise _Refusal(f"wrong PIN for {member.name}", "wrong-pin", lock, person=member.name)
    return member


def _check_open(state: State, run: Run, step: Step, now: datetime) -> None:
    if run.completed_at is not None:
        raise _Refusal(f"run {run.id} is already complete", "complete")
    blocking = state.holds_blocking(run.id)
    if blocking:
        h = blocking[0]
        raise _Refusal(f"run {run.id} is on HOLD ({h.id}: {h.reason}); resolve it first", "on-hold")
    stale = _stale_layer(run, now)
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


def _stale_layer(run: Run, now: datetime) -> tuple[str, str] | None:
    """The first layer whose time-limited verification has expired, with the reason."""
    for layer, step in run.checklist.steps():
        done = run.signoffs.get(step.id)
        if done is None or step.valid_minutes is None:
            continue
        age = now - ev.parse_time(done.time)
        if age > timedelta(minutes=step.valid_minutes):
            minutes = int(age.total_seconds() // 60)
            reason = (
                f"'{step.title}' was verified {minutes} min ago, over its {step.valid_minutes} min"
                f" limit: layer '{layer.title}' must be re-verified from its first step"
            )
            return layer.id, reason
    return None


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
    for other in step.distinct_from:
        done = run.signoffs.get(other)
        if done is not None and done.by == signer.name:
            raise _Refusal(
                f"{signer.name} signed '{other}'; '{step.id}' must be signed by someone else",
                "separation",
            )


def _check_evidence(
    state: State, run: Run, step: Step, given: dict[str, str], result: Result
) -> dict[str, Any]:
    known = {e.key: e for e in step.evidence}
    extra = sorted(set(given) - set(known))
    if extra:
        keys = ", ".join(known) or "none"
        raise _Refusal(f"unknown evidence {', '.join(extra)}; this step takes: {keys}", "evidence")
    values: dict[str, Any] = {}
    for spec in step.evidence:
        if spec.key not in given:
            if result == "pass":
                raise _Refusal(
                    f"evidence '{spec.key}' ({spec.label}) is required to pass", "evidence"
                )
            continue
        values[spec.key] = _parse_value(spec, given[spec.key])
    return values


def _parse_value(spec: Evidence, raw: str) -> Any:
    text = raw.strip()
    if spec.type == "int":
        try:
            return int(text)
        except ValueError:
            raise _Refusal(f"evidence '{spec.key}' must be a whole number", "evidence") from None
    if spec.type == "bool":
        low = text.lower()
        if low in ("yes", "y", "true", "1"):
            return True
        if low in ("no", "n", "false", "0"):
            return False
        raise _Refusal(f"evidence '{spec.key}' must be yes or no", "evidence")
    if not text:
        raise _Refusal(f"evidence '{spec.key}' cannot be empty", "evidence")
    return raw


def _expected(state: State, run: Run, spec: Evidence) -> Any:
    if spec.expect == "firearm.chambers":
        fa = state.firearms.get(run.firearm or "")
        return fa.chambers if fa is not None else None
    return spec.expect


def _judge(
    state: State,
    run: Run,
    step: Step,
    result: Result,
    values: dict[str, Any],
    note: str,
    na_reason: str,
) -> tuple[Result, str]:
    """The result to record: a pass whose evidence contradicts `expect` is a failure."""
    if result == "na":
        if not step.na_allowed:
            raise _Refusal(f"'{step.id}' cannot be marked not applicable", "na-not-allowed")
        if not na_reason.strip():
            raise _Refusal("not applicable needs a reason", "na-reason")
        return "na", f"not applicable: {na_reason.strip()}"
    if result == "fail":
        return "fail", ""
    wrong = []
    for spec in step.evidence:
        want = _expected(state, run, spec)
        if want is not None and values.get(spec.key) != want:
            wrong.append(f"{spec.label}: {_show(values.get(spec.key))}, expected {_show(want)}")
    if wrong:
        return "fail", "evidence contradicts a pass (" + "; ".join(wrong) + ")"
    return "pass", ""


def _show(value: Any) -> str:
    return (
        {True: "yes", False: "no"}.get(value, str(value)) if isinstance(value, bool) else str(value)
    )


# -- holds ------------------------------------------------------------------------------------


def _hold_event(
    state: State, now: datetime, reason: str, *, cause: str, run: str | None, by: str | None
) -> dict[str, Any]:
    hold_id = f"H{len(state.holds) + 1:04d}"
    scope = "run" if run else "day"
    return ev.event(
        ev.HOLD_RAISED, now, by=by, run=run, result="hold", note=reason, hold=hold_id,
        cause=cause, scope=scope,
    )  # fmt: skip


def raise_hold(
    state: State, by: Credential, reason: str, now: datetime, *, run: str | None = None
) -> Decision:
    """Stop-work authority: anyone on the crew, at any time, with a reason."""
    try:
        member = _authenticate(state, by, now)
        if not reason.strip():
            raise _Refusal("a hold needs a reason", "no-reason")
        if run is not None and run not in state.runs:
            raise _Refusal(f"no run {run}", "no-run")
    except _Refusal as refusal:
        return _refuse(refusal, now, by=by.name, run=run, action="raise-hold")
    hold = _hold_event(state, now, reason.strip(), cause="raised", run=run, by=member.name)
    hold["role"] = member.roles[0]
    return Decision([hold])


def resolve_hold(
    state: State, hold_id: str, resolvers: list[Credential], action: str, now: datetime
) -> Decision:
    """Close a hold with a corrective action, signed by two different people in the named roles."""
    hold = state.holds.get(hold_id)
    by = resolvers[0].name if resolvers else None
    try:
        if hold is None:
            raise _Refusal(f"no hold {hold_id}", "no-hold")
        if not hold.open:
            raise _Refusal(f"hold {hold_id} is already resolved", "resolved")
        if not action.strip():
            raise _Refusal("resolving a hold needs the corrective action taken", "no-action")
        for cred in resolvers:
            _authenticate(state, cred, now)
        roles = _resolver_roles(state, hold.run)
        assigned = _assign_roles(state, resolvers, roles)
    except _Refusal as refusal:
        run = hold.run if hold else None
        return _refuse(refusal, now, by=by, run=run, action=f"resolve {hold_id}")
    assert hold is not None
    resolved = ev.event(
        ev.HOLD_RESOLVED, now, by=by, role=assigned[0]["role"], run=hold.run, result="resolved",
        note=action.strip(), hold=hold_id, resolvers=assigned, layer=hold.layer,
    )  # fmt: skip
    return Decision([resolved])


def _resolver_roles(state: State, run_id: str | None) -> list[str]:
    run = state.runs.get(run_id or "")
    if run is not None:
        return list(run.checklist.hold_resolvers)
    return ["supervisor", "armorer"]


def _assign_roles(state: State, creds: list[Credential], roles: list[str]) -> list[dict[str, str]]:
    names = [c.name for c in creds]
    if len(set(names)) != len(names):
        raise _Refusal("a hold is resolved by two different people", "same-person")
    if len(creds) != len(roles):
        need = " and ".join(_title(r) for r in roles)
        raise _Refusal(f"this hold is resolved by the {need}, one person each", "resolvers")
    # Try each assignment of people to roles (two or three people: tiny search).
    from itertools import permutations

    for order in permutations(roles):
        if all(r in state.crew[n].roles for n, r in zip(names, order, strict=True)):
            return [{"name": n, "role": r} for n, r in zip(names, order, strict=True)]
    need = " and ".join(_title(r) for r in roles)
    raise _Refusal(
        f"this hold is resolved by the {need}: {', '.join(names)} do not fit", "resolvers"
    )


# -- refusals ---------------------------------------------------------------------------------


def _refuse(refusal: _Refusal, now: datetime, *, action: str, **context: Any) -> Decision:
    record = ev.event(
        ev.REFUSED,
        now,
        by=context.get("by"),
        role=context.get("role"),
        run=context.get("run"),
        step=context.get("step"),
        result="refused",
        note=refusal.reason,
        code=refusal.code,
        action=action,
    )
    if refusal.person is not None:
        record["data"]["person"] = refusal.person
    return Decision([record, *refusal.extra], refusal.reason)
