"""The daily safety report: built as plain data from the record, then rendered to PDF or Markdown.

`build_report` is pure: (State, the day's records, the verify result, a time, a time zone) in,
a `Report` out. No IO, no clock. A *day* runs from the start of the run of its opening checklist
to its `day-wrapped` event (or to the end of the record while the day is still open).

The renderers (`render_pdf`, `render_markdown`) only lay the report out: every word in them comes
from the `Report`, so the PDF and the Markdown say the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetyapp.domain import clock as localtime
from safetyapp.domain import events as ev
from safetyapp.domain import qualifications
from safetyapp.domain.evidence import describe
from safetyapp.domain.roles import ROLE_TITLES
from safetyapp.domain.state import Custody, CustodySpell, Day, Run, State, run_lot_counts
from safetyapp.store.chain import VerifyResult, receipt
from safetyapp.store.files import check_output, write_output

if TYPE_CHECKING:
    from safetyapp.store.repository import Repository

# -- the report as data -----------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A table: headings, rows of text, relative column widths (a layout hint) and which rows
    are findings (failures, holds, refusals) to set in bold."""

    headers: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    widths: tuple[float, ...]
    strong: frozenset[int] = frozenset()
    caption: str = ""
    min_height: float = 0  # mm; room to sign by hand


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)  # paragraphs before the tables
    tables: list[Table] = field(default_factory=list)
    empty: str = ""  # said when the section has neither lines nor tables


@dataclass(frozen=True)
class MirrorFacts:
    """What the store knows of its mirror, handed to the report by its caller (the report
    reads no file): the folder, how many events its last sync acknowledged, and when."""

    directory: str | None  # None: no mirror configured
    events: int = 0
    synced_at: str | None = None  # UTC, events.iso() form
    problem: str = ""  # the mirror configuration could not be read


@dataclass
class Report:
    production: str
    day: int
    date: str  # YYYY-MM-DD: the production's local date the day's opening run started
    timezone: str  # how the report's clock times are given
    summary: list[tuple[str, str]]
    sections: list[Section]
    head_hash: str  # the chain's head when the report was made: a checkpoint
    head_seq: int
    verified: bool
    verify_note: str
    generated_at: str  # UTC, as the record writes times
    first_seq: int
    last_seq: int
    generated_local: str = ""  # the same moment in the report's zone, as people read times

    @property
    def title(self) -> str:
        return f"Daily firearms safety report — {self.production} — Day {self.day} ({self.date})"

    @property
    def footer(self) -> str:
        check = "verify PASSED" if self.verified else "verify FAILED"
        return f"Head hash {self.head_hash} (event {self.head_seq}) · {check}"

    def text(self) -> str:
        """Every word of the report, for searching."""
        return render_markdown(self)


class ReportError(ValueError):
    """A report that cannot be made (no such day); the message says what to do."""


# -- choosing a day ---------------------------------------------------------------------------


def _day_date(state: State, day: Day) -> str:
    """The day's date: the production's local date of its opening."""
    run = state.runs.get(day.opening_run)
    return localtime.local_date(
        run.started_at if run else day.opened_at, state.timezone
    ).isoformat()


def find_day(state: State, spec: str | None) -> Day:
    """The day a `--day` value names: a day number, a date (YYYY-MM-DD, the production's local date), or None (latest)."""
    if not state.days:
        raise ReportError(
            "no shooting day in this record yet: a day starts when its opening checklist"
            " (safety meeting, ammunition check) is complete"
        )
    known = ", ".join(f"{d.number} ({_day_date(state, d)})" for d in state.days)
    if spec is None:
        return state.days[-1]
    spec = spec.strip()
    if spec.isdigit():
        for day in state.days:
            if day.number == int(spec):
                return day
        raise ReportError(f"no day {spec}; the record holds days {known}")
    matches = [d for d in state.days if _day_date(state, d) == spec]
    if len(matches) == 1:
        return matches[0]
    if matches:
        numbers = ", ".join(str(d.number) for d in matches)
        raise ReportError(f"days {numbers} all opened on {spec}: give the day number instead")
    raise ReportError(f"no day matches {spec!r}; give a day number or a date, one of: {known}")


def day_records(state: State, records: Sequence[dict[str, Any]], day: Day) -> list[dict[str, Any]]:
    """The records of one day: from its opening run's start to its wrap (inclusive)."""
    start = next(
        (
            i
            for i, r in enumerate(records)
            if r["kind"] == ev.RUN_STARTED and r.get("run") == day.opening_run
        ),
        None,
    )
    if start is None:
        raise ReportError(f"the record has no start of day {day.number}'s opening run")
    for i in range(start, len(records)):
        r = records[i]
        if r["kind"] == ev.DAY_WRAPPED and (r.get("data") or {}).get("day") == day.number:
            return list(records[start : i + 1])
    return list(records[start:])


# -- building ---------------------------------------------------------------------------------


def _role(role: str | None) -> str:
    return ROLE_TITLES.get(role or "", role or "")


def _value(value: Any) -> str:
    """An event's detail (not evidence: that is shown by its type, see `_evidence`)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return " ".join(f"{k}={_value(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return " ".join(_value(v) for v in value) or "none"
    return "" if value is None else str(value)


def _details(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in values.items())


def _evidence(run: Run, step_id: str | None, values: dict[str, Any]) -> str:
    """Recorded evidence, each value shown by its evidence type."""
    step = run.checklist.step(step_id or "")
    return describe(step.evidence if step is not None else [], values)


def _people(people: Sequence[dict[str, str]]) -> str:
    return "; ".join(f"{p['name']} ({_role(p.get('role'))})" for p in people)


class _Clock:
    def __init__(self, tz: tzinfo, date: str) -> None:
        self.tz, self.date = tz, date

    def __call__(self, stamp: str | None) -> str:
        """A time of the day's report: local (its zone is named once, in the summary), with its
        date when not the day's."""
        if not stamp:
            return ""
        other_day = localtime.local_date(stamp, self.tz).isoformat() != self.date
        return localtime.shown(stamp, self.tz, date=other_day, seconds=True, named=False)


def _tz_name(tz: tzinfo, at: datetime) -> str:
    name = at.astimezone(tz).tzname() or ""
    offset = at.astimezone(tz).strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}" if offset not in ("", "+0000") else "UTC"
    return offset if name in ("", "UTC", offset) else f"{name} ({offset})"


def _ammo_layers(run: Run) -> set[str]:
    """The layers of a run that count ammunition: those with a step whose evidence counts
    rounds per lot (by evidence type, never by a step or key name)."""
    return {
        layer.id
        for layer, step in run.checklist.steps()
        if any(spec.kind.counts_lots for spec in step.evidence)
    }


def build_report(
    state: State,
    records: Sequence[dict[str, Any]],
    verify: VerifyResult,
    *,
    day: Day,
    generated_at: datetime,
    tz: tzinfo | None = None,
    changes: Sequence[dict[str, Any]] | None = None,
    mirror: MirrorFacts | None = None,
) -> Report:
    """The report for `day` from its records (see `day_records`) and the state folded from the
    whole record; `changes` are its crew and inventory changes (see `day_changes`; default:
    those among `records`); `mirror` what the store knows of its mirror (default: none
    configured); `tz`: the zone its times are shown in (default: the production's). Pure."""
    tz = tz or localtime.zone(state.timezone)
    date = _day_date(state, day)
    clock = _Clock(tz, date)
    opening = state.runs.get(day.opening_run)
    day_runs = [r for r in state.runs.values() if r.day == day.number]
    by_run: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r.get("run"):
            by_run.setdefault(r["run"], []).append(r)

    summary = [
        ("Production", state.production or "(unnamed)"),
        ("Day", f"{day.number}, {date}"),
        ("Opening started", clock(opening.started_at if opening else None)),
        ("Day opened (opening complete)", clock(day.opened_at)),
        ("Wrap", clock(day.wrapped_at) if day.wrapped_at else "NOT WRAPPED at time of printing"),
        ("Runs", _runs_summary(day_runs)),
        ("Events covered", f"{records[0]['seq']} to {records[-1]['seq']}" if records else "none"),
        ("Times", f"clock times are {_tz_name(tz, generated_at)}; the exports also give UTC"),
    ]
    sections = [
        _crew_section(state, records),
        qualifications_section(state, date, clock),
        changes_section(
            changes
            if changes is not None
            else [r for r in records if r["kind"] in ev.AUTHORITY_KINDS],
            clock,
        ),
        _meeting_section(state, opening, clock),
        _ammo_section(state, day, day_runs, by_run, clock),
        *_run_sections(state, day_runs, by_run, clock),
        _holds_section(state, records, clock),
        _refusals_section(records, clock),
        _incidents_section(records, clock),
        _custody_section(state, records, clock),
        custody_register_section(state, day, clock),
        adopted_section(state, day, clock),
        _integrity_section(state, verify),
        mirror_section(state, mirror or MirrorFacts(None), clock),
        _signatures_section(),
    ]
    if verify.ok:
        note = f"the whole chain ({verify.count} events) verified when this report was made"
    else:
        note = f"the chain did NOT verify when this report was made: {verify.problem}"
    return Report(
        production=state.production or "(unnamed)",
        day=day.number,
        date=date,
        timezone=_tz_name(tz, generated_at),
        summary=summary,
        sections=sections,
        head_hash=state.head_hash,
        head_seq=state.last_seq,
        verified=verify.ok,
        verify_note=note,
        generated_at=ev.iso(generated_at),
        first_seq=int(records[0]["seq"]) if records else 0,
        last_seq=int(records[-1]["seq"]) if records else 0,
        generated_local=localtime.shown(generated_at, tz, seconds=True),
    )


def _runs_summary(runs: list[Run]) -> str:
    voided = [r.id for r in runs if r.voided_at is not None]
    return f"{len(runs)}" + (f" ({len(voided)} voided: {', '.join(voided)})" if voided else "")


def _crew_section(state: State, records: Sequence[dict[str, Any]]) -> Section:
    roles: dict[str, dict[str, None]] = {}
    signatures: dict[str, int] = {}

    def acted(name: str | None, role: str | None, signature: bool) -> None:
        if not name:
            return
        roles.setdefault(name, {})
        if role:
            roles[name][role] = None
        if signature:
            signatures[name] = signatures.get(name, 0) + 1

    for r in records:
        data = r.get("data") or {}
        if r["kind"] == ev.SIGNED:
            acted(r.get("by"), r.get("role"), True)
            for w in data.get("witnesses", []):
                acted(w["name"], w.get("role"), True)
        elif r["kind"] in (ev.HOLD_RESOLVED, ev.RUN_VOIDED):
            for w in data.get("resolvers", data.get("signers", [])):
                acted(w["name"], w.get("role"), True)
        elif r["kind"] == ev.HOLD_RAISED:
            # A hold raised without a (right) PIN names someone, but is not their signature.
            acted(r.get("by"), r.get("role"), bool(data.get("verified", True)))
        elif r["kind"] == ev.CUSTODY_TAKEN_BACK:
            acted(r.get("by"), r.get("role"), True)
    rows = []
    for name in sorted(roles):
        member = state.crew.get(name)
        crewed = ", ".join(_role(x) for x in member.roles) if member else "(not on the crew list)"
        rows.append(
            (name, ", ".join(_role(x) for x in roles[name]), crewed, str(signatures.get(name, 0)))
        )
    table = Table(("Name", "Acted today as", "Crewed as", "Signatures"), rows, (3, 3, 3, 1.2))
    return Section(
        "Crew on duty",
        ["Everyone who signed, witnessed, raised or resolved a hold during the day."],
        [table] if rows else [],
        empty="Nobody signed anything on this day.",
    )


def qualifications_section(state: State, date: str, clock: _Clock) -> Section:
    """'Qualifications and the pre-production gate': the gate's status, then each active crew
    member's training and licence on file and what their roles lacked on the day."""
    gate = state.gate
    if gate.complete and gate.last is not None:
        status = (
            f"Pre-production gate, as the record stands when this report is made: COMPLETE"
            f" ({gate.last.run}, {clock(gate.last.completed_at)})."
        )
    else:
        status = (
            "Pre-production gate, as the record stands when this report is made: NOT COMPLETE:"
            f" {gate.reason}."
        )
    day = datetime.fromisoformat(date).date()
    rows = []
    for member in state.crew.values():
        if not member.active:
            continue
        training = "; ".join(f"{t.date} ({t.provider})" for t in member.training)
        licences = "; ".join(
            f"{x.number} ({x.issuer}), expires {x.expires}" for x in member.licences
        )
        lacking = "; ".join(qualifications.missing(state, member.name, day))
        rows.append(
            (
                member.name,
                ", ".join(_role(r) for r in member.roles),
                training or "none on file",
                licences or "none on file",
                lacking or "nothing",
            )
        )
    table = Table(
        ("Name", "Crewed as", "Training", "Licence or permit", "Missing on the day"),
        rows,
        (2.6, 2.2, 2.8, 3, 3.2),
    )
    return Section(
        "Qualifications and the pre-production gate",
        [
            status,
            "Qualifications on file when this report is made, each entered by a safety"
            " supervisor; 'Missing on the day' judges them against this day's date.",
        ],
        [table] if rows else [],
    )


def day_changes(state: State, records: Sequence[dict[str, Any]], day: Day) -> list[dict[str, Any]]:
    """The changes to who may sign and to what is on set (crew added, roles granted or revoked,
    people deactivated, PINs set, firearms and lots added) that a day's report lists: those
    since the previous day's wrap (from the record's start for day 1) to this day's wrap. So
    each change is in exactly one day's report, the first day it could matter; and the refused
    attempts to make one are among the day's refusals."""
    previous = next((d for d in state.days if d.number == day.number - 1), None)
    start = 0
    if previous is not None:
        start = next(
            (
                i + 1
                for i, r in enumerate(records)
                if r["kind"] == ev.DAY_WRAPPED
                and (r.get("data") or {}).get("day") == previous.number
            ),
            len(records),
        )
    out = []
    for r in records[start:]:
        if r["kind"] in ev.AUTHORITY_KINDS:
            out.append(r)
        if r["kind"] == ev.DAY_WRAPPED and (r.get("data") or {}).get("day") == day.number:
            break
    return out


def changes_section(changes: Sequence[dict[str, Any]], clock: _Clock) -> Section:
    """'Crew and inventory changes': each with who signed it. No PIN is ever shown: the record
    holds none (only that one was set, by whom)."""
    rows = []
    for r in changes:
        rows.append((clock(r["time"]), _CHANGE_TITLES.get(r["kind"], r["kind"]), r["note"],
                     r.get("by") or ""))  # fmt: skip
    table = Table(("Time", "Change", "What", "Signed by"), rows, (1.8, 2.4, 7, 2.8))
    return Section(
        "Crew and inventory changes",
        [
            "Changes to who may sign, and to the firearms and ammunition on set, since the previous"
            " day's wrap; each signed by a safety supervisor or an armorer."
        ],
        [table] if rows else [],
        empty="No crew or inventory change since the previous day's wrap.",
    )


_CHANGE_TITLES = {
    ev.CREW_ADDED: "crew added",
    ev.CREW_PIN_SET: "PIN set",
    ev.CREW_ROLE_GRANTED: "role granted",
    ev.CREW_ROLE_REVOKED: "role revoked",
    ev.CREW_DEACTIVATED: "deactivated",
    ev.FIREARM_ADDED: "firearm added",
    ev.AMMO_ADDED: "lot declared",
    ev.CREW_TRAINED: "training on file",
    ev.CREW_LICENSED: "licence on file",
}


def _meeting_section(state: State, opening: Run | None, clock: _Clock) -> Section:
    section = Section("Safety meeting", empty="NO SAFETY MEETING was signed on this day.")
    if opening is None:
        return section
    # The meeting is the layer whose steps read out open incidents (the first layer otherwise).
    meeting = [layer.id for layer, step in opening.checklist.steps() if step.acknowledges]
    wanted = meeting[0] if meeting else opening.checklist.layers[0].id
    for done in opening.history:
        layer = opening.layer_of(done.step)
        if layer.id != wanted:
            continue
        step = opening.checklist.step(done.step)
        specs = {e.key: e for e in step.evidence} if step else {}
        section.lines.append(
            f"{clock(done.time)} — {done.result.upper()}: {step.title if step else done.step}"
        )
        section.lines.append(
            f"Run by {done.by} ({_role(done.role)}), signed with their own PIN;"
            f" witnessed by {_people(done.witnesses) or 'nobody'}."
        )
        for key, value in done.evidence.items():
            spec = specs.get(key)
            shown = spec.kind.show(value) if spec is not None else _value(value)
            section.lines.append(f"{spec.label if spec is not None else key}: {shown}")
        if done.note:
            section.lines.append(f"Note: {done.note}")
    if section.lines:
        section.lines.append("Attendance sheet signed (paper, if kept): ______________________")
    return section


def _ammo_section(
    state: State,
    day: Day,
    runs: list[Run],
    by_run: dict[str, list[dict[str, Any]]],
    clock: _Clock,
) -> Section:
    lots = Table(
        ("Lot", "Type", "Source", "Declared count"),
        [(a.lot, a.type, a.source, str(a.count)) for a in state.lots.values()],
        (2, 1.5, 5, 1.5),
        caption="Ammunition lots declared in the record",
    )
    rows: list[tuple[str, ...]] = []
    strong = set()
    for run in runs:
        counting = _ammo_layers(run)
        for r in by_run.get(run.id, []):
            data = r.get("data") or {}
            if r["kind"] != ev.SIGNED or data.get("layer") not in counting:
                continue
            if r.get("result") == "fail":
                strong.add(len(rows))
            rows.append(
                (
                    clock(r["time"]),
                    f"{run.id} {run.checklist.id}" + (f" {run.firearm}" if run.firearm else ""),
                    r.get("step") or "",
                    (r.get("result") or "").upper(),
                    f"{r['by']} ({_role(r.get('role'))})",
                    _people(data.get("witnesses", [])),
                    _evidence(run, r.get("step"), data.get("evidence", {})),
                )
            )
    checks = Table(
        ("Time", "Run", "Step", "Result", "Signed by", "Witnesses", "Counts"),
        rows,
        (1.3, 2, 2, 1, 2.2, 2.6, 3.5),
        frozenset(strong),
        caption="Ammunition checks, in order",
    )
    lines, tables = _ammo_ledger(state, day, runs)
    tables = [lots, *tables, checks] if rows else [lots, *tables]
    return Section(
        "Ammunition",
        lines,
        tables,
        empty="No ammunition check was signed on this day.",
    )


def _ammo_ledger(state: State, day: Day, runs: list[Run]) -> tuple[list[str], list[Table]]:
    """Rounds per lot from the fold: counted at opening, expended by the day's handoffs (their
    lot-count evidence), expected at wrap, and counted at wrap."""
    ledger = state.ammo_ledger(day) if day.opening_run in state.runs else {}
    wraps = [r for r in runs if r.checklist.scope == "wrap"]
    counted = run_lot_counts(wraps[-1]) if wraps else {}
    lots = [*ledger, *[lot for lot in counted if lot not in ledger]]
    if not lots:
        return [], []
    spent = ", ".join(f"{lot}: {ledger[lot][1]}" for lot in ledger) or "none"
    rows: list[tuple[str, ...]] = []
    strong = set()
    for lot in lots:
        morning, expended, expected = ledger.get(lot, (0, 0, 0))
        at_wrap = str(counted[lot]) if lot in counted else ("not counted" if wraps else "")
        if wraps and counted.get(lot) != expected:
            strong.add(len(rows))
        rows.append((lot, str(morning), str(expended), str(expected), at_wrap))
    table = Table(
        (
            "Lot",
            "Counted at opening",
            "Expended in handoffs",
            "Expected at wrap",
            "Counted at wrap",
        ),
        rows,
        (2, 2, 2, 2, 2),
        frozenset(strong),
        caption="Rounds per lot",
    )
    return [f"Rounds expended in the day's handoffs, per lot: {spent}."], [table]


def _run_caption(state: State, run: Run, clock: _Clock) -> str:
    parts = [f"{run.id}: {run.checklist.title} (v{run.checklist.version})"]
    if run.firearm:
        parts.append(f"firearm {run.firearm}")
    if run.performer:
        parts.append(f"performer {run.performer}")
    if run.scene:
        parts.append(f"scene {run.scene}")
    parts.append(f"started {clock(run.started_at)}")
    if run.completed_at:
        parts.append(f"completed {clock(run.completed_at)}")
    if run.voided_at:
        by = ", ".join(f"{p['name']} ({_role(p['role'])})" for p in run.voided_by)
        parts.append(f"VOIDED {clock(run.voided_at)} by {by}: {run.void_reason}")
    parts.append(state.run_status(run).upper())
    return " · ".join(parts)


def signoff_receipts(run: Run) -> dict[int, str]:
    """Each sign-off's receipt (its event hash's first characters), by the event's seq."""
    return {s.seq: receipt(s.receipt) for s in run.history if s.receipt}


# Events of a run shown between its sign-offs, in bold but for a resolution.
_RUN_MARKS = (
    ev.HOLD_RAISED, ev.HOLD_RESOLVED, ev.LAYER_STALE, ev.REFUSED, ev.RUN_VOIDED,
    ev.CUSTODY_TAKEN_BACK,
)  # fmt: skip


def _run_sections(
    state: State, runs: list[Run], by_run: dict[str, list[dict[str, Any]]], clock: _Clock
) -> list[Section]:
    if not runs:
        return [Section("Runs", empty="No run was started on this day.")]
    out = []
    for index, run in enumerate(runs):
        rows: list[tuple[str, ...]] = []
        strong = set()
        receipts = signoff_receipts(run)
        for r in by_run.get(run.id, []):
            kind, data = r["kind"], r.get("data") or {}
            if kind == ev.SIGNED:
                layer = data.get("layer") or ""
                row = (
                    layer,
                    r.get("step") or "",
                    (r.get("result") or "").upper(),
                    f"{r['by']} ({_role(r.get('role'))})",
                    _people(data.get("witnesses", [])),
                    clock(r["time"]),
                    _evidence(run, r.get("step"), data.get("evidence", {})),
                    r.get("note") or "",
                    receipts.get(r.get("seq", 0), ""),
                )
                if r.get("result") == "fail":
                    strong.add(len(rows))
            elif kind in _RUN_MARKS:
                label = {
                    ev.HOLD_RAISED: f"HOLD {data.get('hold', '')}",
                    ev.HOLD_RESOLVED: f"RESOLVED {data.get('hold', '')}",
                    ev.LAYER_STALE: "STALE",
                    ev.REFUSED: "REFUSED",
                    ev.RUN_VOIDED: "VOID",
                    ev.CUSTODY_TAKEN_BACK: "TAKEN BACK",
                }[kind]
                by = r.get("by") or ""
                if kind == ev.HOLD_RESOLVED:
                    by = _people(data.get("resolvers", []))
                elif kind == ev.RUN_VOIDED:
                    by = _people(data.get("signers", []))
                elif by and r.get("role") and kind != ev.REFUSED:
                    # A refusal's role is the step's, which the person may not hold: name only.
                    by = f"{by} ({_role(r.get('role'))})"
                row = (
                    data.get("layer") or "",
                    r.get("step") or "",
                    label,
                    by,
                    "",
                    clock(r["time"]),
                    "",
                    r.get("note") or "",
                    receipt(r["hash"]) if kind == ev.HOLD_RAISED and r.get("hash") else "",
                )
                if kind != ev.HOLD_RESOLVED:
                    strong.add(len(rows))
            else:
                continue
            rows.append(row)
        table = Table(
            (
                "Layer",
                "Step",
                "Result",
                "Signed by",
                "Witnesses",
                "Time",
                "Evidence",
                "Note",
                "Receipt",
            ),
            rows,
            (1.9, 2, 1.2, 2.3, 2.6, 1.2, 3, 2.9, 1.9),
            frozenset(strong),
            caption=_run_caption(state, run, clock),
        )
        title = "Runs" if index == 0 else ""
        out.append(Section(title, tables=[table], empty="No step was signed."))
    return out


def day_holds(state: State, records: Sequence[dict[str, Any]]) -> list[str]:
    """The holds a day's report lists: raised or resolved in its records, and any still open
    from before (they stood over the day too)."""
    ids: dict[str, None] = {}
    for r in records:
        if r["kind"] in (ev.HOLD_RAISED, ev.HOLD_RESOLVED):
            ids[(r.get("data") or {})["hold"]] = None
    for h in state.holds.values():
        if h.open and h.raised_at <= (records[-1]["time"] if records else ""):
            ids.setdefault(h.id, None)
    return list(ids)


def hold_about(state: State, hold_id: str) -> str:
    """Whom or what a hold is about: the person it names, its run (firearm, layer) or the day."""
    h = state.holds[hold_id]
    parts = [h.subject] if h.subject else []
    run = state.runs.get(h.run or "")
    if run is not None:
        what = f"run {run.id} ({run.checklist.title}"
        what += f", firearm {run.firearm})" if run.firearm else ")"
        parts.append(what + (f", layer {h.layer}" if h.layer else ""))
    elif h.run:
        parts.append(f"run {h.run}")
    else:
        parts.append("the whole day")
    return "; ".join(parts)


def _holds_section(state: State, records: Sequence[dict[str, Any]], clock: _Clock) -> Section:
    rows: list[tuple[str, ...]] = []
    strong = set()
    for hold_id in day_holds(state, records):
        h = state.holds[hold_id]
        raised = f"{clock(h.raised_at)} by {h.raised_by or 'the app'}"
        if not h.verified:
            raised += f" (UNVERIFIED: {h.unverified or 'no PIN'})"
        if h.open:
            resolution = "OPEN: not resolved"
            strong.add(len(rows))
        else:
            resolution = f"{clock(h.resolved_at)} by {_people(h.resolvers)}: {h.resolution}"
        cause = "stop-work" if h.cause == "raised" else h.cause
        shown = receipt(h.raised_hash) if h.raised_hash else ""
        rows.append((h.id, shown, cause, raised, hold_about(state, h.id), h.reason, resolution))
    table = Table(
        (
            "Hold",
            "Receipt",
            "Cause",
            "Raised",
            "About",
            "Reason",
            "Resolved by (corrective action)",
        ),
        rows,
        (1, 1.9, 1.5, 2.3, 2.8, 3.8, 4.5),
        frozenset(strong),
    )
    return Section(
        "Holds",
        ["Stop-work holds (anyone's, at any time) and holds raised by the checks."] if rows else [],
        [table] if rows else [],
        empty="No hold on this day.",
    )


def _refusals_section(records: Sequence[dict[str, Any]], clock: _Clock) -> Section:
    rows = []
    for r in records:
        if r["kind"] not in (ev.REFUSED, ev.LOCKOUT):
            continue
        data = r.get("data") or {}
        action = data.get("action", "") if r["kind"] == ev.REFUSED else "PIN lockout"
        where = " ".join(x for x in (r.get("run"), r.get("step")) if x)
        rows.append(
            (clock(r["time"]), r.get("by") or "", action, where, data.get("code", ""), r["note"])
        )
    table = Table(
        ("Time", "Who", "Attempt", "Run / step", "Code", "Why it was refused"),
        rows,
        (1.3, 2.4, 2, 2.4, 1.8, 7),
    )
    return Section(
        "Refused attempts",
        tables=[table] if rows else [],
        empty="No attempt was refused on this day.",
    )


def _incidents_section(records: Sequence[dict[str, Any]], clock: _Clock) -> Section:
    # Hook for incident reports (issue 4): every incident event is listed here generically
    # until they have a layout of their own.
    rows = []
    for r in records:
        if r["kind"] not in ev.INCIDENT_EVENTS:
            continue
        data = {k: v for k, v in (r.get("data") or {}).items() if k not in ev.SECRET_KEYS}
        rows.append((clock(r["time"]), r["kind"], r.get("by") or "", r["note"], _details(data)))
    table = Table(("Time", "Kind", "By", "Note", "Details"), rows, (1.3, 2, 2.4, 6, 5))
    stops = [
        f"Stop-work hold {(r.get('data') or {}).get('hold')} by {r.get('by')}: {r['note']}"
        for r in records
        if r["kind"] == ev.HOLD_RAISED and (r.get("data") or {}).get("cause") == "raised"
    ]
    return Section(
        "Incidents and near misses",
        stops,
        [table] if rows else [],
        empty="No incident or near miss was recorded on this day.",
    )


def _custody_section(state: State, records: Sequence[dict[str, Any]], clock: _Clock) -> Section:
    """Each firearm's custody as the day's record leaves it: its last custody-changed event."""
    where: dict[str, tuple[str, str]] = {
        s: ("no movement recorded today", "") for s in state.firearms
    }
    for r in records:
        if r["kind"] not in ev.CUSTODY_KINDS:
            continue
        d = r.get("data") or {}
        holder = Custody(d["holder"], d.get("name"), r["time"], r.get("seq", 0))
        where[d["serial"]] = (holder.describe(), f"{clock(r['time'])}, {r.get('by') or '-'}")
    rows: list[tuple[str, ...]] = []
    strong = set()
    for serial, firearm in state.firearms.items():
        status, moved = where.get(serial, ("", ""))
        if status not in ("locked in storage", "no movement recorded today"):
            strong.add(len(rows))
        rows.append((serial, firearm.description, firearm.kind, status, moved))
    table = Table(
        ("Serial", "Description", "Kind", "At the end of the day's record", "Last movement"),
        rows,
        (2, 5, 1.6, 3.5, 2.6),
        frozenset(strong),
    )
    return Section(
        "Firearms' custody at wrap",
        ["From the day's custody events (checkout, hand-over, return, take-back, lock-up)."]
        if rows
        else [],
        [table] if rows else [],
        empty="No firearm in the inventory.",
    )


def duration(since: str, until: str | None) -> str:
    """How long a custody line lasted, to the minute ("2 h 05 min", "12 min", "under 1 min")."""
    if until is None:
        return "continuing"
    seconds = int((ev.parse_time(until) - ev.parse_time(since)).total_seconds())
    hours, minutes = divmod(seconds // 60, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min" if minutes else "under 1 min"


def day_custody(state: State, day: Day) -> list[CustodySpell]:
    """The custody register lines of a day: every line of every firearm that was held at some
    moment from the day's opening run's start to its wrap (or the end of the record)."""
    opening = state.runs.get(day.opening_run)
    start = opening.started_at if opening else day.opened_at
    end = day.wrapped_at
    out = []
    for register in state.custody_register.values():
        for spell in register:
            if (end is None or spell.since <= end) and (
                spell.until is None or spell.until >= start
            ):
                out.append(spell)
    return out


def custody_register_section(state: State, day: Day, clock: _Clock) -> Section:
    """'Custody register': per firearm, who held it, from when to when, and why it moved."""
    rows: list[tuple[str, ...]] = []
    strong = set()
    for spell in day_custody(state, day):
        why = spell.reason + (f" (run {spell.run})" if spell.run else "")
        if spell.reason in ("custody break", "unaccounted for"):
            strong.add(len(rows))
        rows.append((
            spell.serial, spell.describe(), clock(spell.since), clock(spell.until) or "-",
            duration(spell.since, spell.until), why, spell.note,
        ))  # fmt: skip
    table = Table(
        ("Firearm", "Holder", "From", "To", "Duration", "Why (run)", "Note"),
        rows,
        (1.8, 3.2, 1.6, 1.6, 1.5, 2.6, 4.5),
        frozenset(strong),
    )
    return Section(
        "Custody register",
        ["Who held each firearm during the day, from when to when: checkouts, hand-overs,"
         " returns, lock-ups (for a break or at wrap) and recorded breaks in custody."],
        [table] if rows else [],
        empty="No firearm in the inventory.",
    )  # fmt: skip


def day_adoptions(state: State, day: Day) -> list[tuple[str, str]]:
    """(digest, status) of each checklist version adopted by the end of the day: "current" (a
    new run of its id walks it), "superseded" (another version adopted later), each with
    "adopted today" when it was adopted during the day."""
    end = day.wrapped_at
    opening = state.runs.get(day.opening_run)
    start = opening.started_at if opening else day.opened_at
    latest: dict[str, str] = {}
    shown: dict[str, str] = {}
    for a in state.adoptions:
        if end is not None and a.time > end:
            break
        latest[a.checklist_id] = a.digest
        shown[a.digest] = a.time
    out = []
    for digest, when in shown.items():
        a = state.adopted[digest]
        status = "current" if latest[a.checklist_id] == digest else "superseded"
        if when >= start:
            status += ", adopted today"
        out.append((digest, status))
    return out


def adopted_section(state: State, day: Day, clock: _Clock) -> Section:
    """'Adopted checklists': every checklist version that could run on the day, with its
    digest and who adopted it, when."""
    rows: list[tuple[str, ...]] = []
    for digest, status in day_adoptions(state, day):
        a = state.adopted[digest]
        rows.append((
            f"{a.checklist_id}: {a.title}", str(a.version), digest, _people(a.approvers),
            clock(a.time), status,
        ))  # fmt: skip
    table = Table(
        ("Checklist", "Version", "Digest (SHA-256)", "Adopted by", "When", "Status"),
        rows,
        (3.6, 1.1, 4.6, 3, 1.8, 2),
    )
    return Section(
        "Adopted checklists",
        ["Only a checklist version adopted into the record (its full text and digest) can run;"
         " the bundled versions are adopted when the production is created."],
        [table] if rows else [],
        empty="No checklist version is adopted in this record.",
    )  # fmt: skip


def mirror_section(state: State, mirror: MirrorFacts, clock: _Clock) -> Section:
    """'Mirror': the second copy off this laptop, how far behind it is, when it last synced."""
    if mirror.problem:
        lines = [f"Mirror: PROBLEM — {mirror.problem}"]
    elif mirror.directory is None:
        lines = [
            "No mirror is configured: the record has no second copy off this laptop. Keep one"
            " with `safetyapp mirror --to DIR` (a USB stick, the production office's share)."
        ]
    else:
        behind = max(state.last_seq - mirror.events, 0)
        status = (
            "up to date"
            if behind == 0
            else f"{behind} event{'s' if behind != 1 else ''} behind the record"
        )
        synced = clock(mirror.synced_at) if mirror.synced_at else "not recorded"
        lines = [
            f"Mirror: {mirror.directory}",
            f"Holds {mirror.events} of the record's {state.last_seq} events: {status}.",
            f"Last synced: {synced}.",
        ]
    return Section("Mirror", lines)


def _integrity_section(state: State, verify: VerifyResult) -> Section:
    lines = [
        f"Head hash when printed: {state.head_hash} (event {state.last_seq}).",
        "Verify: PASSED — every event's hash and link recomputed."
        if verify.ok
        else f"Verify: FAILED — {verify.problem}",
        "This hash is a checkpoint: `safetyapp verify --against HASH` confirms the record still"
        " holds that exact event and everything before it, unaltered.",
    ]
    return Section("Record integrity", lines)


def _signatures_section() -> Section:
    rows = [
        ("Production office", "", "", ""),
        ("Safety supervisor", "", "", ""),
        ("Armorer", "", "", ""),
    ]
    return Section(
        "Review and signatures",
        ["Signed on paper by the reviewers after reading this report."],
        [Table(("Role", "Name", "Signature", "Date"), rows, (3, 4, 5, 2), min_height=10)],
    )


# -- Markdown ---------------------------------------------------------------------------------

_MD_SPECIAL = set("\\`*_[]<>|~")
_MD_LINE_START = re.compile(r"^(\s*)([#>=+-]|\d+[.)])")


def md_escape(text: str) -> str:
    """User text shown literally in Markdown: inline specials escaped, a leading block marker
    (heading, list, quote) escaped, line breaks kept as <br> so a table cell stays one row."""
    out = []
    for ch in text:
        if ch in _MD_SPECIAL:
            out.append("\\" + ch)
        elif ch in "\r\n":
            out.append("<br>" if ch == "\n" else "")
        else:
            out.append(ch)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), "".join(out))


def render_markdown(report: Report) -> str:
    out = [f"# {md_escape(report.title)}", ""]
    for key, value in report.summary:
        out.append(f"- **{md_escape(key)}**: {md_escape(value)}")
    out.append("")
    for section in report.sections:
        if section.title:
            out += [f"## {md_escape(section.title)}", ""]
        for line in section.lines:
            out += [md_escape(line), ""]
        for table in section.tables:
            if table.caption:
                out += [f"**{md_escape(table.caption)}**", ""]
            out.append("| " + " | ".join(md_escape(h) for h in table.headers) + " |")
            out.append("|" + "---|" * len(table.headers))
            for i, row in enumerate(table.rows):
                cells = [md_escape(c) if c else " " for c in row]
                if i in table.strong:
                    cells = [f"**{c}**" if c.strip() else c for c in cells]
                out.append("| " + " | ".join(cells) + " |")
            out.append("")
        if not section.lines and not section.tables and section.empty:
            out += [md_escape(section.empty), ""]
    out += [
        "---",
        "",
        md_escape(report.footer),
        "",
        f"Made {report.generated_local or report.generated_at} ({report.generated_at}).",
        "",
    ]
    return "\n".join(out)


# -- PDF --------------------------------------------------------------------------------------

FONT_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVuSansCondensed"


@cache
def _font_chars() -> frozenset[int]:
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    regular = TTFont(FONT_DIR / f"{FONT}.ttf").getBestCmap()
    bold = TTFont(FONT_DIR / f"{FONT}-Bold.ttf").getBestCmap()
    return frozenset(regular) & frozenset(bold)


def pdf_text(text: str) -> str:
    """Text the bundled font can show: tabs become spaces, other control characters and any
    character the font lacks (CJK, emoji, ...) become a visible '?'."""
    chars = _font_chars()
    out = []
    for ch in text:
        if ch == "\n":
            out.append(ch)
        elif ch == "\t":
            out.append(" ")
        elif ord(ch) < 32 or ord(ch) not in chars:
            out.append("?")
        else:
            out.append(ch)
    return "".join(out)


def render_pdf(report: Report, path: Path, *, store: Path | None = None) -> int:
    """Write the report as a PDF (A4 landscape, black and white); return the page count.

    Written to a temporary file first, so a failure never leaves half a PDF at `path`; never
    onto a file of `store` (:func:`safetyapp.store.files.write_output`)."""
    from fpdf import FPDF

    footer_text = pdf_text(report.footer)
    head_text = pdf_text(report.title)

    class _Doc(FPDF):
        def header(self) -> None:
            if self.page_no() > 1:
                self.set_font(FONT, "", 7.5)
                self.cell(0, 4, head_text, new_x="LMARGIN", new_y="NEXT")
                self.ln(1)

        def footer(self) -> None:
            self.set_y(-11)
            self.set_font(FONT, "", 7)
            self.set_draw_color(0)
            self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
            self.cell(0, 5, footer_text, new_x="LEFT")
            self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")

    pdf = _Doc(orientation="L", unit="mm", format="A4")
    pdf.set_margins(12, 10, 12)
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_font(FONT, "", str(FONT_DIR / f"{FONT}.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / f"{FONT}-Bold.ttf"))
    pdf.set_title(head_text)
    pdf.set_author("safetyapp")
    pdf.set_creator("safetyapp")
    pdf.add_page()
    width = pdf.epw

    text9 = _Grid(pdf, 9)
    _Grid(pdf, 15).paragraph(report.title, "B", 7)
    pdf.ln(2)
    for key, value in [*report.summary, ("Verify", report.verify_note)]:
        pdf.set_font(FONT, "B", 9)
        pdf.cell(55, 5, pdf_text(key))
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(0, 5, pdf_text(value), new_x="LMARGIN", new_y="NEXT")

    for section in report.sections:
        if section.title:
            if pdf.will_page_break(30):
                pdf.add_page()
            pdf.ln(3)
            pdf.set_font(FONT, "B", 12)
            pdf.cell(0, 7, pdf_text(section.title), new_x="LMARGIN", new_y="NEXT")
            pdf.set_draw_color(0)
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
            pdf.ln(1.5)
        for line in section.lines:
            text9.paragraph(line)
        if not section.lines and not section.tables and section.empty:
            text9.paragraph(section.empty, "B")
        for table in section.tables:
            pdf.ln(1.5)
            if table.caption:
                if pdf.will_page_break(28):
                    pdf.add_page()
                text9.paragraph(table.caption, "B")
            _Grid(pdf).draw(table)
            pdf.ln(1)
    pages = pdf.page_no()
    # Exclusive temporary file, never onto the store's files or through a link: see files.py.
    write_output(Path(path), bytes(pdf.output()), store=store)
    return pages


SIZE = 7.5  # points, in tables


class _Grid:
    """A table drawn with fpdf's low-level calls: wrapped cells, ruled borders, headings repeated
    on every page. (fpdf's own `table()` measures each character and took ~40 s for a
    2,000-event day; this measures each word once.)"""

    LINE = 3.3  # mm, in tables
    PAD = 0.9  # mm

    def __init__(self, pdf: Any, size: float = SIZE) -> None:
        self.pdf = pdf
        self.size = size
        self.widths: dict[tuple[str, str], float] = {}

    def _font(self, style: str) -> None:
        self.pdf.set_font(FONT, style, self.size)

    def paragraph(self, text: str, style: str = "", line: float = 4.4) -> None:
        """Wrapped text across the page, breaking pages between lines."""
        pdf = self.pdf
        self._font(style)
        for row in self.wrap(pdf_text(text), pdf.epw, style):
            if pdf.will_page_break(line):
                pdf.add_page()
                self._font(style)
            y = pdf.get_y()
            pdf.text(pdf.l_margin, y + line * 0.78, row)
            pdf.set_xy(pdf.l_margin, y + line)

    def _width(self, text: str, style: str) -> float:
        key = (text, style)
        found = self.widths.get(key)
        if found is None:
            cw = self.pdf.current_font.cw
            found = sum(cw[ord(c)] for c in text) * self.size * 0.001 / self.pdf.k
            self.widths[key] = found
        return found

    def wrap(self, text: str, room: float, style: str) -> list[str]:
        lines: list[str] = []
        space = self._width(" ", style)
        for para in text.split("\n"):
            line, used = "", 0.0
            for word in para.split(" "):
                width = self._width(word, style)
                if line and used + space + width <= room:
                    line, used = f"{line} {word}", used + space + width
                    continue
                if line:
                    lines.append(line)
                while width > room and len(word) > 1:  # a word wider than the cell: cut it
                    cut = len(word) - 1
                    while cut > 1 and self._width(word[:cut], style) > room:
                        cut = max(1, cut * 3 // 4) if cut > 8 else cut - 1
                    lines.append(word[:cut])
                    word = word[cut:]
                    width = self._width(word, style)
                line, used = word, width
            lines.append(line)
        return lines

    def draw(self, table: Table) -> None:
        pdf = self.pdf
        total = sum(table.widths)
        widths = [pdf.epw * w / total for w in table.widths]
        self._row(table.headers, widths, "B", header=True, table=table)
        for i, cells in enumerate(table.rows):
            self._row(cells, widths, "B" if i in table.strong else "", header=False, table=table)

    def _row(
        self,
        cells: Sequence[str],
        widths: list[float],
        style: str,
        *,
        header: bool,
        table: Table,
    ) -> None:
        pdf = self.pdf
        self._font(style)
        lines = [
            self.wrap(pdf_text(c), w - 2 * self.PAD, style)
            for c, w in zip(cells, widths, strict=True)
        ]
        room = pdf.page_break_trigger - pdf.t_margin - 30
        most = max(1, int(room // self.LINE))
        for i, cell in enumerate(lines):
            if len(cell) > most:  # one cell longer than a page: cut, and say so
                lines[i] = [*cell[: most - 1], "[... cut here; the full text is in the exports]"]
        height = max(len(c) for c in lines) * self.LINE + 2 * self.PAD
        if not header:
            height = max(height, table.min_height + 2 * self.PAD)
        if pdf.will_page_break(height):
            pdf.add_page()
            if not header:
                self._row(table.headers, widths, "B", header=True, table=table)
                self._font(style)
        x, y = pdf.l_margin, pdf.get_y()
        pdf.set_draw_color(80)
        pdf.set_line_width(0.15)
        if header:
            pdf.set_fill_color(225)
            pdf.rect(x, y, sum(widths), height, style="F")
        baseline = self.PAD + self.LINE * 0.78
        for cell, width in zip(lines, widths, strict=True):
            pdf.rect(x, y, width, height)
            for k, line in enumerate(cell):
                if line:
                    pdf.text(x + self.PAD, y + baseline + k * self.LINE, line)
            x += width
        pdf.set_xy(pdf.l_margin, y + height)


def mirror_facts(store: Path) -> MirrorFacts:
    """What the store's mirror configuration says (see safetyapp.store.mirror)."""
    from safetyapp.store.mirror import MirrorProblem, read_config

    try:
        config = read_config(store)
    except MirrorProblem as exc:
        return MirrorFacts(None, problem=str(exc))
    if config is None:
        return MirrorFacts(None)
    return MirrorFacts(str(config.directory), config.events, config.synced_at)


@dataclass(frozen=True)
class Written:
    report: Report
    what: str
    verify: VerifyResult


def write_day_report(
    repo: Repository,
    target: Path,
    *,
    day_spec: str | None = None,
    fmt: str = "pdf",
    now: datetime,
    tz: tzinfo | None = None,
) -> Written:
    """Build one day's report from the store and write it (PDF or Markdown) atomically.

    Shared by `safetyapp report` and the TUI's audit screen. Raises ReportError (no such day)
    or OSError (cannot write), OutputRefused (a StoreError: the target is one of the store's
    files, or a link).
    """
    check_output(target, repo.path)  # before the work of drawing it; checked again on writing
    state = repo.full_state  # every day's runs with their sign-offs
    day = find_day(state, day_spec)
    everything = repo.journal.records()
    records = day_records(state, everything, day)
    verified = repo.journal.verify()
    changes = day_changes(state, everything, day)
    built = build_report(
        state, records, verified, day=day, generated_at=now, tz=tz, changes=changes,
        mirror=mirror_facts(repo.path),
    )  # fmt: skip
    if fmt == "pdf":
        what = f"{render_pdf(built, target, store=repo.path)} page(s)"
    else:
        write_output(target, render_markdown(built).encode("utf-8"), store=repo.path)
        what = "Markdown"
    return Written(built, what, verified)
