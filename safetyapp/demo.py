"""A demo production so a new user can walk a full day in two minutes."""

from __future__ import annotations

import os
from pathlib import Path

from safetyapp.checklists import load_bundled
from safetyapp.domain import engine
from safetyapp.domain.auth import hash_pin
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
DEMO_FIREARMS = [
    ("COLT-SAA-0142", "Single-action revolver, .45 Colt, blank-adapted", "blank-firing", 6),
    ("RUB-G17-007", "Rubber pistol, stunt double", "rubber", None),
]
DEMO_LOTS = [
    ("D-2211", "dummy", 36, "Prop house A, sealed box, inert-checked"),
    ("B-45LC-08", "blank", 24, "Blank supplier B, quarter load"),
]


def seed_demo(path: Path, clock: Clock = utc_now) -> bool:
    """Create the demo production at `path`; False when a store is already there."""
    if path.exists():
        return False
    repo = Repository.create(path, DEMO_PRODUCTION, load_bundled(), clock)
    for name, roles, pin in DEMO_CREW:
        repo.do(engine.add_crew, name, roles, hash_pin(pin, os.urandom(16)))
    for serial, description, kind, chambers in DEMO_FIREARMS:
        repo.do(engine.add_firearm, serial, description, kind, chambers)
    for lot, ammo_type, count, source in DEMO_LOTS:
        repo.do(engine.add_ammo, lot, ammo_type, count, source)
    return True
