"""The audit screen prints the day's report (the same writer as `safetyapp report`)."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader
from test_flows import OPENING
from tuikit import Clock, make_store, new_app, settle, walk_step

from safetyapp.tui.app import SafetyApp


async def test_print_the_days_report_from_the_audit_screen(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("p")  # nothing happens on the board: p is the audit screen's
        await pilot.press("o")
        await pilot.pause()
        for key, people, evidence in OPENING:
            await walk_step(pilot, key, people, evidence)
        await pilot.press("escape", "a")
        await pilot.pause()
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app, SafetyApp)
    reports = list((tmp_path / "exports").glob("safety-report-*.pdf"))
    assert len(reports) == 1
    text = "".join(page.extract_text() for page in PdfReader(reports[0]).pages)
    assert "Jordan Lee" in text and "Alex Reyes" in text
    assert app.repo is not None and app.repo.state.head_hash in text.replace("\n", "")
