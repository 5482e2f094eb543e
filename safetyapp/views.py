"""Plain-data views of derived state, shared by the CLI's --json and the TUI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from safetyapp.domain import events as ev
from safetyapp.domain.engine import stale_layer
from safetyapp.domain.state import Firearm, Flag, Hold, Incident, Run, State
from safetyapp.store.chain import receipt


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
        "incident": hold.incident,
        "verified": hold.verified,
        "unverified": hold.unverified,
        "receipt": receipt(hold.raised_hash) if hold.raised_hash else None,
    }


def firearm_view(state: State, firearm: Firearm, now: datetime) -> dict[str, Any]:
    """A firearm with who holds it and its last verification (age in whole minutes at `now`)."""
    custody = state.custody(firearm.serial)
    last = state.last_verified(firearm.serial)
    verified: dict[str, Any] | None = None
    if last is not None:
        run, signoff = last
        step = run.checklist.step(signoff.step)
        age = int((now - ev.parse_time(signoff.time)).total_seconds() // 60)
        mark = state.last_custody_mark(firearm.serial)
        limit = step.valid_minutes if step is not None else None
        verified = {
            "time": signoff.time,
            "age_minutes": age,
            "run": run.id,
            "step": signoff.step,
            "by": signoff.by,
            "valid_minutes": limit,
            # Still valid: custody unchanged since and within its time limit.
            "fresh": (mark is None or mark.seq < signoff.seq) and (limit is None or age <= limit),
        }
    return {
        "serial": firearm.serial,
        "description": firearm.description,
        "kind": firearm.kind,
        "chambers": firearm.chambers,
        "custody": {
            "holder": custody.holder,
            "name": custody.name,
            "since": custody.since,
            "run": custody.run,
            "note": custody.note,
            "text": custody.describe(),
        },
        "last_verified": verified,
    }


def incident_view(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "kind": incident.kind,
        "state": incident.status,
        "note": incident.note,
        "firearm": incident.firearm,
        "reported_by": incident.reported_by,
        "reported_at": incident.reported_at,
        "day": incident.day,
        "hold": incident.hold,
        "reviewed_at": incident.reviewed_at,
        "review": incident.review,
        "reviewers": incident.reviewers,
        "read_out_at": incident.read_out_at,
        "read_out_in": incident.read_out_in,
    }


def flag_view(flag: Flag) -> dict[str, Any]:
    return {
        "id": flag.id,
        "state": "open" if flag.open else "acknowledged",
        "reason": flag.reason,
        "cause": flag.cause,
        "run": flag.run,
        "raised_by": flag.raised_by,
        "raised_at": flag.raised_at,
        "acknowledged_by": flag.acknowledged_by,
        "acknowledged_at": flag.acknowledged_at,
        "acknowledgement": flag.acknowledgement,
    }


def run_view(state: State, run: Run, now: datetime | None = None) -> dict[str, Any]:
    """A run for `run status`: each step with its evidence (key, type and what to enter), and,
    given `now`, the layer that is STALE before anyone signs (see `engine.stale_layer`)."""
    steps = []
    for layer, step in run.checklist.steps():
        done = run.signoffs.get(step.id)
        evidence = [
            {
                "key": e.key,
                "label": e.label,
                "type": e.type,
                "hint": e.kind.hint,
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
                "custody": step.custody,
                # What the signer reads out (meeting steps), until the step is signed.
                "read_out": [incident_view(i) for i in state.to_read_out(step.acknowledges)]
                if step.acknowledges and done is None
                else [],
            }
        )
    holds = [hold_view(h) for h in state.holds_blocking(run.id)]
    stale = stale_layer(state, run, now) if now is not None else None
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
        "stale": {"layer": stale[0], "reason": stale[1]} if stale else None,
        "void": {"at": run.voided_at, "reason": run.void_reason, "by": run.voided_by}
        if run.voided_at is not None
        else None,
    }
