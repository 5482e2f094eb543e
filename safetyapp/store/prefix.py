"""The checkpoint's prefix digest: the BLAKE3 hash of the store's bytes before the checkpoint's
mark (see :mod:`safetyapp.store.snapshot`), and its head start.

Light on purpose (the standard library and the ``blake3`` extension only): the ``safetyapp``
command starts the digest from here before it imports anything heavy
(:mod:`safetyapp.launch`), so the hashing runs on another core while the command's own imports
do. BLAKE3, not SHA-256: the checkpoint's check reads every byte before it at every start, and
at 1,000,000 events (538 MB) that is ~0.15 s of one core here against ~0.4 s. It checks a
cache; the record's own chain is SHA-256 (:mod:`safetyapp.store.chain`).
"""

from __future__ import annotations

import os
import stat
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import blake3

FORMAT = "safetyapp-snapshot/4"  # the snapshot's first word (its layout: see snapshot.py)
_CHUNK = 4 * 1024 * 1024  # the prefix is hashed in pieces: memory stays flat in its size


def new_digest() -> blake3.blake3:
    """The prefix digest's hash, empty (``update`` it with bytes, then ``hexdigest``)."""
    return blake3.blake3()


def snapshot_path(store: Path) -> Path:
    return Path(f"{store}.snapshot")


def prefix_digest(store: Path, offset: int) -> str | None:
    """BLAKE3 of the first ``offset`` bytes of ``store``, read in pieces; None if the file is
    shorter or cannot be read. Taken from :func:`start_prefix_digest`'s head start when that
    hashed this very file with nothing written to it since (not one put in its place, not
    bytes rewritten after it read them: those are hashed again)."""
    early = _take_early(store, offset)
    if early is not None:
        return early
    return _digest(store, offset)[0]


_Identity = tuple[int, int, int, int]  # device, inode, size, modification time (ns)


def _identity(st: os.stat_result) -> _Identity:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _digest(store: Path, offset: int) -> tuple[str | None, _Identity | None]:
    """The digest, and the file it was read from as it was when the reading began (another
    file in its place, or any write to it since, changes that)."""
    h = new_digest()
    try:
        fd = os.open(store, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None, None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, None
        left, at = offset, 0
        with _lock_back_quickly():
            while left > 0:
                chunk = os.pread(fd, min(_CHUNK, left), at)
                if not chunk:
                    return None, None
                h.update(chunk)
                left -= len(chunk)
                at += len(chunk)
    except OSError:
        return None, None
    finally:
        os.close(fd)
    return h.hexdigest(), _identity(st)


_quick = 0  # threads hashing now, off the main thread
_quick_saved = 0.0
_quick_lock = threading.Lock()
_QUICK_SWITCH = 0.0002  # seconds


@contextmanager
def _lock_back_quickly() -> Iterator[None]:
    """Hashing off the main thread: each piece is read and hashed outside the interpreter
    lock, then the lock is needed back, and the busy main thread (the interface starting up,
    the checkpoint restored) gives it up only every switch interval (5 ms by default): twice
    per 4 MB piece, most of the hashing's time beside a busy main thread. While
    such a thread hashes, the interval is 0.2 ms; it is put back when the last one is done.
    (No window mapped into memory instead: a store cut meanwhile would kill the process with
    SIGBUS, where a read just comes back short.)"""
    global _quick, _quick_saved
    if threading.current_thread() is threading.main_thread():
        yield
        return
    with _quick_lock:
        if _quick == 0:
            _quick_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_quick_saved, _QUICK_SWITCH))
        _quick += 1
    try:
        yield
    finally:
        with _quick_lock:
            _quick -= 1
            if _quick == 0:
                sys.setswitchinterval(_quick_saved)


class _Early:
    """A prefix digest being computed ahead of the open that will ask for it."""

    def __init__(self, store: Path, offset: int) -> None:
        self.key = (os.path.abspath(store), offset)
        self.result: tuple[str | None, _Identity | None] = (None, None)
        self.thread = threading.Thread(
            target=self._run, args=(store, offset), name="prefix-digest-ahead", daemon=True
        )

    def _run(self, store: Path, offset: int) -> None:
        try:
            self.result = _digest(store, offset)
        except BaseException:  # the open computes it itself, and meets whatever this was
            self.result = (None, None)


_early: dict[tuple[str, int], _Early] = {}
_early_lock = threading.Lock()


def start_prefix_digest(store: Path) -> None:
    """Start hashing, in a thread, the bytes before the mark of the checkpoint beside
    ``store`` (read from its first line only), so that the open that checks them finds the
    digest done: the command calls this before its imports, the app as it is made, and the
    hashing (outside the interpreter lock) runs meanwhile (the app's open at 100,000 events:
    52-65 -> 41-49 ms). Only a head start: nothing is decided on it until
    :func:`prefix_digest` is asked for the same bytes of the same file, unwritten since; any
    other file or any write since, and they are hashed again."""
    try:
        fd = os.open(snapshot_path(store), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return
            first = os.pread(fd, 256, 0).partition(b"\n")[0].decode("ascii").split(" ")
        finally:
            os.close(fd)
        if len(first) != 4 or first[0] != FORMAT or not first[2].isdigit():
            return
        offset = int(first[2])
    except (OSError, ValueError):
        return
    early = _Early(store, offset)
    with _early_lock:
        if early.key in _early:
            return
        _early[early.key] = early
    early.thread.start()


def _take_early(store: Path, offset: int) -> str | None:
    with _early_lock:
        early = _early.pop((os.path.abspath(store), offset), None)
    if early is None:
        return None
    early.thread.join()
    digest, hashed = early.result
    try:
        st = os.stat(store)
    except OSError:
        return None
    return digest if hashed == _identity(st) else None
