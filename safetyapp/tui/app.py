"""Placeholder until the TUI lands (issue 3)."""

from __future__ import annotations

from pathlib import Path


def run_tui(path: Path, *, create_dirs: bool) -> None:
    raise SystemExit(f"the TUI is not built yet; use the CLI (store: {path})")
