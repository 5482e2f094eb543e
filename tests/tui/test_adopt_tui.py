"""The app's run-start path with a checklist version that is not adopted (issue 13, item 2):
refused on the board, loudly, saying how to adopt it; no run is started."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tuikit import Clock, make_store, new_app

from safetyapp.checklists import bundled_dir
from safetyapp.tui.screens.board import BoardScreen


async def test_opening_an_edited_unadopted_checklist_is_refused_on_the_board(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    store = make_store(tmp_path / "record.jsonl", clock)  # the bundled versions adopted
    folder = tmp_path / "installed"
    shutil.copytree(bundled_dir(), folder)
    opening = folder / "opening.yaml"
    opening.write_text(
        opening.read_text(encoding="utf-8").replace("title: ", "title: Edited ", 1),
        encoding="utf-8",
    )
    monkeypatch.setenv("SAFETYAPP_CHECKLISTS", str(folder))
    app = new_app(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)  # no walk screen: nothing started
        toasts = [(n.title, n.message) for n in app._notifications]
        refused = [m for t, m in toasts if t == "Refused"]
        assert refused and "is not adopted into this record" in refused[-1]
        assert "safetyapp checklists adopt FILE --by SUPERVISOR --by ARMORER" in refused[-1]
        assert app.repo is not None and list(app.repo.state.runs) == ["G0001"]  # the gate only
        last = app.repo.journal.records()[-1]
        assert last["kind"] == "refused" and last["data"]["code"] == "not-adopted"


async def test_installed_checklists_that_cannot_be_read_stop_only_a_run_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The board opens (the installed files are read after its first frame, in a worker), the
    # problem is said at once, and only starting a run is refused, saying what to do.
    clock = Clock()
    store = make_store(tmp_path / "record.jsonl", clock)
    folder = tmp_path / "installed"
    shutil.copytree(bundled_dir(), folder)
    (folder / "wrap.yaml").write_text("id: wrap\ntitle: W\nversion: 1\nscope: wrap\nlayers: []\n")
    monkeypatch.setenv("SAFETYAPP_CHECKLISTS", str(folder))
    before = store.read_bytes()
    app = new_app(store, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        toasts = [(n.title, n.message) for n in app._notifications]
        said = [m for t, m in toasts if t == "Checklists"]
        assert said and "an installed checklist cannot be used" in said[0]
        assert f"{folder / 'wrap.yaml'}: line 5, layers:" in said[0]
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)  # nothing started
        refused = [n.message for n in app._notifications if n.title == "Refused"]
        assert refused and "SAFETYAPP_CHECKLISTS" in refused[-1]
    assert store.read_bytes() == before
