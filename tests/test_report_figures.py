"""Every figure the daily report prints about ammunition and the meeting, derived here from the
fold (the State) and compared with the PDF's text (read back with pypdf)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from report_support import write_store
from support import (
    ACTOR,
    AD,
    ARMORER,
    CHECKLISTS,
    OPENING,
    SUPERVISOR,
    cred,
    handoff_steps,
    setup_world,
    start,
    walk,
)

from safetyapp.audit.report import build_report, day_records, find_day, render_pdf
from safetyapp.domain import engine
from safetyapp.domain.state import run_lot_counts
from safetyapp.store.repository import Repository

NOW = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)


Steps = list[tuple[str, Any, tuple[Any, ...], dict[str, str]]]


def _with(steps: Steps, step_id: str, evidence: dict[str, str]) -> Steps:
    return [(s, by, w, evidence if s == step_id else e) for s, by, w, e in steps]


def _blank_day(tmp_path: Path) -> Repository:
    """A day whose one handoff fires 6 blanks from lot B-1 (recorded as `B-1=6`)."""
    world = setup_world()
    assert world.do(engine.add_ammo, cred(ARMORER), "B-1", "blank", 24, "Blank supplier").ok
    opening = start(world, "opening")
    walk(
        world, opening, _with(OPENING, "lots-listed", {"lots": "D-1=36, B-1=24", "unlabelled": "0"})
    )
    run = start(world, "handoff", firearm="COLT-1", performer=ACTOR[0], scene="7")
    walk(
        world,
        run,
        _with(
            handoff_steps(ACTOR, blanks=6),
            "returned",
            {"rounds-expended": "B-1=6", "reinspected-clear": "yes"},
        ),
    )
    wrap = start(world, "wrap")
    walk(world, wrap, [
        ("locked-up", ARMORER, (AD,), {"firearms-locked": "COLT-1, GLOCK-2", "missing": "0"}),
        ("counts-reconciled", ARMORER, (AD,), {"counts": "D-1=36, B-1=18"}),
        ("incidents-reviewed", SUPERVISOR, (), {"open-concerns": "0"}),
    ])  # fmt: skip
    return Repository.open(write_store(world, tmp_path / "record.jsonl"), CHECKLISTS)


def _pdf_text(repo: Repository, out: Path) -> str:
    day = find_day(repo.state, None)
    records = day_records(repo.state, repo.journal.records(), day)
    report = build_report(repo.state, records, repo.journal.verify(), day=day, generated_at=NOW)
    render_pdf(report, out)
    return " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())


def test_rounds_per_lot_counts_and_attendance_match_the_fold(tmp_path: Path) -> None:
    repo = _blank_day(tmp_path)
    text = _pdf_text(repo, tmp_path / "day.pdf")
    state = repo.state
    day = state.days[-1]

    # Rounds per lot: the fold's ledger for the day, and the wrap's own count.
    ledger = state.ammo_ledger(day)
    assert ledger["B-1"] == (24, 6, 18)  # the figure the report used to print as 0
    wraps = [r for r in state.runs.values() if r.day == day.number and r.checklist.scope == "wrap"]
    counted = run_lot_counts(wraps[-1])
    for lot, (morning, spent, expected) in ledger.items():
        assert f"{lot} {morning} {spent} {expected} {counted[lot]}" in text
    spent = ", ".join(f"{lot}: {n}" for lot, (_, n, _) in ledger.items())
    assert f"Rounds expended in the day's handoffs, per lot: {spent}." in text
    assert "B-1: 6" in text and "passed returns: 0" not in text

    # Counts as recorded, each shown by its evidence type, in the ammunition checks.
    for run in (r for r in state.runs.values() if r.day == day.number):
        for _, step in run.checklist.steps():
            done = run.signoffs.get(step.id)
            if done is None or not any(s.kind.counts_lots for s in step.evidence):
                continue
            for spec in step.evidence:
                assert f"{spec.key}={spec.kind.show(done.evidence[spec.key])}" in text

    # Attendance and the rest of the meeting: the evidence of the step that read out incidents.
    opening = state.runs[day.opening_run]
    meeting = [s for _, s in opening.checklist.steps() if s.acknowledges]
    assert meeting
    for step in meeting:
        done = opening.signoffs[step.id]
        for spec in step.evidence:
            assert f"{spec.label}: {spec.kind.show(done.evidence[spec.key])}" in text
    assert "People at the meeting: 24" in text
