"""A demo production so a new user can walk a full day in two minutes."""

from __future__ import annotations

import os
from pathlib import Path

from safetyapp.checklists import load_bundled
from safetyapp.domain import engine
from safetyapp.domain.auth import hash_pin
from safetyapp.domain.engine import Credential, Decision
from safetyapp.domain.roles import FIREARMS_ROLES
from safetyapp.store.repository import Clock, Repository, utc_now

DEMO_PRODUCTION = "Dusk Rider (demo)"
# Demo PINs are shown on the welcome screen on purpose: this is practice data, not a real set.
DEMO_CREW: list[tuple[str, list[str], str]] = [
    ("Alex Reyes", ["armorer"], "1111"),
    ("Jordan Lee", ["ad"], "2222"),
    ("Casey Morgan", ["actor"], "3333"),
    ("Riley Chen", ["actor"], "4444"),
    ("Pat Okafor", ["supervisor"], "5555"),
]
# Qualifications on file, entered by the safety supervisor: the demo walks like a real set.
DEMO_TRAINING = ("2026-01-12", "Set firearms safety course (demo)")
DEMO_LICENCE = ("AL-2211-DEMO", "State armorer board (demo)", "2030-12-31")
DEMO_FIREARMS = [
    ("COLT-SAA-0142", "Single-action revolver, .45 Colt, blank-adapted", "blank-firing", 6),
    ("RUB-G17-007", "Rubber pistol, stunt double", "rubber", None),
]
DEMO_LOTS = [
    ("D-2211", "dummy", 36, "Prop house A, sealed box, inert-checked"),
    ("B-45LC-08", "blank", 24, "Blank supplier B, quarter load"),
]


def seed_demo(path: Path, clock: Clock = utc_now) -> bool:
    """Create the demo production at `path`; False when a store is already there. Seeded the
    way a real production is: the safety supervisor named at creation adds the crew, the
    armorer adds the firearms and lots, each signed with their (practice) PIN. The bundled
    checklists are adopted at creation, by the safety supervisor, as in any new store."""
    if path.exists():
        return False
    pins = {name: pin for name, _, pin in DEMO_CREW}
    supervisor = next(name for name, roles, _ in DEMO_CREW if "supervisor" in roles)
    armorer = next(name for name, roles, _ in DEMO_CREW if "armorer" in roles)
    new_pin = hash_pin(pins[supervisor], os.urandom(16))
    repo = Repository.create(path, DEMO_PRODUCTION, supervisor, new_pin, load_bundled(), clock)
    by_supervisor = Credential(supervisor, pins[supervisor])
    by_armorer = Credential(armorer, pins[armorer])
    for name, roles, pin in DEMO_CREW:
        if name != supervisor:
            _ok(repo.do(engine.add_crew, by_supervisor, name, roles, hash_pin(pin, os.urandom(16))))
    for name, roles, _ in DEMO_CREW:
        if "armorer" in roles:
            _ok(repo.do(engine.record_licence, by_supervisor, name, *DEMO_LICENCE))
        if any(role in FIREARMS_ROLES for role in roles):
            _ok(repo.do(engine.record_training, by_supervisor, name, *DEMO_TRAINING))
    for serial, description, kind, chambers in DEMO_FIREARMS:
        _ok(repo.do(engine.add_firearm, by_armorer, serial, description, kind, chambers))
    for lot, ammo_type, count, source in DEMO_LOTS:
        _ok(repo.do(engine.add_ammo, by_armorer, lot, ammo_type, count, source))
    _walk_gate(repo, by_supervisor, by_armorer)
    return True


# The pre-production gate as the demo's safety supervisor signed it (the armorer witnessing).
DEMO_GATE: list[tuple[str, bool, dict[str, str]]] = [
    ("risk-assessment", False, {"reference": "RA-DUSK-01 rev 3 (demo)", "on-file": "yes"}),
    ("armorer-hired", True, {"armorer-only": "yes"}),
    ("licences-in-date", False, {"licences-in-date": "yes"}),
    ("training-complete", False, {"training-complete": "yes"}),
]


def _walk_gate(repo: Repository, supervisor: Credential, armorer: Credential) -> None:
    """The demo opens straight on the board: its gate is complete at creation."""
    checklist = engine.checklist_to_start(repo.state, load_bundled(), "prep")
    if checklist is None:
        raise RuntimeError("the demo could not be seeded: no pre-production gate checklist")
    started = repo.do(engine.start_run, checklist)
    _ok(started)
    assert started.run_id is not None
    for step, witnessed, evidence in DEMO_GATE:
        witnesses = [armorer] if witnessed else []
        signed = repo.do(
            engine.sign, started.run_id, step, supervisor, witnesses=witnesses, evidence=evidence
        )
        _ok(signed)


def _ok(decision: Decision) -> None:
    if not decision.ok:
        raise RuntimeError(f"the demo could not be seeded: {decision.refused}")
