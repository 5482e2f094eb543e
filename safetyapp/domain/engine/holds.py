"""Holds, incidents and flags: stop-work, its two-person resolution, incident reports and
reviews, and the safety supervisor's acknowledgement of a flag."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from safetyapp.domain import events as ev
from safetyapp.domain import names as naming
from safetyapp.domain.engine.common import (
    Credential,
    Decision,
    RecordedSigner,
    _authenticate,
    _custody_event,
    _hold_event,
    _Refusal,
    _refuse,
    _title,
)
from safetyapp.domain.incidents import (
    HOLDING_KINDS,
    INCIDENT_KINDS,
    INCIDENT_TITLES,
    MEETING_AFTER_KINDS,
)
from safetyapp.domain.roles import REVIEW_ROLES
from safetyapp.domain.state import Hold, State


def raise_hold(
    state: State,
    by: Credential | str,
    reason: str,
    now: datetime,
    *,
    run: str | None = None,
    about: str | None = None,
) -> Decision:
    """Stop-work authority: anyone on set, at any time, crewed or not. Never refused (issue 14):
    a right PIN marks the hold verified; without one (none given, locked out after wrong PINs,
    not on the crew list, deactivated) or with a wrong one, the hold is still raised, marked
    unverified, under the name given (normalised, control characters spelled out). A wrong PIN
    is also recorded as the refused attempt it is (it counts towards a lockout).

    A hold may name the crew member it is about (`about`): they are never one of those who
    resolve it. A run that does not exist makes it a hold on the whole day (the wider stop),
    saying so; so does an unknown `about` (noted, not kept as the subject)."""
    given = by.name if isinstance(by, Credential) else by
    pin = by.pin if isinstance(by, Credential) else ""
    recorded = isinstance(by, RecordedSigner)  # replay: the PIN was right when it was written
    typed = naming.neutralise(given) or "(no name given)"
    crew_name = naming.find(typed, state.crew)
    member = state.crew.get(crew_name) if crew_name is not None else None
    out: list[dict[str, Any]] = []
    unverified: str | None = None
    if member is None:
        unverified = "not on the crew list"
    elif not pin and not recorded:
        unverified = "no PIN given"
    else:
        try:
            signer = by if isinstance(by, RecordedSigner) else Credential(member.name, pin)
            _authenticate(state, signer, now)
        except _Refusal as refusal:
            unverified = refusal.reason
            attempt = _refuse(refusal, now, by=member.name, run=run, action="raise-hold")
            out.extend(attempt.events)
    text = reason.strip() or "(no reason given)"
    notes: list[str] = []
    if run is not None and run not in state.runs:
        notes.append(f"run {run} not found: the whole day is held")
        run = None
    subject: str | None = None
    if about is not None:
        subject = naming.find(about, state.crew)
        if subject is None:
            notes.append(f"about '{naming.neutralise(about)}', not on the crew list")
    if notes:
        text = f"{text} ({'; '.join(notes)})"
    who = member.name if member is not None else typed
    hold = _hold_event(state, now, text, cause="raised", run=run, by=who)
    hold["role"] = member.roles[0] if member is not None else None
    hold["data"]["verified"] = unverified is None
    if unverified is not None:
        hold["data"]["unverified"] = unverified
    if subject is not None:
        hold["data"]["subject"] = subject
    return Decision([*out, hold])


def resolve_hold(
    state: State, hold_id: str, resolvers: list[Credential], action: str, now: datetime
) -> Decision:
    """Close a hold with a corrective action, signed by different people, each in a different
    one of the roles the checklist names; never by the person the hold is about (whose evidence
    raised it), and in a run's hold each in the one role they act in for that run."""
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
        if hold.subject is not None and hold.subject in [c.name for c in resolvers]:
            raise _Refusal(
                f"hold {hold_id} is about {hold.subject}'s own sign-off: two other people"
                " resolve it",
                "independence",
            )
        roles = resolver_roles(state, hold)
        assigned = _assign_roles(state, resolvers, roles, hold.run)
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


def resolver_roles(state: State, hold: Hold) -> list[str]:
    """Who signs: a misfire's, a discharge's or a live round's review the REVIEW_ROLES; a run's
    hold its checklist's resolvers; any other day hold the supervisor and the armorer."""
    incident = state.incidents.get(hold.incident or "")
    if incident is not None and incident.kind in MEETING_AFTER_KINDS:
        return list(REVIEW_ROLES)
    run = state.runs.get(hold.run or "")
    if run is not None:
        return list(dict.fromkeys(run.checklist.hold_resolvers))
    return ["supervisor", "armorer"]


def _assign_roles(
    state: State, creds: list[Credential], roles: list[str], run_id: str | None = None
) -> list[dict[str, str]]:
    names = [c.name for c in creds]
    if len(set(names)) != len(names):
        raise _Refusal("a hold is resolved by two different people", "same-person")
    if len(creds) != len(roles):
        need = " and ".join(_title(r) for r in roles)
        raise _Refusal(f"this hold is resolved by the {need}, one person each", "resolvers")
    run = state.runs.get(run_id or "")
    acted = run.roles_by_person if run is not None else {}
    # Try each assignment of people to roles (two or three people: tiny search). Each role is
    # taken once; in a run, a person takes the role they already act in there.
    from itertools import permutations

    for order in permutations(roles):
        pairs = list(zip(names, order, strict=True))
        if all(r in state.crew[n].roles and acted.get(n, r) == r for n, r in pairs):
            return [{"name": n, "role": r} for n, r in pairs]
    need = " and ".join(_title(r) for r in roles)
    already = [f"{n} acts as {_title(acted[n])} in run {run_id}" for n in names if n in acted]
    why = f" ({'; '.join(already)})" if already else ""
    raise _Refusal(
        f"this hold is resolved by the {need}: {', '.join(names)} do not fit{why}", "resolvers"
    )


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
        if member.name in (flag.subject, flag.raised_by):
            raise _Refusal(
                f"flag {flag_id} is about {member.name}'s own sign-off: another safety supervisor"
                " acknowledges it",
                "independence",
            )
        flag_run = state.runs.get(flag.run or "")
        acted = flag_run.roles_by_person.get(member.name) if flag_run is not None else None
        if acted is not None and acted != "supervisor":
            raise _Refusal(
                f"{member.name} acted as {_title(acted)} in run {flag.run}; one person cannot"
                " also act as Safety supervisor in the same run",
                "separation",
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
