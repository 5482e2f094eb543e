"""Plain-data views of derived state, shared by the CLI's --json and the TUI."""

from __future__ import annotations

from typing import Any

from safetyapp.domain.state import Hold, Run, State


def hold_view(hold: Hold) -> dict[str, Any]:
    return {
        "id": hold.id,
        "state": "open" if hold.open else "resolved",
        "reason": hold.reason,
        "cause": hold.cause,
        "run": hold.run,
        "layer": hold.layer,
        "raised_by": hold.raised_by,
        "raised_at": hold.raised_at,
        "resolution": hold.resolution,
        "resolved_at": hold.resolved_at,
        "resolvers": hold.resolvers,
    }


def run_view(state: State, run: Run) -> dict[str, Any]:
    steps = []
    for layer, step in run.checklist.steps():
        done = run.signoffs.get(step.id)
        evidence = [
            {
                "key": e.key,
                "label": e.label,
                "type": e.type,
                "expect": e.expect,
                "value": done.evidence.get(e.key) if done else None,
            }
            for e in step.evidence
        ]
        steps.append(
            {
                "id": step.id,
                "title": step.title,
                "layer": layer.id,
                "role": step.role,
                "witnesses": list(step.witnesses),
                "evidence": evidence,
                "state": run.step_status(step.id),
                "signed_by": done.by if done else None,
                "witnessed_by": [w["name"] for w in done.witnesses] if done else [],
                "time": done.time if done else None,
                "note": done.note if done else None,
            }
        )
    holds = [hold_view(h) for h in state.holds_blocking(run.id)]
    return {
        "id": run.id,
        "checklist": run.checklist.id,
        "title": run.checklist.title,
        "version": run.checklist.version,
        "state": state.run_status(run),
        "day": run.day,
        "firearm": run.firearm,
        "performer": run.performer,
        "scene": run.scene,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "steps": steps,
        "holds": holds,
    }
