"""The checkpoint's prefix digest: the BLAKE3 hash of the store's bytes before the checkpoint's
mark (see :mod:`safetyapp.store.snapshot`), and its head start.

Light on purpose (the standard library and the ``blake3`` extension only): the ``safetyapp``
command starts the digest from here before it imports anything heavy
(:mod:`safetyapp.launch`), so the hashing runs on another core while the command's own imports
do: in a forked child process on Linux (it shares no interpreter lock with the command), else
in a thread. BLAKE3, not SHA-256: the checkpoint's check reads every byte before it at every
start, and at 1,000,000 events (538 MB) that is ~0.15 s of one core here against ~0.4 s. It checks a
cache; the record's own chain is SHA-256 (:mod:`safetyapp.store.chain`).
"""

from __future__ import annotations

import os
import stat
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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
    """A prefix digest being computed ahead of the open that will ask for it: by a child
    process where one can be forked safely (:func:`_may_fork`), else by a thread."""

    def __init__(self, store: Path, offset: int) -> None:
        self.key = (os.path.abspath(store), offset)
        self.store, self.offset = store, offset
        self.result: tuple[str | None, _Identity | None] = (None, None)
        self.thread: threading.Thread | None = None
        self.child: tuple[int, int] | None = None  # (pid, the pipe's read end) until waited

    def start(self) -> None:
        if _may_fork():
            with suppress(OSError):  # no process to be had: a thread does it
                self.child = _fork_digest(self.store, self.offset)
                return
        self.thread = threading.Thread(target=self._run, name="prefix-digest-ahead", daemon=True)
        self.thread.start()

    def wait(self) -> tuple[str | None, _Identity | None]:
        """The digest and the file it was read from, once done (again: the same answer)."""
        if self.thread is not None:
            self.thread.join()
        if self.child is not None:
            pid, fd = self.child
            self.child = None
            self.result = _collect(pid, fd)
        return self.result

    def _run(self) -> None:
        try:
            self.result = _digest(self.store, self.offset)
        except BaseException:  # the open computes it itself, and meets whatever this was
            self.result = (None, None)


def _may_fork() -> bool:
    """A head start in a child process: on Linux, from a process with no other thread (the
    command before its imports, the app as it is made). A thread beside a busy interpreter
    waits for its lock after every piece it reads: at 1,000,000 events the digest took
    ~220 ms of wall time beside the command's imports and the checkpoint's restore, against
    ~125 ms alone, and the command waited ~45-60 ms for it. A forked child shares no lock
    with it. (Not on macOS, where a forked child of a process that loaded system frameworks
    may crash; not beside other threads, which may hold locks the child would inherit.)"""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def _fork_digest(store: Path, offset: int) -> tuple[int, int]:
    """Fork a child that hashes the prefix and writes ``DIGEST DEV INO SIZE MTIME`` (nothing,
    if it could not) to a pipe, then exits at once (no cleanup of the parent's: ``_exit``).
    It keeps none of the parent's files open but stdin, stdout and stderr (a lock among them
    would outlive a release by close). Its pid and the pipe's read end."""
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # the child
        try:
            os.closerange(3, write_end)
            os.closerange(write_end + 1, 1 << 20)
            digest, seen = _digest(store, offset)
            if digest is not None and seen is not None:
                os.write(write_end, " ".join([digest, *map(str, seen)]).encode("ascii"))
        finally:
            os._exit(0)
    os.close(write_end)
    return pid, read_end


def _collect(pid: int, fd: int) -> tuple[str | None, _Identity | None]:
    """What the child said (None, None if it said nothing readable), the child reaped."""
    try:
        said = b""
        while piece := os.read(fd, 4096):
            said += piece
    finally:
        os.close(fd)
        with suppress(ChildProcessError):
            os.waitpid(pid, 0)
    words = said.decode("ascii", "replace").split(" ")
    if len(words) != 5 or not all(w.isdigit() for w in words[1:]):
        return None, None
    dev, ino, size, mtime = map(int, words[1:])
    return words[0], (dev, ino, size, mtime)


_early: dict[tuple[str, int], _Early] = {}
_early_lock = threading.Lock()


def start_prefix_digest(store: Path) -> None:
    """Start hashing (in a child process, else a thread: see :func:`_may_fork`) the bytes
    before the mark of the checkpoint beside ``store`` (read from its first line only), so that the open that checks them finds the
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
    early.start()


def _take_early(store: Path, offset: int) -> str | None:
    with _early_lock:
        early = _early.pop((os.path.abspath(store), offset), None)
    if early is None:
        return None
    digest, hashed = early.wait()
    try:
        st = os.stat(store)
    except OSError:
        return None
    return digest if hashed == _identity(st) else None
