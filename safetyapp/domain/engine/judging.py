"""Judging a signed step's evidence: reading what was entered and comparing it with the
checklist's `expect` (each through its evidence type, see `domain/evidence.py`), the result
to record, and the flags and incidents a mismatch raises."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from safetyapp.domain import events as ev
from safetyapp.domain import qualifications
from safetyapp.domain.checklist import Evidence, Step
from safetyapp.domain.engine.common import Result, _hold_event, _Refusal, local_date
from safetyapp.domain.evidence import EvidenceError
from safetyapp.domain.incidents import HOLDING_KINDS, INCIDENT_TITLES
from safetyapp.domain.state import Run, State, run_lot_counts


def _given_once(given: Mapping[str, str] | Sequence[tuple[str, str]]) -> dict[str, str]:
    """Evidence as entered, each key once: a key given twice in one sign-off
    (`chambers-seen=3 chambers-seen=6`) is refused, never resolved to one of the two."""
    if isinstance(given, Mapping):
        return dict(given)
    out: dict[str, str] = {}
    for key, value in given:
        if key in out:
            raise _Refusal(
                f"evidence '{key}' given twice ({out[key]!r} and {value!r}): give each key once",
                "evidence-repeated",
            )
        out[key] = value
    return out


def _check_evidence(
    state: State,
    run: Run,
    step: Step,
    entered: Mapping[str, str] | Sequence[tuple[str, str]],
    result: Result,
    now: datetime,
) -> dict[str, Any]:
    given = _given_once(entered)
    known = {e.key: e for e in step.evidence}
    extra = sorted(set(given) - set(known))
    if extra:
        keys = ", ".join(known) or "none"
        raise _Refusal(f"unknown evidence {', '.join(extra)}; this step takes: {keys}", "evidence")
    values: dict[str, Any] = {}
    facts = _RunFacts(state, run, now)
    for spec in step.evidence:
        if spec.key not in given:
            if result == "pass":
                raise _Refusal(
                    f"evidence '{spec.key}' ({spec.label}) is required to pass", "evidence"
                )
            continue
        try:
            values[spec.key] = spec.kind.parse(spec, given[spec.key], facts)
        except EvidenceError as exc:
            raise _Refusal(str(exc), "evidence") from None
    return values


@dataclass(frozen=True)
class _RunFacts:
    """The record as evidence reads it while a step of `run` is signed."""

    state: State
    run: Run
    now: datetime

    def firearm_serials(self) -> Collection[str]:
        return self.state.firearms.keys()

    def lot_ids(self) -> Collection[str]:
        return self.state.lots.keys()

    def run_chambers(self) -> int | None:
        fa = self.state.firearms.get(self.run.firearm or "")
        return fa.chambers if fa is not None else None

    def firearms_out(self) -> list[str]:
        return [s for s in self.state.firearms if self.state.custody(s).holder == "armorer"]

    def lot_reconciliation(self) -> Mapping[str, tuple[int, int, int]]:
        return self.state.ammo_reconciliation()

    def lots_on_hand(self) -> Mapping[str, int]:
        return self.state.lots_on_hand()

    def lot_type(self, lot: str) -> str | None:
        found = self.state.lots.get(lot)
        return found.type if found is not None else None

    def run_serial(self) -> str | None:
        return self.run.firearm

    def run_loads(self) -> Mapping[str, int] | None:
        return run_loads(self.run)

    def run_dummies(self) -> int:
        counts = run_lot_counts(self.run)
        return sum(n for lot, n in counts.items() if self.lot_type(lot) == "dummy")

    def blank_distance(self) -> int:
        return self.state.blank_distance_ft

    def qualifications_missing(self, which: str) -> list[str]:
        day = local_date(self.state, self.now)
        if which == "licences":
            return qualifications.licences_missing(self.state, day)
        return qualifications.training_missing(self.state, day)


def run_loads(run: Run) -> dict[str, int] | None:
    """Rounds a run's current sign-offs record as loaded, per type (evidence with `loaded:`);
    None when none of its signed steps records loads."""
    out: dict[str, int] | None = None
    for _, step in run.checklist.steps():
        done = run.signoffs.get(step.id)
        if done is None:
            continue
        for spec in step.evidence:
            value = done.evidence.get(spec.key)
            if spec.loaded is not None and isinstance(value, int):
                out = out if out is not None else {}
                out[spec.loaded] = out.get(spec.loaded, 0) + value
    return out


def _load_findings(
    state: State, run: Run, step: Step, values: dict[str, Any]
) -> list[tuple[Evidence, str]]:
    """Loads must be physically possible: the rounds a step records as loaded are at most the
    firearm's chambers (or magazine capacity); a firearm recorded without either holds none."""
    loaded = [spec for spec in step.evidence if spec.loaded is not None and spec.key in values]
    if not loaded:
        return []
    total = sum(int(values[spec.key]) for spec in loaded)
    firearm = state.firearms.get(run.firearm or "")
    capacity = (firearm.chambers if firearm is not None else None) or 0
    if total <= capacity:
        return []
    what = f"{run.firearm} holds {capacity}" if capacity else f"{run.firearm} holds no rounds"
    why = f"{total} rounds loaded but {what} (chambers or magazine capacity): not possible"
    return [(replace(loaded[0], incident=None, on_mismatch="fail"), why)]


def _judge(
    state: State,
    run: Run,
    step: Step,
    result: Result,
    values: dict[str, Any],
    note: str,
    na_reason: str,
    now: datetime,
) -> tuple[Result, str, list[tuple[Evidence, str]]]:
    """The result to record: a pass whose evidence contradicts `expect` is a failure, or, where
    the checklist says `on_mismatch: flag`, a pass with a flag. Also returns every mismatch
    (for flags and incidents)."""
    if result == "na":
        if not step.na_allowed:
            raise _Refusal(f"'{step.id}' cannot be marked not applicable", "na-not-allowed")
        if not na_reason.strip():
            raise _Refusal("not applicable needs a reason", "na-reason")
        return "na", f"not applicable: {na_reason.strip()}", []
    findings = _load_findings(state, run, step, values)
    facts = _RunFacts(state, run, now)
    for spec in step.evidence:
        if spec.key in values:
            why = spec.kind.mismatch(spec, values[spec.key], facts)
            if why is not None:
                findings.append((spec, why))
    if result == "fail":
        return "fail", "", findings
    wrong = [why for spec, why in findings if spec.on_mismatch == "fail"]
    if wrong:
        return "fail", "evidence contradicts a pass (" + "; ".join(wrong) + ")", findings
    flagged = [why for spec, why in findings if spec.on_mismatch == "flag"]
    if flagged:
        return "pass", "flagged for the safety supervisor (" + "; ".join(flagged) + ")", findings
    return "pass", "", findings


def _findings_events(
    state: State,
    run: Run,
    step: Step,
    by: str,
    findings: list[tuple[Evidence, str]],
    now: datetime,
    holds_before: int = 0,
) -> list[dict[str, Any]]:
    """Flags and incidents that mismatched evidence raises, as the checklist declares. An
    incident of a kind that holds (a live or unidentified round) also holds the whole day, as a
    reported misfire does, until its review is signed. `holds_before`: holds this decision
    already raises."""
    out: list[dict[str, Any]] = []
    flags = len(state.flags)
    incidents = len(state.incidents)
    holds = len(state.holds) + holds_before
    for spec, why in findings:
        if spec.on_mismatch == "flag":
            flags += 1
            reason = f"{step.title}: {why}"
            flag = ev.event(
                ev.FLAG_RAISED, now, by=by, run=run.id, step=step.id, result="flag",
                note=reason, flag=f"F{flags:04d}", cause=spec.key, subject=by,
            )  # fmt: skip
            out.append(flag)
        if spec.incident is not None:
            incidents += 1
            incident = ev.event(
                ev.INCIDENT_REPORTED, now, by=by, run=run.id, step=step.id, result="incident",
                note=f"{step.title}: {why}", incident=f"I{incidents:04d}",
                incident_kind=spec.incident, serial=run.firearm, hold=None,
                day=state.day.number if state.day else None,
            )  # fmt: skip
            out.append(incident)
            if spec.incident in HOLDING_KINDS:
                holds += 1
                hold_id = f"H{holds:04d}"
                incident["data"]["hold"] = hold_id
                reason = (
                    f"{INCIDENT_TITLES[spec.incident]} at {step.title} ({run.id}):"
                    f" {why}; all firearm work stops until the review is signed"
                )
                hold = _hold_event(state, now, reason, cause=spec.incident, run=None, by=by)
                hold["data"]["hold"], hold["data"]["incident"] = (
                    hold_id,
                    incident["data"]["incident"],
                )
                out.append(hold)
    return out
