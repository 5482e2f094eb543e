"""The store and every file the store creates beside it are the owner's only (0600), whatever the
umask: the record names people, so it is not for every account on the laptop to read."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_testutil import event, make_store

from safetyapp.store.journal import Journal
from safetyapp.store.snapshot import snapshot_path, write_snapshot

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """umask 0: a file is 0600 because it was created so, not because the umask happened to hide
    the rest (the old code made 0666 files: world-readable and writable here)."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_and_lock_are_created_0600(store_path: Path) -> None:
    j = make_store(store_path, 3)  # create(), then an append (takes the lock)
    assert mode(store_path) == 0o600
    lock = Path(f"{store_path}.lock")
    if lock.exists():  # some platforms remove it on release
        assert mode(lock) == 0o600
    with j.locked():
        assert mode(lock) == 0o600


def test_snapshot_is_written_0600(store_path: Path) -> None:
    j = make_store(store_path, 2)
    mark = j.mark()
    assert write_snapshot(store_path, mark, {"last_seq": mark.seq})
    assert mode(snapshot_path(store_path)) == 0o600
    # Replaced, still 0600 (a new temporary file each time, never a chmod afterwards).
    assert write_snapshot(store_path, mark, {"last_seq": mark.seq, "x": 1})
    assert mode(snapshot_path(store_path)) == 0o600


def test_torn_tail_side_file_is_0600(store_path: Path) -> None:
    make_store(store_path, 2)
    with store_path.open("ab") as f:
        f.write(b'{"kind": "unfinished')
    j = Journal.open(store_path)
    assert j.warnings
    (side,) = store_path.parent.glob(f"{store_path.name}.torn-*")
    assert mode(side) == 0o600
    j.append([event(9)])
    assert mode(store_path) == 0o600
