"""The store: an append-only, hash-chained, crash-safe, locked event log in one JSON Lines file.

This module is the app's only IO. Layout and guarantees:

- One record per line: canonical JSON (see :mod:`safetyapp.store.chain`) + ``"\\n"``, UTF-8.
  Line *n* holds the record with ``seq == n``.
- Appends take a cross-process lock (``<path>.lock``), pick up what other processes appended,
  write all new lines with one ``os.write`` on an ``O_APPEND`` descriptor and ``fsync``. When
  :meth:`Journal.append` returns, the events are on disk. On a write error the file is cut back to
  its previous size and nothing is recorded.
- Opening never changes a damaged file: any structural problem raises :class:`StoreCorrupt`.
  The one exception is a *torn tail* (bytes after the last newline, left by a crash in the middle
  of an append that never returned): those bytes are moved to a side file and the store opens
  without them.
- Hash mismatches are not an open error: they are tampering, reported by :meth:`Journal.verify`.
- Reads go through TinyDB (:attr:`Journal.db`) backed by the in-memory records; TinyDB cannot
  write (:class:`AppendOnlyError`).

A :class:`Journal` object is not thread-safe; use one per thread (or guard it).
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from safetyapp.gcpause import SETTLE_FROM, collector_paused, settle_memory
from safetyapp.store.chain import (
    GENESIS,
    VerifyResult,
    parse_canonical,
    seal_line,
    verify_chain,
)
from safetyapp.store.head import (
    FILE_MODE,
    Head,
    HeadDamaged,
    Mark,
    chain_fault,
    head_path,
    read_head,
    write_head,
)
from safetyapp.store.prefix import prefix_digest
from safetyapp.store.snapshot import read_snapshot

if TYPE_CHECKING:
    import filelock

__all__ = [
    "AppendOnlyError",
    "Journal",
    "JournalStorage",
    "Mark",
    "StoreCorrupt",
    "StoreError",
    "StoreLocked",
    "StoreMissing",
]

Record = dict[str, Any]
EVENTS_TABLE = "events"
# The store and every file created beside it (lock, snapshot, torn tail) are for the owner
# only: the record names people and (today) holds PIN hashes.
_LOCK_POLL_SECONDS = 0.002
_SECOND = (
    "a second writer that ignored the writer lock (another safetyapp on a network folder, "
    "or another program)"
)
# Reads never block on opening: a FIFO (or a device) given as a store would otherwise hang the
# open forever; the regular-file check that follows names it instead.
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)


# --------------------------------------------------------------------------- errors


class StoreError(Exception):
    """Base class. ``str(e)`` is a complete one-line message for a user (path + what to do)."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class StoreMissing(StoreError):
    """There is no file at the path."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"no safetyapp store at {path}; check the path, or create a new store there", path
        )


class StoreCorrupt(StoreError):
    """The file is structurally damaged (or was changed underneath us). It was not modified."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        where = f" at line {line}" if line is not None else ""
        super().__init__(
            f"store file {path} is damaged{where}: {problem}; the file was left untouched - "
            "keep a copy and restore the store from a backup (or copy its intact part to a new "
            "file with `safetyapp verify --salvage NEW_FILE`) before using it again",
            path,
        )
        self.line = line
        self.problem = problem


class StoreLocked(StoreError):
    """The writer lock was not acquired within the timeout."""

    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__(
            f"another safetyapp process is writing to {path} (waited {timeout:g} s); try again",
            path,
        )
        self.timeout = timeout


class AppendOnlyError(StoreError):
    """Something tried to modify or remove records (e.g. a TinyDB write)."""


# --------------------------------------------------------------------------- helpers


def _check_record(path: Path, line: int, rec: Any) -> None:
    """Structural check of one parsed line (line number == expected seq)."""
    if type(rec) is not dict:
        raise StoreCorrupt(path, line, f"expected a JSON object, found {type(rec).__name__}")
    seq = rec.get("seq")
    if type(seq) is not int:
        raise StoreCorrupt(path, line, "missing or non-integer 'seq'")
    if seq != line:
        raise StoreCorrupt(
            path,
            line,
            f"expected seq {line}, found {seq} (an event is duplicated, missing or out of order)",
        )
    for key in ("prev_hash", "hash"):
        value = rec.get(key)
        if not isinstance(value, str) or len(value) != 64:
            raise StoreCorrupt(path, line, f"missing or malformed '{key}'")
    if not isinstance(rec.get("kind"), str):
        raise StoreCorrupt(path, line, "missing or non-string 'kind'")


def parse_lines(path: Path, data: bytes, first_line: int) -> list[Record]:
    """Parse ``data`` (complete lines, each ending in ``"\\n"``) starting at line ``first_line``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = first_line + data.count(b"\n", 0, e.start)
        raise StoreCorrupt(path, line, "bytes that are not valid UTF-8 text") from None
    lines = text.split("\n")
    lines.pop()  # data ends with "\n": the last piece is ""
    loads = json.loads
    out: list[Record] = []
    append = out.append
    with collector_paused(len(lines)):
        for n, line_text in enumerate(lines, first_line):
            try:
                rec = loads(line_text)
            except ValueError:
                raise StoreCorrupt(path, n, "the line is not valid JSON") from None
            except RecursionError:
                raise StoreCorrupt(path, n, _TOO_DEEP) from None
            _check_record(path, n, rec)
            append(rec)
    return out


_TOO_DEEP = "the line is nested too deeply to be a safetyapp event (not written by the app)"


def _line_fault(text: str) -> str:
    """Why a stored line is not the canonical JSON of a record (verify's words)."""
    try:
        value = json.loads(text)
    except ValueError:
        return "the line is not valid JSON"
    except RecursionError:
        return _TOO_DEEP
    if type(value) is not dict:
        return "the line is not a JSON object"
    return "the stored text was edited (it is not in the form the app writes)"


def stored_lines(data: bytes) -> tuple[list[str], int | None]:
    """The complete lines of a store file's bytes (an unfinished last line left out, as on
    open), up to any that is not UTF-8 text; and that line's number (None: all are)."""
    body = data[: data.rfind(b"\n") + 1]
    bad_line: int | None = None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        bad_line = body.count(b"\n", 0, e.start) + 1
        text = body[: body.rfind(b"\n", 0, e.start) + 1].decode("utf-8")
    lines = text.split("\n")
    lines.pop()
    return lines, bad_line


def whole_result(result: VerifyResult, bad_line: int | None) -> VerifyResult:
    """The verdict on a whole file from the check of its lines (see :func:`stored_lines`)."""
    if not result.ok:
        return result
    if bad_line is not None:
        problem = f"event {bad_line}: bytes that are not valid UTF-8 text"
        return VerifyResult(False, result.count, result.head_hash, bad_line, problem)
    if result.count == 0:
        return VerifyResult(False, 0, GENESIS, 1, "the store holds no events")
    return result


def verify_lines(
    lines: list[str],
    check: Callable[[Record], None] | None = None,
    after: tuple[int, str] = (0, GENESIS),
) -> VerifyResult:
    """The chain check of stored lines (each must be the canonical JSON of its record), the
    first following event ``after`` = (seq, hash). ``check`` as in :meth:`Journal.verify`."""
    # One streaming pass: records are checked as they are parsed and not kept (keeping
    # 100,000 parsed records alive makes the garbage collector rescan them over and over).
    found: list[tuple[int, str]] = []
    checked: list[tuple[int, str, str]] = []  # (seq, head before it, problem)

    def parsed() -> Iterator[Record]:
        read = parse_canonical
        for n, line_text in enumerate(lines, after[0] + 1):
            rec = read(line_text)
            if type(rec) is not dict:
                found.append((n, _line_fault(line_text)))
                return
            if check is not None and not checked:
                try:
                    check(rec)
                except StoreError as exc:
                    checked.append((n, str(rec.get("prev_hash")), str(exc)))
            yield rec

    # Every record yielded is exactly canonical(line): the chain check hashes the text itself.
    with collector_paused(len(lines)):  # records are dropped as checked: nothing to collect
        result = verify_chain(parsed(), lines, after)
    if checked and (result.ok or checked[0][0] < (result.first_bad_seq or 0)):
        n, head, problem = checked[0]
        return VerifyResult(False, n - 1, head, n, problem)
    if not result.ok:
        return result
    if found:
        n, problem = found[0]
        return VerifyResult(False, result.count, result.head_hash, n, f"event {n}: {problem}")
    return result


def _last_line(data: bytes) -> bytes:
    """The final line of ``data`` (which ends in ``"\\n"``), newline included."""
    return data[data.rfind(b"\n", 0, len(data) - 1) + 1 :]


def _pread_exact(fd: int, size: int, offset: int) -> bytes:
    parts: list[bytes] = []
    while size > 0:
        chunk = os.pread(fd, size, offset)
        if not chunk:
            break
        parts.append(chunk)
        size -= len(chunk)
        offset += len(chunk)
    return b"".join(parts)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        view = view[n:]


def fsync_dir(directory: Path) -> None:
    # Not every filesystem lets a directory be opened or fsynced; the data itself is already synced.
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_hint(e: OSError) -> str:
    if e.errno == errno.ENOSPC:
        return "free some disk space and retry"
    if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "make sure the file and its folder are writable, then retry"
    return "check the disk, then retry"


def _strerror(e: OSError) -> str:
    return e.strerror or str(e)


# --------------------------------------------------------------------------- journal


def create_new_file(
    path: Path, data: bytes, *, no_folder: str, exists: str, failed: Callable[[OSError], str]
) -> None:
    """Write ``data`` to a NEW file at ``path``, durably and atomically; never replace anything.

    Written to a temporary file, fsync'd, then hard-linked into place (a link never replaces);
    where a filesystem has no hard links, an exclusive create instead. Messages are the caller's.
    """
    parent = path.parent
    if not parent.is_dir():
        raise StoreError(no_folder, path)
    if os.path.lexists(path):
        raise StoreError(exists, path)
    tmp = parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic, and never replaces an existing file
        except FileExistsError:
            raise StoreError(exists, path) from None
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
            # No hard links on this filesystem: exclusive create + write + fsync instead.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            except FileExistsError:
                raise StoreError(exists, path) from None
            try:
                _write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
    except OSError as e:
        raise StoreError(failed(e), path) from e
    finally:
        with suppress(OSError):
            os.unlink(tmp)
    fsync_dir(parent)


class Journal:
    """One store file. Build with :meth:`create` or :meth:`open`, not directly."""

    path: Path
    warnings: list[str]

    def __init__(self, path: Path, *, lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.warnings = []
        self._lock_timeout = lock_timeout
        self._lock: filelock.FileLock | None = None  # made on the first write (see locked)
        self._records: list[Record] = []
        self._offset = 0  # bytes of complete lines parsed into _records
        self._size_seen = 0  # file size at the last read (> _offset: unfinished bytes at the end)
        self._last_line = b""  # bytes of the last parsed line, to notice rewrites
        self._file_id: tuple[int, int] | None = None
        self._table: dict[str, Record] | None = None  # TinyDB view, built lazily
        self._db: _JournalDB | None = None
        # Opened at a mark (see open_at): _records holds only the events after it until the
        # earlier part is read (read_prefix / adopt_prefix, or records() on demand).
        self._base: Mark | None = None
        # The write gate: the first event whose hash or link does not hold (seq, verify's
        # words), found when the lines were read; appends refuse while it is set.
        self._chain_fault: tuple[int, str] | None = None
        self._prefix_fault: tuple[int, str] | None = None  # from read_prefix, for adopt_prefix
        self._head: Head | None = None  # the acknowledged head read at open (<path>.head)
        # Opened at a mark whose prefix was proven (by its digest) to be the very bytes a
        # checked checkpoint was folded from: appends need not read it first.
        self._prefix_confirmed = False

    # ------------------------------------------------------------------ construction

    @classmethod
    def create(
        cls, path: Path, first: list[dict[str, Any]], *, lock_timeout: float = 10.0
    ) -> Journal:
        """Create a new store holding ``first`` (at least one event), atomically.

        Refuses (:class:`StoreError`) if anything exists at ``path`` or its folder is missing.
        """
        path = Path(path)
        if not first:
            raise ValueError("a new store needs at least one event (e.g. a 'store-created' event)")
        records: list[Record] = []
        lines: list[str] = []
        prev = GENESIS
        for seq, payload in enumerate(first, 1):
            rec, line = seal_line(payload, seq, prev)
            records.append(rec)
            lines.append(line)
            prev = rec["hash"]
        data = ("\n".join(lines) + "\n").encode("utf-8")

        create_new_file(
            path,
            data,
            no_folder=f"cannot create a store at {path}: the folder {path.parent} does not exist; "
            "create the folder first or choose another location",
            exists=f"cannot create a store at {path}: something already exists there and was not "
            "changed; open it instead, or choose another name",
            failed=lambda e: (
                f"could not create a store at {path}: {_strerror(e)}; nothing was "
                f"created; {_write_hint(e)}"
            ),
        )

        j = cls(path, lock_timeout=lock_timeout)
        st = os.stat(path)
        j._file_id = (st.st_dev, st.st_ino)
        j._records = records
        j._offset = j._size_seen = len(data)
        j._last_line = _last_line(data)
        if os.path.lexists(head_path(path)):
            j.warnings.append(
                f"{head_path(path)} was left by a store that is no longer at {path}; it now "
                "records the new store's head"
            )
        j._write_head()
        return j

    @classmethod
    def open(cls, path: Path, *, lock_timeout: float = 10.0) -> Journal:
        """Open an existing store.

        :class:`StoreMissing` if there is no file; :class:`StoreCorrupt` (file untouched) on any
        structural problem. A torn tail is moved to ``<path>.torn-<UTC time>`` (see
        :attr:`warnings`).
        """
        j = cls(Path(path), lock_timeout=lock_timeout)
        data, file_id = j._read_file()
        if not data:
            raise StoreCorrupt(j.path, None, "empty store file (0 bytes), not a safetyapp store")
        end = data.rfind(b"\n") + 1
        if end == 0:
            raise StoreCorrupt(j.path, 1, "no complete line, not a safetyapp store")
        body = data[:end]
        j._records = parse_lines(j.path, body, 1)
        j._offset = end
        j._size_seen = len(data)
        j._last_line = _last_line(body)
        j._file_id = file_id
        j._chain_fault = chain_fault(body, j._records, GENESIS)
        j._check_head(len(data) - end)  # a cut or rewrite raises before anything is changed
        if end < len(data):
            if j._chain_fault is None:
                j._recover_torn_tail_on_open()
            else:
                j.warnings.append(
                    f"{j.path} ends with {len(data) - end} bytes of an unfinished write; its "
                    "chain does not verify, so they were left in place and ignored"
                )
        return j

    @classmethod
    def open_at(
        cls, path: Path, mark: Mark, *, lock_timeout: float = 10.0, from_snapshot: bool = False
    ) -> Journal | None:
        """Open a store reading only what follows ``mark`` (the events before it are read
        later, on demand). None when the file does not hold that event at that place (the
        store was replaced, cut or rewritten since the mark was taken), or ends in a torn
        tail: open it in full then.

        Raises as :meth:`open` for what follows the mark.
        """
        j = cls(Path(path), lock_timeout=lock_timeout)
        start = mark.offset - mark.length
        if mark.seq < 1 or start < 0 or mark.length < 2:
            return None
        try:
            fd = os.open(j.path, _READ_FLAGS)
        except FileNotFoundError:
            raise StoreMissing(j.path) from None
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size < mark.offset:
                return None
            # The mark's line must start a line: the byte before it is a newline.
            if start and _pread_exact(fd, 1, start - 1) != b"\n":
                return None
            line = _pread_exact(fd, mark.length, start)
            if len(line) != mark.length or not line.endswith(b"\n"):
                return None
            tail = _pread_exact(fd, st.st_size - mark.offset, mark.offset)
        except OSError:
            return None
        finally:
            os.close(fd)
        try:
            rec = json.loads(line)
        except ValueError:
            return None
        if type(rec) is not dict or rec.get("seq") != mark.seq or rec.get("hash") != mark.hash:
            return None
        end = tail.rfind(b"\n") + 1
        if end < len(tail):
            # A torn tail is set aside (the file changed) only once the whole file has been
            # checked, as a full open does: a damaged file is never changed.
            return None
        complete = tail[:end]
        j._base = mark
        j._file_id = (st.st_dev, st.st_ino)
        j._records = parse_lines(j.path, complete, mark.seq + 1)
        j._offset = mark.offset + end
        j._size_seen = st.st_size
        j._last_line = _last_line(complete) if end else line
        j._chain_fault = chain_fault(complete, j._records, mark.hash)
        # An acknowledged head before the mark is checked in read_prefix (or confirm_prefix);
        # ``from_snapshot``: the mark is the snapshot's, so it is no witness of a cut.
        j._check_head(0, witness=not from_snapshot)
        return j

    @property
    def partial(self) -> bool:
        """True while the events before the mark this journal was opened at are not read."""
        return self._base is not None

    @property
    def chain_fault(self) -> tuple[int, str] | None:
        """The first event whose hash or link does not hold (seq, verify's words), as far as
        read; appends refuse while there is one."""
        return self._chain_fault

    @property
    def prefix_fault(self) -> tuple[int, str] | None:
        """The same for the events :meth:`read_prefix` read."""
        return self._prefix_fault

    def mark(self) -> Mark:
        """Where the store ends now (as far as this journal has read)."""
        return Mark(self.last_seq, self.head_hash, self._offset, len(self._last_line))

    def read_prefix(self) -> list[Record]:
        """The events before the opening mark, read and checked as :meth:`open` does. Safe to
        call from another thread (it only reads that part of the file, which never changes);
        hand the result to :meth:`adopt_prefix` on the journal's own thread."""
        base = self._base
        if base is None:
            return []
        with self._same_file() as (fd, _):
            data = _pread_exact(fd, base.offset, 0)
        if len(data) != base.offset:
            raise StoreCorrupt(self.path, None, "changed by another program: it was cut short")
        records = parse_lines(self.path, data, 1)
        if len(records) != base.seq or records[-1]["hash"] != base.hash:
            raise StoreCorrupt(
                self.path, base.seq, "changed by another program: this line moved or changed"
            )
        self._prefix_fault = chain_fault(data, records, GENESIS)
        head = self._head
        if head is not None and head.seq <= base.seq and records[head.seq - 1]["hash"] != head.hash:
            raise StoreCorrupt(self.path, head.seq, self._rewritten(head, records[head.seq - 1]))
        return records

    def confirm_prefix(self, digest: str) -> bool:
        """Opened at a mark: True when the prefix digest (BLAKE3) of every byte before the
        mark is ``digest`` (the bytes a checkpoint was folded from; hashed, not parsed) and the
        acknowledged head, if it lies before the mark, is the event at its place there. Then
        appends need not read the earlier part first (it is read when something asks for it,
        see :meth:`records`)."""
        base = self._base
        if base is None:
            return False
        found = prefix_digest(self.path, base.offset)
        if found is None or not secrets.compare_digest(found, digest):
            return False
        head = self._head
        if head is not None and head.seq <= base.seq:
            with self._same_file() as (fd, _):
                line = _pread_exact(fd, head.length, head.offset - head.length)
            try:
                rec = json.loads(line)
            except ValueError:
                return False
            if type(rec) is not dict or rec.get("seq") != head.seq or rec.get("hash") != head.hash:
                return False
        self._prefix_confirmed = True
        return True

    def adopt_prefix(self, prefix: list[Record]) -> None:
        """Put the events :meth:`read_prefix` returned in front of the rest."""
        base = self._base
        if base is None:
            return
        if len(prefix) != base.seq or prefix[-1]["hash"] != base.hash:
            raise ValueError("not this journal's prefix")
        prefix.extend(self._records)
        self._records = prefix
        self._base = None
        if len(prefix) >= SETTLE_FROM:
            settle_memory()  # read for good (the audit screen, a report): see gcpause
        if self._prefix_fault is not None:
            self._chain_fault = self._prefix_fault  # the earlier fault is the first one

    def since(self, seq: int) -> list[Record]:
        """The events after event ``seq`` (which must not be before the opening mark)."""
        first = self._base.seq if self._base is not None else 0
        if seq < first:
            raise ValueError(f"events before {first} are not read yet")
        return self._records[seq - first :]

    def _read_file(self) -> tuple[bytes, tuple[int, int]]:
        try:
            fd = os.open(self.path, _READ_FLAGS)
        except FileNotFoundError:
            raise StoreMissing(self.path) from None
        except OSError as e:
            raise StoreError(
                f"cannot read the store {self.path}: {_strerror(e)}; check its permissions",
                self.path,
            ) from e
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise StoreError(
                    f"{self.path} is not a regular file, so it is not a safetyapp store; "
                    "check the path",
                    self.path,
                )
            with os.fdopen(os.dup(fd), "rb") as f:
                data = f.read()
            return data, (st.st_dev, st.st_ino)
        except OSError as e:
            raise StoreError(
                f"cannot read the store {self.path}: {_strerror(e)}; check the disk", self.path
            ) from e
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ the acknowledged head

    def _read_head(self) -> Head | None:
        hp = head_path(self.path)
        try:
            return read_head(self.path)
        except HeadDamaged as e:
            raise StoreCorrupt(
                self.path,
                None,
                f"{e}: the record of what the app acknowledged is damaged, so a cut cannot be "
                f"ruled out (if you know this store is complete, move {hp} aside and reopen)",
            ) from None
        except OSError as e:
            raise StoreError(
                f"cannot read {hp}, which records the last event the app acknowledged for "
                f"{self.path}: {_strerror(e)}; check its permissions",
                self.path,
            ) from e

    def _check_head(self, partial: int, *, witness: bool = True) -> None:
        """On open: the file must hold the acknowledged head (StoreCorrupt: cut or rewritten);
        a missing head file is a warning (a store from before heads, or the file removed)."""
        head = self._read_head()
        if head is None:
            if witness:
                self._check_snapshot_witness(partial)
            self.warnings.append(
                f"{self.path} has no head file ({head_path(self.path)}), which records the last "
                "event the app acknowledged, so whether events were cut from its end cannot be "
                "checked (a store from an older version, or the file was removed); it is "
                "written with the next event recorded"
            )
            return
        self._head = head
        if head.seq > self.last_seq:
            # Another process may have appended (and moved the head) after this one read the
            # file: read what it added before calling it a cut.
            self.refresh()
            partial = self._size_seen - self._offset
        self._compare_head(head, partial)

    def _check_snapshot_witness(self, partial: int) -> None:
        """Without a head file, a snapshot tied to a later event than the file holds is a
        witness of a cut all the same."""
        saved = read_snapshot(self.path)
        if saved is not None and saved[0].seq > self.last_seq:
            mark = saved[0]
            raise StoreCorrupt(self.path, None, self._cut(
                Head(mark.seq, mark.hash, mark.offset, mark.length), partial,
                f"the app's snapshot {self.path}.snapshot"))  # fmt: skip

    def _cut(self, head: Head, partial: int, witness: str) -> str:
        n = self.last_seq
        extra = f" and {partial} bytes of a partial line" if partial else ""
        return (
            f"the record was cut: the app acknowledged {head.seq} events (head "
            f"{head.hash[:12]}…), the file holds {n}{extra}; events {n + 1} to {head.seq} are "
            f"missing (recorded in {witness}; if you restored an older copy on purpose, move "
            "that file aside)"
        )

    def _rewritten(self, head: Head, rec: Record) -> str:
        return (
            f"the record was rewritten: event {head.seq} is not the event the app acknowledged "
            f"(head {head.hash[:12]}…, the file has {str(rec['hash'])[:12]}…; recorded in "
            f"{head_path(self.path)}; if you restored another copy on purpose, move that file "
            "aside)"
        )

    def _compare_head(self, head: Head, partial: int) -> None:
        if head.seq > self.last_seq:
            raise StoreCorrupt(self.path, None, self._cut(head, partial, str(head_path(self.path))))
        first = self._base.seq if self._base is not None else 0
        if head.seq > first:
            rec = self._records[head.seq - first - 1]
            if rec["hash"] != head.hash:
                raise StoreCorrupt(self.path, head.seq, self._rewritten(head, rec))

    def _write_head(self) -> None:
        """Record where the store ends now as the acknowledged head (before an append returns)."""
        try:
            write_head(self.path, self.last_seq, self.head_hash, self._offset, len(self._last_line))
        except (OSError, HeadDamaged) as e:
            # The events are on disk; only the cut check lags behind them.
            self.warnings.append(
                f"could not update {head_path(self.path)} ({e}); the events were recorded, but "
                "a cut of them could go unnoticed until the next write updates it"
            )
        else:
            self._head = Head(self.last_seq, self.head_hash, self._offset, len(self._last_line))

    def _recover_torn_tail_on_open(self) -> None:
        try:
            with self.locked():
                if self._size_seen > self._offset:
                    self._move_torn_tail_locked()
        except (StoreLocked, StoreCorrupt):
            raise
        except (StoreError, OSError) as e:
            # Cannot write here (read-only file or folder): leave the file alone, ignore the tail.
            n = self._size_seen - self._offset
            self.warnings.append(
                f"{self.path} ends with {n} bytes of an unfinished write (an append interrupted "
                "by a crash, never confirmed); the file cannot be changed here, so they were "
                f"left in place and ignored ({e})"
            )

    def _move_torn_tail_locked(self) -> None:
        """With the lock held: move bytes after the last complete line to a side file."""
        fd = os.open(self.path, os.O_RDWR)
        try:
            size = os.fstat(fd).st_size
            if size <= self._offset:
                self._size_seen = size
                return
            tail = _pread_exact(fd, size - self._offset, self._offset)
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            side = Path(f"{self.path}.torn-{stamp}")
            k = 1
            while True:
                try:
                    sfd = os.open(side, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
                    break
                except FileExistsError:
                    k += 1
                    side = Path(f"{self.path}.torn-{stamp}-{k}")
            try:
                _write_all(sfd, tail)
                os.fsync(sfd)
            finally:
                os.close(sfd)
            fsync_dir(self.path.parent)
            os.ftruncate(fd, self._offset)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._size_seen = self._offset
        self.warnings.append(
            f"{self.path} ended with {len(tail)} bytes of an unfinished write (an append "
            f"interrupted by a crash, never confirmed); they were moved to {side} and the store "
            "was opened without them"
        )

    # ------------------------------------------------------------------ reading

    def records(self) -> list[Record]:
        """All records, in order. This is the journal's own list (no copy): do not mutate it
        or the records in it. (Opened at a mark, the earlier events are read first.)"""
        if self._base is not None:
            self.adopt_prefix(self.read_prefix())
        return self._records

    @property
    def head_hash(self) -> str:
        """Hash of the last record (what a report prints)."""
        if self._records:
            return str(self._records[-1]["hash"])
        return self._base.hash if self._base is not None else GENESIS

    @property
    def last_seq(self) -> int:
        if self._records:
            return int(self._records[-1]["seq"])
        return self._base.seq if self._base is not None else 0

    @contextmanager
    def _same_file(self) -> Iterator[tuple[int, os.stat_result]]:
        """A read descriptor on the file this journal read before (and its stat); StoreCorrupt
        if it was removed, renamed or replaced since."""
        try:
            fd = os.open(self.path, _READ_FLAGS)
        except FileNotFoundError:
            raise StoreCorrupt(
                self.path, None, "the file was removed or renamed by another program"
            ) from None
        try:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != self._file_id:
                raise StoreCorrupt(self.path, None, "the file was replaced by another program")
            yield fd, st
        finally:
            os.close(fd)

    def refresh(self) -> list[Record]:
        """Pick up records appended by other processes since our last read; return them.

        Raises :class:`StoreCorrupt` if the part already read was changed, cut or replaced.
        Unfinished bytes at the end (a write in progress, or a torn tail) are left for later.
        """
        with self._same_file() as (fd, st):
            size = st.st_size
            if size < self._offset:
                raise StoreCorrupt(
                    self.path,
                    None,
                    f"changed by another program: it is now {size} bytes, shorter than the "
                    f"{self._offset} bytes already read (cut, or written over by {_SECOND})",
                )
            n = len(self._last_line)
            if _pread_exact(fd, n, self._offset - n) != self._last_line:
                raise StoreCorrupt(
                    self.path,
                    self.last_seq,
                    f"changed by another program: event {self.last_seq} is not what this "
                    f"process read or wrote there (the chain forked: written over by {_SECOND})",
                )
            if size == self._offset:
                self._size_seen = size
                return []
            chunk = _pread_exact(fd, size - self._offset, self._offset)
        self._size_seen = self._offset + len(chunk)
        end = chunk.rfind(b"\n") + 1
        if end == 0:
            return []
        complete = chunk[:end]
        try:
            new = parse_lines(self.path, complete, self.last_seq + 1)
        except StoreCorrupt as e:
            raise StoreCorrupt(self.path, e.line, self._forked(e.problem)) from None
        fault = chain_fault(complete, new, self.head_hash)
        if fault is not None:
            raise StoreCorrupt(self.path, fault[0], self._forked(fault[1]))
        self._extend(new, complete)
        return new

    def _forked(self, problem: str) -> str:
        return (
            f"what was appended after event {self.last_seq} (head {self.head_hash[:12]}…, the "
            f"last event this process read or wrote) does not follow it: {problem}; the chain "
            f"forked - {_SECOND} wrote to it; nothing more is written to it"
        )

    def read_bytes(self) -> bytes:
        """The store file's bytes as they are now (for a check that reads them once)."""
        return self._read_file()[0]

    def verify(
        self, check: Callable[[Record], None] | None = None, *, data: bytes | None = None
    ) -> VerifyResult:
        """Re-read the file from disk and check the whole chain (seq, hashes, links).

        Also flags a line that is not byte-for-byte the canonical JSON of its record (an edit
        that kept the meaning). An unfinished line at the end is ignored, as on open.
        ``check``, when given, is called with each record in order, in the same pass (replay,
        see ``repository.verify_replayed``); the first :class:`StoreError` it raises is the
        result's problem unless the chain breaks at an earlier event. After it, no more calls.
        ``data``: the file's bytes, already read (:meth:`read_bytes`), checked instead.
        """
        if data is None:
            data, _ = self._read_file()
        lines, bad = stored_lines(data)
        return whole_result(verify_lines(lines, check), bad)

    # ------------------------------------------------------------------ writing

    @staticmethod
    def prepare_to_write() -> None:
        """Import what the first write needs (the lock's library, ~10 ms), so a first decision
        taken on an interface's thread does not pay for it (call from a worker thread)."""
        import filelock  # noqa: F401

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the writer lock (re-entrant); on entry, pick up other processes' appends."""
        import filelock  # on the first write: a read-only start never imports it (~8 ms)

        lock = self._lock
        if lock is None:
            lock = self._lock = filelock.FileLock(
                f"{self.path}.lock", timeout=self._lock_timeout, mode=FILE_MODE
            )
        if lock.is_locked:  # this thread holds it already: caught up when it took it
            yield
            return
        try:
            lock.acquire(timeout=self._lock_timeout, poll_interval=_LOCK_POLL_SECONDS)
        except filelock.Timeout:
            raise StoreLocked(self.path, self._lock_timeout) from None
        except OSError as e:
            raise StoreError(
                f"cannot lock the store {self.path}: the lock file cannot be created in "
                f"{self.path.parent} ({_strerror(e)}); make sure that folder is writable",
                self.path,
            ) from e
        try:
            self.refresh()
            yield
        finally:
            lock.release()

    def append(self, payloads: list[dict[str, Any]]) -> list[Record]:
        """Append events (each a dict with a string ``kind``); return the sealed records.

        All or nothing, and durable (fsynced) when it returns. Raises ValueError for an invalid
        payload and :class:`StoreError` if the file cannot be written (nothing is recorded then).
        """
        payloads = list(payloads)
        if not payloads:
            return []
        with self.locked():
            if self._base is not None and not self._prefix_confirmed:
                self.records()  # the earlier part read and checked first
            if self._chain_fault is not None:
                raise StoreError(
                    f"refused to write to {self.path}: its hash chain does not verify "
                    f"({self._chain_fault[1]}); nothing was recorded - run `safetyapp verify`, "
                    "keep a copy, and restore the store from a backup (or copy its intact part "
                    "to a new file with `safetyapp verify --salvage NEW_FILE`)",
                    self.path,
                )
            head = self._read_head()
            if head is not None:
                self._compare_head(head, self._size_seen - self._offset)
            if self._size_seen > self._offset:
                # A writer crashed mid-append since we opened: set its bytes aside first.
                try:
                    self._move_torn_tail_locked()
                except OSError as e:
                    raise StoreError(
                        f"could not write to {self.path}: it ends with "
                        f"{self._size_seen - self._offset} bytes of an unfinished write that "
                        f"cannot be set aside ({_strerror(e)}); nothing was recorded; "
                        f"{_write_hint(e)}",
                        self.path,
                    ) from e
            seq = self.last_seq
            prev = self.head_hash
            sealed: list[Record] = []
            lines: list[str] = []
            for payload in payloads:
                seq += 1
                rec, line = seal_line(payload, seq, prev)
                prev = rec["hash"]
                sealed.append(rec)
                lines.append(line)
            data = ("\n".join(lines) + "\n").encode("utf-8")
            self._write_locked(data)
            self._extend(sealed, data)
            self._write_head()
        return sealed

    def _write_locked(self, data: bytes) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as e:
            raise StoreError(
                f"could not write to {self.path}: {_strerror(e)}; nothing was recorded; "
                f"{_write_hint(e)}",
                self.path,
            ) from e
        try:
            try:
                _write_all(fd, data)
                os.fsync(fd)
            except OSError as e:
                try:
                    os.ftruncate(fd, self._offset)
                    os.fsync(fd)
                    self._size_seen = self._offset
                    outcome = "nothing was recorded"
                except OSError:
                    outcome = (
                        "part of it may be on disk; reopen the store, which sets an unfinished "
                        "entry aside, and check what was recorded"
                    )
                raise StoreError(
                    f"could not write to {self.path}: {_strerror(e)}; {outcome}; {_write_hint(e)}",
                    self.path,
                ) from e
        finally:
            os.close(fd)

    def _extend(self, new: list[Record], raw: bytes) -> None:
        self._records.extend(new)
        self._offset += len(raw)
        self._size_seen = max(self._size_seen, self._offset)
        self._last_line = _last_line(raw)
        if self._table is not None:
            table = self._table
            for rec in new:
                table[str(rec["seq"])] = rec
        if self._db is not None:
            self._db.clear_query_caches()

    # ------------------------------------------------------------------ query layer

    @property
    def db(self) -> TinyDB:
        """TinyDB over the records: table ``"events"`` (also the default table), doc_id == seq.

        Read-only: any TinyDB write raises :class:`AppendOnlyError`. Query results are TinyDB
        Documents (shallow copies); do not mutate nested values.
        """
        if self._db is None:
            self._db = _JournalDB(self, storage=JournalStorage)
        return self._db

    def _events_table(self) -> dict[str, Record]:
        if self._table is None:
            self._table = {str(rec["seq"]): rec for rec in self.records()}
        return self._table


class JournalStorage(Storage):
    """TinyDB storage serving a :class:`Journal`'s records from memory. Cannot change them."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def read(self) -> dict[str, dict[str, Any]]:
        # A fresh outer dict each time: TinyDB's Table mutates what read() returns.
        return {EVENTS_TABLE: self.journal._events_table()}

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        current = self.journal._events_table()
        events = data.get(EVENTS_TABLE)
        same = events is current or events == current
        others_empty = all(not table for name, table in data.items() if name != EVENTS_TABLE)
        if same and others_empty:
            return  # e.g. table creation: changes nothing
        raise AppendOnlyError(
            f"the store {self.journal.path} is append-only: records cannot be changed or removed "
            "(attempted through TinyDB); add new events with Journal.append()",
            self.journal.path,
        )

    def close(self) -> None:
        pass


class _AppendOnlyTable(Table):
    """TinyDB table whose every write is refused (before it can touch the shared records)."""

    def _update_table(self, updater: Callable[[dict[int, Mapping[str, Any]]], None]) -> None:
        if not self._read_table():
            probe: dict[int, Mapping[str, Any]] = {}
            updater(probe)
            if not probe:
                return  # changes nothing (e.g. persist_empty table creation)
        storage = self.storage
        path = storage.journal.path if isinstance(storage, JournalStorage) else None
        raise AppendOnlyError(
            f"the store {path} is append-only: table {self.name!r} cannot be changed through "
            "TinyDB; add new events with Journal.append()",
            path,
        )


class _JournalDB(TinyDB):
    table_class = _AppendOnlyTable
    default_table_name = EVENTS_TABLE

    def clear_query_caches(self) -> None:
        for table in self._tables.values():
            table.clear_cache()
