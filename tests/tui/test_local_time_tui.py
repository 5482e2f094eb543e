"""The TUI shows the production's local time with its zone (issue 15, "Local time"): the board's
holds, the banner, the audit log. A Los Angeles production; the frozen clock's 07:00 UTC on
2 March is 23:00 PST on 1 March."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static
from tuikit import Clock, new_app, settle

from safetyapp.checklists import load_bundled
from safetyapp.domain import engine
from safetyapp.domain.auth import hash_pin
from safetyapp.domain.engine import Credential
from safetyapp.store.repository import Repository
from safetyapp.tui.widgets.event_log import EventLog


def la_store(path: Path, clock: Clock) -> Path:
    pin = hash_pin("5555", b"salt-00000000000", n=16)
    repo = Repository.create(path, "Night Shoot", "Pat Okafor", pin, load_bundled(), clock,
                             timezone="America/Los_Angeles")  # fmt: skip
    assert repo.do(engine.raise_hold, Credential("Pat Okafor", "5555"), "Smoke on stage 4").ok
    return path


async def test_board_and_audit_show_the_productions_local_time(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(la_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        holds = app.screen.query_one("#holds", DataTable)
        raised = str(holds.get_row_at(0)[2])
        assert raised.startswith("23:00") and raised.endswith(" PST"), raised
        await pilot.press("a")
        await settle(pilot)
        header = str(app.screen.query_one("#log-header", Static).render())
        assert "time (local)" in header and "UTC" not in header, header
        log = app.screen.query_one(EventLog)
        first = "".join(s.text for s in log.render_line(0))
        assert "2026-03-01 23:00:" in first and " PST " in first, first
        assert "2026-03-02" not in first
