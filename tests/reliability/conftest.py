"""Reliability suite: shared fixtures, and the figures each run reached (printed at the end).

The figures are what RELIABILITY.md quotes: run `pytest tests/reliability` and read the
"reliability figures" section of the summary. `SAFETYAPP_KILLS=200` runs the full kill loop.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

FIGURES: Counter[str] = Counter()


@pytest.fixture(scope="session")
def figures() -> Counter[str]:
    return FIGURES


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Logs and the default store go under tmp_path; no SAFETYAPP_* from the caller leaks in."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("SAFETYAPP_DB", raising=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for key in sorted(FIGURES):
        terminalreporter.write_line(f"{key}: {FIGURES[key]}")
