"""3. Storage faults: disk full, I/O errors, read-only file or folder, missing folder.

Each fault is injected at the os-call level for the store file only (faults.py), while a real
CLI command runs on a real store. The action must be refused with one clear line naming the
file, the cause and what to do; the file must be byte-for-byte as before (nothing half-written),
and the store must verify and accept the same action once the fault is gone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import faults
import pytest
from rel_support import AD, ARMORER, build_store, cli_env, pins_for, run_cli, start_opening

from safetyapp.store.journal import Journal

HERE = Path(__file__).parent

# fault -> words the message must contain (cause, and what to do)
FAULTS = {
    "write:ENOSPC": ["No space left on device", "nothing was recorded", "free some disk space"],
    "half-write:ENOSPC": ["No space left on device", "nothing was recorded", "free some disk"],
    "write:EIO": ["Input/output error", "nothing was recorded", "check the disk"],
    "fsync:EIO": ["Input/output error", "nothing was recorded", "check the disk"],
    "ro-file:EACCES": ["Permission denied", "nothing was recorded", "writable"],
    "ro-dir:EROFS": ["Read-only file system", "make sure that folder is writable"],
}


def _actions(run: str) -> dict[str, tuple[list[str], str]]:
    sign = ["run", "sign", run, "meeting-held", "--by", AD, "--by", ARMORER,
            "--evidence", "attendees=9", "--evidence", "concerns-read=yes"]  # fmt: skip
    return {
        "firearm-add": (
            ["firearm", "add", "NEW-9", "--description", "d", "--kind", "rubber", "--by", ARMORER],
            pins_for([ARMORER]),
        ),
        "run-sign": (sign, pins_for([AD, ARMORER])),
        "hold-raise": (["hold", "raise", "--by", AD, "--reason", "unsafe"], pins_for([AD])),
    }


@pytest.mark.parametrize("action", ["firearm-add", "run-sign", "hold-raise"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_write_fault_refused_clearly_and_nothing_half_written(
    tmp_path: Path, fault: str, action: str, figures: Counter[str]
) -> None:
    db = tmp_path / "record.jsonl"
    run = start_opening(build_store(db))
    args, stdin = _actions(run)[action]
    run_cli(db, "audit")  # a lock file exists now, as it would on a store in use
    before = db.read_bytes()
    with pytest.MonkeyPatch.context() as mp:
        faults.install(fault, db, mp.setattr)
        out = run_cli(db, *args, stdin=stdin)
    assert out.code == 1, out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("safetyapp: "), out.stderr
    assert str(db) in lines[0]
    for words in FAULTS[fault]:
        assert words in lines[0], lines[0]
    assert db.read_bytes() == before, "the store changed although the action was refused"
    assert list(tmp_path.glob("record.jsonl.torn-*")) == []
    assert run_cli(db, "verify").code == 0
    # Fault gone: the same action now goes through.
    assert run_cli(db, *args, stdin=stdin).code == 0
    assert Journal.open(db).verify().ok
    figures["storage: write faults refused cleanly"] += 1


def test_truncate_also_failing_leaves_an_unfinished_tail_that_reopen_sets_aside(
    tmp_path: Path,
) -> None:
    """The worst case: part of the write is on disk and cannot be cut back. The user is told,
    and the next command sets the unconfirmed bytes aside; the store is as before."""
    db = tmp_path / "record.jsonl"
    build_store(db)
    before = db.read_bytes()
    args = ["firearm", "add", "NEW-9", "--description", "d", "--kind", "rubber", "--by", ARMORER]
    with pytest.MonkeyPatch.context() as mp:
        faults.install("half-write-no-truncate:EIO", db, mp.setattr)
        out = run_cli(db, *args, stdin=pins_for([ARMORER]))
    assert out.code == 1
    assert "part of it may be on disk; reopen the store" in out.stderr, out.stderr
    assert db.read_bytes() != before  # the half line is there ...
    listed = run_cli(db, "firearm", "list")
    assert listed.code == 0 and "NEW-9" not in listed.stdout
    assert "unfinished write" in listed.stderr and "moved to" in listed.stderr
    assert db.read_bytes() == before  # ... and was set aside on the next open
    (side,) = tmp_path.glob("record.jsonl.torn-*")
    assert side.read_bytes() and b"NEW-9" in side.read_bytes()
    assert run_cli(db, "verify").code == 0


@pytest.mark.parametrize("fault", ["ro-file:EACCES", "ro-dir:EROFS"])
def test_read_only_store_can_still_be_read(tmp_path: Path, fault: str) -> None:
    db = tmp_path / "record.jsonl"
    run = start_opening(build_store(db))
    before = db.read_bytes()
    with pytest.MonkeyPatch.context() as mp:
        faults.install(fault, db, mp.setattr)
        for args in (["verify"], ["audit", "--json"], ["crew", "list"], ["run", "status", run]):
            out = run_cli(db, *args)
            assert out.code == 0 and out.stderr == "", (args, out)
    assert db.read_bytes() == before


@pytest.mark.parametrize("fault", ["ro-file:EACCES", "ro-dir:EROFS"])
def test_torn_tail_on_a_read_only_store(tmp_path: Path, fault: str) -> None:
    """A crash left an unfinished line AND the store cannot be written: reading works (the tail
    is ignored, with a warning), writing is refused clearly, and the file is never touched."""
    db = tmp_path / "record.jsonl"
    build_store(db)
    with db.open("ab") as f:
        f.write(b'{"kind":"firearm-added","data":{"serial":"TORN')
    before = db.read_bytes()
    with pytest.MonkeyPatch.context() as mp:
        faults.install(fault, db, mp.setattr)
        listed = run_cli(db, "firearm", "list")
        assert listed.code == 0 and "COLT-1" in listed.stdout
        assert "unfinished write" in listed.stderr and "left in place and ignored" in listed.stderr
        assert run_cli(db, "verify").code == 0
        out = run_cli(db, "firearm", "add", "NEW-9", "--description", "d", "--kind", "rubber",
                      "--by", ARMORER, stdin=pins_for([ARMORER]))  # fmt: skip
        assert out.code == 1
        last = out.stderr.strip().splitlines()[-1]
        assert last.startswith("safetyapp: ") and str(db) in last
        assert "nothing was recorded" in last or "make sure that folder is writable" in last
    assert db.read_bytes() == before
    assert list(tmp_path.glob("record.jsonl.torn-*")) == []
    # Writable again: the tail is set aside and the action goes through.
    out = run_cli(db, "firearm", "add", "NEW-9", "--description", "d", "--kind", "rubber",
                  "--by", ARMORER, stdin=pins_for([ARMORER]))  # fmt: skip
    assert out.code == 0 and "moved to" in out.stderr
    assert Journal.open(db).verify().ok


def test_missing_folder_and_missing_store(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "record.jsonl"
    out = run_cli(missing, "init", "--production", "P", "--supervisor", "S", stdin="1234\n1234\n")
    assert out.code == 1
    assert f"the folder {missing.parent} does not exist; create the folder first" in out.stderr
    assert not (tmp_path / "no").exists()
    for args in (["crew", "list"], ["verify"], ["firearm", "add", "X", "--description", "d",
                                                 "--kind", "rubber", "--by", "A"]):  # fmt: skip
        out = run_cli(missing, *args)
        assert out.code == 1 and f"no store at {missing}" in out.stderr, (args, out)
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("fault", ["ENOSPC", "ro-dir:EROFS"])
def test_init_on_a_full_or_read_only_disk_creates_nothing(tmp_path: Path, fault: str) -> None:
    db = tmp_path / "record.jsonl"
    with pytest.MonkeyPatch.context() as mp:
        if fault == "ENOSPC":  # the store does not exist yet: fail writes to any file here
            real_write = os.write

            def write(fd: int, data: bytes) -> int:
                if os.readlink(f"/proc/self/fd/{fd}").startswith(str(tmp_path)):
                    raise OSError(28, os.strerror(28))
                return real_write(fd, data)

            mp.setattr(os, "write", write)
        else:
            faults.install(fault, db, mp.setattr)
        out = run_cli(db, "init", "--production", "P", "--supervisor", "S", stdin="1234\n1234\n")
    assert out.code == 1, out
    assert "nothing was created" in out.stderr and str(db) in out.stderr, out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "a file was left behind"


@pytest.mark.parametrize("fault", ["write:ENOSPC", "ro-dir:EROFS"])
def test_fault_in_a_real_cli_process(tmp_path: Path, fault: str) -> None:
    """The same through `safetyapp.cli.main` in its own process (faultwrap.py installs the
    fault before the CLI starts)."""
    db = tmp_path / "record.jsonl"
    build_store(db)
    before = db.read_bytes()
    env = cli_env(tmp_path) | {"SAFETYAPP_FAULT": fault}
    proc = subprocess.run(
        [sys.executable, str(HERE / "faultwrap.py"), "--db", str(db),
         "firearm", "add", "NEW-9", "--description", "d", "--kind", "rubber", "--by", ARMORER],
        capture_output=True, text=True, env=env, timeout=60, input=pins_for([ARMORER]),
    )  # fmt: skip
    assert proc.returncode == 1, proc
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert str(db) in proc.stderr and FAULTS[fault][0] in proc.stderr
    assert db.read_bytes() == before
