"""Current state, derived by folding events. The event log is the truth; this is a view of it.

Pure: `State.apply(record)` updates the view from one stored record. No IO, no clock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from safetyapp.domain import events as ev
from safetyapp.domain.auth import LOCKOUT_MINUTES
from safetyapp.domain.checklist import Checklist, Layer, Step, digest_of, validate_checklist
from safetyapp.domain.evidence import DEFAULT_BLANK_DISTANCE_FT

_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def canonical_json(data: Any) -> str:
    return _canonical(data)


StepStatus = Literal["locked", "open", "passed", "failed", "na"]
RunStatus = Literal["open", "hold", "complete", "void"]
Holder = Literal["locked", "armorer", "performer", "unaccounted"]


@dataclass(frozen=True)
class Training:
    """A firearms-safety training record on file: its date (ISO), the provider, and the safety
    supervisor who entered it (`by`, at `time`)."""

    date: str
    provider: str
    by: str
    time: str


@dataclass(frozen=True)
class Licence:
    """An armorer's licence or permit on file: number, issuer, expiry date (ISO), entered by a
    safety supervisor (`by`, at `time`)."""

    number: str
    issuer: str
    expires: str
    by: str
    time: str


@dataclass
class CrewMember:
    """A person on the crew. `pin_id` names their current PIN in the credentials file beside
    the store (the record never holds a PIN's hash or salt); None until one is set. Their
    qualifications on file (see `domain/qualifications.py`), in the order entered."""

    name: str
    roles: list[str]
    pin_id: str | None
    failures: int = 0
    locked_until: datetime | None = None
    active: bool = True
    training: list[Training] = field(default_factory=list)
    licences: list[Licence] = field(default_factory=list)


@dataclass
class Firearm:
    serial: str
    description: str
    kind: str
    chambers: int | None = None


@dataclass
class AmmoLot:
    lot: str
    type: str
    count: int
    source: str
    added_at: str = ""  # when it was declared (a lot declared mid-day joins that day's tally)


@dataclass
class SignOff:
    """One sign-off of a step: who, when, the result and what was seen."""

    step: str
    result: str
    by: str
    role: str
    time: str
    witnesses: list[dict[str, str]]
    evidence: dict[str, Any]
    note: str
    seq: int
    receipt: str | None = None  # the hash of its `signed` event (its receipt's source)


@dataclass(frozen=True)
class Custody:
    """Who holds a firearm now, derived from events: locked up, with the armorer (named), with a
    named performer, or unaccounted for. `since_seq` orders it against sign-offs."""

    holder: Holder
    name: str | None
    since: str | None
    since_seq: int
    run: str | None = None
    note: str = ""

    def describe(self) -> str:
        if self.holder == "locked":
            return "locked in storage"
        if self.holder == "unaccounted":
            return "UNACCOUNTED FOR"
        who = "the armorer" if self.holder == "armorer" else "performer"
        return f"with {who} {self.name}"


@dataclass
class CustodySpell:
    """One line of a firearm's custody register: who held it from `since` to `until` (None:
    still), and why it moved to them (`reason`: checkout, hand-over, return, lock-up, lock-up
    for a break, custody break, recovered, unaccounted for, added to the inventory) with the
    event's note and run."""

    serial: str
    holder: Holder
    name: str | None
    since: str
    reason: str
    note: str
    run: str | None
    seq: int
    until: str | None = None

    def describe(self) -> str:
        return Custody(self.holder, self.name, self.since, self.seq).describe()


def custody_reason(before: Holder, after: Holder, run: str | None) -> str:
    """Why a firearm moved, named from where it was and where it went."""
    if after == "armorer":
        return {"locked": "checkout", "performer": "return", "unaccounted": "recovered"}.get(
            before, "hand-over"
        )
    if after == "performer":
        return "hand-over"
    if after == "locked":
        return "lock-up" if run is not None else "lock-up for a break"
    return "unaccounted for"


@dataclass(frozen=True)
class CustodyMark:
    """A change of custody, or a recorded break in it: verifications before it are stale."""

    seq: int
    time: str
    reason: str


@dataclass
class Incident:
    id: str
    kind: str
    note: str
    reported_at: str
    reported_by: str
    firearm: str | None = None
    hold: str | None = None
    day: int | None = None
    read_out_at: str | None = None  # acknowledged at a safety meeting
    read_out_in: str | None = None  # the run whose meeting read it out
    reviewed_at: str | None = None  # its hold resolved by the named roles
    review: str | None = None
    reviewers: list[dict[str, str]] = field(default_factory=list)

    @property
    def status(self) -> Literal["on-hold", "to-read-out", "closed"]:
        """On hold until reviewed; then (or if it never held) to be read out at a meeting."""
        if self.hold is not None and self.reviewed_at is None:
            return "on-hold"
        return "to-read-out" if self.read_out_at is None else "closed"

    @property
    def open(self) -> bool:
        return self.status != "closed"


@dataclass
class Flag:
    """A finding the safety supervisor must acknowledge before any handoff."""

    id: str
    reason: str
    cause: str
    raised_at: str
    raised_by: str | None
    run: str | None
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None
    acknowledgement: str | None = None
    subject: str | None = None  # whose sign-off it is about: never the one who acknowledges it

    @property
    def open(self) -> bool:
        return self.acknowledged_at is None


@dataclass
class Hold:
    id: str
    reason: str
    cause: str
    raised_at: str
    raised_by: str | None
    run: str | None
    layer: str | None = None
    resolved_at: str | None = None
    resolution: str | None = None
    resolvers: list[dict[str, str]] = field(default_factory=list)
    incident: str | None = None
    raised_hash: str | None = None  # the hash of the event that raised it (its receipt)
    subject: str | None = None  # whose sign-off it is about: never one who resolves it
    verified: bool = True  # raised with a right PIN; else by the name given (issue 14)
    unverified: str | None = None  # why not verified: no PIN, locked out, not crewed...

    @property
    def open(self) -> bool:
        return self.resolved_at is None


@dataclass
class Run:
    id: str
    checklist: Checklist
    started_at: str
    day: int | None
    firearm: str | None = None
    performer: str | None = None
    scene: str | None = None
    signoffs: dict[str, SignOff] = field(default_factory=dict)  # current (not superseded)
    history: list[SignOff] = field(default_factory=list)  # every sign-off ever, in order
    roles_by_person: dict[str, str] = field(default_factory=dict)
    completed_at: str | None = None
    voided_at: str | None = None  # voided by the armorer and a supervisor, with a reason
    void_reason: str | None = None
    voided_by: list[dict[str, str]] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        """Complete or voided: nothing more is signed in it."""
        return self.completed_at is not None or self.voided_at is not None

    def step_status(self, step_id: str) -> StepStatus:
        done = self.signoffs.get(step_id)
        if done is not None:
            return {"pass": "passed", "fail": "failed", "na": "na"}[done.result]  # type: ignore[return-value]
        nxt = self.next_step()
        return "open" if nxt is not None and nxt.id == step_id and not self.failed() else "locked"

    def next_step(self) -> Step | None:
        for _, step in self.checklist.steps():
            if step.id not in self.signoffs:
                return step
        return None

    def failed(self) -> bool:
        return any(s.result == "fail" for s in self.signoffs.values())

    def reset_layers_from(self, layer_id: str) -> None:
        """Reopen a layer (and every later layer) so it is signed again from its first step."""
        reached = False
        for layer in self.checklist.layers:
            reached = reached or layer.id == layer_id
            if reached:
                for step in layer.steps:
                    self.signoffs.pop(step.id, None)

    def layer_of(self, step_id: str) -> Layer:
        layer = self.checklist.layer_of(step_id)
        assert layer is not None
        return layer


@dataclass
class Adoption:
    """A checklist version adopted into the record: its full text is in ``State.checklists``
    under `digest`; `approvers` are who adopted it ({name, role}); `receipt` is its event's
    hash."""

    checklist_id: str
    version: int
    title: str
    digest: str
    time: str
    approvers: list[dict[str, str]]
    founding: bool = False
    source: str = ""
    seq: int = 0
    receipt: str | None = None


@dataclass(frozen=True)
class GateDone:
    """The pre-production gate as last completed: its run, when, and the plan it covered (the
    firearm kinds in the inventory and the active armorers then)."""

    run: str
    completed_at: str
    kinds: tuple[str, ...]
    armorers: tuple[str, ...]


@dataclass(frozen=True)
class Gate:
    """The pre-production gate now: `complete`, or why not (`reason`): never completed, or the
    plan changed since (a new kind of firearm, a new armorer); `run` is an open gate run."""

    complete: bool
    reason: str
    last: GateDone | None
    run: str | None


@dataclass
class Day:
    number: int
    opening_run: str
    opened_at: str
    wrapped_at: str | None = None


@dataclass
class State:
    production: str | None = None
    crew: dict[str, CrewMember] = field(default_factory=dict)
    firearms: dict[str, Firearm] = field(default_factory=dict)
    lots: dict[str, AmmoLot] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    holds: dict[str, Hold] = field(default_factory=dict)
    days: list[Day] = field(default_factory=list)
    incidents: dict[str, Incident] = field(default_factory=dict)
    flags: dict[str, Flag] = field(default_factory=dict)
    holders: dict[str, Custody] = field(default_factory=dict)
    custody_marks: dict[str, list[CustodyMark]] = field(default_factory=dict)
    # Every firearm's custody register, whole (a view keeps none of it: see snapshot.py).
    custody_register: dict[str, list[CustodySpell]] = field(default_factory=dict, compare=False)
    refusals: int = 0
    format: int | None = None  # the record's format, from its production-created event
    checklists: dict[str, Checklist] = field(default_factory=dict)  # by digest, as adopted
    adoptions: list[Adoption] = field(default_factory=list)  # every adoption, in order
    adopted: dict[str, Adoption] = field(default_factory=dict)  # by digest, the latest
    current_checklists: dict[str, str] = field(default_factory=dict)  # id -> digest adopted last
    ammo_marks: list[CustodyMark] = field(default_factory=list)  # ammunition out of sight
    gate_runs: int = 0  # pre-production gate runs started (their ids: G0001, ...)
    gate_done: GateDone | None = None  # the gate as last completed
    # Per lot, the count of the last completed wrap that counted it, and when that wrap started.
    wrap_counts: dict[str, tuple[int, str]] = field(default_factory=dict)
    timezone: str = "UTC"  # the production's time zone (IANA name): its days are local dates
    blank_distance_ft: int = DEFAULT_BLANK_DISTANCE_FT  # from its risk assessment
    last_seq: int = 0
    head_hash: str = ""
    # Indexes kept by the fold so the engine's checks cost O(open work), not O(history).
    open_run_index: dict[str, Run] = field(default_factory=dict, repr=False, compare=False)
    verified_index: dict[str, tuple[Run, SignOff]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # When the last safety meeting (an opening or a meeting run) was completed ("": never).
    last_meeting_at: str = field(default="", repr=False, compare=False)
    # PIN records by id, from the credentials file beside the store: never folded from the
    # record, never in a view. The repository fills it before each decision.
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    # -- derived views -------------------------------------------------------------------------
    @property
    def day(self) -> Day | None:
        """The open shooting day: opening complete, wrap not yet."""
        if self.days and self.days[-1].wrapped_at is None:
            return self.days[-1]
        return None

    @property
    def gate(self) -> Gate:
        """The pre-production gate: complete for the plan as it is now, or why not. The plan
        changes with a firearm of a kind the gate did not cover, or an armorer it did not."""
        open_run = next((r.id for r in self.open_runs() if r.checklist.scope == "prep"), None)
        done = self.gate_done
        if done is None:
            return Gate(False, "the pre-production gate was never completed", None, open_run)
        changes = [
            f"a new kind of firearm ({kind})"
            for kind in dict.fromkeys(f.kind for f in self.firearms.values())
            if kind not in done.kinds
        ]
        changes += [
            f"a new armorer ({name})" for name in _armorers(self) if name not in done.armorers
        ]
        if changes:
            why = f"the plan changed since gate {done.run}: {', '.join(changes)}"
            return Gate(False, why, done, open_run)
        return Gate(True, "", done, open_run)

    def open_holds(self) -> list[Hold]:
        return [h for h in self.holds.values() if h.open]

    def holds_blocking(self, run_id: str | None) -> list[Hold]:
        """Open holds that stop this run: its own, and every day-wide hold."""
        return [h for h in self.open_holds() if h.run is None or h.run == run_id]

    def run_status(self, run: Run) -> RunStatus:
        if run.voided_at is not None:
            return "void"
        if run.completed_at is not None:
            return "complete"
        return "hold" if self.holds_blocking(run.id) else "open"

    def open_runs(self) -> list[Run]:
        return [r for r in self.open_run_index.values() if not r.closed]

    def runs_of_day(self, number: int | None) -> list[Run]:
        """The runs of shooting day ``number`` (None: those of no day, before the first),
        in the record's order. Runs are recorded in day order (the engine numbers each run's
        day when it starts), so this reads back from the latest run only to that day's
        first, never the whole history."""
        found: list[Run] = []
        for run in reversed(self.runs.values()):
            if number is not None and run.day is not None and run.day < number:
                break
            if run.day == number:
                found.append(run)
        found.reverse()
        return found

    def current_runs(self) -> list[Run]:
        """The runs a crew works with now: every open run (of any day), then the other runs
        of the open day - or of the last day, once it is wrapped; before the first day, the
        pre-production runs - in the record's order."""
        shown = {r.id: r for r in self.open_runs()}
        for run in self.runs_of_day(self.days[-1].number if self.days else None):
            shown.setdefault(run.id, run)
        return list(shown.values())

    def custody(self, serial: str) -> Custody:
        """Who holds this firearm now (locked in storage until an event says otherwise)."""
        found = self.holders.get(serial)
        return found if found is not None else Custody("locked", None, None, 0)

    def last_custody_mark(self, serial: str) -> CustodyMark | None:
        marks = self.custody_marks.get(serial)
        return marks[-1] if marks else None

    def last_verified(self, serial: str) -> tuple[Run, SignOff] | None:
        """The latest time-limited verification (a step with `valid_minutes`) of this firearm."""
        return self.verified_index.get(serial)

    def ammo_reconciliation(self) -> dict[str, tuple[int, int, int]]:
        """For the open day, per lot: (morning count, rounds expended by its handoffs, expected
        count now). See `ammo_ledger`."""
        day = self.day
        return self.ammo_ledger(day) if day is not None else {}

    def ammo_ledger(self, day: Day) -> dict[str, tuple[int, int, int]]:
        """For one day, per lot: (morning count, rounds expended by its handoffs, expected
        count). Morning counts are the opening run's lot-count evidence; expended are the
        lot-count evidence of the day's handoff runs (as signed now: a layer signed again
        replaces its earlier counts)."""
        opening = self.runs[day.opening_run]
        morning = run_lot_counts(opening)
        for declared in self.lots.values():  # declared after the morning count: as declared
            if declared.lot not in morning and declared.added_at >= opening.started_at:
                morning[declared.lot] = declared.count
        expended: dict[str, int] = {}
        for run in self.runs_of_day(day.number):
            if run.checklist.scope == "handoff":
                for lot, n in run_lot_counts(run).items():
                    expended[lot] = expended.get(lot, 0) + n
        lots = list(morning) + [lot for lot in expended if lot not in morning]
        return {
            lot: (
                morning.get(lot, 0),
                expended.get(lot, 0),
                morning.get(lot, 0) - expended.get(lot, 0),
            )
            for lot in lots
        }

    def current_adoption(self, checklist_id: str) -> Adoption | None:
        """The version of this checklist adopted last: the one a new run walks."""
        digest = self.current_checklists.get(checklist_id)
        return self.adopted[digest] if digest is not None else None

    def lots_on_hand(self) -> dict[str, int]:
        """Per declared lot, the rounds on hand: the count at the last completed wrap that
        counted it, if that wrap started after the lot was declared; else its declared count
        (the next morning's check counts the same). Kept as wraps complete, never re-read
        from the runs (a checkpoint's earlier runs have no sign-offs to read)."""
        on_hand = {}
        for lot in self.lots.values():
            counted = self.wrap_counts.get(lot.lot)
            fresh = counted is not None and lot.added_at <= counted[1]
            on_hand[lot.lot] = counted[0] if counted is not None and fresh else lot.count
        return on_hand

    def open_flags(self) -> list[Flag]:
        return [f for f in self.flags.values() if f.open]

    def open_incidents(self) -> list[Incident]:
        return [i for i in self.incidents.values() if i.open]

    def to_read_out(self, kinds: Sequence[str]) -> list[Incident]:
        """Incidents of these kinds never yet read out at a safety meeting (oldest first)."""
        return [i for i in self.incidents.values() if i.kind in kinds and i.read_out_at is None]

    # -- fold ---------------------------------------------------------------------------------
    def apply(self, record: dict[str, Any]) -> None:
        handler = _HANDLERS.get(record["kind"])
        if handler is not None:
            handler(self, record, record.get("data") or {})
        self.last_seq = record.get("seq", self.last_seq)
        self.head_hash = record.get("hash", self.head_hash)


def _armorers(state: State) -> list[str]:
    return [m.name for m in state.crew.values() if m.active and "armorer" in m.roles]


def run_lot_counts(run: Run) -> dict[str, int]:
    """Rounds per lot that a run's current sign-offs count (its lot-count evidence, summed)."""
    out: dict[str, int] = {}
    for _, step in run.checklist.steps():
        done = run.signoffs.get(step.id)
        if done is None:
            continue
        for spec in step.evidence:
            for lot, n in spec.kind.lot_counts(done.evidence.get(spec.key)).items():
                out[lot] = out.get(lot, 0) + n
    return out


def fold(records: list[dict[str, Any]], state: State | None = None) -> State:
    state = state or State()
    for record in records:
        state.apply(record)
    return state


def _custody_changed(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    serial = d["serial"]
    seq = r.get("seq", s.last_seq + 1)
    before = s.custody(serial).holder
    s.holders[serial] = Custody(d["holder"], d.get("name"), r["time"], seq, r.get("run"), r["note"])
    mark = CustodyMark(seq, r["time"], r["note"])
    s.custody_marks.setdefault(serial, []).append(mark)
    reason = custody_reason(before, d["holder"], r.get("run"))
    _new_spell(s, serial, d["holder"], d.get("name"), r, reason, seq)


def _custody_break(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    _authenticated(s, r["by"])  # recorded with the person's PIN: a right PIN ends a wrong run
    seq = r.get("seq", s.last_seq + 1)
    mark = CustodyMark(seq, r["time"], r["note"])
    for serial in d.get("serials", []):
        s.custody_marks.setdefault(serial, []).append(mark)
        now = s.custody(serial)
        _new_spell(s, serial, now.holder, now.name, r, "custody break", seq)
    if d.get("ammunition"):
        s.ammo_marks.append(mark)


def _new_spell(
    s: State,
    serial: str,
    holder: Holder,
    name: str | None,
    r: dict[str, Any],
    reason: str,
    seq: int,
) -> None:
    """Close the firearm's current line of its custody register and open the next."""
    register = s.custody_register.setdefault(serial, [])
    if register and register[-1].until is None:
        register[-1].until = r["time"]
    register.append(
        CustodySpell(serial, holder, name, r["time"], reason, r["note"], r.get("run"), seq)
    )


def _incident(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.incidents[d["incident"]] = Incident(
        id=d["incident"],
        kind=d["incident_kind"],
        note=r["note"],
        reported_at=r["time"],
        reported_by=r["by"],
        firearm=d.get("serial"),
        hold=d.get("hold"),
        day=d.get("day"),
    )
    if r.get("by"):
        _authenticated(s, r["by"])


def _flag_raised(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.flags[d["flag"]] = Flag(
        id=d["flag"],
        reason=r["note"],
        cause=d["cause"],
        raised_at=r["time"],
        raised_by=r.get("by"),
        run=r.get("run"),
        subject=d.get("subject"),
    )


def _flag_acknowledged(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    flag = s.flags[d["flag"]]
    flag.acknowledged_at, flag.acknowledged_by = r["time"], r["by"]
    flag.acknowledgement = r["note"]
    run = s.runs.get(flag.run or "")
    if run is not None:
        run.roles_by_person.setdefault(r["by"], "supervisor")
    _authenticated(s, r["by"])


class FormatError(ValueError):
    """The record's format is not the one this version reads."""


def _production(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    found = d.get("format")
    if found not in ev.READABLE_FORMATS:
        said = (
            "no format (an early store, with PIN hashes in the record)"
            if found is None
            else (f"format {found!r}")
        )
        raise FormatError(
            f"this record has {said}; this version reads format"
            f"{'s' if len(ev.READABLE_FORMATS) > 1 else ''}"
            f" {', '.join(map(str, ev.READABLE_FORMATS))} only."
            " Keep the file as it is and create a new store with `safetyapp init`"
        )
    s.production, s.format = d["name"], found
    s.timezone = d.get("timezone") or "UTC"
    s.blank_distance_ft = d.get("blank_distance_ft") or DEFAULT_BLANK_DISTANCE_FT


def _crew(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.crew[d["name"]] = CrewMember(d["name"], list(d["roles"]), d["credential"])
    _authorised(s, r)


def _pin_set(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    member = s.crew[d["name"]]
    member.pin_id, member.failures, member.locked_until = d["credential"], 0, None
    if r.get("by") != d["name"]:
        _authorised(s, r)


def _role_granted(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    member = s.crew[d["name"]]
    if d["role"] not in member.roles:
        member.roles.append(d["role"])
    _authorised(s, r)


def _role_revoked(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    member = s.crew[d["name"]]
    member.roles = [role for role in member.roles if role != d["role"]]
    _authorised(s, r)


def _deactivated(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.crew[d["name"]].active = False
    _authorised(s, r)


def _trained(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.crew[d["name"]].training.append(Training(d["date"], d["provider"], r["by"], r["time"]))
    _authorised(s, r)


def _licensed(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    licence = Licence(d["number"], d["issuer"], d["expires"], r["by"], r["time"])
    s.crew[d["name"]].licences.append(licence)
    _authorised(s, r)


def _authorised(s: State, r: dict[str, Any]) -> None:
    """A change signed by `by` with their PIN: their failure count starts again."""
    if r.get("by"):
        _authenticated(s, r["by"])


def _firearm(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.firearms[d["serial"]] = Firearm(d["serial"], d["description"], d["kind"], d.get("chambers"))
    seq = r.get("seq", s.last_seq + 1)
    _new_spell(s, d["serial"], "locked", None, r, "added to the inventory", seq)
    _authorised(s, r)


def _ammo(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.lots[d["lot"]] = AmmoLot(d["lot"], d["type"], d["count"], d.get("source", ""), r["time"])
    _authorised(s, r)


_CHECKLISTS_SEEN: dict[str, Checklist] = {}


def checklist_from_record(data: Any) -> Checklist:
    """A checklist's text as recorded. One (frozen) model per distinct content: records and
    snapshots that repeat a checklist validate it once."""
    key = canonical_json(data)
    found = _CHECKLISTS_SEEN.get(key)
    if found is None:
        found = validate_checklist(data)
        if len(_CHECKLISTS_SEEN) < 256:
            _CHECKLISTS_SEEN[key] = found
    return found


def _run_checklist(s: State, d: dict[str, Any]) -> Checklist:
    """The checklist a run walks: a version adopted into the record, named by its digest. (The
    rule that a run walks only an adopted version is the engine's; without the text the run
    cannot even be folded.)"""
    digest = d["digest"]
    known = s.checklists.get(digest)
    if known is None:
        raise LookupError(f"run names checklist {digest!r}, which no earlier event adopted")
    return known


def _checklist_adopted(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    digest = d["digest"]
    if digest_of(d["checklist"]) != digest:
        raise ValueError(f"the checklist text recorded does not match its digest {digest}")
    checklist = checklist_from_record(d["checklist"])
    if checklist.id != d["checklist_id"] or checklist.version != d["version"]:
        raise ValueError(f"the checklist text recorded is not {d['checklist_id']!r}")
    adoption = Adoption(
        checklist_id=checklist.id,
        version=checklist.version,
        title=checklist.title,
        digest=digest,
        time=r["time"],
        approvers=list(d["approvers"]),
        founding=bool(d.get("founding", False)),
        source=d.get("source", ""),
        seq=r.get("seq", s.last_seq + 1),
        receipt=r.get("hash"),
    )
    s.checklists.setdefault(digest, checklist)
    s.adoptions.append(adoption)
    s.adopted[digest] = adoption
    s.current_checklists[checklist.id] = digest
    for who in adoption.approvers:
        _authenticated(s, who["name"])


def _run_started(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    checklist = _run_checklist(s, d)
    if checklist.scope == "prep":
        s.gate_runs += 1
    s.runs[r["run"]] = s.open_run_index[r["run"]] = Run(
        id=r["run"],
        checklist=checklist,
        started_at=r["time"],
        day=d.get("day"),
        firearm=d.get("firearm"),
        performer=d.get("performer"),
        scene=d.get("scene"),
    )


def _signed(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    run = s.runs[r["run"]]
    signoff = SignOff(
        step=r["step"],
        result=r["result"],
        by=r["by"],
        role=r["role"],
        time=r["time"],
        witnesses=list(d.get("witnesses", [])),
        evidence=dict(d.get("evidence", {})),
        note=r.get("note", ""),
        seq=r.get("seq", 0),
        receipt=r.get("hash"),
    )
    run.signoffs[signoff.step] = signoff
    run.history.append(signoff)
    if run.firearm is not None and signoff.result == "pass":
        step = run.checklist.step(signoff.step)
        if step is not None and step.valid_minutes is not None:
            best = s.verified_index.get(run.firearm)
            if best is None or signoff.seq > best[1].seq:
                s.verified_index[run.firearm] = (run, signoff)
    for incident_id in d.get("read_out", []):
        incident = s.incidents[incident_id]
        incident.read_out_at, incident.read_out_in = r["time"], run.id
    run.roles_by_person.setdefault(signoff.by, signoff.role)
    _authenticated(s, signoff.by)
    for w in signoff.witnesses:
        run.roles_by_person.setdefault(w["name"], w["role"])
        _authenticated(s, w["name"])


def _authenticated(s: State, name: str) -> None:
    member = s.crew.get(name)
    if member is not None:
        member.failures = 0


def _stale(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.runs[r["run"]].reset_layers_from(d["layer"])


def _run_completed(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    run = s.runs[r["run"]]
    run.completed_at = r["time"]
    s.open_run_index.pop(r["run"], None)
    if run.checklist.scope in ("opening", "meeting"):
        s.last_meeting_at = max(s.last_meeting_at, r["time"])
    if run.checklist.scope == "wrap":
        for lot, n in run_lot_counts(run).items():
            s.wrap_counts[lot] = (n, run.started_at)
    if run.checklist.scope == "prep":
        kinds = tuple(dict.fromkeys(f.kind for f in s.firearms.values()))
        s.gate_done = GateDone(run.id, r["time"], kinds, tuple(_armorers(s)))


def _run_voided(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    run = s.runs[r["run"]]
    run.voided_at, run.void_reason = r["time"], r["note"]
    run.voided_by = list(d.get("signers", []))
    s.open_run_index.pop(r["run"], None)
    for who in run.voided_by:
        _authenticated(s, who["name"])


def _day_opened(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.days.append(Day(number=d["day"], opening_run=r["run"], opened_at=r["time"]))


def _day_wrapped(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    if s.days:
        s.days[-1].wrapped_at = r["time"]


def _hold_raised(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.holds[d["hold"]] = Hold(
        id=d["hold"],
        reason=r["note"],
        cause=d["cause"],
        raised_at=r["time"],
        raised_by=r.get("by"),
        run=r.get("run"),
        layer=d.get("layer"),
        incident=d.get("incident"),
        raised_hash=r.get("hash"),
        subject=d.get("subject"),
        verified=d.get("verified", True),
        unverified=d.get("unverified"),
    )
    if r.get("by") and d.get("verified", True):
        _authenticated(s, r["by"])


def _hold_resolved(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    hold = s.holds[d["hold"]]
    hold.resolved_at, hold.resolution = r["time"], r["note"]
    hold.resolvers = list(d.get("resolvers", []))
    run = s.runs.get(hold.run or "")
    for who in hold.resolvers:
        _authenticated(s, who["name"])
        if run is not None:
            run.roles_by_person.setdefault(who["name"], who["role"])
    incident = s.incidents.get(hold.incident or "")
    if incident is not None:
        incident.reviewed_at, incident.review = r["time"], r["note"]
        incident.reviewers = list(hold.resolvers)
    if hold.run is not None and hold.layer is not None:
        s.runs[hold.run].reset_layers_from(hold.layer)


def _refused(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.refusals += 1
    person = d.get("person") or r.get("by")
    if d.get("code") == "wrong-pin" and person in s.crew:
        s.crew[person].failures += 1


def _lockout(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    member = s.crew[r["by"]]
    member.failures = 0
    member.locked_until = ev.parse_time(r["time"]) + timedelta(minutes=LOCKOUT_MINUTES)


_HANDLERS = {
    ev.PRODUCTION_CREATED: _production,
    ev.CREW_ADDED: _crew,
    ev.CREW_PIN_SET: _pin_set,
    ev.CREW_ROLE_GRANTED: _role_granted,
    ev.CREW_ROLE_REVOKED: _role_revoked,
    ev.CREW_DEACTIVATED: _deactivated,
    ev.CREW_TRAINED: _trained,
    ev.CREW_LICENSED: _licensed,
    ev.FIREARM_ADDED: _firearm,
    ev.AMMO_ADDED: _ammo,
    ev.CHECKLIST_ADOPTED: _checklist_adopted,
    ev.RUN_STARTED: _run_started,
    ev.SIGNED: _signed,
    ev.LAYER_STALE: _stale,
    ev.RUN_COMPLETED: _run_completed,
    ev.DAY_OPENED: _day_opened,
    ev.DAY_WRAPPED: _day_wrapped,
    ev.HOLD_RAISED: _hold_raised,
    ev.HOLD_RESOLVED: _hold_resolved,
    ev.REFUSED: _refused,
    ev.LOCKOUT: _lockout,
    ev.CUSTODY_CHANGED: _custody_changed,
    ev.CUSTODY_BREAK: _custody_break,
    ev.CUSTODY_TAKEN_BACK: _custody_changed,
    ev.RUN_VOIDED: _run_voided,
    ev.INCIDENT_REPORTED: _incident,
    ev.FLAG_RAISED: _flag_raised,
    ev.FLAG_ACKNOWLEDGED: _flag_acknowledged,
}
