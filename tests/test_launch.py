"""The command's entry point: the store it names is read ahead (its checkpoint's prefix hashed
in a thread) before the CLI's imports, then the CLI runs as ever."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from report_support import three_days, write_store
from support import CHECKLISTS

from safetyapp import launch
from safetyapp.store import prefix
from safetyapp.store.repository import Repository
from safetyapp.store.snapshot import read_saved


def test_the_store_named_is_the_one_the_cli_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFETYAPP_DB", str(tmp_path / "env.jsonl"))
    assert launch.store_named(["--db", "a.jsonl", "run", "list"]) == Path("a.jsonl")
    assert launch.store_named(["--db=b.jsonl", "verify"]) == Path("b.jsonl")
    assert launch.store_named(["--read-only", "--db", "c.jsonl"]) == Path("c.jsonl")
    assert launch.store_named(["run", "list"]) == tmp_path / "env.jsonl"
    assert launch.store_named([]) == tmp_path / "env.jsonl"  # the app itself
    # Help, the version, an option the CLI will refuse, a --db with nothing after it: none.
    for argv in (["--help"], ["run", "--help"], ["-h"], ["--version"], ["--colour"], ["--db"]):
        assert launch.store_named(argv) is None, argv


def test_the_command_starts_hashing_its_store_before_the_cli_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = write_store(three_days(), tmp_path / "record.jsonl")
    assert Repository.open(store, CHECKLISTS).save_snapshot()
    saved = read_saved(store)
    assert saved is not None
    key = (os.path.abspath(store), saved.mark.offset)
    assert key not in prefix._early
    # `locate` never opens the store: the head start is left there to be seen.
    monkeypatch.setattr(sys, "argv", ["safetyapp", "--db", str(store), "locate"])
    with pytest.raises(SystemExit) as done:
        launch.main()
    assert done.value.code in (0, None)
    assert str(store) in capsys.readouterr().out
    assert key in prefix._early
    # The open that comes for these bytes takes it, and it is the checkpoint's digest.
    assert prefix.prefix_digest(store, saved.mark.offset) == saved.prefix_blake3
    assert key not in prefix._early
