"""The issue's attack, through the real CLI (issue 13 item 1): a hand-appended, correctly hashed
`signed` event in which the armorer signs the AD's show-safe and witnesses himself. `verify` and
`verify --against` an earlier head both exit non-zero naming the event and the rule, and
`run sign` refuses to write on top of it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rel_support import ACTOR, AD, ARMORER, build_store, cli_env, pins_for, start_opening
from support import CHECKLISTS, OPENING, PINS, handoff_steps

from safetyapp.domain import engine
from safetyapp.domain.engine import Credential
from safetyapp.domain.engine.common import RecordedSigner
from safetyapp.store.journal import Journal
from safetyapp.store.repository import Repository


def _cred(person: tuple[str, list[str], str] | str) -> Credential:
    name = person if isinstance(person, str) else person[0]
    return Credential(name, PINS[name])


def _forged_store(db: Path) -> tuple[str, str, int]:
    """A store walked honestly up to a handoff's show-safe, then the forged sign-off appended
    with a correct hash. Returns (the run, the head before the forgery, the forged seq)."""
    repo = build_store(db)
    opening = start_opening(repo)
    for step, by, wit, evidence in OPENING:
        d = repo.do(engine.sign, opening, step, _cred(by), witnesses=[_cred(w) for w in wit],
                    evidence=evidence)  # fmt: skip
        assert d.ok, d.refused
    started = repo.do(engine.start_run, CHECKLISTS["handoff"], firearm="COLT-1", performer=ACTOR)
    run = str(started.run_id)
    for step, by, wit, evidence in handoff_steps(ACTOR)[:2]:
        d = repo.do(engine.sign, run, step, _cred(by), witnesses=[_cred(w) for w in wit],
                    evidence=evidence)  # fmt: skip
        assert d.ok, d.refused
    head = repo.journal.head_hash
    honest = engine.sign(  # what the app would record (PINs aside), then forged
        repo.state, run, "ad-confirms", RecordedSigner(AD), repo.clock(),
        witnesses=[RecordedSigner(ARMORER)],
        evidence={"chambers-seen": "6", "state-called": "dummies x6"},
    )  # fmt: skip
    assert honest.ok, honest.refused
    forged = dict(honest.events[0])
    forged["by"] = ARMORER
    forged["data"] = {**forged["data"], "witnesses": [{"name": ARMORER, "role": "armorer"}]}
    sealed = Journal.open(db).append([forged])  # correctly hashed, the head file kept in step
    return run, head, int(sealed[0]["seq"])


def _cli(tmp: Path, db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "safetyapp", "--db", str(db), *args],
        input=stdin, capture_output=True, text=True, env=cli_env(tmp), timeout=120,
    )  # fmt: skip


def test_the_issue_attack_fails_verify_and_nothing_is_written_on_top(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    run, head, seq = _forged_store(db)
    before = db.read_bytes()

    out = _cli(tmp_path, db, "verify")
    assert out.returncode == 1, out
    assert f"event {seq} (kind 'signed')" in out.stderr and "wrong-role" in out.stderr, out.stderr

    out = _cli(tmp_path, db, "verify", "--against", head)
    assert out.returncode == 1, out
    assert f"event {seq}" in out.stderr, out.stderr

    out = _cli(tmp_path, db, "verify", "--json")
    assert out.returncode == 1 and '"first_bad_seq": ' + str(seq) in out.stdout, out

    out = _cli(
        tmp_path, db, "run", "sign", run, "announced", "--by", AD,
        "--evidence", "line-of-fire-clear=yes", stdin=pins_for([AD]),
    )  # fmt: skip
    assert out.returncode == 1, out
    assert "is not one the app would have recorded" in out.stderr, out.stderr
    assert db.read_bytes() == before  # nothing written on top


def test_salvage_keeps_the_events_before_the_forgery(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    _, head, seq = _forged_store(db)
    out = _cli(tmp_path, db, "verify", "--salvage", str(tmp_path / "saved.jsonl"))
    assert out.returncode == 0, out
    assert f"copied {seq - 1} intact event(s)" in out.stdout, out.stdout
    saved = Repository.open(tmp_path / "saved.jsonl", CHECKLISTS)
    assert saved.journal.head_hash == head
