"""Screens reach the app only through the SafetyContext protocol, never the app module."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App

from safetyapp.tui.app import SafetyApp
from safetyapp.tui.context import SafetyContext, safety_of
from safetyapp.tui.screens.board import BoardScreen


def test_the_app_is_a_safety_context(tmp_path: Path) -> None:
    assert isinstance(SafetyApp(tmp_path / "store.jsonl"), SafetyContext)
    assert not isinstance(App[None](), SafetyContext)


async def test_a_screen_in_another_app_says_so() -> None:
    app = App[None]()
    async with app.run_test():
        screen = BoardScreen()
        with pytest.raises(TypeError, match="App is not a safetyapp app"):
            _ = screen.safety
        with pytest.raises(TypeError, match="App is not a safetyapp app"):
            safety_of(app.screen)
