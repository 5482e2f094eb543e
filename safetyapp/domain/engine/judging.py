"""Judging a signed step's evidence: reading what was entered and comparing it with the
checklist's `expect` (each through its evidence type, see `domain/evidence.py`), the result
to record, and the flags and incidents a mismatch raises."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from safetyapp.domain import events as ev
from safetyapp.domain.checklist import Evidence, Step
from safetyapp.domain.engine.common import Result, _Refusal
from safetyapp.domain.evidence import EvidenceError
from safetyapp.domain.state import Run, State


def _check_evidence(
    state: State, run: Run, step: Step, given: dict[str, str], result: Result
) -> dict[str, Any]:
    known = {e.key: e for e in step.evidence}
    extra = sorted(set(given) - set(known))
    if extra:
        keys = ", ".join(known) or "none"
        raise _Refusal(f"unknown evidence {', '.join(extra)}; this step takes: {keys}", "evidence")
    values: dict[str, Any] = {}
    facts = _RunFacts(state, run)
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


def _judge(
    state: State,
    run: Run,
    step: Step,
    result: Result,
    values: dict[str, Any],
    note: str,
    na_reason: str,
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
    findings = []
    for spec in step.evidence:
        if spec.key in values:
            why = spec.kind.mismatch(spec, values[spec.key], _RunFacts(state, run))
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
) -> list[dict[str, Any]]:
    """Flags and incidents that mismatched evidence raises, as the checklist declares."""
    out: list[dict[str, Any]] = []
    flags = len(state.flags)
    incidents = len(state.incidents)
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
    return out
