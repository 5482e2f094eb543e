"""Replay: every recorded decision re-run through the engine command that would have produced it.

A hash proves an event was not changed after it was written, not that the engine wrote it: a
hand-made, correctly hashed event can say anything. So reading the record re-runs each decision
(the group of events one command appended) through the engine, from the state folded before
it, with the time taken from the record, and compares what the engine produces with what is
recorded, field by field. An event the engine would not have produced (a refusal the engine
would give for that attempt, or any other difference) is a :class:`ReplayMismatch` naming the
event (seq) and the rule it breaks. The engine is the one definition of the rules: nothing here
re-states a rule; it only rebuilds a command's inputs from the record.

What replay cannot re-check: PINs. A recorded signer is accepted without their PIN
(:class:`~safetyapp.domain.engine.common.RecordedSigner`: the one check skipped), and the
record's times are the laptop's clock. A forgery that keeps every rule (the right people, in
the right order, at plausible times) is caught only by an anchor off the laptop: the head hash
on paper, a receipt on a call sheet, the mirror (RELIABILITY.md).

Use: ``Replay().apply(state, record)`` for each record in order (it checks the record, then
folds it into ``state``); :meth:`Replay.finish` at the end of a whole record.

Registering an event kind (a test fails for every :class:`EventKind` without a rule):
- a kind a command appends first (a *leader*): write ``def _my_kind(state, record, data) ->
  list[Decision]`` that rebuilds the command's inputs from ``record`` and calls the engine
  command with ``RecordedSigner(name)`` for each person; return one Decision, or several
  candidates where the inputs cannot be read back unambiguously (the first that reproduces the
  record wins; the first candidate's difference is the one reported). Register it with
  ``RULES[EventKind.MY_KIND] = _my_kind``;
- a kind only ever appended within another command's decision (a *rider*, e.g. run-completed
  after the last step): ``RULES[EventKind.MY_KIND] = RIDER``; the leader's command produces it.
A kind can be both (custody-changed: an armorer's move, or a step's hand-over): its rule is the
leader's, and the riders are matched inside the other decisions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from safetyapp.domain import engine
from safetyapp.domain import events as ev
from safetyapp.domain.checklist import Checklist, cross_check, digest_of
from safetyapp.domain.engine.checklists import founding_adoption
from safetyapp.domain.engine.common import (
    Credential,
    Decision,
    RecordedSigner,
    _lockout_events,
    _Refusal,
    _refuse,
)
from safetyapp.domain.events import EventKind
from safetyapp.domain.state import State, checklist_from_record

Record = dict[str, Any]
Rule = Callable[[State, Record, dict[str, Any]], list[Decision]]
_RESERVED: Final = ("seq", "prev_hash", "hash")


class ReplayMismatch(Exception):
    """A recorded event the engine would not have produced from the state before it."""

    def __init__(self, seq: int, kind: object, rule: str, detail: str) -> None:
        super().__init__(f"event {seq} ({kind}) breaks rule {rule}: {detail}")
        self.seq, self.kind, self.rule, self.detail = seq, kind, rule, detail


def _rider(state: State, record: Record, data: dict[str, Any]) -> list[Decision]:
    raise ReplayMismatch(
        record.get("seq", 0),
        record.get("kind"),
        "not-a-decision",
        "this kind of event is only ever recorded by the engine together with the command that"
        " causes it (e.g. a run's completion with its last step), and no such command precedes"
        " it here",
    )


RIDER: Final[Rule] = _rider


def _get(data: dict[str, Any], key: str) -> Any:
    """A recorded value, None when absent (the engine refuses or the comparison differs)."""
    return data.get(key)


def _who(name: Any) -> RecordedSigner:
    return RecordedSigner(name if isinstance(name, str) else repr(name))


def _now(record: Record) -> datetime:
    return ev.parse_time(record["time"])


# -- setup -----------------------------------------------------------------------------------


def _production(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    # The first supervisor is named by the crew-added event the command appends with it; the
    # replayer hands that event over as `_next` (see Replay).
    nxt = _get(d, "_next") or {}
    first = nxt.get("data") or {}
    pin = {"id": first.get("credential")}
    zone = _get(d, "timezone")
    zone = zone if isinstance(zone, str) else "UTC"
    name, founder = _get(d, "name"), _get(first, "name")
    distance = _get(d, "blank_distance_ft")
    return [
        engine.create_production(
            state, name, founder, pin, _now(r), timezone=zone, blank_distance_ft=distance
        )
    ]


def _adopted(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    """A checklist version adopted: at creation by the founding supervisor alone (the bundled
    ones), or later by a safety supervisor and an armorer. The text is re-read and re-checked
    as the file was; its digest is the engine's."""
    text = _get(d, "checklist")
    if not isinstance(text, dict):
        raise ReplayMismatch(0, r["kind"], "checklist", "no checklist text recorded")
    checklist = checklist_from_record(text)
    now, source = _now(r), _get(d, "source") or ""
    if _get(d, "founding"):
        return [founding_adoption(state, _who(r["by"]), checklist, now, source=source)]
    people = [_who(a.get("name") if isinstance(a, dict) else a) for a in _get(d, "approvers") or []]
    if len(people) != 2:
        raise ReplayMismatch(0, r["kind"], "adopters", "a supervisor and an armorer adopt it")
    return [engine.adopt_checklist(state, people[0], people[1], checklist, now, source=source)]


def _crew_added(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    pin = {"id": _get(d, "credential")}
    return [engine.add_crew(state, _who(r["by"]), _get(d, "name"), _get(d, "roles"), pin, _now(r))]


def _pin_set(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    pin = {"id": _get(d, "credential")}
    return [engine.set_pin(state, _get(d, "name"), _who(r["by"]), pin, _now(r))]


def _granted(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    return [engine.grant_role(state, _who(r["by"]), _get(d, "name"), _get(d, "role"), _now(r))]


def _revoked(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    return [engine.revoke_role(state, _who(r["by"]), _get(d, "name"), _get(d, "role"), _now(r))]


def _deactivated(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    return [engine.deactivate(state, _who(r["by"]), _get(d, "name"), _now(r))]


def _trained(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    args = (_get(d, "name"), _get(d, "date"), _get(d, "provider"))
    return [engine.record_training(state, _who(r["by"]), *args, _now(r))]


def _licensed(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    args = (_get(d, "name"), _get(d, "number"), _get(d, "issuer"), _get(d, "expires"))
    return [engine.record_licence(state, _who(r["by"]), *args, _now(r))]


def _firearm(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    who, now = _who(r["by"]), _now(r)
    args = (_get(d, "serial"), _get(d, "description"), _get(d, "kind"), _get(d, "chambers"))
    return [engine.add_firearm(state, who, *args, now)]


def _ammo(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    who, now = _who(r["by"]), _now(r)
    args = (_get(d, "lot"), _get(d, "type"), _get(d, "count"), _get(d, "source"))
    return [engine.add_ammo(state, who, *args, now)]


# -- runs ------------------------------------------------------------------------------------

_CHECKED: dict[int, str | None] = {}  # id(checklist) -> why it cannot be walked (None: it can)


def _checklist(state: State, d: dict[str, Any]) -> Checklist:
    digest = _get(d, "digest")
    known = state.checklists.get(digest) if isinstance(digest, str) else None
    if known is not None:
        return known
    if "checklist" not in d:
        raise ReplayMismatch(0, ev.RUN_STARTED, "checklist", f"no earlier run recorded {digest!r}")
    if digest_of(d["checklist"]) != digest:
        detail = f"the checklist text recorded does not match its digest {digest}"
        raise ReplayMismatch(0, ev.RUN_STARTED, "checklist-digest", detail)
    checklist = checklist_from_record(d["checklist"])
    problem = _CHECKED.get(id(checklist), "")
    if problem == "":
        found = cross_check(checklist)
        problem = "; ".join(str(p) for p in found) if found else None
        if len(_CHECKED) < 256:
            _CHECKED[id(checklist)] = problem
    if problem is not None:
        raise ReplayMismatch(0, ev.RUN_STARTED, "checklist", f"the recorded checklist: {problem}")
    return checklist


def _run_started(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    checklist = _checklist(state, d)
    kw = {
        "firearm": _get(d, "firearm"),
        "performer": _get(d, "performer"),
        "scene": _get(d, "scene"),
    }
    return [engine.start_run(state, checklist, _now(r), **kw)]


_NA = "not applicable: "


def _signed(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    """The sign-off as entered: the recorded evidence re-entered as text, the witnesses by
    name. The result and note entered are read back from the recorded ones: a pass the engine
    turned into a failure (evidence against `expect`) or into a flagged pass carries the
    engine's reason before the note entered."""
    run = state.runs.get(r["run"])
    step = run.checklist.step(r["step"]) if run is not None else None
    evidence: dict[str, str] = {}
    given = _get(d, "evidence")
    if isinstance(given, dict):
        kinds = {e.key: e.kind for e in step.evidence} if step is not None else {}
        for key, value in given.items():
            kind = kinds.get(key)
            evidence[key] = kind.entered(value) if kind is not None else repr(value)
    recorded = _get(d, "witnesses") or []
    witnesses: list[Credential] = [
        _who(w.get("name") if isinstance(w, dict) else w) for w in recorded
    ]
    now, result, note = _now(r), r["result"], r["note"]

    def attempt(asked: engine.Result, text: str, na_reason: str = "") -> Decision:
        return engine.sign(
            state, r["run"], r["step"], _who(r["by"]), now, witnesses=witnesses, result=asked,
            evidence=evidence, note=text, na_reason=na_reason,
        )  # fmt: skip

    if result == "na":
        reason = note[len(_NA) :] if note.startswith(_NA) else note
        return [attempt("na", "", reason)]
    asked: engine.Result = "fail" if result == "fail" else "pass"
    first = attempt(asked, note)
    out = [first]
    produced = first.events[0] if first.ok and first.events else None
    if produced is not None and produced["note"] != note:
        # The engine put its reason before the note: read the note entered back from that.
        out.append(attempt(asked, _entered_note(produced["note"], note)))
    if result == "fail":  # perhaps a pass that the evidence turned into a failure
        probe = attempt("pass", "")
        why = probe.events[0]["note"] if probe.ok and probe.events else ""
        if why:
            entered = note[len(why) + 2 :] if note.startswith(why + "; ") else note
            out.append(probe if note == why else attempt("pass", entered))
    return out


def _entered_note(why_and_note: str, recorded: str) -> str:
    """The note entered, given what the engine recorded for ``recorded`` as the note entered
    (``why; recorded``, or ``why`` alone when ``recorded`` is empty)."""
    why = why_and_note[: -(len(recorded) + 2)] if recorded else why_and_note
    if recorded == why:
        return ""
    return recorded[len(why) + 2 :] if recorded.startswith(why + "; ") else recorded


# -- custody, holds, incidents, flags ------------------------------------------------------------


def _custody(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    """An armorer's move in or out of storage (one event per firearm moved; each checked from
    the state after the ones before it, which for distinct firearms is the same)."""
    serial = _get(d, "serial")
    to = _get(d, "holder")
    if to not in ("locked", "armorer"):
        to = "locked" if to is None else str(to)
    move: Callable[..., Decision] = engine.move_firearms
    return [move(state, _who(r["by"]), [serial], to, r["note"], _now(r))]


def _custody_break(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    # A break naming no firearm (about everything out, and the ammunition) records the firearms
    # out then; one naming firearms records those.
    serials = None if _get(d, "ammunition") is True else _get(d, "serials")
    return [engine.record_custody_break(state, _who(r["by"]), r["note"], _now(r), serials=serials)]


def _hold_raised(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    """A hold as raised. A verified one by its recorded signer; an unverified one under the
    name as given, without a PIN: why it went unverified (no PIN, a lockout, a wrong PIN: its
    refused attempt is replayed on its own) is as the laptop says, like a refusal's inputs."""
    now, about = _now(r), _get(d, "subject")
    if _get(d, "verified") is False:
        unverified = engine.raise_hold(
            state, str(r["by"]), r["note"], now, run=r["run"], about=about
        )
        if unverified.events and isinstance(_get(d, "unverified"), str):
            unverified.events[-1]["data"]["unverified"] = d["unverified"]
        return [unverified]
    return [engine.raise_hold(state, _who(r["by"]), r["note"], now, run=r["run"], about=about)]


def _taken_back(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    return [engine.take_back(state, _who(r["by"]), _get(d, "serial"), r["note"], _now(r))]


def _voided(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    people: list[Credential] = [
        _who(x.get("name") if isinstance(x, dict) else x) for x in _get(d, "signers") or []
    ]
    return [engine.void_run(state, r["run"], people, r["note"], _now(r))]


def _hold_resolved(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    resolvers = _get(d, "resolvers")
    people: list[Credential] = [
        _who(x.get("name") if isinstance(x, dict) else x) for x in resolvers or []
    ]
    return [engine.resolve_hold(state, _get(d, "hold"), people, r["note"], _now(r))]


def _incident(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    who, now = _who(r["by"]), _now(r)
    kind, firearm = _get(d, "incident_kind"), _get(d, "serial")
    return [engine.report_incident(state, who, kind, r["note"], now, firearm=firearm)]


def _flag_acknowledged(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    return [engine.acknowledge_flag(state, _get(d, "flag"), _who(r["by"]), r["note"], _now(r))]


def _refused(state: State, r: Record, d: dict[str, Any]) -> list[Decision]:
    """Refusals. Decided: a refusal that changes what the engine decides later is re-run like
    any decision (a stale layer's reset, live ammunition's hold, a wrong PIN's lockout at the
    fifth in a row); any other refusal changes nothing but the count of refused attempts, and
    must have exactly the shape the engine gives a refusal. Its inputs (the PIN, the evidence
    typed) are not all on the record, so *that* it happened is as the laptop says: a forged
    refusal can only put a false attempt on the record, never open or unlock anything."""
    now, code, by = _now(r), _get(d, "code"), r.get("by")
    if code == "live-ammunition":
        return [engine.add_ammo(state, _who(by), _get(d, "lot"), "live", 0, "", now)]
    if code == "stale" and r.get("run") and r.get("step"):
        # Refused before the people or the evidence are looked at: only the signer matters.
        return [engine.sign(state, r["run"], r["step"], _who(by), now)]
    extra: list[dict[str, Any]] = []
    person = _get(d, "person")
    if code == "wrong-pin":
        member = state.crew.get(person) if isinstance(person, str) else None
        if member is None:
            raise ReplayMismatch(
                r.get("seq", 0), r["kind"], "wrong-pin", f"no crew member {person!r} to refuse"
            )
        extra = _lockout_events(member, now)
    refusal = _Refusal(r["note"], code if isinstance(code, str) else repr(code), extra, person)
    action = _get(d, "action")
    context = {"by": by, "role": r.get("role"), "run": r.get("run"), "step": r.get("step")}
    return [_refuse(refusal, now, action=action if isinstance(action, str) else "", **context)]


RULES: dict[EventKind, Rule] = {
    EventKind.PRODUCTION_CREATED: _production,
    EventKind.CREW_ADDED: _crew_added,
    EventKind.CREW_PIN_SET: _pin_set,
    EventKind.CREW_ROLE_GRANTED: _granted,
    EventKind.CREW_ROLE_REVOKED: _revoked,
    EventKind.CREW_DEACTIVATED: _deactivated,
    EventKind.FIREARM_ADDED: _firearm,
    EventKind.AMMO_ADDED: _ammo,
    EventKind.CHECKLIST_ADOPTED: _adopted,
    EventKind.RUN_STARTED: _run_started,
    EventKind.SIGNED: _signed,
    EventKind.LAYER_STALE: RIDER,
    EventKind.RUN_COMPLETED: RIDER,
    EventKind.DAY_OPENED: RIDER,
    EventKind.DAY_WRAPPED: RIDER,
    EventKind.HOLD_RAISED: _hold_raised,
    EventKind.HOLD_RESOLVED: _hold_resolved,
    EventKind.REFUSED: _refused,
    EventKind.LOCKOUT: RIDER,
    EventKind.CUSTODY_CHANGED: _custody,
    EventKind.CUSTODY_BREAK: _custody_break,
    EventKind.CUSTODY_TAKEN_BACK: _taken_back,
    EventKind.RUN_VOIDED: _voided,
    EventKind.INCIDENT_REPORTED: _incident,
    EventKind.FLAG_RAISED: RIDER,
    EventKind.FLAG_ACKNOWLEDGED: _flag_acknowledged,
    EventKind.CREW_TRAINED: _trained,
    EventKind.CREW_LICENSED: _licensed,
}
_BY_NAME: dict[str, Rule] = {str(k): v for k, v in RULES.items()}


def _same(produced: dict[str, Any], record: Record) -> bool:
    if len(record) != len(produced) + 3:
        return False
    for key in _RESERVED:
        produced[key] = record.get(key)
    return produced == record


def _difference(produced: dict[str, Any], record: Record) -> tuple[str, str]:
    """(rule, detail) for the first field where the record differs from the engine."""
    for key in ("kind", "result", "by", "role", "run", "step", "time", "note"):
        if record.get(key) != produced.get(key):
            rule = "evidence-against-expect" if key == "result" else f"field-{key}"
            return rule, (
                f"the engine records {key} {produced.get(key)!r} here, the record says"
                f" {record.get(key)!r}"
            )
    want, got = produced.get("data") or {}, record.get("data")
    if not isinstance(got, dict):
        return "field-data", f"data is {got!r}, not an object"
    for key in [*want, *[k for k in got if k not in want]]:
        if want.get(key) != got.get(key):
            return f"field-data.{key}", (
                f"the engine records data.{key} {want.get(key)!r} here, the record says"
                f" {got.get(key)!r}"
            )
    extra = sorted(set(record) - set(produced) - set(_RESERVED))
    return "field", f"fields the engine never writes: {', '.join(extra) or '(none)'}"


class Replay:
    """Checks each record, in order, against the engine, then folds it into the state.

    Not thread-safe; one per state being folded. After a :class:`ReplayMismatch` the replay
    (and its state) must be dropped: the store is damaged."""

    def __init__(self) -> None:
        self._expected: list[dict[str, Any]] = []
        self._options: list[list[dict[str, Any]]] = []  # the candidates still in play
        self._leader: int = 0
        self._at = 0
        self._production: Record | None = None
        self.leader_record: Record | None = None  # the first event of the decision being read

    @property
    def pending(self) -> bool:
        """True while a decision's events are only partly read."""
        return self._at < len(self._expected) or self._production is not None

    def apply(self, state: State, record: Record) -> None:
        if not self.pending:
            self.leader_record = record
        if self._production is not None:
            first, self._production = self._production, None
            self._decide(state, first, {**first["data"], "_next": record})
            state.apply(first)
            self._check(record)
        elif self._at < len(self._expected) and not self._ended_before(record):
            self._check(record)
        elif record["kind"] == ev.PRODUCTION_CREATED:
            State().apply(record)  # a record of another format is refused at once (FormatError)
            self._production = record  # decided with the crew-added event after it
            return
        else:
            self._decide(state, record, record["data"])
        state.apply(record)

    def takes(self, record: Record) -> bool:
        """True when ``record`` would be read as part of the decision in progress (not as the
        first event of the next one). Only for a check split in parts (see verify)."""
        if self._production is not None:
            return True
        return self._at < len(self._expected) and not self._ended_before(record)

    def finish(self) -> None:
        """The end of the record: a decision cut short is a mismatch."""
        if self.pending:
            missing = self._expected[self._at]["kind"] if self._expected else ev.CREW_ADDED
            raise ReplayMismatch(
                self._leader,
                "decision",
                "incomplete",
                f"the engine would also have recorded a {missing} event with it",
            )

    def _decide(self, state: State, record: Record, data: dict[str, Any]) -> None:
        seq = record.get("seq", 0)
        rule = _BY_NAME.get(record["kind"])
        if rule is None:
            raise ReplayMismatch(seq, record["kind"], "unknown-kind", "no replay rule for it")
        try:
            candidates = rule(state, record, data)
        except ReplayMismatch as exc:
            raise ReplayMismatch(seq, record["kind"], exc.rule, exc.detail) from None
        except (LookupError, TypeError, ValueError, AttributeError, AssertionError) as exc:
            detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
            raise ReplayMismatch(seq, record["kind"], "unreadable", detail) from exc
        # Every candidate that reproduces the leader stays in play: the events after it decide
        # between them (a failed step's note: entered as a failure, or a pass the evidence failed).
        options = [d.events for d in candidates if d.events and _same(dict(d.events[0]), record)]
        if options:
            self._options, self._expected, self._at, self._leader = options, options[0], 1, seq
            return
        first = candidates[0]
        if not first.events:
            raise ReplayMismatch(seq, record["kind"], "refused", str(first.refused))
        produced = first.events[0]
        if not first.ok and record["kind"] != ev.REFUSED:
            code = produced["data"].get("code", "refused")
            raise ReplayMismatch(
                seq, record["kind"], str(code), f"the engine refuses it: {first.refused}"
            )
        rule_name, detail = _difference(dict(produced), record)
        raise ReplayMismatch(seq, record["kind"], rule_name, detail)

    def _ended_before(self, record: Record) -> bool:
        """A candidate still in play ends here and no longer one takes this record: the
        decision was that shorter one, and this record leads the next."""
        at = self._at
        done = [o for o in self._options if len(o) == at]
        if not done or any(len(o) > at and _same(dict(o[at]), record) for o in self._options):
            return False
        self._options, self._expected = done, done[0]
        return True

    def _check(self, record: Record) -> None:
        at = self._at
        fits = [o for o in self._options if len(o) > at and _same(dict(o[at]), record)]
        if fits:
            self._options, self._expected = fits, fits[0]
        produced = dict(self._expected[at])
        self._at += 1
        if not fits:
            rule, detail = _difference(produced, record)
            seq = record.get("seq", 0)
            raise ReplayMismatch(
                seq, record["kind"], rule, f"{detail} (in the decision of event {self._leader})"
            )


def replay(records: list[Record], state: State | None = None) -> State:
    """Fold ``records`` (a whole record, from its first event) checking each against the engine."""
    state = state if state is not None else State()
    checker = Replay()
    for record in records:
        checker.apply(state, record)
    checker.finish()
    return state
