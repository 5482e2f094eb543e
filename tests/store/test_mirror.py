"""`safetyapp mirror --to DIR` and `verify --against-mirror DIR`: the CLI in subprocesses, real
store and mirror files in tmp_path. A fork or a cut on either side is reported (exit 1) and
nothing is written; an absent medium never blocks a decision."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from safetyapp.checklists import load_bundled
from safetyapp.domain import engine
from safetyapp.domain.auth import hash_pin
from safetyapp.store.chain import seal_line
from safetyapp.store.credentials import read_credentials
from safetyapp.store.mirror import config_path, mirror_head_path, mirror_path, protected_files
from safetyapp.store.repository import Repository

T0 = datetime.fromisoformat("2026-03-02T07:00:00+00:00")
ARMORER, PIN = "Alex Reyes", "1111"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=7)
        return self.now


def make_store(path: Path, lots: int = 3) -> Path:
    """A production with one armorer (cheap PIN hash) and ``lots`` ammunition lots."""
    pin = hash_pin(PIN, b"salt-0000000000", n=16)
    repo = Repository.create(path, "Dusk Rider", "Pat Okafor", pin, load_bundled(), Clock())
    boss = engine.Credential("Pat Okafor", PIN)
    assert repo.do(engine.add_crew, boss, ARMORER, ["armorer"], pin).ok
    arm = engine.Credential(ARMORER, PIN)
    for i in range(lots):
        assert repo.do(engine.add_ammo, arm, f"D-{i}", "dummy", 10, "Prop house").ok
    return path


def append_direct(path: Path, lots: int) -> None:
    """Append engine events straight to the journal (no automatic mirroring)."""
    repo = Repository.open(path, load_bundled())
    repo.state.credentials = read_credentials(path)  # what Repository.execute does
    clock = Clock()
    clock.now = T0 + timedelta(hours=1)
    for i in range(lots):
        decision = engine.add_ammo(
            repo.state,
            engine.Credential(ARMORER, PIN),
            f"X-{i}",
            "dummy",
            5,
            "Prop house",
            now=clock(),
        )
        assert decision.ok
        repo.journal.append(decision.events)
        repo.refresh()


def events(path: Path) -> int:
    return path.read_bytes().count(b"\n")


class Cli:
    def __init__(self, tmp: Path, store: Path) -> None:
        self.db = store
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SAFETYAPP")}
        self.env["XDG_STATE_HOME"] = str(tmp / "state")
        self.env["XDG_DATA_HOME"] = str(tmp / "data")

    def __call__(
        self, *args: str, code: int = 0, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "safetyapp", "--db", str(self.db), *args],
            capture_output=True,
            text=True,
            env=self.env,
            input=stdin,
            timeout=60,
        )
        assert proc.returncode == code, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr and "unexpected error" not in proc.stderr
        return proc


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Cli, Path, Path]:
    (tmp_path / "laptop").mkdir()
    usb = tmp_path / "usb"
    usb.mkdir()
    store = make_store(tmp_path / "laptop" / "record.jsonl")
    return Cli(tmp_path, store), store, usb


def files(*paths: Path) -> dict[Path, bytes | None]:
    """What is in each file (None: absent), to show that nothing was written."""
    return {p: p.read_bytes() if p.exists() else None for p in paths}


def test_created_extended_idempotent(setup: tuple[Cli, Path, Path]) -> None:
    cli, store, usb = setup
    mirror = mirror_path(store, usb)
    out = cli("mirror", "--to", str(usb)).stdout
    assert "mirror created" in out and "11 events" in out
    assert mirror == usb / "record.jsonl" and mirror.read_bytes() == store.read_bytes()
    head = json.loads(mirror_head_path(store, usb).read_text())
    assert head["events"] == 11 and head["bytes"] == store.stat().st_size
    assert json.loads(config_path(store).read_text())["to"] == str(usb)

    append_direct(store, 3)
    out = cli("mirror", "--to", str(usb)).stdout
    assert "14 events (3 new)" in out
    assert mirror.read_bytes() == store.read_bytes()

    before = files(mirror, mirror_head_path(store, usb))
    out = cli("mirror", "--to", str(usb)).stdout
    assert "mirror up to date" in out and "all 14 events" in out
    assert files(mirror, mirror_head_path(store, usb)) == before


def test_verify_against_mirror_both_ways(setup: tuple[Cli, Path, Path]) -> None:
    cli, store, usb = setup
    cli("mirror", "--to", str(usb))
    append_direct(store, 2)  # the store extends the mirror: 11 covered, 2 not yet mirrored
    out = cli("verify", "--against-mirror", str(usb)).stdout
    assert "mirror OK" in out and "11 events covered" in out and "2 not yet mirrored" in out
    report = json.loads(cli("verify", "--against-mirror", str(usb), "--json").stdout)
    assert report["ok"] is True and report["mirror_events"] == 11

    mirror = mirror_path(store, usb)
    data = bytearray(mirror.read_bytes())
    third = data.index(b"\n", data.index(b"\n") + 1) + 1  # event 3 starts here
    data[third + 20] ^= 0x01
    mirror.write_bytes(bytes(data))
    err = cli("verify", "--against-mirror", str(usb), code=1).stderr
    assert "does NOT extend its mirror" in err and "differ from event 3" in err
    report = json.loads(cli("verify", "--against-mirror", str(usb), "--json", code=1).stdout)
    assert report["ok"] is False and "event 3" in report["mirror_problem"]


def test_fork_in_the_mirror_is_reported_nothing_written(setup: tuple[Cli, Path, Path]) -> None:
    cli, store, usb = setup
    cli("mirror", "--to", str(usb))
    append_direct(store, 2)
    mirror = mirror_path(store, usb)
    data = bytearray(mirror.read_bytes())
    data[len(data) // 2] ^= 0x01  # one byte edited on the USB stick
    mirror.write_bytes(bytes(data))
    watched = (store, mirror, mirror_head_path(store, usb), config_path(store))
    before = files(*watched)
    err = cli("mirror", "--to", str(usb), code=1).stderr
    assert "FORK" in err and "nothing was written" in err
    assert files(*watched) == before


def _rewrite_tail(store: Path, keep: int) -> None:
    """Replace the store's events after the first ``keep`` by the next one with another count,
    correctly sealed and chained (a rewritten tail that still verifies on its own)."""
    lines = store.read_bytes().split(b"\n")
    prev, original = json.loads(lines[keep - 1]), json.loads(lines[keep])
    payload = {k: v for k, v in original.items() if k not in ("seq", "prev_hash", "hash")}
    payload["data"] = {**payload["data"], "count": 99}
    _, line = seal_line(payload, prev["seq"] + 1, prev["hash"])
    store.write_bytes(b"\n".join(lines[:keep]) + b"\n" + line.encode() + b"\n")


def test_fork_in_the_store_is_reported_nothing_written(setup: tuple[Cli, Path, Path]) -> None:
    cli, store, usb = setup
    cli("mirror", "--to", str(usb))
    _rewrite_tail(store, 4)  # event 5 replaced after it was mirrored
    # ...by someone who also removed the head file (which alone would catch it): the mirror does
    Path(f"{store}.head").unlink()
    mirror = mirror_path(store, usb)
    watched = (store, mirror, mirror_head_path(store, usb), config_path(store))
    before = files(*watched)
    err = cli("mirror", "--to", str(usb), code=1).stderr
    assert "FORK" in err and "event 5" in err
    assert files(*watched) == before
    err = cli("verify", "--against-mirror", str(usb), code=1).stderr
    assert "event 5" in err


@pytest.mark.parametrize("where", ["whole-lines", "mid-line"])
def test_cut_store_is_reported_nothing_written(setup: tuple[Cli, Path, Path], where: str) -> None:
    cli, store, usb = setup
    cli("mirror", "--to", str(usb))
    data = store.read_bytes()
    cut = data.rfind(b"\n", 0, len(data) - 1) + 1 if where == "whole-lines" else len(data) // 2
    store.write_bytes(data[:cut])
    mirror = mirror_path(store, usb)
    watched = (store, mirror, mirror_head_path(store, usb), config_path(store))
    before = files(*watched)
    err = cli("mirror", "--to", str(usb), code=1).stderr
    assert "CUT" in err and "store" in err and "shorter than its mirror" in err
    assert files(*watched) == before
    err = cli("verify", "--against-mirror", str(usb), code=1).stderr
    assert "cut" in err.lower()


def test_cut_mirror_is_reported_nothing_written(setup: tuple[Cli, Path, Path]) -> None:
    cli, store, usb = setup
    cli("mirror", "--to", str(usb))
    append_direct(store, 2)
    mirror, head = mirror_path(store, usb), mirror_head_path(store, usb)
    data = mirror.read_bytes()
    mirror.write_bytes(data[: data.rfind(b"\n", 0, len(data) - 1) + 1])  # last line gone
    watched = (store, mirror, head, config_path(store))
    before = files(*watched)
    err = cli("mirror", "--to", str(usb), code=1).stderr
    assert "CUT" in err and "had acknowledged" in err and "nothing was written" in err
    assert files(*watched) == before
    cli("verify", "--against-mirror", str(usb), code=1)

    # Cut together with its head file: what the store's side recorded still catches it.
    head.unlink()
    err = cli("mirror", "--to", str(usb), code=1).stderr
    assert "CUT" in err and str(config_path(store)) in err
    assert mirror.read_bytes() == before[mirror] and not head.exists()


def test_removed_mirror_file_with_its_head_left_is_a_cut(setup: tuple[Cli, Path, Path]) -> None:
    cli, store, usb = setup
    cli("mirror", "--to", str(usb))
    mirror_path(store, usb).unlink()
    err = cli("mirror", "--to", str(usb), code=1).stderr
    assert "CUT" in err and "is gone" in err
    assert not mirror_path(store, usb).exists()


def test_torn_mirror_append_is_completed(setup: tuple[Cli, Path, Path]) -> None:
    """The medium pulled out during a write: part of a line past the acknowledged head, still a
    byte prefix of the store; the next sync appends the rest."""
    cli, store, usb = setup
    cli("mirror", "--to", str(usb))
    append_direct(store, 1)
    mirror = mirror_path(store, usb)
    data = store.read_bytes()
    mirror.write_bytes(data[: len(data) - 40])
    out = cli("mirror", "--to", str(usb)).stdout
    assert f"{len(data.splitlines())} events (1 new)" in out
    assert mirror.read_bytes() == data


def test_store_that_does_not_verify_is_not_mirrored(setup: tuple[Cli, Path, Path]) -> None:
    cli, store, usb = setup
    cli("mirror", "--to", str(usb))
    append_direct(store, 1)
    data = store.read_bytes()
    store.write_bytes(data.replace(b'"X-0"', b'"Y-0"'))  # the new event edited: hash breaks
    mirror = mirror_path(store, usb)
    before = files(mirror, mirror_head_path(store, usb))
    err = cli("mirror", "--to", str(usb), code=1).stderr
    assert "does not verify at event 12" in err
    assert files(mirror, mirror_head_path(store, usb)) == before


def test_mirror_folder_must_exist_and_be_elsewhere(setup: tuple[Cli, Path, Path]) -> None:
    cli, store, usb = setup
    err = cli("mirror", "--to", str(usb / "missing"), code=1).stderr
    assert "mirror unreachable" in err and not (usb / "missing").exists()
    err = cli("mirror", "--to", str(store.parent), code=1).stderr
    assert "its own folder" in err
    assert not config_path(store).exists()


def test_absent_medium_never_blocks_a_decision(setup: tuple[Cli, Path, Path]) -> None:
    cli, store, usb = setup
    cli("mirror", "--to", str(usb))
    # A decision through the CLI is mirrored after it.
    cli("hold", "raise", "--by", ARMORER, "--reason", "smoke in the truck", stdin=PIN + "\n")
    assert mirror_path(store, usb).read_bytes() == store.read_bytes()
    for path in usb.iterdir():
        path.unlink()
    usb.rmdir()  # the USB stick is gone
    before = events(store)
    proc = cli("hold", "raise", "--by", ARMORER, "--reason", "second", stdin=PIN + "\n")
    assert events(store) == before + 1  # recorded
    assert f"not mirrored: unreachable: {usb}" in proc.stderr
    assert not usb.exists()  # never created on the laptop's disk


def test_protected_files_name_the_mirror(setup: tuple[Cli, Path, Path]) -> None:
    cli, store, usb = setup
    assert mirror_path(store, usb) not in protected_files(store)
    cli("mirror", "--to", str(usb))
    names = protected_files(store)
    assert config_path(store) in names
    assert mirror_path(store, usb) in names and mirror_head_path(store, usb) in names
