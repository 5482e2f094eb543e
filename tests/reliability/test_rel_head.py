"""Cuts are never taken for crashes; a store that fails verification is never written to; a
second writer that ignored the lock is named (issue 13, items 3, 4 and 7's fork).

Real store files; the CLI in subprocesses where it says so. The head file is addressed by its
path (``<store>.head``) so that these tests run, and fail, against a build without it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rel_support import armorer_cred, build_store, cli_env

from safetyapp.checklists import load_bundled
from safetyapp.domain import engine
from safetyapp.domain.snapshot import to_view
from safetyapp.store.chain import seal_line
from safetyapp.store.credentials import read_credentials
from safetyapp.store.journal import Journal, StoreCorrupt, StoreError
from safetyapp.store.repository import Repository
from safetyapp.store.snapshot import read_snapshot, snapshot_path, write_snapshot

CHECKLISTS = load_bundled()


def head_of(db: Path) -> Path:
    return Path(f"{db}.head")


def lines_of(db: Path) -> list[bytes]:
    return db.read_bytes().splitlines(keepends=True)


def sides(db: Path) -> list[Path]:
    return sorted(db.parent.glob(f"{db.name}.torn-*"))


ARMORER_CRED = armorer_cred()


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "safetyapp", "--db", str(db), *args],
        capture_output=True,
        text=True,
        input="1111\n",  # the armorer's PIN, for the commands below that add inventory
        env=cli_env(db.parent),
        timeout=60,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """The bytes of a store built through the app, and of its head file."""
    db = tmp_path_factory.mktemp("built") / "record.jsonl"
    build_store(db)
    return db.read_bytes(), head_of(db).read_bytes()


def place(tmp: Path, store: bytes, head: bytes | None) -> Path:
    db = tmp / "record.jsonl"
    db.write_bytes(store)
    if head is not None:
        head_of(db).write_bytes(head)
    return db


# -- item 3: cuts --------------------------------------------------------------------------------


def test_init_writes_the_head_and_each_append_moves_it(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    repo = build_store(db)
    st_ = os.stat(head_of(db))
    assert st_.st_mode & 0o777 == 0o600
    mark = repo.journal.mark()
    text = head_of(db).read_text("ascii")
    assert f" {mark.seq} {mark.hash} {mark.offset} {mark.length} " in text
    assert repo.do(engine.add_ammo, ARMORER_CRED, "D-9", "dummy", 6, "Prop house").ok
    mark = repo.journal.mark()
    assert f" {mark.seq} {mark.hash} {mark.offset} {mark.length} " in head_of(db).read_text()


def test_a_cut_at_every_line_boundary_is_refused_and_nothing_is_changed(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    build_store(db)
    lines = lines_of(db)
    n = len(lines)
    head = head_of(db).read_bytes()
    acknowledged = Journal.open(db).head_hash
    for k in range(1, n):
        cut = b"".join(lines[:k])
        db.write_bytes(cut)
        for opener in (Repository.open, Repository.open_quick):
            with pytest.raises(StoreCorrupt) as caught:
                opener(db, CHECKLISTS)
            assert (
                f"the record was cut: the app acknowledged {n} events (head "
                f"{acknowledged[:12]}…), the file holds {k}; events {k + 1} to {n} are missing"
            ) in str(caught.value)
        out = cli(
            db,
            "firearm",
            "add",
            "X-1",
            "--description",
            "d",
            "--kind",
            "rubber",
            "--by",
            "Alex Reyes",
        )
        assert out.returncode == 1 and "the record was cut" in out.stderr
        assert db.read_bytes() == cut and head_of(db).read_bytes() == head and not sides(db)


def test_without_the_head_file_a_warning_and_the_next_write_restores_it(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    build_store(db)
    lines = lines_of(db)
    head_of(db).unlink()
    db.write_bytes(b"".join(lines[:-2]))  # undetectable now: no witness at all
    repo = Repository.open(db, CHECKLISTS)
    assert any("has no head file" in w and "cannot be checked" in w for w in repo.warnings)
    assert repo.do(engine.add_ammo, ARMORER_CRED, "D-2", "dummy", 6, "Prop house").ok
    assert os.stat(head_of(db)).st_mode & 0o777 == 0o600
    db.write_bytes(b"".join(lines_of(db)[:-1]))  # guarded again
    with pytest.raises(StoreCorrupt, match="the record was cut"):
        Repository.open(db, CHECKLISTS)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_cut_at_a_random_offset_is_never_a_torn_tail(
    tmp_path_factory: pytest.TempPathFactory, built: tuple[bytes, bytes], data: st.DataObject
) -> None:
    store, head = built
    offset = data.draw(st.integers(0, len(store) - 1), label="offset")
    with_head = data.draw(st.booleans(), label="with head file")
    tmp = tmp_path_factory.mktemp("cut")
    db = place(tmp, store[:offset], head if with_head else None)
    if not with_head:
        # The TUI's snapshot of the whole record is a witness too.
        repo = Repository.open(place(tmp_path_factory.mktemp("full"), store, head), CHECKLISTS)
        assert write_snapshot(db, repo.journal.mark(), to_view(repo.state))
    with pytest.raises(StoreCorrupt) as caught:
        Journal.open(db)
    if offset >= store.index(b"\n") + 1:
        assert "the record was cut: the app acknowledged" in str(caught.value)
    assert db.read_bytes() == store[:offset] and not sides(db)


def test_a_partial_line_past_the_head_is_a_torn_tail(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    build_store(db)
    whole = db.read_bytes()
    db.write_bytes(whole + b'{"kind":"fire')
    repo = Repository.open(db, CHECKLISTS)
    assert any("unfinished write" in w for w in repo.warnings)
    assert db.read_bytes() == whole and len(sides(db)) == 1


def test_a_rewrite_holding_another_event_at_the_head_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    build_store(db)
    lines = lines_of(db)
    j = Journal.open(db)
    records = j.records()
    last = dict(records[-1])
    for key in ("seq", "prev_hash", "hash"):
        del last[key]
    last["source"] = "Someone else"  # re-sealed: the chain is valid, the head is not in it
    _, line = seal_line(last, len(records), records[-2]["hash"])
    forged = b"".join(lines[:-1]) + line.encode() + b"\n"
    db.write_bytes(forged)
    assert Journal(db).verify().ok
    with pytest.raises(StoreCorrupt, match=f"the record was rewritten: event {len(records)} is"):
        Journal.open(db)
    assert db.read_bytes() == forged


def test_the_snapshot_never_moves_back(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    repo = build_store(db)
    assert repo.save_snapshot()
    saved = snapshot_path(db).read_bytes()
    seq = repo.journal.last_seq
    # An older state of the same store (a copy cut two events short, opened elsewhere).
    older = tmp_path / "older" / "record.jsonl"
    older.parent.mkdir()
    older.write_bytes(b"".join(lines_of(db)[:-2]))
    old = Repository.open(older, CHECKLISTS)
    assert not write_snapshot(db, old.journal.mark(), to_view(old.state))
    assert snapshot_path(db).read_bytes() == saved
    # The TUI's case: the store cut to seq - 2 with no head file beside it; the app neither
    # opens it nor overwrites its snapshot.
    head_of(db).unlink()
    db.write_bytes(older.read_bytes())
    with pytest.raises(StoreCorrupt, match=f"acknowledged {seq} events"):
        Repository.open_quick(db, CHECKLISTS)
    mark = read_snapshot(db)
    assert mark is not None and mark[0].seq == seq and snapshot_path(db).read_bytes() == saved


def test_a_torn_or_damaged_head_file(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    repo = build_store(db)
    head = head_of(db).read_bytes()
    assert repo.do(engine.add_ammo, ARMORER_CRED, "D-3", "dummy", 6, "Prop house").ok
    newer = head_of(db).read_bytes()
    # A crash while updating one slot: the damaged slot is rejected by its check, the other
    # still holds the head before it (so the file is a valid, slightly older witness).
    slot = next(
        i for i in (0, 1) if head[i * 192 : (i + 1) * 192] != newer[i * 192 : (i + 1) * 192]
    )
    torn = bytearray(newer)
    torn[slot * 192 + 40 : slot * 192 + 60] = b"0" * 20
    head_of(db).write_bytes(bytes(torn))
    assert Repository.open(db, CHECKLISTS).journal.last_seq == repo.journal.last_seq
    head_of(db).write_bytes(b"x" * 384)
    with pytest.raises(StoreCorrupt, match="holds no valid head record"):
        Journal.open(db)


# -- item 4: a store that fails verification is never written to ---------------------------------


def _tamper(db: Path) -> tuple[bytes, int]:
    """One letter changed in a middle event (a firearm's description); the line still parses."""
    lines = lines_of(db)
    i = next(k for k, line in enumerate(lines) if b'"Revolver"' in line)
    assert 0 < i < len(lines) - 1
    lines[i] = lines[i].replace(b'"Revolver"', b'"Revolvex"')
    data = b"".join(lines)
    db.write_bytes(data)
    return data, i + 1


def test_a_tampered_store_refuses_writes_through_the_repository(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    repo = build_store(db)
    repo.save_snapshot()
    data, seq = _tamper(db)
    assert read_snapshot(db) is not None  # the quick open reads the edited part in the "rest"
    for opener in (Repository.open, Repository.open_quick):
        opened = opener(db, CHECKLISTS)
        assert opened.view.last_seq == Journal.open(db).last_seq  # reading still works
        with pytest.raises(StoreError, match=f"its hash chain does not verify .event {seq}: hash"):
            opened.do(engine.add_ammo, ARMORER_CRED, "D-4", "dummy", 6, "Prop house")
        assert db.read_bytes() == data


def test_a_tampered_store_refuses_writes_through_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    build_store(db)
    data, seq = _tamper(db)
    for args in (
        ("firearm", "add", "X-1", "--description", "d", "--kind", "rubber", "--by", "Alex Reyes"),
        (
            "ammo",
            "add",
            "L-9",
            "--type",
            "dummy",
            "--count",
            "1",
            "--source",
            "Prop house",
            "--by",
            "Alex Reyes",
        ),
        ("run", "start", "opening"),
    ):
        out = cli(db, *args)
        assert out.returncode == 1, (args, out.stderr)
        assert f"refused to write to {db}: its hash chain does not verify (event {seq}: hash" in (
            out.stderr
        )
        assert db.read_bytes() == data and not sides(db)
    assert cli(db, "verify").returncode == 1


# -- item 7: a fork by a second writer that ignored the lock -------------------------------------


def _foreign_line(repo: Repository, seq: int, prev: str, serial: str) -> bytes:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    repo.state.credentials = read_credentials(repo.path)  # as Repository.execute does
    decision = engine.add_firearm(
        repo.state, ARMORER_CRED, serial, "Pistol", "blank-firing", 6, now=now
    )
    repo.state.credentials = {}
    assert decision.ok
    return (seal_line(decision.events[0], seq, prev)[1] + "\n").encode()


@pytest.mark.parametrize("how", ["appended-same-seq", "written-over", "appended-unlinked"])
def test_a_fork_is_named_at_the_next_write_and_nothing_is_written(tmp_path: Path, how: str) -> None:
    db = tmp_path / "record.jsonl"
    build_store(db)
    a = Repository.open(db, CHECKLISTS)
    b = Repository.open(db, CHECKLISTS)  # the second writer, on a folder where locks fail
    n, seen = b.journal.last_seq, b.journal.head_hash
    assert a.do(engine.add_ammo, ARMORER_CRED, "D-5", "dummy", 6, "Prop house").ok
    ours = a.journal.head_hash
    if how == "appended-same-seq":  # O_APPEND, its own seq n+1: a duplicate event
        extra = _foreign_line(b, n + 1, seen, "B-1")
        with open(db, "ab") as f:
            f.write(extra)
    elif how == "written-over":  # no O_APPEND on a network share: over our event n+1
        size = len(b"".join(lines_of(db)[:n]))
        fd = os.open(db, os.O_WRONLY)
        os.pwrite(fd, _foreign_line(b, n + 1, seen, "B-12345"), size)
        os.close(fd)
    else:  # its n+2, linked to its own n+1 (written over, then ours appended again)
        extra = _foreign_line(b, n + 2, "f" * 64, "B-2")
        with open(db, "ab") as f:
            f.write(extra)
    before = db.read_bytes()
    with pytest.raises(StoreCorrupt) as caught:
        a.do(engine.add_ammo, ARMORER_CRED, "D-6", "dummy", 6, "Prop house")
    message = str(caught.value)
    assert "the chain forked" in message and "ignored the writer lock" in message
    assert str(n + 1) in message and (ours[:12] in message or how == "written-over")
    assert db.read_bytes() == before
