"""The app's quick start: the board (and every decision) from the checkpoint, its check against
the record in a child process, a forged checkpoint raising the alarm, a damaged earlier part
reported, the checkpoint left on exit."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from report_support import three_days, write_store
from snapshot_support import body_of, reseal_unkeyed
from snapshot_support import forge as forge_body
from support import ACTOR2, CHECKLISTS, cred
from textual.widgets import DataTable
from tuikit import Clock, new_app

from safetyapp.domain import engine
from safetyapp.domain.snapshot import to_checkpoint, to_view
from safetyapp.store.repository import Repository
from safetyapp.store.snapshot import comparable, read_snapshot
from safetyapp.tui.screens.audit import AuditScreen
from safetyapp.tui.screens.board import BoardScreen
from safetyapp.tui.screens.welcome import StoreErrorScreen
from safetyapp.tui.widgets.banner import StatusBanner


def saved_store(tmp_path: Path) -> Path:
    store = write_store(three_days(), tmp_path / "record.jsonl")
    assert Repository.open(store, CHECKLISTS).save_snapshot()
    return store


def forge(store: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the checkpoint and seal it again with the store's key (someone who read it)."""
    body = body_of(store)
    change(body)
    forge_body(store, body)


def hide_holds(body: dict[str, Any]) -> None:
    for hold in body["view"]["holds"]:
        hold["resolved_at"], hold["resolution"] = "2026-03-04T09:00:00.000000Z", "forged"


async def checked(app: Any, pilot: Any) -> None:
    """Until the checkpoint's check (started after the first frame, in a child) is taken."""
    for _ in range(200):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        if app.repo is None or not app.repo.loading:
            return


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
        await checked(app, pilot)
        assert not app.repo.loading and not app.repo.snapshot_mismatch
        assert board_rows(app) == first
        assert next(r.id for r in full.state.open_runs()) in first
        assert to_view(app.repo.state) == to_view(full.state)


async def test_audit_reads_the_whole_record_when_opened(tmp_path: Path) -> None:
    store = saved_store(tmp_path)
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.repo is not None and app.repo.journal.partial
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AuditScreen)
        assert len(app.repo.journal.records()) == app.repo.state.last_seq


async def test_a_sign_off_is_decided_at_once_on_the_checkpoint(tmp_path: Path) -> None:
    store = saved_store(tmp_path)
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)):
        assert app.repo is not None and app.repo.loading  # the check still to come
        assert app.act(engine.raise_hold, cred(ACTOR2), "Wind: stop").ok


async def test_a_forged_checkpoint_raises_the_alarm_and_refuses_writes(tmp_path: Path) -> None:
    store = saved_store(tmp_path)
    forge(store, hide_holds)
    data = store.read_bytes()
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)) as pilot:
        await checked(app, pilot)
        assert app.repo is not None and app.repo.alarm is not None
        messages = [n.message for n in app._notifications]
        assert any("does not match the record" in m for m in messages), messages
        banner = str(app.screen.query_one(StatusBanner).render())
        assert banner.startswith("■ ALARM") and app.screen.query_one(StatusBanner).has_class(
            "-hold"
        )
        decision = app.act(engine.raise_hold, cred(ACTOR2), "Wind: stop")
        assert not decision.ok and "ALARM" in (decision.refused or "")
    assert store.read_bytes() == data  # nothing recorded after the alarm
    assert read_snapshot(store) is None  # set aside: the next start folds the record
    assert Repository.open(store, CHECKLISTS).state.open_holds()


async def test_a_checkpoint_sealed_by_no_one_is_ignored(tmp_path: Path) -> None:
    store = saved_store(tmp_path)
    body = body_of(store)
    hide_holds(body)
    reseal_unkeyed(store, body)
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)):
        assert app.repo is not None and not app.repo.loading and app.repo.view.open_holds()


async def test_a_damaged_earlier_part_shows_the_store_error(tmp_path: Path) -> None:
    store = saved_store(tmp_path)
    damaged = store.read_bytes().replace(b'"seq":5,', b'"seq":6,', 1)
    store.write_bytes(damaged)
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)) as pilot:  # the prefix digest differs: full open
        await checked(app, pilot)
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
    assert comparable(saved[1]) == comparable(to_checkpoint(full.state))


@asynccontextmanager
async def checkpoint_due_each_event(tmp_path: Path) -> AsyncIterator[tuple[Any, Any, Path, int]]:
    """An app started from a saved store, its checkpoint check done, a checkpoint due after
    every event: (app, pilot, store, the seq of the checkpoint it started from)."""
    store = saved_store(tmp_path)
    before = read_snapshot(store)
    assert before is not None
    app = new_app(store, Clock())
    app.snapshot_every = 1  # (twice as many are due before a busy moment is taken)
    async with app.run_test(size=(120, 40)) as pilot:
        await checked(app, pilot)
        assert app.repo is not None
        yield app, pilot, store, before[0].seq


async def test_a_long_running_app_refreshes_the_checkpoint_off_the_interface_thread(
    tmp_path: Path,
) -> None:
    """Written while the app still runs, not only on exit; and a decision on the interface's
    thread returns before it is written: the write (100-200 ms at 100,000 events) is a
    worker's."""
    async with checkpoint_due_each_event(tmp_path) as (app, pilot, store, before):
        assert app.act(engine.raise_hold, cred(ACTOR2), "Wind: stop").ok
        assert app.act(engine.raise_hold, cred(ACTOR2), "Wind again").ok  # twice due: now
        now = read_snapshot(store)
        assert now is not None and now[0].seq == before  # not yet: a worker writes it
        await app.workers.wait_for_complete()
        await pilot.pause()
        now = read_snapshot(store)
        assert now is not None and now[0].seq == app.repo.state.last_seq > before


async def test_a_checkpoint_due_is_written_at_the_next_quiet_moment(tmp_path: Path) -> None:
    """Once due (and not yet twice due) the checkpoint waits for a moment nobody is using
    the app, then is written (by a worker)."""
    async with checkpoint_due_each_event(tmp_path) as (app, pilot, store, before):
        assert app.act(engine.raise_hold, cred(ACTOR2), "Wind: stop").ok
        await app.workers.wait_for_complete()
        now = read_snapshot(store)
        assert now is not None and now[0].seq == before  # busy: it waits
        quiet = app.collector.quiet_seconds
        app.collector.quiet_seconds = 0.0  # (the interval's next tick finds the app quiet)
        try:
            for _ in range(30):
                await pilot.pause(0.1)
                await app.workers.wait_for_complete()
                now = read_snapshot(store)
                if now is not None and now[0].seq == app.repo.state.last_seq:
                    break
        finally:
            app.collector.quiet_seconds = quiet
        assert now is not None and now[0].seq == app.repo.state.last_seq


async def test_a_checkpoint_that_cannot_be_written_is_not_tried_again_at_once(
    tmp_path: Path,
) -> None:
    """A checkpoint write that fails (here something else is in its place) is tried again
    only once as many more events are due, not on every decision or quiet second."""
    store = write_store(three_days(), tmp_path / "record.jsonl")
    (tmp_path / "record.jsonl.snapshot").mkdir()  # in the way: never written
    app = new_app(store, Clock())
    app.snapshot_every = 2
    async with app.run_test(size=(120, 40)) as pilot:
        await checked(app, pilot)
        assert app.act(engine.raise_hold, cred(ACTOR2), "Wind: stop").ok  # far behind: due
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert read_snapshot(store) is None  # it failed
        assert app.act(engine.raise_hold, cred(ACTOR2), "Wind again").ok
        assert not app._saving.is_set()  # not tried again one event later
        assert app.act(engine.raise_hold, cred(ACTOR2), "Wind, third").ok
        assert app._saving.is_set()  # two more events: tried again
        await app.workers.wait_for_complete()


async def test_a_decision_waits_for_a_checkpoint_being_written(tmp_path: Path) -> None:
    """While the worker holds the record to write the checkpoint, a decision on the
    interface's thread waits for it; any other holder of the record still makes it a quick
    'busy' refusal (a frozen screen never)."""
    store = saved_store(tmp_path)
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)) as pilot:
        await checked(app, pilot)

        def hold_the_record(saving: bool) -> threading.Thread:
            held = threading.Event()

            def holder() -> None:
                with app.record_lock:
                    held.set()
                    time.sleep(0.3)
                    app._saving.clear()

            if saving:
                app._saving.set()  # as _keep_snapshot_fresh does before its worker runs
            thread = threading.Thread(target=holder)
            thread.start()
            held.wait(5)
            return thread

        thread = hold_the_record(saving=True)
        waited = app.act(engine.raise_hold, cred(ACTOR2), "Wind: stop")
        thread.join()
        assert waited.ok, waited.refused
        thread = hold_the_record(saving=False)
        busy = app.act(engine.raise_hold, cred(ACTOR2), "Wind again")
        thread.join()
        assert not busy.ok and "busy" in str(busy.refused)


async def test_the_banner_says_the_record_is_still_being_checked(tmp_path: Path) -> None:
    store = saved_store(tmp_path)
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.repo is not None and app.repo.loading
        assert "checking the record" in str(app.screen.query_one(StatusBanner).render())
        await checked(app, pilot)
        assert "checking the record" not in str(app.screen.query_one(StatusBanner).render())


def _undrawable(body: dict[str, Any]) -> None:
    body["view"]["holds"][-1]["raised_at"] = 12345  # not a time (types are not checked then)


def _unreadable_row(body: dict[str, Any]) -> None:
    # The board reads back to yesterday's last run at start-up: its row, parsed only then.
    body["view"]["closed_runs"]["runs"][-1][1] = 99  # names no checklist


@pytest.mark.parametrize("damage", [_undrawable, _unreadable_row])
async def test_a_checkpoint_that_cannot_be_drawn_gives_way_to_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Callable[[dict[str, Any]], None]
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    store = saved_store(tmp_path)
    forge(store, damage)  # sealed with the key: restored, then found out when drawn
    app = new_app(store, Clock())
    async with app.run_test(size=(120, 40)) as pilot:
        await checked(app, pilot)
        assert app.repo is not None and isinstance(app.screen, BoardScreen)
        assert app.repo.alarm is not None and not app.repo.stubs  # the record's fold shown
        assert read_snapshot(store) is None  # set aside: the next start folds the record
        messages = [n.message for n in app._notifications]
        assert any("could not be drawn" in m for m in messages), messages
    logs = list((tmp_path / "state").rglob("error-*.log"))
    assert logs and "Traceback" in logs[0].read_text()  # details kept for a bug report
