"""`run list`: the runs a crew works with now (every open run, then the day's), `--day N` and
`--all`; the CLI in a subprocess on a real generated store of several shooting days, with and
without the checkpoint beside it (whose earlier days' runs are compact rows until read)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# The bench package lives beside the tests, not in the installed package: appended (not put
# first), so `safetyapp` is still the installed one, as CI's non-editable install has it.
sys.path.append(str(Path(__file__).resolve().parents[1]))

from bench import generate as gen
from safetyapp.store.repository import Repository


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of five or so shooting days, the last one open."""
    return gen.store(gen.Spec(700, 150), tmp_path_factory.mktemp("runlist"))


def _list(store: Path, *args: str) -> list[dict[str, Any]]:
    env = {**os.environ, "SAFETYAPP_DB": str(store)}
    done = subprocess.run(
        [sys.executable, "-m", "safetyapp", "run", "list", "--json", *args],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


@pytest.mark.parametrize("checkpoint", [False, True])
def test_run_list_shows_the_day_and_open_runs_and_every_run_on_request(
    days: Path, tmp_path: Path, checkpoint: bool
) -> None:
    store = gen.copy_store(days, tmp_path / "s.jsonl")
    if checkpoint:
        assert Repository.open(store, gen.CHECKLISTS).save_snapshot()
    state = Repository.open(days, gen.CHECKLISTS).state
    assert len(state.days) >= 4
    last = state.days[-1].number
    every = [r.id for r in state.runs.values()]
    open_runs = [r.id for r in state.open_runs()]  # of any day, first
    today = [r.id for r in state.runs.values() if r.day == last and r.id not in open_runs]

    shown = _list(store)
    assert [r["id"] for r in shown] == open_runs + today
    assert len(shown) < len(every)  # earlier days' finished runs are not listed by default

    assert [r["id"] for r in _list(store, "--all")] == every
    first = [r.id for r in state.runs.values() if r.day == 1]
    assert first and [r["id"] for r in _list(store, "--day", "1")] == first
    assert _list(store, "--day", str(last + 5)) == []


def test_run_list_refuses_all_with_a_day(days: Path) -> None:
    env = {**os.environ, "SAFETYAPP_DB": str(days)}
    done = subprocess.run(
        [sys.executable, "-m", "safetyapp", "run", "list", "--all", "--day", "2"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 2 and "--all or --day" in done.stderr
