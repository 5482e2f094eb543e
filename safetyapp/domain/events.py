"""Event kinds and the one constructor every event goes through.

Every event has the same top-level fields, so the audit log reads the same for all kinds;
anything specific to a kind lives under `data`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

PRODUCTION_CREATED = "production-created"
CREW_ADDED = "crew-added"
CREW_PIN_SET = "crew-pin-set"
CREW_ROLE_GRANTED = "crew-role-granted"
CREW_ROLE_REVOKED = "crew-role-revoked"
CREW_DEACTIVATED = "crew-deactivated"
FIREARM_ADDED = "firearm-added"
AMMO_ADDED = "ammo-added"
RUN_STARTED = "run-started"
SIGNED = "signed"
LAYER_STALE = "layer-stale"
RUN_COMPLETED = "run-completed"
DAY_OPENED = "day-opened"
DAY_WRAPPED = "day-wrapped"
HOLD_RAISED = "hold-raised"
HOLD_RESOLVED = "hold-resolved"
REFUSED = "refused"
LOCKOUT = "lockout"
CUSTODY_CHANGED = "custody-changed"
CUSTODY_BREAK = "custody-break"
INCIDENT_REPORTED = "incident-reported"
FLAG_RAISED = "flag-raised"
FLAG_ACKNOWLEDGED = "flag-acknowledged"

KINDS = (
    PRODUCTION_CREATED,
    CREW_ADDED,
    CREW_PIN_SET,
    CREW_ROLE_GRANTED,
    CREW_ROLE_REVOKED,
    CREW_DEACTIVATED,
    FIREARM_ADDED,
    AMMO_ADDED,
    RUN_STARTED,
    SIGNED,
    LAYER_STALE,
    RUN_COMPLETED,
    DAY_OPENED,
    DAY_WRAPPED,
    HOLD_RAISED,
    HOLD_RESOLVED,
    REFUSED,
    LOCKOUT,
    CUSTODY_CHANGED,
    CUSTODY_BREAK,
    INCIDENT_REPORTED,
    FLAG_RAISED,
    FLAG_ACKNOWLEDGED,
)

# The record's format, carried by its production-created event. 2: PIN hashes live in the
# credentials file beside the store, never in the record; crew and inventory changes carry `by`.
RECORD_FORMAT = 2

# Changes to who may sign and to what is on set: each signed by an authorised person (`by`),
# flagged in the audit and listed in the day's report.
AUTHORITY_KINDS = (
    CREW_ADDED,
    CREW_PIN_SET,
    CREW_ROLE_GRANTED,
    CREW_ROLE_REVOKED,
    CREW_DEACTIVATED,
    FIREARM_ADDED,
    AMMO_ADDED,
)

# Data keys that were secrets in format 1 (a PIN's hash and salt). A format-2 record never holds
# them (they are in the credentials file); `public` still strips them, belt and braces.
SECRET_KEYS = ("pin", "salt", "hash")


def iso(moment: datetime) -> str:
    """UTC ISO-8601 with a Z, microseconds kept so events sort by time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def event(
    kind: str,
    now: datetime,
    /,
    *,
    by: str | None = None,
    role: str | None = None,
    run: str | None = None,
    step: str | None = None,
    result: str | None = None,
    note: str = "",
    **data: Any,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "time": iso(now),
        "by": by,
        "role": role,
        "run": run,
        "step": step,
        "result": result,
        "note": note,
        "data": data,
    }


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A record with secrets (PIN hashes) removed, for display and export."""
    data = record.get("data") or {}
    if not any(k in data for k in SECRET_KEYS):
        return record
    clean = dict(record)
    clean["data"] = {k: v for k, v in data.items() if k not in SECRET_KEYS}
    return clean
