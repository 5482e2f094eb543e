"""The audit screen's PDF and exports are written by a child process (issue 16: in a thread they
stalled the interface up to 1.4 s at 100,000 events): the same bytes as the in-process export
wrote, the same notices, a clear one when the child fails or is killed, the store's files still
refused as targets, and no child left running once the app has quit."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input
from tuikit import Clock, make_store, new_app, settle

from safetyapp.audit.export import export_text, pick_rows, seq_ranges
from safetyapp.store.journal import StoreError
from safetyapp.tui import background
from safetyapp.tui.screens.audit import AuditScreen
from safetyapp.tui.widgets.event_log import EventLog


def messages(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) is not running.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


async def until_idle(pilot: Any, screen: AuditScreen) -> None:
    """Until the screen's job is over (a failed worker makes `settle` raise: not used here)."""
    for _ in range(1500):
        await pilot.pause(0.02)
        if not screen.busy:
            return
    raise AssertionError("the job did not end")


async def open_audit(pilot: Any) -> AuditScreen:
    await pilot.press("a")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, AuditScreen)
    return screen


@pytest.mark.parametrize("fmt", ["csv", "json"])
async def test_the_child_writes_the_bytes_the_screen_wrote_before(tmp_path: Path, fmt: str) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot)
        rows = list(screen.query_one(EventLog).rows)
        assert app.repo is not None
        before = export_text(rows, fmt, app.repo.state.timezone)  # the in-process export
        await pilot.press("e" if fmt == "csv" else "j")
        await settle(pilot)
        assert any(f"{len(rows)} events exported to" in m for m in messages(app)), messages(app)
    (written,) = (tmp_path / "exports").glob(f"audit-*.{fmt}")
    assert written.read_bytes() == before.encode("utf-8")


async def test_a_filtered_export_holds_only_the_rows_shown(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot)
        screen.query_one("#who", Input).value = "alex"  # one person's events: not one run
        await settle(pilot)
        rows = list(screen.query_one(EventLog).rows)
        assert app.repo is not None and 1 < len(rows) < len(app.repo.journal.records())
        assert len(seq_ranges(rows)) > 1
        before = export_text(rows, "csv", app.repo.state.timezone)
        await pilot.press("e")
        await settle(pilot)
    (written,) = (tmp_path / "exports").glob("audit-*.csv")
    assert written.read_bytes() == before.encode("utf-8")


def test_rows_are_picked_by_seq_and_only_from_the_record_shown() -> None:
    records = [{"seq": n, "hash": f"h{n}"} for n in range(1, 11)]
    shown = [records[1], records[2], records[6]]
    ranges = seq_ranges(shown)
    assert ranges == [[2, 3], [7, 7]]
    assert pick_rows(records, ranges, (7, "h7")) == shown
    assert seq_ranges(records) == [[1, 10]]
    with pytest.raises(StoreError, match="not the one shown"):
        pick_rows(records, ranges, (7, "another"))
    with pytest.raises(StoreError, match="not the one shown"):
        pick_rows(records, [[12, 12]], (12, "h12"))


async def test_the_report_child_refuses_a_store_file(tmp_path: Path) -> None:
    """issue 13 item 6: the child writes through write_output, which refuses the store's files."""
    from safetyapp.audit import child

    clock = Clock()
    store = make_store(tmp_path / "record.jsonl", clock)
    original = store.read_bytes()
    for target in (store, Path(f"{store}.snapshot"), Path(f"{store}.credentials")):
        reply = child.report(
            {"store": str(store), "target": str(target), "now": clock().isoformat()}
        )
        assert "refused" in reply and "belongs to the store" in reply["refused"], reply
        reply = child.export({"store": str(store), "target": str(target), "fmt": "csv",
                              "zone": "UTC", "ranges": [[1, 2]], "last": None})  # fmt: skip
        assert "refused" in reply and "belongs to the store" in reply["refused"], reply
    assert store.read_bytes() == original


async def test_a_child_that_fails_says_so_and_logs_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot)
        screen.action_export("xml")  # the real child, raising on a format it does not know
        await until_idle(pilot, screen)
        said = [m for m in messages(app) if m.startswith("Not done:")]
        assert said, messages(app)
        assert "Exporting" in said[0] and "ValueError: unknown export format 'xml'" in said[0]
        assert not screen.busy
    assert not list((tmp_path / "exports").glob("audit-*"))
    logs = list((tmp_path / "state").rglob("error-*.log"))
    assert logs and "Traceback" in logs[0].read_text()  # the child's traceback, for support


async def test_a_killed_child_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    script = "import os, signal, sys; sys.stdin.readline(); os.kill(os.getpid(), signal.SIGKILL)"
    monkeypatch.setattr(background, "CHILD_COMMAND", [sys.executable, "-c", script])
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audit(pilot)
        await pilot.press("p")
        await until_idle(pilot, screen)
        said = [m for m in messages(app) if m.startswith("Not done:")]
        assert said, messages(app)
        assert "PDF report" in said[0] and "killed (signal SIGKILL)" in said[0]
        assert "nothing was written" in said[0]
        assert not screen.busy


async def test_no_child_is_left_running_after_the_app_quits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = "import sys, time; sys.stdin.readline(); time.sleep(120)"  # a report that never ends
    monkeypatch.setattr(background, "CHILD_COMMAND", [sys.executable, "-c", script])
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_audit(pilot)
        await pilot.press("p")
        for _ in range(200):
            if background.running_children():
                break
            await asyncio.sleep(0.02)
        (pid,) = background.running_children()
        assert alive(pid)
        await pilot.press("ctrl+q")
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not alive(pid)
    assert background.running_children() == []


def test_the_child_stops_when_the_app_goes(tmp_path: Path) -> None:
    """Even if the app is killed outright: the child watches its stdin and stops on EOF."""
    code = (
        "import signal, time\n"
        "from safetyapp.audit import child\n"
        "signal.signal(signal.SIGTERM, child._terminated)\n"
        "child._stop_with_parent()\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
    time.sleep(0.5)
    assert proc.poll() is None
    assert proc.stdin is not None
    proc.stdin.close()  # what the app's exit (or its death) does to the pipe
    assert proc.wait(timeout=10) == 128 + signal.SIGTERM
