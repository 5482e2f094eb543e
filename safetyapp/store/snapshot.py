"""The checkpoint (start-up snapshot): ``<store>.snapshot``, a file beside the store.

It holds the state's checkpoint view (:func:`safetyapp.domain.snapshot.to_checkpoint`) as of one
event, tied to that event's position and hash (:class:`~safetyapp.store.head.Mark`) and to the
SHA-256 of every byte of the store before the end of that event's line (the *prefix digest*).
Opening checks that digest by hashing those bytes (no parsing), so the events before the mark are
exactly the bytes the checkpoint was folded from; then only the events after it are read.

It is a cache, never evidence. It is sealed with an HMAC-SHA256 under a key kept beside the store
(``<store>.checkpoint-key``, 0600, never in the record, a mirror, an export or a report): a
snapshot written by anything but the app (edited, copied from another store, made up) does not
verify and is ignored - the record is folded in full instead. A snapshot that is missing,
unreadable, from another version, whose event is not where it says, or whose prefix digest does
not match is ignored the same way. What catches a forgery by someone who also read the key is
the full re-check (``safetyapp verify``, and the app's background check of every checkpoint it
starts from): see RELIABILITY.md. It is replaced atomically and never touches the store file.

Layout: one ASCII line ``safetyapp-snapshot/3 MAC OFFSET`` then the JSON body ``{"mark",
"prefix_sha256", "view"}``; MAC is the HMAC of the body's bytes; OFFSET repeats the mark's offset
(a snapshot whose two differ is not well formed), so the prefix can be hashed from the first line
alone while the body is still being read (:func:`start_prefix_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from safetyapp.domain.snapshot import View
from safetyapp.store.head import FILE_MODE, Mark

FORMAT = "safetyapp-snapshot/3"
MAX_BYTES = 256 * 1024 * 1024  # far beyond any real view
_CHUNK = 4 * 1024 * 1024  # the prefix is hashed in pieces: memory stays flat in its size
_KEY_BYTES = 32


def snapshot_path(store: Path) -> Path:
    return Path(f"{store}.snapshot")


def key_path(store: Path) -> Path:
    return Path(f"{store}.checkpoint-key")


@dataclass(frozen=True)
class Saved:
    """A snapshot as read: its mark, view and prefix digest, and whether its seal verified
    under this store's key (only a sealed one may be started from)."""

    mark: Mark
    view: View
    prefix_sha256: str | None
    sealed: bool


def read_saved(store: Path) -> Saved | None:
    """The snapshot beside ``store``; None if there is none or it is not well formed (any
    problem at all: it is only a cache)."""
    try:
        raw = _read_regular(snapshot_path(store))
        first, _, body = raw.partition(b"\n")
        fmt, mac, offset = first.decode("ascii").split(" ")
        if fmt != FORMAT:
            return None
        data: Any = orjson.loads(body)  # the app's own JSON: twice as fast as json here
        m = data["mark"]
        mark = Mark(m["seq"], m["hash"], m["offset"], m["length"])
        view = data["view"]
        digest = data["prefix_sha256"]
    except Exception:  # any file at all may sit there (deeply nested JSON included)
        return None
    if (
        not isinstance(view, dict)
        or not isinstance(mark.hash, str)
        or not isinstance(digest, str | None)
    ):
        return None
    numbers = (mark.seq, mark.offset, mark.length, view.get("last_seq"))
    if any(type(n) is not int for n in numbers) or view["last_seq"] != mark.seq:
        return None
    if offset != str(mark.offset):
        return None
    key = _read_key(store)
    sealed = key is not None and hmac.compare_digest(_seal(key, body), mac)
    return Saved(mark, view, digest, sealed)


def read_snapshot(store: Path) -> tuple[Mark, View] | None:
    """The snapshot's mark and view, sealed or not (a witness of how far the record reached)."""
    saved = read_saved(store)
    return (saved.mark, saved.view) if saved is not None else None


def header(mac: str, offset: int) -> bytes:
    """The snapshot's first line."""
    return f"{FORMAT} {mac} {offset}\n".encode("ascii")


def _seal(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _read_regular(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of sane size; ValueError for anything else (a FIFO would
    block a plain read forever)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            raise ValueError(f"{path} is not a snapshot file")
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(limit + 1)
    finally:
        os.close(fd)


def _read_key(store: Path) -> bytes | None:
    try:
        key = bytes.fromhex(_read_regular(key_path(store), 256).decode("ascii").strip())
    except (OSError, ValueError):
        return None
    return key if len(key) == _KEY_BYTES else None


def _key_for_writing(store: Path) -> bytes:
    """This store's checkpoint key, created (0600, exclusively) if there is none yet."""
    key = _read_key(store)
    if key is not None:
        return key
    path = key_path(store)
    new = secrets.token_bytes(_KEY_BYTES)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(new.hex().encode("ascii") + b"\n")
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)  # never replaces a key another process made meanwhile
    except FileExistsError:
        pass
    finally:
        with suppress(OSError):
            tmp.unlink()
    key = _read_key(store)
    if key is None:
        raise ValueError(f"{path} cannot be read back")
    return key


def prefix_digest(store: Path, offset: int) -> str | None:
    """SHA-256 of the first ``offset`` bytes of ``store``, read in pieces; None if the file is
    shorter or cannot be read. Taken from :func:`start_prefix_digest`'s head start when that
    hashed these very bytes' file (the same file, not one put in its place since)."""
    early = _take_early(store, offset)
    if early is not None:
        return early
    return _digest(store, offset)[0]


def _digest(store: Path, offset: int) -> tuple[str | None, tuple[int, int] | None]:
    """The digest, and the identity (device, inode) of the file it was read from."""
    h = hashlib.sha256()
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
    return h.hexdigest(), (st.st_dev, st.st_ino)


_quick = 0  # threads hashing now, off the main thread
_quick_saved = 0.0
_quick_lock = threading.Lock()
_QUICK_SWITCH = 0.0002  # seconds


@contextmanager
def _lock_back_quickly() -> Iterator[None]:
    """Hashing off the main thread: each piece is read and hashed outside the interpreter
    lock, then the lock is needed back, and the busy main thread (the interface starting up,
    the checkpoint restored) gives it up only every switch interval (5 ms by default): twice
    per 4 MB piece, most of the hashing's time (at 1,000,000 events, 0.25 s of waiting). While
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
        self.result: tuple[str | None, tuple[int, int] | None] = (None, None)
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
    digest done: the app calls this as it is made, and Textual's own start-up (~25 ms) and the
    reading of the checkpoint run meanwhile (the hash and the reads run outside the
    interpreter lock: at 100,000 events, ~30-45 ms of a start taken off its path). Only a head
    start: nothing is decided on it until :func:`prefix_digest` is asked for the same bytes
    of the same file, and a store file put in its place since is hashed again."""
    try:
        fd = os.open(snapshot_path(store), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return
            first = os.pread(fd, 256, 0).partition(b"\n")[0].decode("ascii").split(" ")
        finally:
            os.close(fd)
        if len(first) != 3 or first[0] != FORMAT or not first[2].isdigit():
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
    return digest if hashed == (st.st_dev, st.st_ino) else None


def write_snapshot(store: Path, mark: Mark, view: View) -> bool:
    """Replace the snapshot beside ``store`` (atomically), sealed, with the digest of the
    store's bytes up to ``mark``; False if it cannot be written (a read-only folder, a full
    disk): start-up is then slower, nothing else changes. Never moves it back: False when the
    snapshot there is tied to a later event, or to another event at the same seq (the store
    was cut or rewritten, see :mod:`safetyapp.store.head`)."""
    if view.get("last_seq") != mark.seq:
        raise ValueError(f"view of event {view.get('last_seq')} tied to event {mark.seq}")
    target = snapshot_path(store)
    if os.path.lexists(target) and not os.path.isfile(target):
        return False  # something else in the way (as a read-only folder would be)
    current = read_snapshot(store)
    if current is not None and (
        current[0].seq > mark.seq or (current[0].seq == mark.seq and current[0].hash != mark.hash)
    ):
        return False  # never moves back: a later (or other) event on disk is a cut's witness
    # None when the store is shorter than the mark: such a snapshot is never started from,
    # but it still witnesses how far the record reached (a cut, see journal).
    digest = prefix_digest(store, mark.offset)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    try:
        body = {
            "mark": {"seq": mark.seq, "hash": mark.hash, "offset": mark.offset,
                     "length": mark.length},
            "prefix_sha256": digest,
            "view": view,
        }  # fmt: skip
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        head = header(_seal(_key_for_writing(store), data), mark.offset)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(head + data)
        os.replace(tmp, target)
    except (OSError, ValueError, TypeError):
        with suppress(OSError):
            tmp.unlink()
        return False
    return True


def set_aside(store: Path) -> Path | None:
    """Move a snapshot that did not match the record out of the way (kept for inspection,
    never read again), so the next start folds the record in full."""
    target = snapshot_path(store)
    aside = target.with_name(f"{target.name}.rejected-{secrets.token_hex(4)}")
    try:
        os.replace(target, aside)
    except OSError:
        return None
    return aside
