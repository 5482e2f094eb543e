"""Qualifications on file: what a person's roles require, and what is missing on a given day.

An armorer needs an armorer's licence or permit in date on the day (expiring that day is still
in date); anyone who handles or is near firearms (armorer, 1st AD, performer) needs a
firearms-safety training record dated on or before the day. Entered by a safety supervisor
(`crew-trained`, `crew-licensed` events). Pure: the day is given, never read from a clock.
"""

from __future__ import annotations

import re
from datetime import date

from safetyapp.domain.roles import FIREARMS_ROLES
from safetyapp.domain.state import CrewMember, Licence, State, Training

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_day(text: str, what: str) -> date:
    """A calendar date written YYYY-MM-DD (only that form: `fromisoformat` alone would also
    take "2027-W01-1" or "20270101" and store another date than the one meant), else
    ValueError naming the field."""
    try:
        if not _DAY.fullmatch(text.strip()):
            raise ValueError(text)
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{what} must be a date as YYYY-MM-DD, not {text!r}") from None


def licence_in_date(member: CrewMember, day: date) -> Licence | None:
    """The licence on file that is in date on `day` (the latest entered), or None."""
    text = day.isoformat()  # (YYYY-MM-DD text sorts as the dates do)
    for licence in reversed(member.licences):
        if licence.expires >= text:
            return licence
    return None


def training_on_file(member: CrewMember, day: date) -> Training | None:
    """The latest training record dated on or before `day`, or None."""
    text = day.isoformat()  # (YYYY-MM-DD text sorts as the dates do)
    for training in reversed(member.training):
        if training.date <= text:
            return training
    return None


def licence_problem(member: CrewMember, day: date) -> str | None:
    """What is missing for `member` to act as armorer on `day`, or None."""
    if licence_in_date(member, day) is not None:
        return None
    if not member.licences:
        return f"{member.name} has no armorer licence or permit on record"
    last = member.licences[-1]
    return (
        f"{member.name}'s armorer licence {last.number} ({last.issuer}) expired on {last.expires}"
    )


def training_problem(member: CrewMember, day: date) -> str | None:
    """What is missing for `member` to handle or be near firearms on `day`, or None."""
    if training_on_file(member, day) is not None:
        return None
    if not member.training:
        return f"{member.name} has no firearms-safety training on record"
    first = min(t.date for t in member.training)
    return f"{member.name}'s firearms-safety training is dated {first}, after {day}"


def missing(state: State, person: str, day: date) -> list[str]:
    """Every qualification `person`'s roles need on `day` that the record lacks, in words."""
    member = state.crew.get(person)
    if member is None or not member.active:
        return []
    out: list[str] = []
    if "armorer" in member.roles and (why := licence_problem(member, day)):
        out.append(why)
    if any(r in FIREARMS_ROLES for r in member.roles) and (why := training_problem(member, day)):
        out.append(why)
    return out


def licences_missing(state: State, day: date) -> list[str]:
    """For the gate: every active armorer's licence problem on `day`."""
    return [
        why
        for m in state.crew.values()
        if m.active and "armorer" in m.roles and (why := licence_problem(m, day))
    ]


def training_missing(state: State, day: date) -> list[str]:
    """For the gate: everyone who will handle or be near firearms without training on file."""
    return [
        why
        for m in state.crew.values()
        if m.active
        and any(r in FIREARMS_ROLES for r in m.roles)
        and (why := training_problem(m, day))
    ]
