"""Event kinds and the one constructor every event goes through.

Every event has the same top-level fields, so the audit log reads the same for all kinds;
anything specific to a kind lives under `data`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """Every kind of event. A member is its stored string (`EventKind.SIGNED == "signed"`),
    so records read back compare equal and the stored JSON is unchanged."""

    PRODUCTION_CREATED = "production-created"
    CREW_ADDED = "crew-added"
    CREW_PIN_SET = "crew-pin-set"
    CREW_ROLE_GRANTED = "crew-role-granted"
    CREW_ROLE_REVOKED = "crew-role-revoked"
    CREW_DEACTIVATED = "crew-deactivated"
    FIREARM_ADDED = "firearm-added"
    AMMO_ADDED = "ammo-added"
    CHECKLIST_ADOPTED = "checklist-adopted"
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
    CUSTODY_TAKEN_BACK = "custody-taken-back"
    RUN_VOIDED = "run-voided"
    INCIDENT_REPORTED = "incident-reported"
    FLAG_RAISED = "flag-raised"
    FLAG_ACKNOWLEDGED = "flag-acknowledged"
    CREW_TRAINED = "crew-trained"
    CREW_LICENSED = "crew-licensed"


# The members under their old names, for `ev.SIGNED` and friends.
PRODUCTION_CREATED = EventKind.PRODUCTION_CREATED
CREW_ADDED = EventKind.CREW_ADDED
CREW_PIN_SET = EventKind.CREW_PIN_SET
CREW_ROLE_GRANTED = EventKind.CREW_ROLE_GRANTED
CREW_ROLE_REVOKED = EventKind.CREW_ROLE_REVOKED
CREW_DEACTIVATED = EventKind.CREW_DEACTIVATED
FIREARM_ADDED = EventKind.FIREARM_ADDED
AMMO_ADDED = EventKind.AMMO_ADDED
CHECKLIST_ADOPTED = EventKind.CHECKLIST_ADOPTED
RUN_STARTED = EventKind.RUN_STARTED
SIGNED = EventKind.SIGNED
LAYER_STALE = EventKind.LAYER_STALE
RUN_COMPLETED = EventKind.RUN_COMPLETED
DAY_OPENED = EventKind.DAY_OPENED
DAY_WRAPPED = EventKind.DAY_WRAPPED
HOLD_RAISED = EventKind.HOLD_RAISED
HOLD_RESOLVED = EventKind.HOLD_RESOLVED
REFUSED = EventKind.REFUSED
LOCKOUT = EventKind.LOCKOUT
CUSTODY_CHANGED = EventKind.CUSTODY_CHANGED
CUSTODY_BREAK = EventKind.CUSTODY_BREAK
CUSTODY_TAKEN_BACK = EventKind.CUSTODY_TAKEN_BACK
RUN_VOIDED = EventKind.RUN_VOIDED
INCIDENT_REPORTED = EventKind.INCIDENT_REPORTED
FLAG_RAISED = EventKind.FLAG_RAISED
FLAG_ACKNOWLEDGED = EventKind.FLAG_ACKNOWLEDGED
CREW_TRAINED = EventKind.CREW_TRAINED
CREW_LICENSED = EventKind.CREW_LICENSED

KINDS: tuple[EventKind, ...] = tuple(EventKind)
# Incident events, listed together in the report (only the report so far; issue 4).
INCIDENT_EVENTS = frozenset(k for k in EventKind if k.startswith("incident"))

# Events that move a firearm (who holds it is the last of these): a signed step's or a storage
# move's `custody-changed`, and the armorer's `custody-taken-back` (at any time, hold or not).
CUSTODY_KINDS = frozenset((CUSTODY_CHANGED, CUSTODY_TAKEN_BACK))

# The record's format, carried by its production-created event. 2: PIN hashes live in the
# credentials file beside the store, never in the record; crew and inventory changes carry `by`.
# 3: a run walks only a checklist version adopted into the record (`checklist-adopted`, with its
# full text and digest); `run-started` names that version by digest and carries no text.
# Also in 3: a hold may be raised without a PIN (`data.verified` false: the name is as given,
# unchecked); `custody-taken-back` and `run-voided` events.
# Also in 3 (issue 15): the production's time zone; a live-round incident holds the day; a
# custody break may be of the ammunition; meeting runs.
# 4 (issue 15): qualifications on file (`crew-trained`, `crew-licensed`, entered by a safety
# supervisor); the `advisor` and `crew` roles; the misfire review signed by the supervisor, the
# armorer and the 1st AD; the pre-production gate (`prep` runs, ids G0001...) before any opening.
RECORD_FORMAT = 4
READABLE_FORMATS = (4,)

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
    CREW_TRAINED,
    CREW_LICENSED,
)

# Data keys that were secrets in format 1 (a PIN's hash and salt). A format-2 record never holds
# them (they are in the credentials file); `public` still strips them, belt and braces.
SECRET_KEYS = ("pin", "salt", "hash")


def iso(moment: datetime) -> str:
    """UTC ISO-8601 with a Z, microseconds kept so events sort by time."""
    last, text = _LAST_READ
    if moment is last:  # the moment just read from a record's time (replay): that text
        return text
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    if utc.year >= 1000:  # isoformat is ~10x faster than strftime; the same text here
        return utc.isoformat(timespec="microseconds") + "Z"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """The moment an event's `time` names (exactly the form `iso` writes, else ValueError)."""
    found = _PARSED.get(text)
    if found is not None:
        return found
    moment = _parse_time(text)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[text] = moment
    return moment


# The same few times are read again and again while a record is replayed (a step's time at
# every later check of its freshness, the day's opening at every handoff): parsed once each.
_PARSED: dict[str, datetime] = {}
# The last moment read by the exact form (one tuple: read and replaced whole, thread-safe).
_LAST_READ: tuple[datetime | None, str] = (None, "")
_PARSED_MAX = 4096


def _parse_time(text: str) -> datetime:
    if len(text) == 27 and text[26] == "Z" and text[10] == "T" and text[19] == ".":
        moment = datetime.fromisoformat(text[:26])  # ~20x faster than strptime
        if moment.isoformat(timespec="microseconds") == text[:26] and moment.year >= 1000:
            global _LAST_READ
            aware = moment.replace(tzinfo=UTC)
            _LAST_READ = (aware, text)  # iso(aware) is exactly this text
            return aware
        if moment.isoformat(timespec="microseconds") == text[:26]:
            return moment.replace(tzinfo=UTC)
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def event(
    kind: EventKind,
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
        "kind": str(kind),  # the plain string: a record is plain JSON data
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
