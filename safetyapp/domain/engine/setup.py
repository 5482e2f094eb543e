"""Setting up a production: the production itself, its crew and PINs, firearms and ammunition."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from safetyapp.domain import events as ev
from safetyapp.domain import names as naming
from safetyapp.domain.engine.common import (
    Credential,
    Decision,
    _authenticate,
    _hold_event,
    _Refusal,
    _refuse,
)
from safetyapp.domain.roles import ROLES
from safetyapp.domain.state import State

AMMO_TYPES = ("dummy", "blank")
FIREARM_KINDS = ("blank-firing", "non-firing", "rubber", "airsoft")


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
