"""The layered-check engine: pure rules from (state, command, now) to events.

Every function returns a Decision: the events to append and, when the attempt is refused, the
reason. Refusals are events too, so every attempt is on the record. No IO, no clock reads.

The rules live in one module per concern: `setup` (production, crew, PINs, inventory),
`checklists` (adopting checklist versions: only those run), `runs` (starting and signing
checklist runs), `judging` (a step's evidence against its `expect`), `custody` (firearm moves),
`holds` (holds, incidents, flags) and `common` (Decision, refusals, authentication). Callers
import from here.
"""

from safetyapp.domain.clock import zone_ok
from safetyapp.domain.engine.checklists import (
    ADOPT_HINT,
    adopt_checklist,
    checklist_to_start,
    short_digest,
)
from safetyapp.domain.engine.common import Credential, Decision, Result, local_date
from safetyapp.domain.engine.custody import move_firearms, record_custody_break, take_back
from safetyapp.domain.engine.holds import (
    acknowledge_flag,
    raise_hold,
    report_incident,
    resolve_hold,
    resolver_roles,
    review_incident,
)
from safetyapp.domain.engine.runs import sign, stale_layer, start_run, void_run
from safetyapp.domain.engine.setup import (
    AMMO_TYPES,
    FIREARM_KINDS,
    add_ammo,
    add_crew,
    add_firearm,
    blank_distance_problem,
    create_production,
    deactivate,
    grant_role,
    record_licence,
    record_training,
    revoke_role,
    set_pin,
)

__all__ = [
    "ADOPT_HINT",
    "AMMO_TYPES",
    "FIREARM_KINDS",
    "Credential",
    "Decision",
    "Result",
    "acknowledge_flag",
    "add_ammo",
    "add_crew",
    "add_firearm",
    "adopt_checklist",
    "blank_distance_problem",
    "checklist_to_start",
    "create_production",
    "deactivate",
    "grant_role",
    "local_date",
    "move_firearms",
    "raise_hold",
    "record_custody_break",
    "record_licence",
    "record_training",
    "report_incident",
    "resolve_hold",
    "resolver_roles",
    "review_incident",
    "revoke_role",
    "set_pin",
    "short_digest",
    "sign",
    "stale_layer",
    "start_run",
    "take_back",
    "void_run",
    "zone_ok",
]
