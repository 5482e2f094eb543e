"""Filtering the record through TinyDB's query layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tinydb import Query

from safetyapp.domain import events as ev

if TYPE_CHECKING:
    from safetyapp.store.repository import Repository

FLAGGED_KINDS = (
    ev.REFUSED,
    ev.HOLD_RAISED,
    ev.LOCKOUT,
    ev.LAYER_STALE,
    ev.FLAG_RAISED,
    ev.INCIDENT_REPORTED,
    ev.CUSTODY_BREAK,
)
AUDIT_FIELDS = ("seq", "time", "kind", "by", "role", "run", "step", "result", "note")


@dataclass(frozen=True)
class AuditFilter:
    since: datetime | None = None
    until: datetime | None = None
    by: str | None = None
    firearm: str | None = None
    kind: str | None = None
    flagged: bool = False


def is_flagged(record: dict[str, Any]) -> bool:
    return record["kind"] in FLAGGED_KINDS or record.get("result") == "fail"


def select(repo: Repository, flt: AuditFilter) -> list[dict[str, Any]]:
    """Matching events, oldest first, secrets removed."""
    q = Query()
    cond = q.seq.exists()
    if flt.since is not None:
        cond &= q.time >= ev.iso(flt.since)
    if flt.until is not None:
        cond &= q.time <= ev.iso(flt.until)
    if flt.by is not None:
        name = flt.by
        cond &= (
            (q.by == name)
            | q.data.witnesses.any(Query().name == name)
            | q.data.resolvers.any(Query().name == name)
        )
    if flt.kind is not None:
        cond &= q.kind == flt.kind
    if flt.firearm is not None:
        runs = [r.id for r in repo.state.runs.values() if r.firearm == flt.firearm]
        cond &= q.run.one_of(runs) | (q.data.serial == flt.firearm)
    if flt.flagged:
        cond &= q.kind.one_of(FLAGGED_KINDS) | (q.result == "fail")
    found = repo.journal.db.table("events").search(cond)
    found.sort(key=lambda r: r["seq"])
    return [ev.public(dict(r)) for r in found]
