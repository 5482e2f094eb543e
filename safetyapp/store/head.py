"""What the app has acknowledged, and what it knows to be good.

``<store>.head`` holds the highest head the app has acknowledged for the store beside it: the
last event's seq and hash and where its line ends (its byte offset and length). It is written
when a store is created (a new file: temporary file created with ``O_EXCL``, fsynced, renamed
into place, folder fsynced; mode 0600) and then updated in place (``pwrite`` + ``fdatasync``)
with each append, under the writer lock, before the append returns. A store shorter than it, or holding another event at its
seq, was cut or rewritten: never a crash, since a crash can only leave a partial line *past* it.

Layout: two fixed-size slots of :data:`SLOT` bytes, each one ASCII line
``safetyapp-head/1 GEN SEQ HASH OFFSET LENGTH CHECK`` padded with spaces, where CHECK is the
first 16 hex characters of the SHA-256 of the text before it. An update overwrites the slot
that does not hold the newest generation (``pwrite`` + ``fsync``), so a write cut short by a
crash damages at most the slot being written, which its check then rejects, and the other slot
still holds the previous head. A reader takes the valid slot with the highest generation.

:func:`chain_fault` is the write gate's chain check: every link and every hash, over the very
bytes of each line, cheap enough to run on every open (see :class:`~safetyapp.store.journal.Journal`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetyapp.store.chain import canonical

__all__ = ["SLOT", "Head", "HeadDamaged", "chain_fault", "head_path", "read_head", "write_head"]

FORMAT = "safetyapp-head/1"
SLOT = 192
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

# Every file the store creates is readable by its owner only, whatever the umask.
FILE_MODE = 0o600


@dataclass(frozen=True)
class Head:
    """The acknowledged head: event ``seq`` with ``hash`` is the line that ends at byte
    ``offset`` of the store and is ``length`` bytes long."""

    seq: int
    hash: str
    offset: int
    length: int
    gen: int = 0


class HeadDamaged(Exception):
    """The head file exists but holds no valid slot (or is not a regular file)."""


def head_path(store: Path) -> Path:
    return Path(f"{store}.head")


def _slot(head: Head) -> bytes:
    body = f"{FORMAT} {head.gen} {head.seq} {head.hash} {head.offset} {head.length}"
    check = hashlib.sha256(body.encode("ascii")).hexdigest()[:16]
    text = f"{body} {check}".encode("ascii")
    if len(text) >= SLOT:
        raise ValueError("head record too long")
    return text.ljust(SLOT - 1) + b"\n"


def _parse_slot(raw: bytes) -> Head | None:
    try:
        parts = raw.decode("ascii").split()
    except UnicodeDecodeError:
        return None
    if len(raw) != SLOT or len(parts) != 7 or parts[0] != FORMAT:
        return None
    body = " ".join(parts[:6])
    if hashlib.sha256(body.encode("ascii")).hexdigest()[:16] != parts[6]:
        return None
    try:
        gen, seq, offset, length = (int(parts[i]) for i in (1, 2, 4, 5))
    except ValueError:
        return None
    digest = parts[3]
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return None
    if gen < 0 or seq < 1 or length < 2 or offset < length:
        return None
    return Head(seq, digest, offset, length, gen)


def _open_regular(path: Path, flags: int) -> int:
    """A descriptor on the regular file at ``path`` (never through a symlink, never blocking on
    a FIFO); HeadDamaged for anything else there."""
    try:
        fd = os.open(path, flags | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise
    except OSError as e:
        if os.path.islink(path):
            raise HeadDamaged(f"{path} is a symbolic link, not a head file") from None
        raise e
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise HeadDamaged(f"{path} is not a regular file")
    return fd


def _read_slots(fd: int) -> list[Head | None]:
    raw = os.pread(fd, 2 * SLOT, 0)
    return [_parse_slot(raw[i * SLOT : (i + 1) * SLOT]) for i in range(2)]


def read_head(store: Path) -> Head | None:
    """The acknowledged head beside ``store``; None if there is no head file. HeadDamaged if
    there is one with no valid slot; OSError if it cannot be read."""
    path = head_path(store)
    try:
        fd = _open_regular(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        slots = _read_slots(fd)
    finally:
        os.close(fd)
    valid = [s for s in slots if s is not None]
    if not valid:
        raise HeadDamaged(f"{path} holds no valid head record")
    return max(valid, key=lambda s: s.gen)


def write_head(store: Path, seq: int, digest: str, offset: int, length: int) -> None:
    """Record ``(seq, digest, offset, length)`` as the acknowledged head (durable on return).

    Updates the existing file in place (the older slot); creates it atomically if there is
    none. Raises OSError / HeadDamaged if it cannot be written."""
    path = head_path(store)
    try:
        fd = _open_regular(path, os.O_RDWR)
    except FileNotFoundError:
        _create(path, Head(seq, digest, offset, length, 1))
        return
    try:
        slots = _read_slots(fd)
        gens = [s.gen if s is not None else -1 for s in slots]
        newest = max(gens)
        target = 0 if gens[0] < gens[1] else 1  # overwrite the older (or invalid) slot
        if gens[0] == gens[1] == -1:
            target = 0
        data = _slot(Head(seq, digest, offset, length, newest + 1))
        if os.pwrite(fd, data, target * SLOT) != len(data):
            raise OSError(5, "short write of the head file")
        # In place, same size: the data is all there is to sync (no size or block change).
        _datasync(fd)
    finally:
        os.close(fd)


def _datasync(fd: int) -> None:
    sync = getattr(os, "fdatasync", os.fsync)
    sync(fd)


def _create(path: Path, head: Head) -> None:
    """A new head file, atomically: O_EXCL temporary file, fsync, rename, folder fsync."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        try:
            data = _slot(head) + _slot(Head(head.seq, head.hash, head.offset, head.length, 0))
            if os.write(fd, data) != len(data):
                raise OSError(5, "short write of the head file")
            os.fchmod(fd, 0o600)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    # Not every filesystem lets a directory be opened or fsynced; the file itself is synced.
    with suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


# --------------------------------------------------------------------------- the write gate


def chain_fault(
    data: bytes, records: Sequence[Mapping[str, Any]], prev: str
) -> tuple[int, str] | None:
    """The first event in ``records`` (parsed from ``data``, one line each, in order, the
    first linking to ``prev``) that breaks the chain, with verify's words; None if all hold.

    Each line's hash is checked over the line's own bytes minus its ``hash`` entry (what
    verify does, without decoding or encoding again); a line where that entry cannot be cut
    out safely must be exactly the canonical JSON of its record. (verify also rejects a line
    that is not in canonical form but whose hash was computed over that very text: only a
    deliberate forgery can be that, and one could as well be canonical; see RELIABILITY.md.)
    """
    sha256 = hashlib.sha256
    lines = data.split(b"\n")
    lines.pop()
    if len(lines) != len(records):
        raise ValueError("one line per record expected")
    for rec, line in zip(records, lines, strict=True):
        seq = rec["seq"]
        claimed = rec["hash"]
        if rec["prev_hash"] != prev:
            what = "the start of the log" if seq == 1 else f"event {seq - 1}"
            return seq, (
                f"event {seq}: prev_hash does not link to {what} "
                "(an event was removed, inserted or reordered)"
            )
        body = _cut_hash(line, claimed)
        if body is None:
            if canonical(rec).encode() != line:
                return seq, (
                    f"event {seq}: the stored text was edited (it is not in the form the app "
                    "writes)"
                )
            rest = dict(rec)
            del rest["hash"]
            body = canonical(rest).encode()
        if sha256(body).hexdigest() != claimed:
            return (
                seq,
                f"event {seq}: hash does not match its content (changed after it was written)",
            )
        prev = claimed
    return None


def _cut_hash(line: bytes, claimed: str) -> bytes | None:
    """``line`` without its top-level ``"hash":"…"`` entry (see chain._body_text)."""
    try:
        entry = b'"hash":"' + claimed.encode("ascii") + b'"'
    except UnicodeEncodeError:
        return None
    i = line.find(entry)
    if i <= 0 or line.find(entry, i + 1) != -1:
        return None
    j = i + len(entry)
    before = line[i - 1]
    if before == 0x2C:  # ","
        return line[: i - 1] + line[j:]
    if before == 0x7B:  # "{"
        return line[:i] + line[j + 1 :] if line[j : j + 1] == b"," else line[:i] + line[j:]
    return None


@dataclass(frozen=True)
class Mark:
    """A position in a store: event ``seq`` (with its ``hash``) is the line that ends at byte
    ``offset`` and is ``length`` bytes long, newline included. A snapshot is tied to one."""

    seq: int
    hash: str
    offset: int
    length: int
