"""8. No traceback to users: an unexpected error is one line plus a log path; an event this
version cannot fold is a clear error naming the file and the event, not a KeyError."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rel_support import build_store, cli_env, run_cli, start_opening

from safetyapp.store.journal import Journal

HERE = Path(__file__).parent


def test_unexpected_error_is_one_line_and_a_log(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    run = start_opening(build_store(db))
    env = cli_env(tmp_path) | {"SAFETYAPP_FAULT": "crash:RuntimeError"}
    proc = subprocess.run(
        [sys.executable, str(HERE / "faultwrap.py"), "--db", str(db), "run", "status", run],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    match = re.fullmatch(
        r"safetyapp: unexpected error: RuntimeError: injected failure second line of the "
        r"message \(details: (.+\.log)\)",
        lines[0],
    )
    assert match, lines[0]
    log = Path(match.group(1))
    assert log.is_relative_to(tmp_path / "state")
    detail = log.read_text()
    assert "Traceback" in detail and "RuntimeError: injected failure" in detail


def _odd_store(db: Path, payload: dict[str, Any]) -> int:
    """A store whose chain is intact but holds one event the fold cannot apply."""
    build_store(db)
    j = Journal.open(db)
    (rec,) = j.append([payload])
    assert j.verify().ok
    return int(rec["seq"])


ODD = {
    "signed-for-unknown-run": {
        "kind": "signed", "time": "2026-03-02T07:00:00.000000Z", "by": "Jordan Lee",
        "role": "ad", "run": "R0099", "step": "meeting-held", "result": "pass", "note": "",
        "data": {},
    },
    "pin-set-for-unknown-person": {
        "kind": "crew-pin-set", "time": "2026-03-02T07:00:00.000000Z", "data": {"name": "Nobody"},
    },
    "run-with-unreadable-checklist": {
        "kind": "run-started", "time": "2026-03-02T07:00:00.000000Z", "run": "R0001",
        "data": {"checklist": {"id": "?"}},
    },
    "data-of-the-wrong-type": {"kind": "firearm-added", "data": ["not", "an", "object"]},
}  # fmt: skip


@pytest.mark.parametrize("case", list(ODD))
def test_event_the_fold_cannot_apply_is_a_clear_error(
    tmp_path: Path, case: str, figures: Counter[str]
) -> None:
    db = tmp_path / "record.jsonl"
    seq = _odd_store(db, ODD[case])
    before = db.read_bytes()
    for args in (["crew", "list"], ["audit"], ["run", "list"], ["hold", "list"],
                 ["firearm", "add", "X", "--description", "d", "--kind", "rubber",
                  "--by", "Alex Reyes"]):  # fmt: skip
        out = run_cli(db, *args)
        assert out.code == 1, (args, out)
        line = out.stderr.strip()
        assert "\n" not in line
        # Either the fold cannot apply it, or (checked first) a field is malformed: both name
        # the file and the event's line.
        unreadable = f"store {db} holds an event this version cannot read: seq {seq}"
        malformed = f"store {db}, line {seq} (event {seq}, kind "
        # Or (checked as it is folded) the engine would never have recorded it: replay.
        replayed = f"store {db}, event {seq} (kind " in line and "would have recorded" in line
        assert unreadable in line or (malformed in line and "field '" in line) or replayed, line
        figures["traceback: odd events refused clearly (commands)"] += 1
    assert db.read_bytes() == before
    # The chain itself is intact, but verify replays every event too and names this one.
    out = run_cli(db, "verify")
    assert out.code == 1 and f"event {seq}" in out.stderr, out
