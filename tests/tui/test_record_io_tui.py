"""Issue 13 in the app: exports never write through a planted link onto the store; receipts are
shown on the HOLD banner (and in its toast), and work with `verify --against`."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tuikit import Clock, make_store, new_app, settle

from safetyapp.domain import engine
from safetyapp.domain.engine import Credential
from safetyapp.tui.widgets.banner import StatusBanner


async def test_an_export_never_writes_through_a_planted_link_onto_the_store(
    tmp_path: Path,
) -> None:
    clock = Clock()
    store = make_store(tmp_path / "record.jsonl", clock)
    before = store.read_bytes()
    exports = tmp_path / "exports"
    exports.mkdir()
    # The export's name is predictable (its time): plant links at the next minute's names.
    now = datetime.now(UTC)
    for s in range(90):
        stamp = (now + timedelta(seconds=s)).strftime("%Y%m%dT%H%M%SZ")
        (exports / f"audit-{stamp}.csv").symlink_to(store)
    app = new_app(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("e")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
    assert store.read_bytes() == before
    assert any("symbolic link" in m for m in messages), messages


async def test_the_hold_banner_receipt_verifies(tmp_path: Path) -> None:
    clock = Clock()
    store = make_store(tmp_path / "record.jsonl", clock)
    app = new_app(store, clock)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert app.repo is not None
        assert app.act(engine.raise_hold, Credential("Riley Chen", "4444"), "Smoke on set").ok
        await pilot.pause()
        banner = str(app.screen.query_one(StatusBanner).render())
        held = re.search(r"receipt ([0-9a-f]{10})", banner)
        assert held, banner
    for code in (held.group(1),):
        out = subprocess.run(
            [sys.executable, "-m", "safetyapp", "--db", str(store), "verify", "--against", code],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert "checkpoint found at event" in out.stdout
