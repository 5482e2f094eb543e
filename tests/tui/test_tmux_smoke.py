"""Smoke test in a real terminal: `safetyapp demo` inside tmux draws the board and quits cleanly."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
if TMUX is None and not os.environ.get("CI"):
    pytest.skip("tmux is not installed here (CI installs it)", allow_module_level=True)


def tmux(*args: str) -> str:
    assert TMUX is not None, "tmux is required in CI (.ci/run installs it)"
    return subprocess.run([TMUX, *args], capture_output=True, text=True, check=False).stdout


def wait_for(predicate: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def test_demo_in_tmux_draws_the_board_and_quits(tmp_path: Path) -> None:
    session = f"safetyapp-smoke-{uuid.uuid4().hex[:8]}"
    rc_file = tmp_path / "rc"
    store = tmp_path / "demo.jsonl"
    app = shlex.join([sys.executable, "-m", "safetyapp", "--db", str(store), "demo"])
    env = f"XDG_STATE_HOME={shlex.quote(str(tmp_path))} TERM=xterm-256color"
    # Textual draws on stderr, so it stays on the terminal; the exit code goes to a file.
    command = f"env {env} {app}; echo $? > {rc_file}"
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)
    try:
        screen = ""

        def board_drawn() -> bool:
            nonlocal screen
            screen = tmux("capture-pane", "-p", "-t", session)
            return "Runs (Enter to walk)" in screen and "Dusk Rider (demo)" in screen

        assert wait_for(board_drawn, 30), f"board not drawn; screen was:\n{screen}"
        assert "COLT-SAA-0142" in screen and "day NOT OPENED" in screen
        assert "Demo practice PINs: Alex Reyes (armorer) 1111" in screen
        tmux("send-keys", "-t", session, "q")
        assert wait_for(rc_file.exists, 15), "the app did not quit on q"
        assert rc_file.read_text().strip() == "0"
        assert not list(tmp_path.rglob("error-*.log")), "the app logged an unexpected error"
    finally:
        tmux("kill-session", "-t", session)
