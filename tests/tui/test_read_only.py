"""The read-only view (`serve --read-only`, issue 12 item 5): the board and the audit, no key
that writes, and the store refuses a write even if one were attempted."""

from __future__ import annotations

from pathlib import Path

from tuikit import Clock, make_store

from safetyapp.domain import engine
from safetyapp.store.journal import StoreError
from safetyapp.tui.app import SafetyApp
from safetyapp.tui.screens.audit import AuditScreen
from safetyapp.tui.screens.board import BoardScreen


async def test_read_only_shows_the_board_and_the_audit_and_writes_nothing(tmp_path: Path) -> None:
    clock = Clock()
    store = make_store(tmp_path / "record.jsonl", clock)
    before = store.read_bytes()
    app = SafetyApp(store, clock=clock, poll_seconds=3600, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, BoardScreen)
        active = app.screen.active_bindings.items()
        keys = {k for k, b in active if b.enabled and b.binding.show}
        assert "a" in keys  # the audit
        assert not keys & {"o", "n", "w", "r", "c", "i", "k", "l", "h"}, keys
        for key in ("o", "n", "w", "c", "i", "l", "h", "exclamation_mark", "enter"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, BoardScreen), (key, app.screen)
        refused = app.act(engine.create_production, "Hijack")
        assert not refused.ok and "read-only" in (refused.refused or "")
        assert app.repo is not None and app.repo.read_only
        try:  # past the app, at the store: refused too
            app.repo.do(engine.create_production, "Hijack")
            raise AssertionError("a read-only repository wrote")
        except StoreError as exc:
            assert "read-only" in str(exc)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AuditScreen)
    assert store.read_bytes() == before
    assert not Path(f"{store}.snapshot").exists()


async def test_the_crew_screen_refuses_a_look_alike_name(tmp_path: Path) -> None:
    from textual.widgets import Button, Input, SelectionList, Static

    from safetyapp.tui.screens.crew import CrewScreen

    clock = Clock()
    store = make_store(tmp_path / "record.jsonl", clock)
    before = store.read_bytes()
    app = SafetyApp(store, clock=clock, poll_seconds=3600)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CrewScreen)
        screen.query_one("#name", Input).value = "Jordan L\u0435e"  # Cyrillic е
        screen.query_one("#roles", SelectionList).select("supervisor")
        screen.query_one("#pin", Input).value = "7777"
        screen.query_one("#pin2", Input).value = "7777"
        screen.query_one("#add", Button).press()
        await pilot.pause()
        said = str(screen.query_one("#crew-error", Static).render())
        assert "can be confused with 'Jordan Lee'" in said, said
        assert "U+0435 CYRILLIC SMALL LETTER IE" in said
    assert store.read_bytes() == before
