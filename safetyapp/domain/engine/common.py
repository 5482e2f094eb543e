"""What every engine rule shares: the Decision it returns, the refusal it raises, the
credential check, and the hold and custody events several rules emit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from safetyapp.domain import clock
from safetyapp.domain import events as ev
from safetyapp.domain.auth import MAX_FAILURES, check_pin
from safetyapp.domain.roles import ROLE_TITLES
from safetyapp.domain.state import CrewMember, State

Result = Literal["pass", "fail", "na"]


@dataclass(frozen=True)
class Credential:
    """A person identifying themselves with their own PIN."""

    name: str
    pin: str = field(repr=False)


@dataclass(frozen=True)
class RecordedSigner(Credential):
    """Replay only (safetyapp.domain.replay): the person a recorded event names, whose PIN was
    checked when the event was written and cannot be checked again. Authentication skips the
    PIN and nothing else (unknown, deactivated and locked-out people are still refused). The
    app never builds one from user input."""

    pin: str = field(default="", repr=False)


@dataclass(frozen=True)
class Decision:
    """The events to append; when refused, why. `credentials` are PIN records (by id) the
    repository writes to the credentials file beside the store before appending the events:
    the record itself names a PIN only by its id."""

    events: list[dict[str, Any]]
    refused: str | None = None
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.refused is None

    @property
    def run_id(self) -> str | None:
        """The run this decision is about: the one it started, or the step's run it signed."""
        return next((e["run"] for e in self.events if e.get("run")), None)

    @property
    def wrong_pin_of(self) -> str | None:
        """Refused for a wrong PIN: whose it was."""
        first = self.events[0] if self.events and not self.ok else None
        if first is None or first.get("data", {}).get("code") != "wrong-pin":
            return None
        return str(first["data"].get("person") or "") or None

    @property
    def hold_id(self) -> str | None:
        """The hold this decision raised, if it raised one."""
        return self._data_of(ev.HOLD_RAISED, "hold")

    @property
    def incident_id(self) -> str | None:
        """The incident this decision recorded, if it recorded one."""
        return self._data_of(ev.INCIDENT_REPORTED, "incident")

    def _data_of(self, kind: ev.EventKind, key: str) -> str | None:
        for e in self.events:
            if e["kind"] == kind:
                return str(e["data"][key])
        return None


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


def local_date(state: State, moment: datetime) -> date:
    """The production's local calendar date of a moment (its days are local dates)."""
    return clock.local_date(moment, state.timezone)


def _title(role: str) -> str:
    return ROLE_TITLES.get(role, role)


def _require_role(member: CrewMember, role: str, action: str) -> None:
    if role not in member.roles:
        raise _Refusal(
            f"{member.name} is not crewed as {_title(role)}; only the {_title(role)} {action}",
            "not-authorised",
        )


def _authenticate(state: State, cred: Credential, now: datetime) -> CrewMember:
    member = state.crew.get(cred.name)
    if member is None:
        raise _Refusal(f"no crew member named '{cred.name}'", "unknown-person")
    if not member.active:
        raise _Refusal(f"{member.name} was deactivated and no longer signs", "deactivated")
    if member.locked_until is not None and now < member.locked_until:
        until = clock.shown(member.locked_until, state.timezone, date=False, seconds=True)
        raise _Refusal(
            f"{member.name} is locked out after {MAX_FAILURES} wrong PINs until {until}", "locked"
        )
    if isinstance(cred, RecordedSigner):
        return member  # replay: the PIN was checked when the event was written
    stored = state.credentials.get(member.pin_id or "")
    if stored is None:
        raise _Refusal(
            f"no PIN on file for {member.name} (the credentials file beside the store lacks it):"
            " a safety supervisor sets a new one with `crew pin`",
            "no-credential",
        )
    if not check_pin(cred.pin, stored):
        lock = _lockout_events(member, now)
        raise _Refusal(f"wrong PIN for {member.name}", "wrong-pin", lock, person=member.name)
    return member


def _lockout_events(member: CrewMember, now: datetime) -> list[dict[str, Any]]:
    """What a wrong PIN adds to its refusal: the lockout, at the MAX_FAILURES-th in a row."""
    if member.failures + 1 >= MAX_FAILURES:
        return [ev.event(ev.LOCKOUT, now, by=member.name, note="5 wrong PINs in a row")]
    return []


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


def _hold_event(
    state: State, now: datetime, reason: str, *, cause: str, run: str | None, by: str | None
) -> dict[str, Any]:
    hold_id = f"H{len(state.holds) + 1:04d}"
    scope = "run" if run else "day"
    return ev.event(
        ev.HOLD_RAISED, now, by=by, run=run, result="hold", note=reason, hold=hold_id,
        cause=cause, scope=scope,
    )  # fmt: skip


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
    kind: ev.EventKind = ev.CUSTODY_CHANGED,
) -> dict[str, Any]:
    before = state.custody(serial)
    return ev.event(
        kind, now, by=by, run=run, step=step, result=holder, note=note,
        serial=serial, holder=holder, name=name, previous=before.holder,
        previous_name=before.name,
    )  # fmt: skip


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
