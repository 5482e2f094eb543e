"""2. Concurrent writers: four processes through the Repository, and CLI processes at once."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from rel_support import AD, ARMORER, build_store, cli_env, cli_process, pins_for, start_opening
from support import CHECKLISTS, PINS

from safetyapp.domain import engine
from safetyapp.domain.engine import Credential
from safetyapp.store.journal import Journal
from safetyapp.store.repository import Repository

WRITERS, EACH = 4, 250


def _writer(path: Path, w: int, go: int) -> None:
    """Forked child: wait for the start signal, then 250 actions through the Repository.
    Every 10th is a PIN-checked hold, whose id (H0001, ...) is computed from the state, so a
    writer deciding on a stale state would duplicate an id."""
    os.read(go, 1)
    repo = Repository.open(path, CHECKLISTS)
    repo.journal._lock_timeout = 120
    for i in range(EACH):
        if i % 10 == 0:
            cred = Credential(ARMORER, PINS[ARMORER])
            decision = repo.do(engine.raise_hold, cred, f"w{w}-{i}")
        else:
            decision = repo.do(
                engine.add_firearm,
                Credential(ARMORER, PINS[ARMORER]),
                f"w{w}-{i}",
                f"writer {w}",
                "rubber",
                None,
            )
        if not decision.ok:
            raise RuntimeError(f"writer {w} action {i} refused: {decision.refused}")


def test_four_processes_250_actions_each(tmp_path: Path, figures: Counter[str]) -> None:
    path = tmp_path / "record.jsonl"
    before = build_store(path).journal.last_seq
    go_r, go_w = os.pipe()
    pids = []
    for w in range(WRITERS):
        err_r, err_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(err_r)
            code = 0
            try:
                _writer(path, w, go_r)
            except BaseException as exc:
                os.write(err_w, f"{type(exc).__name__}: {exc}".encode())
                code = 3
            finally:
                os._exit(code)
        os.close(err_w)
        pids.append((pid, err_r))
    os.write(go_w, b"g" * WRITERS)  # all four start together
    for pid, err_r in pids:
        _, status = os.waitpid(pid, 0)
        err = os.read(err_r, 4096).decode()
        os.close(err_r)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, err

    journal = Journal.open(path)
    assert journal.warnings == []
    result = journal.verify()
    assert result.ok, result.problem
    new = journal.records()[before:]
    assert len(new) == WRITERS * EACH
    tags = Counter(
        (r["data"].get("serial") if r["kind"] == "firearm-added" else r["note"]) for r in new
    )
    assert set(tags) == {f"w{w}-{i}" for w in range(WRITERS) for i in range(EACH)}
    assert max(tags.values()) == 1, "an action was recorded twice"
    holds = [r["data"]["hold"] for r in new if r["kind"] == "hold-raised"]
    assert holds == [f"H{n:04d}" for n in range(1, len(holds) + 1)], "hold ids duplicated"
    # Each writer's own actions stay in its order.
    for w in range(WRITERS):
        mine = [int(t.split("-")[1]) for t in tags if t.startswith(f"w{w}-")]
        order = [
            int(str(r["data"].get("serial") or r["note"]).split("-")[1])
            for r in new
            if str(r["data"].get("serial") or r["note"]).startswith(f"w{w}-")
        ]
        assert order == sorted(mine)
    figures["concurrency: events written by 4 processes at once"] += len(new)


def test_cli_processes_at_once_succeed_or_are_refused_clearly(
    tmp_path: Path, figures: Counter[str]
) -> None:
    """Several `safetyapp` processes on one store at once: two race to sign the same step (one
    wins, one is refused with the reason), others add inventory and raise holds on a run."""
    path = tmp_path / "record.jsonl"
    repo = build_store(path)
    run = start_opening(repo)
    before = repo.journal.last_seq
    env = cli_env(tmp_path)
    sign = [
        "run", "sign", run, "meeting-held", "--by", AD, "--by", ARMORER,
        "--evidence", "attendees=12", "--evidence", "concerns-read=yes",
    ]  # fmt: skip
    procs = {
        "sign-1": cli_process(path, *sign, env=env, stdin=pins_for([AD, ARMORER])),
        "sign-2": cli_process(path, *sign, env=env, stdin=pins_for([AD, ARMORER])),
    }
    for i in range(3):
        procs[f"firearm-{i}"] = cli_process(
            path,
            "firearm",
            "add",
            f"C-{i}",
            "--description",
            "d",
            "--kind",
            "rubber",
            "--by",
            ARMORER,
            env=env,
            stdin=pins_for([ARMORER]),
        )
        procs[f"ammo-{i}"] = cli_process(
            path,
            "ammo",
            "add",
            f"L-{i}",
            "--type",
            "dummy",
            "--count",
            "6",
            "--source",
            "Prop house",
            "--by",
            ARMORER,
            env=env,
            stdin=pins_for([ARMORER]),
        )
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        assert "Traceback" not in stderr, stderr
        out[name] = (proc.returncode, stdout, stderr)
    for name, (code, _, stderr) in out.items():
        if not name.startswith("sign"):
            assert code == 0, (name, stderr)
    codes = sorted(out[n][0] for n in ("sign-1", "sign-2"))
    assert codes == [0, 1], out
    loser = next(out[n] for n in ("sign-1", "sign-2") if out[n][0] == 1)
    assert loser[2].strip() == (
        f"safetyapp: refused: step 'meeting-held' is already signed in run {run}"
    ), loser

    journal = Journal.open(path)
    assert journal.verify().ok
    new = journal.records()[before:]
    kinds = Counter(r["kind"] for r in new)
    assert kinds == {"firearm-added": 3, "ammo-added": 3, "signed": 1, "refused": 1}
    status = Repository.open(path, CHECKLISTS).state.runs[run]
    assert list(status.signoffs) == ["meeting-held"]
    audit = json.loads(cli_process(path, "audit", "--json", env=env).communicate(timeout=60)[0])
    assert len(audit) == journal.last_seq
    figures["concurrency: CLI processes run at once on one store"] += len(procs)
