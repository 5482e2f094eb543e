"""Judging a signed step's evidence: parsing what was entered, comparing it with the
checklist's `expect`, and the flags and incidents a mismatch raises."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from safetyapp.domain import events as ev
from safetyapp.domain.checklist import Evidence, Step
from safetyapp.domain.engine.common import Result, _Refusal
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
    for spec in step.evidence:
        if spec.key not in given:
            if result == "pass":
                raise _Refusal(
                    f"evidence '{spec.key}' ({spec.label}) is required to pass", "evidence"
                )
            continue
        values[spec.key] = _parse_value(state, spec, given[spec.key])
    return values


_NONE_WORDS = ("", "0", "none", "no", "-")


def _parse_value(state: State, spec: Evidence, raw: str) -> Any:
    text = raw.strip()
    if spec.type == "serials":
        return _parse_serials(state, spec, text)
    if spec.type == "lot-counts":
        return _parse_lot_counts(state, spec, text)
    if spec.type == "int":
        try:
            return int(text)
        except ValueError:
            raise _Refusal(f"evidence '{spec.key}' must be a whole number", "evidence") from None
    if spec.type == "bool":
        low = text.lower()
        if low in ("yes", "y", "true", "1"):
            return True
        if low in ("no", "n", "false", "0"):
            return False
        raise _Refusal(f"evidence '{spec.key}' must be yes or no", "evidence")
    if not text:
        raise _Refusal(f"evidence '{spec.key}' cannot be empty", "evidence")
    return raw


def _split_items(text: str) -> list[str]:
    return [item for item in text.replace(";", ",").replace(" ", ",").split(",") if item]


def _parse_serials(state: State, spec: Evidence, text: str) -> list[str]:
    if text.lower() in _NONE_WORDS:
        return []
    serials = _split_items(text)
    for serial in serials:
        if serial not in state.firearms:
            known = ", ".join(state.firearms) or "none"
            raise _Refusal(
                f"evidence '{spec.key}': no firearm {serial} in the inventory (known: {known})",
                "evidence",
            )
    if len(set(serials)) != len(serials):
        raise _Refusal(f"evidence '{spec.key}' names a firearm twice", "evidence")
    return serials


def _parse_lot_counts(state: State, spec: Evidence, text: str) -> dict[str, int]:
    if text.lower() in _NONE_WORDS:
        return {}
    counts: dict[str, int] = {}
    for item in text.replace(";", ",").split(","):
        lot, sep, number = item.strip().partition("=")
        lot, number = lot.strip(), number.strip()
        if not item.strip():
            continue
        if not sep or not lot:
            raise _Refusal(
                f"evidence '{spec.key}' takes LOT=COUNT, comma-separated (e.g. D-1=36), got"
                f" {item.strip()!r}",
                "evidence",
            )
        if lot not in state.lots:
            known = ", ".join(state.lots) or "none declared"
            raise _Refusal(
                f"evidence '{spec.key}': no ammunition lot {lot} (declared: {known})", "evidence"
            )
        if lot in counts:
            raise _Refusal(f"evidence '{spec.key}' names lot {lot} twice", "evidence")
        try:
            counts[lot] = int(number)
        except ValueError:
            raise _Refusal(
                f"evidence '{spec.key}': the count for {lot} must be a whole number", "evidence"
            ) from None
        if counts[lot] < 0:
            raise _Refusal(f"evidence '{spec.key}': a count cannot be negative", "evidence")
    return counts


def _expected(state: State, run: Run, spec: Evidence) -> Any:
    if spec.expect == "firearm.chambers":
        fa = state.firearms.get(run.firearm or "")
        return fa.chambers if fa is not None else None
    if spec.expect == "firearms.out":
        return [s for s in state.firearms if state.custody(s).holder == "armorer"]
    if spec.expect == "ammo.expected":
        return {lot: want for lot, (_, _, want) in state.ammo_reconciliation().items()}
    return spec.expect


def _mismatch(state: State, run: Run, spec: Evidence, value: Any) -> str | None:
    """Why a value contradicts the step's `expect`, or None when it fits."""
    want = _expected(state, run, spec)
    if want is None:
        return None
    if spec.type == "serials":
        missing = [s for s in want if s not in (value or [])]
        if missing:
            return f"{spec.label}: out of storage but not listed: {', '.join(missing)}"
        return None
    if spec.type == "lot-counts":
        got = value or {}
        wrong = []
        recon = state.ammo_reconciliation()
        for lot in [*want, *[lot for lot in got if lot not in want]]:
            if got.get(lot) != want.get(lot):
                morning, spent, _ = recon.get(lot, (0, 0, 0))
                wrong.append(
                    f"{lot} counted {_show(got.get(lot, 'nothing'))}, expected"
                    f" {_show(want.get(lot, 'none (not counted this morning)'))}"
                    f" (morning {morning} - expended {spent})"
                )
        return f"{spec.label}: " + "; ".join(wrong) if wrong else None
    if value != want:
        return f"{spec.label}: {_show(value)}, expected {_show(want)}"
    return None


def _show(value: Any) -> str:
    return (
        {True: "yes", False: "no"}.get(value, str(value)) if isinstance(value, bool) else str(value)
    )


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
            why = _mismatch(state, run, spec, values[spec.key])
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
                note=reason, flag=f"F{flags:04d}", cause=spec.key,
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
