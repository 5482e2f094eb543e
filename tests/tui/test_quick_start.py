"""The app's quick start: the board from the snapshot, the rest of the record in a thread, a
forged snapshot found out, a damaged earlier part reported, the snapshot left on exit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_support import three_days, write_store
from support import ACTOR2, CHECKLISTS, cred
from textual.widgets import DataTable
from tuikit import Clock, new_app

from safetyapp.domain import engine
from safetyapp.domain.snapshot import to_view
from safetyapp.store.repository import Repository
from safetyapp.store.snapshot import read_snapshot, snapshot_path
from safetyapp.tui.screens.audit import AuditScreen
from safetyapp.tui.screens.board import BoardScreen
from safetyapp.tui.screens.welcome import StoreErrorScreen
from safetyapp.tui.widgets.banner import StatusBanner


def saved_store(tmp_path: Path) -> Path:
    store = write_store(three_days(), tmp_path / "record.jsonl")
    assert Repository.open(store, CHECKLISTS).save_snapshot()
    return store


def board_rows(app: object) -> list[str]:
    table = app.screen.query_one("#runs", DataTable)  # type: ignore[attr-defined]
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_board_from_the_snapshot_then_the_whole_record(tmp_path: Path) -> None:
    store = saved_store(tmp_path)
    full = Repository.open(store, CHECKLISTS)
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.repo is not None and isinstance(app.screen, BoardScreen)
        first = board_rows(app)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.repo.loading and not app.repo.snapshot_mismatch
        assert board_rows(app) == first
        assert next(r.id for r in full.state.open_runs()) in first
        assert to_view(app.repo.state) == to_view(full.state)


async def test_audit_waits_for_the_whole_record(tmp_path: Path) -> None:
    store = saved_store(tmp_path)
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.repo is not None
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AuditScreen)
        assert not app.repo.loading
        assert len(app.repo.journal.records()) == app.repo.state.last_seq


async def test_a_forged_snapshot_is_reported_and_replaced(tmp_path: Path) -> None:
    store = saved_store(tmp_path)
    path = snapshot_path(store)
    body = json.loads(path.read_bytes())
    for hold in body["view"]["holds"]:
        hold["resolved_at"], hold["resolution"] = "2026-03-04T09:00:00.000000Z", "forged"
    path.write_text(json.dumps(body))
    data = store.read_bytes()
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.repo is not None and app.repo.view.open_holds()
        messages = [n.message for n in app._notifications]
        assert any("did not match the record" in m for m in messages), messages
    assert store.read_bytes() == data
    saved = read_snapshot(store)
    assert saved is not None and saved[1] == to_view(Repository.open(store, CHECKLISTS).state)


async def test_a_damaged_earlier_part_shows_the_store_error(tmp_path: Path) -> None:
    store = saved_store(tmp_path)
    damaged = store.read_bytes().replace(b'"seq":5,', b'"seq":6,', 1)
    store.write_bytes(damaged)
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, StoreErrorScreen)
        assert "line 5" in app.screen.message
        await pilot.press("a")  # nothing else opens over it
        await pilot.pause()
        assert isinstance(app.screen, StoreErrorScreen)
    assert store.read_bytes() == damaged


async def test_the_snapshot_is_written_on_exit(tmp_path: Path) -> None:
    store = write_store(three_days(), tmp_path / "record.jsonl")
    assert read_snapshot(store) is None
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)):
        assert app.repo is not None and not app.repo.loading  # no snapshot: a full open
    saved = read_snapshot(store)
    full = Repository.open(store, CHECKLISTS)
    assert saved is not None and saved[0] == full.journal.mark()
    assert saved[1] == to_view(full.state)


async def test_a_long_running_app_refreshes_the_snapshot_as_the_record_grows(
    tmp_path: Path,
) -> None:
    store = saved_store(tmp_path)
    before = read_snapshot(store)
    assert before is not None
    app = new_app(store, Clock())
    app.snapshot_every = 2
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.repo is not None
        app.act(engine.raise_hold, cred(ACTOR2), "Wind: stop")
        app.act(engine.raise_hold, cred(ACTOR2), "Wind again")
        await pilot.pause()
        now = read_snapshot(store)  # written while the app still runs, not only on exit
        assert now is not None and now[0].seq > before[0].seq
        assert now[0].seq == app.repo.state.last_seq


async def test_the_banner_says_the_record_is_still_being_read(tmp_path: Path) -> None:
    store = saved_store(tmp_path)
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.repo is not None and app.repo.loading
        assert "reading the whole record" in str(app.screen.query_one(StatusBanner).render())
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "reading the whole record" not in str(app.screen.query_one(StatusBanner).render())


async def test_a_snapshot_that_cannot_be_drawn_gives_way_to_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    store = saved_store(tmp_path)
    path = snapshot_path(store)
    body = json.loads(path.read_bytes())
    body["view"]["holds"][-1]["raised_at"] = 12345  # not a time: the board cannot draw it
    path.write_text(json.dumps(body))
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.repo is not None and not app.repo.loading  # the full fold took over
        assert isinstance(app.screen, BoardScreen)
        messages = [n.message for n in app._notifications]
        assert any("did not match the record" in m for m in messages), messages
        assert any("could not be drawn" in m for m in messages), messages
    logs = list((tmp_path / "state").rglob("error-*.log"))
    assert logs and "TypeError" in logs[0].read_text()  # details kept for a bug report
