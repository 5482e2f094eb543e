"""1. Crash safety: a writer killed with SIGKILL at random moments loses nothing it confirmed.

The writer is a forked child running the real Repository (lock, catch-up, engine, append with
fsync). After each `repo.do` returns it reports what it wrote on a pipe; the parent kills it at a
random moment, then reopens the store like a restarted app would. Default 40 kills; set
SAFETYAPP_KILLS=200 (or more) for the full count.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from rel_support import ARMORER, build_store
from support import CHECKLISTS, PINS

from safetyapp.domain import engine
from safetyapp.domain.engine import Credential
from safetyapp.store.journal import Journal
from safetyapp.store.repository import Repository

KILLS = int(os.environ.get("SAFETYAPP_KILLS", "40"))


def _fork(body: Callable[[int], None]) -> tuple[int, int]:
    """Run body(write_fd) in a forked child; return (pid, read_fd). The child never returns."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(rfd)
        code = 0
        try:
            body(wfd)
        except BaseException as exc:  # report, never fall back into pytest
            os.write(wfd, f"ERROR {type(exc).__name__}: {exc}\n".encode())
            code = 3
        finally:
            os._exit(code)
    os.close(wfd)
    return pid, rfd


def _read_all(fd: int) -> list[str]:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode().splitlines()


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) or os.WIFEXITED(status)


def _writer(path: Path, tag: str) -> Callable[[int], None]:
    """Append through the app in a loop: single events, a two-event decision (live ammunition is
    refused AND holds the day), and a PIN-checked hold; acknowledge each after it returns."""

    def body(wfd: int) -> None:
        repo = Repository.open(path, CHECKLISTS)
        i = 0
        while True:
            serial = f"{tag}-{i}"
            if i % 3 == 0:
                d = repo.do(
                    engine.add_ammo,
                    Credential(ARMORER, PINS[ARMORER]),
                    serial,
                    "live",
                    1,
                    "x" * (i % 500),
                )
                assert not d.ok and len(d.events) == 2
            elif i % 7 == 0:
                d = repo.do(engine.raise_hold, Credential(ARMORER, PINS[ARMORER]), serial)
                assert d.ok
            else:
                d = repo.do(
                    engine.add_firearm,
                    Credential(ARMORER, PINS[ARMORER]),
                    serial,
                    "y" * (i % 900),
                    "rubber",
                    None,
                )
                assert d.ok
            os.write(wfd, f"{serial}\n".encode())
            i += 1

    return body


def _tags_in_store(journal: Journal) -> Counter[str]:
    """Each writer call's tag, counted once per decision (the first event it appended)."""
    seen: Counter[str] = Counter()
    for rec in journal.records():
        data = rec.get("data") or {}
        if rec["kind"] == "firearm-added":
            seen[data["serial"]] += 1
        elif rec["kind"] == "refused" and data.get("code") == "live-ammunition":
            seen[data["lot"]] += 1
        elif rec["kind"] == "hold-raised" and data.get("cause") == "raised":
            seen[rec["note"]] += 1
    return seen


def test_sigkill_at_random_moments_loses_no_confirmed_event(
    tmp_path: Path, figures: Counter[str]
) -> None:
    path = tmp_path / "record.jsonl"
    build_store(path)
    rng = random.Random(7)
    confirmed: set[str] = set()
    in_flight_landed = 0
    for k in range(KILLS):
        pid, rfd = _fork(_writer(path, f"K{k}"))
        time.sleep(rng.uniform(0.0, 0.06))
        _kill(pid)
        acks = _read_all(rfd)
        assert not any(a.startswith("ERROR") for a in acks), acks
        confirmed.update(acks)

        # Restart: the store opens, holds every confirmed call exactly once, and verifies.
        journal = Journal.open(path)
        for warning in journal.warnings:
            assert "unfinished write" in warning
            figures["crash: torn tails set aside on restart"] += 1
        result = journal.verify()
        assert result.ok, result.problem
        seen = _tags_in_store(journal)
        missing = confirmed - set(seen)
        assert not missing, f"kill {k}: confirmed but lost: {sorted(missing)[:5]}"
        assert max(seen.values()) == 1, "a call was recorded twice"
        # A call that was killed before returning is either wholly there or wholly absent.
        for rec in journal.records():
            if (
                rec["kind"] == "refused"
                and (rec.get("data") or {}).get("code") == "live-ammunition"
            ):
                records = journal.records()  # seq is 1-based: records[seq] is the next one
                nxt = records[rec["seq"]] if rec["seq"] < len(records) else {"kind": "<end>"}
                assert nxt["kind"] == "hold-raised", "a two-event decision was cut in half"
        unconfirmed = {t for t in seen if t.startswith(f"K{k}-")} - set(acks)
        in_flight_landed += len(unconfirmed)
        figures["crash: SIGKILLs survived (writer mid-loop)"] += 1
    # The app as a whole still works after all that: a full open with fold, and an append.
    repo = Repository.open(path, CHECKLISTS)
    assert repo.do(
        engine.add_firearm,
        Credential(ARMORER, PINS[ARMORER]),
        "AFTER",
        "after the kills",
        "rubber",
        None,
    ).ok
    assert Journal.open(path).verify().ok
    figures["crash: confirmed calls checked after kills"] += len(confirmed)
    figures["crash: killed calls that had reached the disk"] += in_flight_landed


def test_sigkill_during_lock_wait_and_while_holding_the_lock(
    tmp_path: Path, figures: Counter[str]
) -> None:
    path = tmp_path / "record.jsonl"
    build_store(path)
    holder = Journal.open(path)
    rng = random.Random(11)
    rounds = max(10, KILLS // 4)
    for k in range(rounds):
        # The parent holds the writer lock; the child's append waits for it and is killed there.
        go_r, go_w = os.pipe()

        def waiter(wfd: int, k: int = k, go_r: int = go_r) -> None:
            repo = Repository.open(path, CHECKLISTS)
            os.read(go_r, 1)
            os.write(wfd, b"waiting\n")
            repo.do(
                engine.add_firearm,
                Credential(ARMORER, PINS[ARMORER]),
                f"W{k}",
                "never confirmed",
                "rubber",
                None,
            )
            os.write(wfd, b"RETURNED\n")

        with holder.locked():
            pid, rfd = _fork(waiter)
            os.close(go_r)
            os.write(go_w, b"g")
            os.close(go_w)
            time.sleep(rng.uniform(0.0, 0.03))
            _kill(pid)
            acks = _read_all(rfd)
        assert "RETURNED" not in acks and not any(a.startswith("ERROR") for a in acks), acks
        journal = Journal.open(path, lock_timeout=5)
        assert journal.verify().ok and journal.warnings == []
        assert not any((r.get("data") or {}).get("serial") == f"W{k}" for r in journal.records())
        figures["crash: SIGKILLs during the lock wait"] += 1

        # A writer killed while HOLDING the lock does not leave the store locked.
        def holder_body(wfd: int) -> None:
            j = Journal.open(path)
            with j.locked():
                os.write(wfd, b"locked\n")
                time.sleep(60)

        pid, rfd = _fork(holder_body)
        first = os.read(rfd, 7)
        assert first == b"locked\n", first
        _kill(pid)
        _read_all(rfd)
        repo = Repository.open(path, CHECKLISTS)
        repo.journal._lock_timeout = 5  # a stuck lock would fail here with StoreLocked
        assert repo.do(
            engine.add_firearm,
            Credential(ARMORER, PINS[ARMORER]),
            f"H{k}",
            "after a killed lock holder",
            "rubber",
            None,
        ).ok
        figures["crash: SIGKILLs while holding the lock"] += 1
    assert Journal.open(path).verify().ok
