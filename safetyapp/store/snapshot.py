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

Layout: one ASCII line ``safetyapp-snapshot/4 MAC OFFSET LENGTH``, then the body: the JSON
object ``{"mark", "prefix_blake3", "view"}`` (LENGTH bytes), a newline, and the rows section
(:func:`~safetyapp.domain.snapshot.rows_section`: the compact rows of the finished runs of
earlier days, one per line, most of a long record's checkpoint). MAC is the HMAC of the whole
body; OFFSET repeats the mark's offset (a snapshot whose two differ is not well formed), so the
prefix can be hashed from the first line alone while the body is still being read
(:func:`~safetyapp.store.prefix.start_prefix_digest`). Only the JSON object is parsed when the
snapshot is read; the rows section stays bytes, each row parsed when its run is first read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from safetyapp.domain.snapshot import View, rows_section
from safetyapp.store.chain import canonical
from safetyapp.store.head import FILE_MODE, Mark
from safetyapp.store.prefix import (
    FORMAT,
    prefix_digest,
    snapshot_path,
)

MAX_BYTES = 256 * 1024 * 1024  # far beyond any real view
_KEY_BYTES = 32


def key_path(store: Path) -> Path:
    return Path(f"{store}.checkpoint-key")


@dataclass(frozen=True)
class Saved:
    """A snapshot as read: its mark, view and prefix digest, and whether its seal verified
    under this store's key (only a sealed one may be started from)."""

    mark: Mark
    view: View
    prefix_blake3: str | None
    sealed: bool


def read_saved(store: Path) -> Saved | None:
    """The snapshot beside ``store``; None if there is none or it is not well formed (any
    problem at all: it is only a cache)."""
    try:
        raw = _read_regular(snapshot_path(store))
        first, _, body = raw.partition(b"\n")
        fmt, mac, offset, length = first.decode("ascii").split(" ")
        if fmt != FORMAT or not length.isdigit() or body[int(length) : int(length) + 1] != b"\n":
            return None
        data: Any = orjson.loads(body[: int(length)])  # the app's own JSON: twice as fast as json
        m = data["mark"]
        mark = Mark(m["seq"], m["hash"], m["offset"], m["length"])
        view = data["view"]
        digest = data["prefix_blake3"]
        section = body[int(length) + 1 :]  # parsed row by row, when read
        if "closed_runs" in view:
            view["closed_runs"]["runs"] = section
        elif section:
            return None
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


def encode(body: dict[str, Any]) -> tuple[bytes, int]:
    """The snapshot's body (see the layout above) and the length of its JSON object, from
    ``{"mark", "prefix_blake3", "view"}`` whose view holds its closed runs' rows as a list."""
    hot, section = _split(body["view"])
    obj = json.dumps({**body, "view": hot}, ensure_ascii=False, separators=(",", ":"))
    data = obj.encode("utf-8")
    return data + b"\n" + section, len(data)


def _split(view: View) -> tuple[View, bytes]:
    """A view without its closed runs' rows, and their rows section (none for a plain view,
    which has no closed runs: see :func:`~safetyapp.domain.snapshot.to_view`)."""
    closed = view.get("closed_runs")
    if closed is None:
        return view, b""
    rows = closed["runs"]
    hot = {**view, "closed_runs": {k: v for k, v in closed.items() if k != "runs"}}
    return hot, rows if isinstance(rows, bytes) else rows_section(rows)


def comparable(view: View) -> bytes:
    """A checkpoint view as text to compare (5, 5.0 and True differ here, not in Python):
    canonical JSON of all but its closed runs' rows, then the rows section, whether the view
    holds the rows as a list (a fold's) or as the section read from the file (a saved one)."""
    hot, section = _split(view)
    return canonical(hot).encode("utf-8") + b"\n" + section


def header(mac: str, offset: int, length: int) -> bytes:
    """The snapshot's first line."""
    return f"{FORMAT} {mac} {offset} {length}\n".encode("ascii")


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
            "prefix_blake3": digest,
            "view": view,
        }  # fmt: skip
        data, length = encode(body)
        head = header(_seal(_key_for_writing(store), data), mark.offset, length)
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
