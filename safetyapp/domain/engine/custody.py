"""Custody: the moves a signed step makes, and the armorer's moves outside the checklists
(storage in and out, custody breaks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from safetyapp.domain import events as ev
from safetyapp.domain import names as naming
from safetyapp.domain.checklist import Step
from safetyapp.domain.engine.common import (
    Credential,
    Decision,
    Result,
    _authenticate,
    _check_no_open_flag,
    _check_with_armorer,
    _custody_event,
    _Refusal,
    _refuse,
)
from safetyapp.domain.state import Run, State


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
        if custody.holder == "armorer" and custody.run == run.id:
            # Taken back already in this run (`take_back`, or a return whose re-inspection
            # failed): the return step records the rounds and the re-inspection, no move.
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
        out.extend(spec.kind.serials(values.get(spec.key)))
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
        elif step.custody == "to-armorer" and custody.holder == "performer":
            moves = [(run.firearm, "armorer", by)]
    return [
        _custody_event(state, serial, holder, name, f"{step.title} ({run.id})", now, by=by,
                       run=run.id, step=step.id)
        for serial, holder, name in moves
    ]  # fmt: skip


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
    sight), always, even with every firearm locked. Every verification made before it is stale:
    the handoff starts again. A break that names no firearm is about everything out and the
    ammunition: every handoff's ammunition layer is stale too, even with the firearms locked."""
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
    except _Refusal as refusal:
        return _refuse(refusal, now, by=by.name, action="custody-break")
    brk = ev.event(
        ev.CUSTODY_BREAK, now, by=member.name, role=member.roles[0], result="break",
        note=reason.strip(), serials=list(dict.fromkeys(affected)), ammunition=not serials,
    )  # fmt: skip
    return Decision([brk])


def take_back(
    state: State, armorer: Credential, serial: str, reason: str, now: datetime
) -> Decision:
    """The armorer takes a firearm back into their own custody, at once, whatever else is
    going on: a day hold after a misfire, a performer's stop-work, a performer who did not
    witness the show-clear, a run on hold or voided. Custody follows the real gun (issue 14);
    only the armorer's own PIN is needed (a performer may be locked out, hurt or gone).

    The run that handed the firearm over (if any) is named on the event: its return step then
    records rounds and re-inspection without moving the firearm again, and handing it over
    again in that run restarts from the ammunition check (the custody changed)."""
    try:
        member = _authenticate(state, armorer, now)
        if "armorer" not in member.roles:
            raise _Refusal(
                f"{member.name} is not crewed as Armorer; only the armorer takes a firearm back",
                "wrong-role",
            )
        if serial not in state.firearms:
            hint = naming.suggest(serial, state.firearms, "firearms")
            raise _Refusal(f"no firearm {serial} in the inventory; {hint}", "no-firearm")
        if not reason.strip():
            raise _Refusal("say why (after the take, misfire, stop-work, ...)", "no-reason")
        custody = state.custody(serial)
        if custody.holder == "locked":
            raise _Refusal(
                f"firearm {serial} is locked in storage: check it out (`firearm checkout`)",
                "custody",
            )
        if custody.holder == "armorer" and custody.name == member.name:
            raise _Refusal(f"firearm {serial} is already {custody.describe()}", "custody")
    except _Refusal as refusal:
        return _refuse(refusal, now, by=armorer.name, role="armorer", action="take-back")
    run = custody.run if custody.holder == "performer" else None
    back = _custody_event(state, serial, "armorer", member.name, reason.strip(), now,
                          by=member.name, run=run, kind=ev.CUSTODY_TAKEN_BACK)  # fmt: skip
    back["role"] = "armorer"
    return Decision([back])
