"""Adopted checklists: only a checklist version adopted into the record is ever walked.

A version is adopted with its full text and digest on the record: the bundled versions at the
production's creation, by its first safety supervisor (:func:`founding_adoptions`); any other
(a production's own, an edited file) by a safety supervisor and an armorer, two different
people, each with their PIN (:func:`adopt_checklist`). A run of a version whose digest is not
adopted is refused (:func:`check_adopted`, asked by ``runs.start_run``).

When several versions of one checklist id are adopted, the one adopted last is the one a new
run walks (:func:`checklist_to_start`); adopting an older version again makes it current again.
An installed file whose version is not adopted (an edited or newly installed file) stops new
runs of its id until it is adopted or restored: the app never walks a text the record does not
hold, and never quietly ignores a changed file.

The rules are functions of (state, command, now) like every other rule, so a replay of the
record can ask them again: :func:`adoption_problem` is every check but the PINs'.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from safetyapp.domain import clock
from safetyapp.domain import events as ev
from safetyapp.domain.checklist import Checklist, cross_check
from safetyapp.domain.engine.common import (
    Credential,
    Decision,
    _authenticate,
    _Refusal,
    _refuse,
    _title,
)
from safetyapp.domain.state import State

# The roles that adopt a checklist version, in the order their PINs are given (`--by` twice).
ADOPTER_ROLES = ("supervisor", "armorer")
ADOPT_HINT = (
    "a safety supervisor and an armorer adopt it with"
    " `safetyapp checklists adopt FILE --by SUPERVISOR --by ARMORER`"
)


def short_digest(digest: str) -> str:
    """The digest's first 12 hex characters, as lists and refusals show it."""
    return digest[:12]


def adoption_event(
    checklist: Checklist,
    approvers: list[dict[str, str]],
    now: datetime,
    *,
    founding: bool = False,
    source: str = "",
) -> dict[str, Any]:
    """The `checklist-adopted` event: the version's full text and digest, and who adopted it
    (the first approver signs it as `by`)."""
    digest = checklist.digest()
    how = "bundled with the app, adopted at the production's creation" if founding else "adopted"
    note = f"{checklist.title} (v{checklist.version}, {short_digest(digest)}): {how}"
    event = ev.event(
        ev.CHECKLIST_ADOPTED, now, by=approvers[0]["name"], role=approvers[0]["role"],
        result="adopted", note=note, checklist_id=checklist.id, version=checklist.version,
        title=checklist.title, digest=digest, checklist=checklist.text(),
        approvers=approvers, source=source,
    )  # fmt: skip
    if founding:
        event["data"]["founding"] = True
    return event


def founding_adoptions(
    founder: str, checklists: Iterable[Checklist], now: datetime
) -> list[dict[str, Any]]:
    """The bundled checklist versions, adopted by the first safety supervisor when the
    production is created (see ``setup.create_production``)."""
    who = [{"name": founder, "role": "supervisor"}]
    return [
        adoption_event(c, who, now, founding=True, source=f"bundled {c.id}.yaml")
        for c in sorted(checklists, key=lambda c: c.id)
    ]


def founding_adoption(
    state: State, founder: Credential, checklist: Checklist, now: datetime, *, source: str = ""
) -> Decision:
    """One of the bundled versions adopted at the production's creation, checked on its own
    (replay reads a record one decision at a time): only while the production is still only
    its founding supervisor (no other crew, inventory, run or other adoption), by that
    supervisor, of a valid checklist not yet adopted. ``create_production`` appends these."""
    member = state.crew.get(founder.name)
    founding = (
        state.production is not None
        and len(state.crew) == 1
        and member is not None
        and "supervisor" in member.roles
        and not state.runs
        and not state.firearms
        and not state.lots
        and all(a.founding for a in state.adoptions)
    )
    if not founding:
        return Decision(
            [], "a bundled checklist is adopted without a second signature only at creation"
        )
    problems = cross_check(checklist)
    if problems or checklist.digest() in state.adopted:
        return Decision([], f"checklist '{checklist.id}' cannot be adopted at creation")
    who = [{"name": founder.name, "role": "supervisor"}]
    return Decision([adoption_event(checklist, who, now, founding=True, source=source)])


def adoption_problem(
    state: State, checklist: Checklist, approvers: list[dict[str, str]]
) -> _Refusal | None:
    """Why this adoption breaks the rules (PINs aside), or None: two different people, active,
    holding the roles in :data:`ADOPTER_ROLES` in that order; a checklist that passes the same
    checks as a bundled one; not already the current version of its id."""
    if [a["role"] for a in approvers] != list(ADOPTER_ROLES):
        return _Refusal(
            "a checklist is adopted by a safety supervisor and an armorer: give --by SUPERVISOR"
            " --by ARMORER, in that order",
            "adopters",
        )
    names = [a["name"] for a in approvers]
    if len(set(names)) != len(names):
        return _Refusal(
            f"{names[0]} cannot adopt a checklist twice over: a safety supervisor and an armorer,"
            " two different people, adopt it",
            "same-person",
        )
    for who in approvers:
        member = state.crew.get(who["name"])
        if member is None:
            return _Refusal(f"no crew member named '{who['name']}'", "unknown-person")
        if not member.active:
            return _Refusal(f"{member.name} was deactivated and no longer signs", "deactivated")
        if who["role"] not in member.roles:
            role = _title(who["role"])
            return _Refusal(
                f"{member.name} is not crewed as {role}; a checklist is adopted by a safety"
                " supervisor and an armorer",
                "wrong-role",
            )
    problems = cross_check(checklist)
    if problems:
        return _Refusal(
            f"checklist '{checklist.id}' is not valid: " + "; ".join(map(str, problems)),
            "invalid",
        )
    digest = checklist.digest()
    current = state.current_adoption(checklist.id)
    if current is not None and current.digest == digest:
        return _Refusal(
            f"checklist '{checklist.id}' v{checklist.version} ({short_digest(digest)}) is already"
            f" the adopted version, since {clock.shown(current.time, state.timezone)}",
            "already-adopted",
        )
    return None


def adopt_checklist(
    state: State,
    supervisor: Credential,
    armorer: Credential,
    checklist: Checklist,
    now: datetime,
    *,
    source: str = "",
) -> Decision:
    """A safety supervisor and an armorer adopt a checklist version (validated as the bundled
    ones are, by the caller that read it, and again here): its full text and digest go on the
    record, and runs of it may start. `source` says where it came from (a file name)."""
    approvers = [
        {"name": supervisor.name, "role": ADOPTER_ROLES[0]},
        {"name": armorer.name, "role": ADOPTER_ROLES[1]},
    ]
    action = f"adopt checklist {checklist.id} v{checklist.version}"
    try:
        for cred in (supervisor, armorer):
            _authenticate(state, cred, now)
        problem = adoption_problem(state, checklist, approvers)
        if problem is not None:
            raise problem
    except _Refusal as refusal:
        return _refuse(refusal, now, by=supervisor.name, action=action)
    return Decision([adoption_event(checklist, approvers, now, source=source)])


def check_adopted(state: State, checklist: Checklist) -> None:
    """Raise the refusal for a run of a version that is not adopted (see ``runs.start_run``)."""
    digest = checklist.digest()
    if digest in state.adopted:
        return
    current = state.current_adoption(checklist.id)
    now_adopted = (
        f"; the adopted version of '{checklist.id}' is v{current.version}"
        f" ({short_digest(current.digest)})"
        if current is not None
        else ""
    )
    raise _Refusal(
        f"checklist '{checklist.id}' v{checklist.version} ({short_digest(digest)}) is not adopted"
        f" into this record, so it cannot run{now_adopted}: check the file was not changed by"
        f" mistake (then restore it), or {ADOPT_HINT}",
        "not-adopted",
    )


def checklist_to_start(
    state: State, installed: Mapping[str, Checklist], checklist_id: str
) -> Checklist | None:
    """The version a new run of `checklist_id` walks: the one adopted last. An installed file
    of that id that is not adopted is returned instead, so that starting it is refused, on the
    record, saying how to adopt it. None when the id is neither adopted nor installed."""
    found = installed.get(checklist_id)
    if found is not None and found.digest() not in state.adopted:
        return found
    current = state.current_adoption(checklist_id)
    if current is not None:
        return state.checklists[current.digest]
    return found
