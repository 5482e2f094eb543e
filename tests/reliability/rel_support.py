"""Helpers for the reliability suite: real store files in tmp_path, the real CLI.

Stores are built in-process through the Repository with cheap PIN hashes (the CLI checks them
with the cost stored in each hash, so they work there too). CLI commands run in-process through
click's runner (fast enough to run every command against every bad store) and, where a real
process matters (kills, concurrency, the top-level handler), as subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner
from support import CHECKLISTS, CREW, PINS, cheap_pin, gate, seed

from safetyapp.cli import cli
from safetyapp.domain import engine
from safetyapp.domain.engine import Credential
from safetyapp.store.repository import Clock, Repository, utc_now

ARMORER, AD, ACTOR, ACTOR2, SUPERVISOR = (
    "Alex Reyes", "Jordan Lee", "Casey Morgan", "Riley Chen", "Pat Okafor",
)  # fmt: skip


def build_store(path: Path, clock: Clock = utc_now) -> Repository:
    """A production with the test crew (cheap PINs), two firearms and a dummy lot."""
    founder = next(p for p in CREW if p[0] == SUPERVISOR)
    repo = Repository.create(
        path, "Reliability Test", SUPERVISOR, cheap_pin(founder[2]), CHECKLISTS, clock
    )
    _, arm = seed(repo.do, CREW, created=True)
    assert repo.do(engine.add_firearm, arm, "COLT-1", "Revolver", "blank-firing", 6).ok
    assert repo.do(engine.add_firearm, arm, "GLOCK-2", "Pistol", "blank-firing", 15).ok
    assert repo.do(engine.add_ammo, arm, "D-1", "dummy", 36, "Prop house").ok
    return repo


def armorer_cred() -> Credential:
    return Credential(ARMORER, PINS[ARMORER])


def start_opening(repo: Repository) -> str:
    if not repo.state.gate.complete:
        gate(repo.do, repo.state)
    decision = repo.do(engine.start_run, CHECKLISTS["opening"])
    assert decision.ok, decision.refused
    return str(decision.events[0]["run"])


@dataclass
class Out:
    code: int
    stdout: str
    stderr: str


def run_cli(db: Path, *args: str, stdin: str = "") -> Out:
    """One CLI command in-process. Fails the test if an exception escaped click (a traceback)."""
    result = CliRunner().invoke(cli, ["--db", str(db), *args], input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(
            f"{args}: unexpected {type(result.exception).__name__}: {result.exception}"
        ) from result.exception
    assert "Traceback" not in result.stderr, result.stderr
    return Out(result.exit_code, result.stdout, result.stderr)


def pins_for(names: Sequence[str]) -> str:
    return "".join(PINS[n] + "\n" for n in names)


def cli_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFETYAPP")}
    env["XDG_STATE_HOME"] = str(tmp / "state")
    env["XDG_DATA_HOME"] = str(tmp / "data")
    here = str(Path(__file__).parent)
    env["PYTHONPATH"] = os.pathsep.join([here, env.get("PYTHONPATH", "")])
    return env


def cli_process(
    db: Path, *args: str, env: dict[str, str], stdin: str = ""
) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "safetyapp", "--db", str(db), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdin is not None
    proc.stdin.write(stdin)
    proc.stdin.close()
    proc.stdin = None  # so communicate() only reads
    return proc


class FrozenClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now
