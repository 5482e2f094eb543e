"""The start-up snapshot: ``<store>.snapshot``, a JSON file beside the store.

It holds the state's view (:mod:`safetyapp.domain.snapshot`) as of one event, tied to that
event's position and hash (:class:`~safetyapp.store.journal.Mark`). It is a cache, never the
truth: a snapshot that is missing, unreadable, from another version, or whose event is not
where it says in the store is ignored (the record is folded instead), and the app checks every
snapshot it uses against a full fold of the record. It is replaced atomically and never
touches the store file itself.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from contextlib import suppress
from pathlib import Path
from typing import Any

from safetyapp.domain.snapshot import View
from safetyapp.store.journal import Mark

FORMAT = "safetyapp-snapshot/1"
MAX_BYTES = 256 * 1024 * 1024  # far beyond any real view


def snapshot_path(store: Path) -> Path:
    return Path(f"{store}.snapshot")


def read_snapshot(store: Path) -> tuple[Mark, View] | None:
    """The snapshot beside ``store`` and the mark it is tied to; None if there is none or it
    cannot be used (any problem at all: it is only a cache)."""
    try:
        data: Any = json.loads(_read_regular(snapshot_path(store)))
        if data["format"] != FORMAT:
            return None
        m = data["mark"]
        mark = Mark(m["seq"], m["hash"], m["offset"], m["length"])
        view = data["view"]
    except Exception:  # any file at all may sit there (deeply nested JSON included)
        return None
    if not isinstance(view, dict) or not isinstance(mark.hash, str):
        return None
    numbers = (mark.seq, mark.offset, mark.length, view.get("last_seq"))
    if any(type(n) is not int for n in numbers) or view["last_seq"] != mark.seq:
        return None
    return mark, view


def _read_regular(path: Path) -> bytes:
    """The bytes of a regular file of sane size; ValueError for anything else (a FIFO would
    block a plain read forever)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
            raise ValueError(f"{path} is not a snapshot file")
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(MAX_BYTES + 1)
    finally:
        os.close(fd)


def write_snapshot(store: Path, mark: Mark, view: View) -> bool:
    """Replace the snapshot beside ``store`` (atomically); False if it cannot be written
    (a read-only folder, a full disk): start-up is then slower, nothing else changes."""
    if view.get("last_seq") != mark.seq:
        raise ValueError(f"view of event {view.get('last_seq')} tied to event {mark.seq}")
    target = snapshot_path(store)
    body = {
        "format": FORMAT,
        "mark": {"seq": mark.seq, "hash": mark.hash, "offset": mark.offset, "length": mark.length},
        "view": view,
    }
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    try:
        tmp.write_text(json.dumps(body, ensure_ascii=False, separators=(",", ":")), "utf-8")
        os.replace(tmp, target)
    except (OSError, ValueError, TypeError):
        with suppress(OSError):
            tmp.unlink()
        return False
    return True
