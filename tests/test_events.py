"""Typed event kinds and Decision's accessors: callers read ids without digging in dicts, and
the stored JSON is the same plain strings as before."""

from __future__ import annotations

import json
import re
from pathlib import Path

from support import ACTOR, CHECKLISTS, START, cred, open_day, setup_world

from safetyapp.domain import engine
from safetyapp.domain import events as ev

ROOT = Path(__file__).resolve().parents[1]


def test_a_kind_is_stored_as_its_plain_string() -> None:
    record = ev.event(ev.EventKind.HOLD_RAISED, START, note="x")
    assert type(record["kind"]) is str and record["kind"] == "hold-raised"
    assert json.dumps(record["kind"]) == '"hold-raised"'
    assert ev.SIGNED == "signed" and ev.SIGNED is ev.EventKind.SIGNED
    assert {ev.SIGNED: 1}.get("signed") == 1  # records read back find their handlers


def test_decision_names_the_run_hold_and_incident_it_made() -> None:
    world = setup_world()
    open_day(world)
    started = world.do(engine.start_run, CHECKLISTS["handoff"], firearm="COLT-1",
                       performer=ACTOR[0], scene="1")  # fmt: skip
    assert started.run_id == "R0002" and started.hold_id is None
    held = world.do(engine.raise_hold, cred(ACTOR), "smoke on set", run="R0002")
    assert held.hold_id == "H0001" and held.run_id == "R0002" and held.incident_id is None
    near = world.do(engine.report_incident, cred(ACTOR), "near-miss", "dummy on the floor")
    assert near.incident_id == "I0001" and near.hold_id is None
    misfire = world.do(engine.report_incident, cred(ACTOR), "misfire", "click, no bang")
    assert misfire.incident_id == "I0002" and misfire.hold_id == "H0002"
    refused = world.do(engine.report_incident, cred(ACTOR), "misfire", "   ")
    assert not refused.ok and refused.hold_id is None and refused.incident_id is None


_KINDS = "|".join(re.escape(k) for k in ev.KINDS if k != ev.REFUSED)


def test_no_event_kind_is_written_as_a_string_outside_events() -> None:
    """`refused` is also a result word and `custody-break` an action name (`action=`), so
    those are left out of this search."""
    pattern = re.compile(rf"""(?<!action=)["']({_KINDS})["']""")
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted((ROOT / "safetyapp").rglob("*.py"))
        if path != ROOT / "safetyapp/domain/events.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


def test_a_time_read_from_a_record_is_written_back_as_the_same_text() -> None:
    """iso() of the moment just read answers with the text read (replay writes it back), and
    only for exactly that moment object: any other moment is formatted as always."""
    from datetime import UTC, datetime

    from safetyapp.domain import events as ev

    text = "2026-03-02T07:00:00.123456Z"
    moment = ev.parse_time(text)
    assert ev.iso(moment) == text
    other = datetime(2026, 3, 2, 7, 0, 0, 123456, tzinfo=UTC)
    assert other == moment and ev.iso(other) == text
    later = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert ev.iso(later) == "2026-03-02T08:00:00.000000Z"
    assert ev.iso(ev.parse_time("2026-03-02T07:00:00.000001Z")) == "2026-03-02T07:00:00.000001Z"
