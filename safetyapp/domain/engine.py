"""The layered-check engine: pure rules from (state, command, now) to events.

Every function returns a Decision: the events to append and, when the attempt is refused, the
reason. Refusals are events too, so every attempt is on the record. No IO, no clock reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from safetyapp.domain import events as ev
from safetyapp.domain import names as naming
from safetyapp.domain.auth import MAX_FAILURES, check_pin
from safetyapp.domain.checklist import Checklist, Evidence, Step
from safetyapp.domain.incidents import HOLDING_KINDS, INCIDENT_KINDS, INCIDENT_TITLES
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
    name = naming.normalise(name)
    if problem := naming.new_name_problem(name, state.crew):
        return Decision([], problem)
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
    digest = checklist.digest()
    data: dict[str, Any] = {
        "checklist_id": checklist.id,
        "version": checklist.version,
        "digest": digest,
        "day": day,
        "firearm": firearm,
        "performer": performer,
        "scene": scene,
    }
    if digest not in state.checklists:
        # The record carries each checklist version's full text once, on its first run; later
        # runs name it by digest (a long record would otherwise be mostly repeated checklists).
        data["checklist"] = checklist.model_dump(mode="json")
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
        _check_handoff_context(state, firearm, performer)
        _check_no_open_flag(state)
        for run in state.open_runs():
            if run.checklist.scope == "wrap":
                raise _Refusal(f"wrap run {run.id} is in progress: no more handoffs", "wrapping")
        assert firearm is not None
        _check_with_armorer(state, firearm)


def _check_no_open_flag(state: State) -> None:
    flags = state.open_flags()
    if flags:
        f = flags[0]
        raise _Refusal(
            f"flag {f.id} ({f.reason}) awaits a safety supervisor's acknowledgement: no handoff"
            " until then",
            "flag-open",
        )


def _check_with_armorer(state: State, serial: str, armorer: str | None = None) -> None:
    custody = state.custody(serial)
    if custody.holder == "armorer":
        if armorer is not None and custody.name != armorer:
            raise _Refusal(
                f"firearm {serial} is in {custody.name}'s custody; only they hand it over",
                "custody",
            )
        return
    hint = {
        "locked": "the armorer checks it out first (the opening checklist, or `firearm checkout`)",
        "performer": "it comes back to the armorer first; a performer never passes it on",
        "unaccounted": "find it first; an unaccounted firearm is never handed over",
    }[custody.holder]
    raise _Refusal(
        f"firearm {serial} is not in the armorer's custody ({custody.describe()}): {hint}",
        "custody",
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
        _check_custody(state, run, step, signer, values)
        final, why, findings = _judge(state, run, step, result, values, note, na_reason)
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
        out[-1]["data"]["layer"] = layer.id
        out[-1]["step"] = step.id
    out.extend(_findings_events(state, run, step, signer.name, findings, now))
    out.extend(_custody_events(state, run, step, signer.name, final, values, now))
    if final != "fail" and _is_last(run, step):
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
    stale = _stale_layer(state, run, now)
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


def _handed_over(run: Run) -> bool:
    """True once this run handed its firearm to the performer: its verifications are spent."""
    for signoff in run.history:
        step = run.checklist.step(signoff.step)
        if step is not None and step.custody == "to-performer" and signoff.result == "pass":
            return True
    return False


def _stale_layer(state: State, run: Run, now: datetime) -> tuple[str, str] | None:
    """The first layer whose verification is no longer valid, with the reason: custody of the
    run's firearm changed (or was broken) after it was signed, or its time limit passed.
    Once the firearm has been handed over, the verifications have done their job."""
    if _handed_over(run):
        return None
    mark = state.last_custody_mark(run.firearm) if run.firearm else None
    for layer, step in run.checklist.steps():
        done = run.signoffs.get(step.id)
        if done is None or step.valid_minutes is None:
            continue
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
        values[spec.key] = _parse_value(state, spec, given[spec.key])
    return values


_NONE_WORDS = ("", "0", "none", "no", "-")


def _parse_value(state: State, spec: Evidence, raw: str) -> Any:
    text = raw.strip()
    if spec.type == "serials":
        return _parse_serials(state, spec, text)
    if spec.type == "lot-counts":
        return _parse_lot_counts(state, spec, text)
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


def _split_items(text: str) -> list[str]:
    return [item for item in text.replace(";", ",").replace(" ", ",").split(",") if item]


def _parse_serials(state: State, spec: Evidence, text: str) -> list[str]:
    if text.lower() in _NONE_WORDS:
        return []
    serials = _split_items(text)
    for serial in serials:
        if serial not in state.firearms:
            known = ", ".join(state.firearms) or "none"
            raise _Refusal(
                f"evidence '{spec.key}': no firearm {serial} in the inventory (known: {known})",
                "evidence",
            )
    if len(set(serials)) != len(serials):
        raise _Refusal(f"evidence '{spec.key}' names a firearm twice", "evidence")
    return serials


def _parse_lot_counts(state: State, spec: Evidence, text: str) -> dict[str, int]:
    if text.lower() in _NONE_WORDS:
        return {}
    counts: dict[str, int] = {}
    for item in text.replace(";", ",").split(","):
        lot, sep, number = item.strip().partition("=")
        lot, number = lot.strip(), number.strip()
        if not item.strip():
            continue
        if not sep or not lot:
            raise _Refusal(
                f"evidence '{spec.key}' takes LOT=COUNT, comma-separated (e.g. D-1=36), got"
                f" {item.strip()!r}",
                "evidence",
            )
        if lot not in state.lots:
            known = ", ".join(state.lots) or "none declared"
            raise _Refusal(
                f"evidence '{spec.key}': no ammunition lot {lot} (declared: {known})", "evidence"
            )
        if lot in counts:
            raise _Refusal(f"evidence '{spec.key}' names lot {lot} twice", "evidence")
        try:
            counts[lot] = int(number)
        except ValueError:
            raise _Refusal(
                f"evidence '{spec.key}': the count for {lot} must be a whole number", "evidence"
            ) from None
        if counts[lot] < 0:
            raise _Refusal(f"evidence '{spec.key}': a count cannot be negative", "evidence")
    return counts


def _expected(state: State, run: Run, spec: Evidence) -> Any:
    if spec.expect == "firearm.chambers":
        fa = state.firearms.get(run.firearm or "")
        return fa.chambers if fa is not None else None
    if spec.expect == "firearms.out":
        return [s for s in state.firearms if state.custody(s).holder == "armorer"]
    if spec.expect == "ammo.expected":
        return {lot: want for lot, (_, _, want) in state.ammo_reconciliation().items()}
    return spec.expect


def _mismatch(state: State, run: Run, spec: Evidence, value: Any) -> str | None:
    """Why a value contradicts the step's `expect`, or None when it fits."""
    want = _expected(state, run, spec)
    if want is None:
        return None
    if spec.type == "serials":
        missing = [s for s in want if s not in (value or [])]
        if missing:
            return f"{spec.label}: out of storage but not listed: {', '.join(missing)}"
        return None
    if spec.type == "lot-counts":
        got = value or {}
        wrong = []
        recon = state.ammo_reconciliation()
        for lot in [*want, *[lot for lot in got if lot not in want]]:
            if got.get(lot) != want.get(lot):
                morning, spent, _ = recon.get(lot, (0, 0, 0))
                wrong.append(
                    f"{lot} counted {_show(got.get(lot, 'nothing'))}, expected"
                    f" {_show(want.get(lot, 'none (not counted this morning)'))}"
                    f" (morning {morning} - expended {spent})"
                )
        return f"{spec.label}: " + "; ".join(wrong) if wrong else None
    if value != want:
        return f"{spec.label}: {_show(value)}, expected {_show(want)}"
    return None


def _judge(
    state: State,
    run: Run,
    step: Step,
    result: Result,
    values: dict[str, Any],
    note: str,
    na_reason: str,
) -> tuple[Result, str, list[tuple[Evidence, str]]]:
    """The result to record: a pass whose evidence contradicts `expect` is a failure, or, where
    the checklist says `on_mismatch: flag`, a pass with a flag. Also returns every mismatch
    (for flags and incidents)."""
    if result == "na":
        if not step.na_allowed:
            raise _Refusal(f"'{step.id}' cannot be marked not applicable", "na-not-allowed")
        if not na_reason.strip():
            raise _Refusal("not applicable needs a reason", "na-reason")
        return "na", f"not applicable: {na_reason.strip()}", []
    findings = []
    for spec in step.evidence:
        if spec.key in values:
            why = _mismatch(state, run, spec, values[spec.key])
            if why is not None:
                findings.append((spec, why))
    if result == "fail":
        return "fail", "", findings
    wrong = [why for spec, why in findings if spec.on_mismatch == "fail"]
    if wrong:
        return "fail", "evidence contradicts a pass (" + "; ".join(wrong) + ")", findings
    flagged = [why for spec, why in findings if spec.on_mismatch == "flag"]
    if flagged:
        return "pass", "flagged for the safety supervisor (" + "; ".join(flagged) + ")", findings
    return "pass", "", findings


def _findings_events(
    state: State,
    run: Run,
    step: Step,
    by: str,
    findings: list[tuple[Evidence, str]],
    now: datetime,
) -> list[dict[str, Any]]:
    """Flags and incidents that mismatched evidence raises, as the checklist declares."""
    out: list[dict[str, Any]] = []
    flags = len(state.flags)
    incidents = len(state.incidents)
    for spec, why in findings:
        if spec.on_mismatch == "flag":
            flags += 1
            reason = f"{step.title}: {why}"
            flag = ev.event(
                ev.FLAG_RAISED, now, by=by, run=run.id, step=step.id, result="flag",
                note=reason, flag=f"F{flags:04d}", cause=spec.key,
            )  # fmt: skip
            out.append(flag)
        if spec.incident is not None:
            incidents += 1
            incident = ev.event(
                ev.INCIDENT_REPORTED, now, by=by, run=run.id, step=step.id, result="incident",
                note=f"{step.title}: {why}", incident=f"I{incidents:04d}",
                incident_kind=spec.incident, serial=run.firearm, hold=None,
                day=state.day.number if state.day else None,
            )  # fmt: skip
            out.append(incident)
    return out


def _check_custody(
    state: State, run: Run, step: Step, signer: Credential, values: dict[str, Any]
) -> None:
    """A custody step moves firearms only from where they are: refused otherwise."""
    if step.custody is None:
        return
    if step.custody in ("to-performer", "to-armorer"):
        serial = run.firearm
        if serial is None:
            raise _Refusal(f"'{step.id}' moves a firearm but run {run.id} names none", "custody")
        custody = state.custody(serial)
        if step.custody == "to-performer":
            _check_no_open_flag(state)
            # Re-signed after a hold: the firearm may already be with this run's performer.
            if custody.holder == "performer" and custody.run == run.id:
                return
            _check_with_armorer(state, serial, signer.name)
            return
        if custody.holder != "performer" or custody.name != run.performer:
            raise _Refusal(
                f"firearm {serial} is {custody.describe()}, not with performer {run.performer}:"
                " nothing to take back",
                "custody",
            )
        return
    serials = _serials_evidence(step, values)
    for serial in serials:
        custody = state.custody(serial)
        if step.custody == "checkout" and custody.holder != "locked":
            raise _Refusal(
                f"firearm {serial} is not in storage ({custody.describe()}): it cannot be checked"
                " out",
                "custody",
            )
        if step.custody == "lock-up" and custody.holder not in ("locked", "armorer"):
            raise _Refusal(
                f"firearm {serial} is {custody.describe()}: it comes back to the armorer before"
                " it is locked up",
                "custody",
            )


def _serials_evidence(step: Step, values: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for spec in step.evidence:
        if spec.type == "serials":
            out.extend(values.get(spec.key) or [])
    return out


def _custody_events(
    state: State,
    run: Run,
    step: Step,
    by: str,
    final: Result,
    values: dict[str, Any],
    now: datetime,
) -> list[dict[str, Any]]:
    """Custody changes a signed step makes. A return moves custody back even when the
    re-inspection fails: the firearm is physically with the armorer again."""
    if step.custody is None or final == "na" or (final == "fail" and step.custody != "to-armorer"):
        return []
    moves: list[tuple[str, str, str | None]] = []
    if step.custody == "checkout":
        moves = [(s, "armorer", by) for s in _serials_evidence(step, values)]
    elif step.custody == "lock-up":
        moves = [
            (s, "locked", None)
            for s in _serials_evidence(step, values)
            if state.custody(s).holder != "locked"
        ]
    elif run.firearm is not None:
        custody = state.custody(run.firearm)
        if step.custody == "to-performer" and custody.holder != "performer":
            moves = [(run.firearm, "performer", run.performer)]
        elif step.custody == "to-armorer":
            moves = [(run.firearm, "armorer", by)]
    return [
        _custody_event(state, serial, holder, name, f"{step.title} ({run.id})", now, by=by,
                       run=run.id, step=step.id)
        for serial, holder, name in moves
    ]  # fmt: skip


def _custody_event(
    state: State,
    serial: str,
    holder: str,
    name: str | None,
    note: str,
    now: datetime,
    *,
    by: str | None,
    run: str | None = None,
    step: str | None = None,
) -> dict[str, Any]:
    before = state.custody(serial)
    return ev.event(
        ev.CUSTODY_CHANGED, now, by=by, run=run, step=step, result=holder, note=note,
        serial=serial, holder=holder, name=name, previous=before.holder,
        previous_name=before.name,
    )  # fmt: skip


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
    if hold.incident is not None:
        resolved["data"]["incident"] = hold.incident
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


# -- incidents --------------------------------------------------------------------------------


def report_incident(
    state: State,
    by: Credential,
    kind: str,
    note: str,
    now: datetime,
    *,
    firearm: str | None = None,
) -> Decision:
    """Anyone on the crew reports an incident. Every kind but a near miss puts the whole day on
    HOLD until a safety supervisor and the armorer sign a review; a near miss is read out at the
    next safety meeting. A missing firearm becomes unaccounted for."""
    try:
        member = _authenticate(state, by, now)
        if kind not in INCIDENT_KINDS:
            raise _Refusal(f"incident kind must be one of: {', '.join(INCIDENT_KINDS)}", "kind")
        if not note.strip():
            raise _Refusal("an incident report needs a note saying what happened", "no-note")
        if firearm is not None and firearm not in state.firearms:
            known = ", ".join(state.firearms) or "none"
            raise _Refusal(f"no firearm {firearm} in the inventory (known: {known})", "no-firearm")
    except _Refusal as refusal:
        return _refuse(refusal, now, by=by.name, action="report-incident")
    incident_id = f"I{len(state.incidents) + 1:04d}"
    text = note.strip()
    hold_id = f"H{len(state.holds) + 1:04d}" if kind in HOLDING_KINDS else None
    report = ev.event(
        ev.INCIDENT_REPORTED, now, by=member.name, role=member.roles[0], result="incident",
        note=text, incident=incident_id, incident_kind=kind, serial=firearm, hold=hold_id,
        day=state.day.number if state.day else None,
    )  # fmt: skip
    out = [report]
    if hold_id is not None:
        title = INCIDENT_TITLES[kind]
        on = f" ({firearm})" if firearm else ""
        reason = f"{title}{on} reported by {member.name} ({incident_id}): {text}"
        hold = _hold_event(state, now, reason, cause=kind, run=None, by=member.name)
        hold["data"]["incident"] = incident_id
        out.append(hold)
    if kind == "missing" and firearm is not None:
        out.append(
            _custody_event(state, firearm, "unaccounted", None, f"reported missing ({incident_id})",
                           now, by=member.name)
        )  # fmt: skip
    return Decision(out)


def review_incident(
    state: State, incident_id: str, reviewers: list[Credential], action: str, now: datetime
) -> Decision:
    """Sign the review that lifts an incident's day hold (the roles that resolve a day hold)."""
    incident = state.incidents.get(incident_id)
    by = reviewers[0].name if reviewers else None
    problem: str | None = None
    if incident is None:
        problem = f"no incident {incident_id}"
    elif incident.hold is None:
        problem = (
            f"{incident_id} is a {INCIDENT_TITLES[incident.kind].lower()}: it holds nothing and is"
            " read out at the next safety meeting"
        )
    elif incident.reviewed_at is not None:
        problem = f"{incident_id} was already reviewed"
    if problem is not None:
        return _refuse(_Refusal(problem, "no-review"), now, by=by, action=f"review {incident_id}")
    assert incident is not None and incident.hold is not None
    return resolve_hold(state, incident.hold, reviewers, action, now)


# -- flags ------------------------------------------------------------------------------------


def acknowledge_flag(
    state: State, flag_id: str, supervisor: Credential, note: str, now: datetime
) -> Decision:
    """A safety supervisor acknowledges a flag, saying what was decided."""
    flag = state.flags.get(flag_id)
    try:
        if flag is None:
            raise _Refusal(f"no flag {flag_id}", "no-flag")
        if not flag.open:
            raise _Refusal(f"flag {flag_id} was already acknowledged", "acknowledged")
        member = _authenticate(state, supervisor, now)
        if "supervisor" not in member.roles:
            raise _Refusal(
                f"{member.name} is not crewed as Safety supervisor; only a safety supervisor"
                " acknowledges a flag",
                "wrong-role",
            )
        if not note.strip():
            raise _Refusal("acknowledging a flag needs a note: what was decided", "no-note")
    except _Refusal as refusal:
        run = flag.run if flag else None
        return _refuse(refusal, now, by=supervisor.name, run=run, action=f"acknowledge {flag_id}")
    assert flag is not None
    ack = ev.event(
        ev.FLAG_ACKNOWLEDGED, now, by=member.name, role="supervisor", run=flag.run,
        result="acknowledged", note=note.strip(), flag=flag_id,
    )  # fmt: skip
    return Decision([ack])


# -- custody outside the checklists -------------------------------------------------------------


def move_firearms(
    state: State,
    armorer: Credential,
    serials: list[str],
    to: Literal["locked", "armorer"],
    reason: str,
    now: datetime,
) -> Decision:
    """The armorer locks firearms away (a break: lunch, a move) or takes them out again, or
    takes back one that was unaccounted for. Each move makes earlier verifications stale."""
    action = "lock" if to == "locked" else "checkout"
    try:
        member = _authenticate(state, armorer, now)
        if "armorer" not in member.roles:
            raise _Refusal(
                f"{member.name} is not crewed as Armorer; only the armorer moves firearms in and"
                " out of storage",
                "wrong-role",
            )
        if not serials:
            raise _Refusal("name at least one firearm by serial", "no-firearm")
        if not reason.strip():
            raise _Refusal("say why (lunch, company move, found, ...)", "no-reason")
        for serial in serials:
            _check_move(state, serial, to, member.name)
    except _Refusal as refusal:
        return _refuse(refusal, now, by=armorer.name, action=action)
    name = member.name if to == "armorer" else None
    out = [
        _custody_event(state, serial, to, name, reason.strip(), now, by=member.name)
        for serial in dict.fromkeys(serials)
    ]
    for event in out:
        event["role"] = "armorer"
    return Decision(out)


def _check_move(state: State, serial: str, to: str, armorer: str) -> None:
    if serial not in state.firearms:
        known = ", ".join(state.firearms) or "none"
        raise _Refusal(f"no firearm {serial} in the inventory (known: {known})", "no-firearm")
    custody = state.custody(serial)
    if custody.holder == "performer":
        raise _Refusal(
            f"firearm {serial} is {custody.describe()}: it comes back through its handoff's"
            " return step",
            "custody",
        )
    if custody.holder == to and (to == "locked" or custody.name == armorer):
        raise _Refusal(f"firearm {serial} is already {custody.describe()}", "custody")
    if to == "armorer" and custody.holder == "locked" and state.day is None:
        raise _Refusal(
            "no open day: firearms leave storage through the opening checklist's checkout",
            "no-open-day",
        )


def record_custody_break(
    state: State, by: Credential, reason: str, now: datetime, *, serials: list[str] | None = None
) -> Decision:
    """Anyone records a break in custody (a firearm or its ammunition out of the armorer's
    sight). Every verification made before it is stale: the handoff starts again."""
    try:
        member = _authenticate(state, by, now)
        if not reason.strip():
            raise _Refusal("say what happened (e.g. ammunition left on an open cart)", "no-reason")
        for serial in serials or []:
            if serial not in state.firearms:
                known = ", ".join(state.firearms) or "none"
                raise _Refusal(
                    f"no firearm {serial} in the inventory (known: {known})", "no-firearm"
                )
        affected = serials or [s for s in state.firearms if state.custody(s).holder != "locked"]
        if not affected:
            raise _Refusal("every firearm is locked in storage: nothing to break", "custody")
    except _Refusal as refusal:
        return _refuse(refusal, now, by=by.name, action="custody-break")
    brk = ev.event(
        ev.CUSTODY_BREAK, now, by=member.name, role=member.roles[0], result="break",
        note=reason.strip(), serials=list(dict.fromkeys(affected)),
    )  # fmt: skip
    return Decision([brk])


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
