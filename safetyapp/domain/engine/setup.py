"""Setting up a production: the production and its first safety supervisor, its crew, roles and
PINs, firearms and ammunition.

A production has an authority from its first moment: `create_production` names the first safety
supervisor. From then on every change to who may sign (crew, roles, deactivation, another
person's PIN) is signed by a safety supervisor, and every firearm or lot is added by an armorer;
the event records who (`by`). Nobody changes their own roles. PIN records go to the credentials
file (`Decision.credentials`); the record names a PIN only by its id.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from safetyapp.domain import events as ev
from safetyapp.domain import names as naming
from safetyapp.domain.checklist import Checklist
from safetyapp.domain.clock import zone_ok
from safetyapp.domain.engine.checklists import founding_adoptions
from safetyapp.domain.engine.common import (
    Credential,
    Decision,
    _authenticate,
    _hold_event,
    _Refusal,
    _refuse,
    _require_role,
    _title,
    local_date,
)
from safetyapp.domain.qualifications import parse_day
from safetyapp.domain.roles import ROLES, exclusive_problem
from safetyapp.domain.state import State

AMMO_TYPES = ("dummy", "blank")
# The largest safe distance a production may set, in feet: a typo guard (a stage is not a mile).
MAX_BLANK_DISTANCE_FT = 1000
FIREARM_KINDS = ("blank-firing", "non-firing", "rubber", "airsoft")
# Kinds that hold rounds: their chambers (or magazine capacity) are recorded with them, so the
# checks can ask for every chamber seen and refuse a load the firearm cannot hold.
KINDS_WITH_CHAMBERS = ("blank-firing",)


def _pin_id(pin: dict[str, Any]) -> str:
    pin_id = pin.get("id")
    if not isinstance(pin_id, str) or not pin_id:
        raise ValueError("a PIN record needs its id (made by auth.hash_pin)")
    return pin_id


def blank_distance_problem(feet: object) -> str | None:
    """Why `feet` cannot be a production's safe distance from blank fire; None when it can (or
    when none is set: the checklists' default holds)."""
    if feet is None:
        return None
    if (
        isinstance(feet, bool)
        or not isinstance(feet, int)
        or not 1 <= feet <= MAX_BLANK_DISTANCE_FT
    ):
        return (
            "the safe distance from blank fire must be a whole number of feet from 1 to"
            f" {MAX_BLANK_DISTANCE_FT} (the production's risk assessment), not {feet!r}"
        )
    return None


def create_production(
    state: State,
    name: str,
    supervisor: str,
    pin: dict[str, Any],
    now: datetime,
    *,
    adopt: Iterable[Checklist] = (),
    timezone: str = "UTC",
    blank_distance_ft: object = None,
) -> Decision:
    """The production and its first safety supervisor, together: the record's first two events,
    then the checklist versions in `adopt` (the bundled ones), adopted by that supervisor. The
    production-created event carries the record's format and the production's time zone (an
    IANA name: its shooting days are local calendar dates; the record keeps UTC) and, when
    given, its safe distance from blank fire in feet (its risk assessment; the handoff's
    distance evidence checks it; without it the checklists' default, about 20 ft, holds)."""
    name, supervisor = name.strip(), supervisor.strip()
    if not zone_ok(timezone):
        return Decision(
            [], f"unknown time zone {timezone!r}: use an IANA name such as Europe/London or UTC"
        )
    wrong = blank_distance_problem(blank_distance_ft)
    if wrong:
        return Decision([], wrong)
    if not name:
        return Decision([], "a production needs a name")
    if not supervisor:
        return Decision([], "a production needs its first safety supervisor's name")
    if state.production is not None:
        return Decision([], f"this store already holds production '{state.production}'")
    pin_id = _pin_id(pin)
    # The distance only when set: a record made without one replays without it.
    distance: dict[str, Any] = (
        {} if blank_distance_ft is None else {"blank_distance_ft": blank_distance_ft}
    )
    created = ev.event(
        ev.PRODUCTION_CREATED,
        now,
        name=name,
        format=ev.RECORD_FORMAT,
        timezone=timezone,
        **distance,
    )
    first = ev.event(
        ev.CREW_ADDED, now, by=supervisor, role="supervisor", result="added",
        note="first safety supervisor, named when the production was created",
        name=supervisor, roles=["supervisor"], credential=pin_id, founding=True,
    )  # fmt: skip
    adopted = founding_adoptions(supervisor, adopt, now)
    return Decision([created, first, *adopted], credentials={pin_id: pin})


def _supervisor(state: State, by: Credential, now: datetime, action: str) -> str:
    member = _authenticate(state, by, now)
    _require_role(member, "supervisor", action)
    return member.name


def _roles_problem(roles: list[str]) -> str | None:
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        return f"roles must be among: {', '.join(ROLES)}"
    return exclusive_problem(roles)


def add_crew(
    state: State,
    by: Credential,
    name: str,
    roles: list[str],
    pin: dict[str, Any],
    now: datetime,
) -> Decision:
    """A safety supervisor adds a crew member with their roles and first PIN."""
    name = naming.normalise(name)
    roles = list(dict.fromkeys(roles))
    try:
        if not name:
            raise _Refusal("a crew member needs a name", "no-name")
        problem = _roles_problem(roles)
        if problem:
            raise _Refusal(problem, "roles")
        supervisor = _supervisor(state, by, now, "adds crew")
        if problem := naming.new_name_problem(name, state.crew):
            raise _Refusal(problem, "exists")
    except _Refusal as refusal:
        return _refuse(refusal, now, by=by.name, action=f"add crew {name}")
    pin_id = _pin_id(pin)
    added = ev.event(
        ev.CREW_ADDED, now, by=supervisor, role="supervisor", result="added",
        note=f"{name} added as {', '.join(_title(r) for r in roles)}",
        name=name, roles=roles, credential=pin_id,
    )  # fmt: skip
    return Decision([added], credentials={pin_id: pin})


def _other_member(state: State, supervisor: str, name: str, verb: str) -> None:
    member = state.crew.get(name)
    if member is None:
        raise _Refusal(f"no crew member named '{name}'", "unknown-person")
    if not member.active:
        raise _Refusal(f"{name} was deactivated", "deactivated")
    if name == supervisor:
        raise _Refusal(f"nobody {verb} their own roles: another safety supervisor does it", "self")


def grant_role(state: State, by: Credential, name: str, role: str, now: datetime) -> Decision:
    """A safety supervisor gives another crew member one more role."""
    try:
        supervisor = _supervisor(state, by, now, "grants roles")
        _other_member(state, supervisor, name, "grants")
        if role not in ROLES:
            raise _Refusal(f"roles must be among: {', '.join(ROLES)}", "roles")
        if role in state.crew[name].roles:
            raise _Refusal(f"{name} is already crewed as {_title(role)}", "has-role")
        if problem := exclusive_problem([*state.crew[name].roles, role]):
            raise _Refusal(f"{name}: {problem}", "roles")
    except _Refusal as refusal:
        return _refuse(refusal, now, by=by.name, action=f"grant {role} to {name}")
    granted = ev.event(
        ev.CREW_ROLE_GRANTED, now, by=supervisor, role="supervisor", result="granted",
        note=f"{name} now also crewed as {_title(role)}", name=name,
    )  # fmt: skip
    granted["data"]["role"] = role
    return Decision([granted])


def revoke_role(state: State, by: Credential, name: str, role: str, now: datetime) -> Decision:
    """A safety supervisor takes a role from another crew member (never their last role, and
    never the production's last safety supervisor)."""
    try:
        supervisor = _supervisor(state, by, now, "removes roles")
        _other_member(state, supervisor, name, "removes")
        member = state.crew[name]
        if role not in member.roles:
            raise _Refusal(f"{name} is not crewed as {_title(role)}", "no-role")
        if member.roles == [role]:
            raise _Refusal(
                f"{_title(role)} is {name}'s only role: deactivate them instead", "last-role"
            )
    except _Refusal as refusal:
        return _refuse(refusal, now, by=by.name, action=f"revoke {role} from {name}")
    revoked = ev.event(
        ev.CREW_ROLE_REVOKED, now, by=supervisor, role="supervisor", result="revoked",
        note=f"{name} no longer crewed as {_title(role)}", name=name,
    )  # fmt: skip
    revoked["data"]["role"] = role
    return Decision([revoked])


def deactivate(state: State, by: Credential, name: str, now: datetime) -> Decision:
    """A safety supervisor deactivates another crew member: they no longer sign anything. Their
    past signatures stay on the record."""
    try:
        supervisor = _supervisor(state, by, now, "deactivates crew")
        _other_member(state, supervisor, name, "deactivates")
    except _Refusal as refusal:
        return _refuse(refusal, now, by=by.name, action=f"deactivate {name}")
    done = ev.event(
        ev.CREW_DEACTIVATED, now, by=supervisor, role="supervisor", result="deactivated",
        note=f"{name} deactivated", name=name,
    )  # fmt: skip
    return Decision([done])


def _qualified_member(state: State, by: Credential, name: str, now: datetime, what: str) -> str:
    supervisor = _supervisor(state, by, now, f"enters {what}")
    member = state.crew.get(name)
    if member is None:
        raise _Refusal(f"no crew member named '{name}'", "unknown-person")
    if not member.active:
        raise _Refusal(f"{name} was deactivated", "deactivated")
    return supervisor


def _date_text(text: str, what: str) -> str:
    try:
        return parse_day(text, what).isoformat()
    except ValueError as exc:
        raise _Refusal(str(exc), "date") from None


def record_training(
    state: State, by: Credential, name: str, day: str, provider: str, now: datetime
) -> Decision:
    """A safety supervisor enters a crew member's firearms-safety training (date, provider)."""
    name, provider = name.strip(), provider.strip()
    try:
        when = _date_text(day, "the training date")
        if not provider:
            raise _Refusal("a training record needs its provider", "no-provider")
        supervisor = _qualified_member(state, by, name, now, "training records")
        if when > local_date(state, now).isoformat():
            raise _Refusal(f"the training date {when} is in the future", "date")
    except _Refusal as refusal:
        return _refuse(refusal, now, by=by.name, action=f"record training of {name}")
    done = ev.event(
        ev.CREW_TRAINED, now, by=supervisor, role="supervisor", result="trained",
        note=f"{name} trained in firearms safety on {when} ({provider})",
        name=name, date=when, provider=provider,
    )  # fmt: skip
    return Decision([done])


def record_licence(
    state: State,
    by: Credential,
    name: str,
    number: str,
    issuer: str,
    expires: str,
    now: datetime,
) -> Decision:
    """A safety supervisor enters an armorer's licence or permit (number, issuer, expiry)."""
    name, number, issuer = name.strip(), number.strip(), issuer.strip()
    try:
        until = _date_text(expires, "the expiry date")
        if not number:
            raise _Refusal("a licence needs its number", "no-number")
        if not issuer:
            raise _Refusal("a licence needs its issuer", "no-issuer")
        supervisor = _qualified_member(state, by, name, now, "licences")
        if "armorer" not in state.crew[name].roles:
            raise _Refusal(f"{name} is not crewed as Armorer: only armorers hold one", "roles")
    except _Refusal as refusal:
        return _refuse(refusal, now, by=by.name, action=f"record licence of {name}")
    done = ev.event(
        ev.CREW_LICENSED, now, by=supervisor, role="supervisor", result="licensed",
        note=f"{name}'s armorer licence {number} ({issuer}) on file, expires {until}",
        name=name, number=number, issuer=issuer, expires=until,
    )  # fmt: skip
    return Decision([done])


def set_pin(
    state: State, name: str, authoriser: Credential, pin: dict[str, Any], now: datetime
) -> Decision:
    """A PIN is changed by its owner (with their current PIN) or set by a safety supervisor for
    someone else, which also ends a lockout. The record says who set it and when, never the
    PIN's hash or salt."""
    try:
        target = state.crew.get(name)
        if target is None:
            raise _Refusal(f"no crew member named '{name}'", "unknown-person")
        if not target.active:
            raise _Refusal(f"{name} was deactivated", "deactivated")
        member = _authenticate(state, authoriser, now)
        if member.name != name and "supervisor" not in member.roles:
            raise _Refusal(
                f"only {name} or a safety supervisor may set {name}'s PIN (setting your own"
                " needs your current PIN)",
                "not-authorised",
            )
    except _Refusal as refusal:
        return _refuse(refusal, now, by=authoriser.name, action=f"set PIN of {name}")
    pin_id = _pin_id(pin)
    own = member.name == name
    note = f"{name} changed their PIN" if own else f"PIN of {name} set by {member.name}"
    if not own and target.locked_until is not None and now < target.locked_until:
        note += " (lockout ended)"
    event = ev.event(
        ev.CREW_PIN_SET, now, by=member.name, role=None if own else "supervisor",
        result="changed" if own else "reset", note=note, name=name, credential=pin_id,
    )  # fmt: skip
    return Decision([event], credentials={pin_id: pin})


def _armorer(state: State, by: Credential, now: datetime, action: str) -> str:
    member = _authenticate(state, by, now)
    _require_role(member, "armorer", action)
    return member.name


def add_firearm(
    state: State,
    by: Credential,
    serial: str,
    description: str,
    kind: str,
    chambers: int | None,
    now: datetime,
) -> Decision:
    """An armorer adds a firearm to the inventory."""
    serial = serial.strip()
    try:
        if not serial:
            raise _Refusal("a firearm needs a serial number", "no-serial")
        if kind not in FIREARM_KINDS:
            raise _Refusal(f"kind must be one of: {', '.join(FIREARM_KINDS)}", "kind")
        if chambers is not None and chambers < 1:
            raise _Refusal("chambers must be at least 1", "chambers")
        if chambers is None and kind in KINDS_WITH_CHAMBERS:
            raise _Refusal(
                f"a {kind} firearm holds rounds: give its chambers or magazine capacity"
                " (--chambers N), so every chamber is checked and loads are kept possible",
                "chambers",
            )
        armorer = _armorer(state, by, now, "adds firearms")
        if serial in state.firearms:
            raise _Refusal(f"firearm {serial} is already in the inventory", "exists")
    except _Refusal as refusal:
        return _refuse(refusal, now, by=by.name, action=f"add firearm {serial}")
    data: dict[str, Any] = {
        "serial": serial,
        "description": description,
        "kind": kind,
        "chambers": chambers,
    }
    added = ev.event(
        ev.FIREARM_ADDED, now, by=armorer, role="armorer", result="added",
        note=f"firearm {serial} added ({kind})", **data,
    )  # fmt: skip
    return Decision([added])


def add_ammo(
    state: State,
    by: Credential,
    lot: str,
    ammo_type: str,
    count: int,
    source: str,
    now: datetime,
) -> Decision:
    """An armorer declares an ammunition lot. Live ammunition is never a valid lot: whoever
    declares it (anyone on the crew, with their PIN), it is refused and the day held."""
    lot = lot.strip()
    try:
        member = _authenticate(state, by, now)
    except _Refusal as refusal:
        return _refuse(refusal, now, by=by.name, action=f"add lot {lot}")
    if ammo_type == "live":
        reason = (
            f"live ammunition declared (lot {lot}) by {member.name}: live rounds never come"
            " onto a set"
        )
        refusal_event = ev.event(
            ev.REFUSED, now, by=member.name, result="refused", note=reason,
            code="live-ammunition", lot=lot,
        )  # fmt: skip
        hold = _hold_event(state, now, reason, cause="live-ammunition", run=None, by=member.name)
        return Decision([refusal_event, hold], reason)
    try:
        if not lot:
            raise _Refusal("a lot needs an id", "no-lot")
        if ammo_type not in AMMO_TYPES:
            raise _Refusal(f"ammunition type must be one of: {', '.join(AMMO_TYPES)}", "type")
        if count < 0:
            raise _Refusal("count cannot be negative", "count")
        _require_role(member, "armorer", "declares ammunition")
        if not source.strip():
            raise _Refusal(
                f"lot {lot} needs its source (--source: supplier or prop house, box label):"
                " rounds of unknown origin never come onto a set",
                "no-source",
            )
        if lot in state.lots:
            raise _Refusal(f"lot {lot} is already declared", "exists")
    except _Refusal as refusal:
        return _refuse(refusal, now, by=by.name, action=f"add lot {lot}")
    data: dict[str, Any] = {
        "lot": lot,
        "type": ammo_type,
        "count": count,
        "source": source.strip(),
    }
    added = ev.event(
        ev.AMMO_ADDED, now, by=member.name, role="armorer", result="added",
        note=f"lot {lot} declared: {count} {ammo_type}", **data,
    )  # fmt: skip
    return Decision([added])
