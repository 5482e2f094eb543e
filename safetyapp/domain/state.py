"""Current state, derived by folding events. The event log is the truth; this is a view of it.

Pure: `State.apply(record)` updates the view from one stored record. No IO, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from safetyapp.domain import events as ev
from safetyapp.domain.auth import LOCKOUT_MINUTES
from safetyapp.domain.checklist import Checklist, Layer, Step

StepStatus = Literal["locked", "open", "passed", "failed", "na"]
RunStatus = Literal["open", "hold", "complete"]


@dataclass
class CrewMember:
    name: str
    roles: list[str]
    pin: dict[str, Any]
    failures: int = 0
    locked_until: datetime | None = None


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
    refusals: int = 0
    last_seq: int = 0
    head_hash: str = ""

    # -- derived views -------------------------------------------------------------------------
    @property
    def day(self) -> Day | None:
        """The open shooting day: opening complete, wrap not yet."""
        if self.days and self.days[-1].wrapped_at is None:
            return self.days[-1]
        return None

    def open_holds(self) -> list[Hold]:
        return [h for h in self.holds.values() if h.open]

    def holds_blocking(self, run_id: str | None) -> list[Hold]:
        """Open holds that stop this run: its own, and every day-wide hold."""
        return [h for h in self.open_holds() if h.run is None or h.run == run_id]

    def run_status(self, run: Run) -> RunStatus:
        if run.completed_at is not None:
            return "complete"
        return "hold" if self.holds_blocking(run.id) else "open"

    def open_runs(self) -> list[Run]:
        return [r for r in self.runs.values() if r.completed_at is None]

    # -- fold ---------------------------------------------------------------------------------
    def apply(self, record: dict[str, Any]) -> None:
        handler = _HANDLERS.get(record["kind"])
        if handler is not None:
            handler(self, record, record.get("data") or {})
        self.last_seq = record.get("seq", self.last_seq)
        self.head_hash = record.get("hash", self.head_hash)


def fold(records: list[dict[str, Any]], state: State | None = None) -> State:
    state = state or State()
    for record in records:
        state.apply(record)
    return state


def _production(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.production = d["name"]


def _crew(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.crew[d["name"]] = CrewMember(d["name"], list(d["roles"]), d["pin"])


def _pin_set(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    member = s.crew[d["name"]]
    member.pin, member.failures, member.locked_until = d["pin"], 0, None


def _firearm(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.firearms[d["serial"]] = Firearm(d["serial"], d["description"], d["kind"], d.get("chambers"))


def _ammo(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    s.lots[d["lot"]] = AmmoLot(d["lot"], d["type"], d["count"], d.get("source", ""))


def _run_started(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    checklist = Checklist.model_validate(d["checklist"])
    s.runs[r["run"]] = Run(
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
    )
    run.signoffs[signoff.step] = signoff
    run.history.append(signoff)
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
    s.runs[r["run"]].completed_at = r["time"]


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
    )
    if r.get("by"):
        _authenticated(s, r["by"])


def _hold_resolved(s: State, r: dict[str, Any], d: dict[str, Any]) -> None:
    hold = s.holds[d["hold"]]
    hold.resolved_at, hold.resolution = r["time"], r["note"]
    hold.resolvers = list(d.get("resolvers", []))
    for who in hold.resolvers:
        _authenticated(s, who["name"])
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
    ev.FIREARM_ADDED: _firearm,
    ev.AMMO_ADDED: _ammo,
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
}
