"""A second witness off the laptop: an append-only copy of the store on another medium.

``safetyapp mirror --to DIR`` keeps ``DIR/<store file name>`` a byte-for-byte prefix of the
store. Every sync first checks that the mirror still is one: a *fork* (a byte differs, on either
side) or a *cut* (the store is shorter than its mirror; the mirror is shorter than what it had
acknowledged) is reported as a :class:`MirrorProblem` and nothing is written - never "fixed".
Only then are the store's new complete lines (chain-checked from the mirror's last event)
appended with one write, fsynced. A mirror that ends in part of a line past its acknowledged
head (the medium was pulled out during a write) is still a byte prefix: the rest is appended.

Files:

- ``DIR/<name>``: the mirror (JSON lines, the store's own bytes);
- ``DIR/<name>.mirror-head.json``: its acknowledged head (events, hash, bytes) and a random id;
- ``<store>.mirror.json`` beside the store: where the mirror is, and what it last acknowledged
  (so a mirror cut together with its head file is still noticed). Not evidence: configuration.
- ``<store>.mirror.lock`` beside the store: one sync at a time, across processes.

When a mirror is configured, :class:`AutoMirror` (owned by the repository) syncs after each
decision in a background thread, best effort: an absent or unwritable medium never blocks work,
it only shows in :attr:`AutoMirror.status`.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from safetyapp.domain.events import iso
from safetyapp.store.chain import GENESIS, parse_canonical, record_hash
from safetyapp.store.journal import StoreError, fsync_dir

CONFIG_SUFFIX = ".mirror.json"  # beside the store: <store>.mirror.json
LOCK_SUFFIX = ".mirror.lock"  # beside the store: <store>.mirror.lock
HEAD_SUFFIX = ".mirror-head.json"  # in the mirror folder: <name>.mirror-head.json
_CHUNK = 1 << 20


# --------------------------------------------------------------------------- file names


def config_path(store: Path) -> Path:
    """The mirror configuration beside ``store``."""
    return Path(f"{store}{CONFIG_SUFFIX}")


def lock_path(store: Path) -> Path:
    return Path(f"{store}{LOCK_SUFFIX}")


def mirror_path(store: Path, directory: Path) -> Path:
    """The mirror of ``store`` in ``directory``: the same file name."""
    return Path(directory) / Path(store).name


def mirror_head_path(store: Path, directory: Path) -> Path:
    return Path(directory) / f"{Path(store).name}{HEAD_SUFFIX}"


def protected_files(store: Path) -> list[Path]:
    """Every file this module keeps for ``store`` (outputs must never be written onto them):
    the configuration and lock beside it and, when one is configured, the mirror and its head.
    Reads the configuration; never raises."""
    store = Path(store)
    files = [config_path(store), lock_path(store)]
    try:
        config = read_config(store)
    except MirrorProblem:
        config = None
    if config is not None:
        files += [mirror_path(store, config.directory), mirror_head_path(store, config.directory)]
    return files


# --------------------------------------------------------------------------- errors, results


class MirrorUnreachable(StoreError):
    """The mirror folder is absent or cannot be read or written (nothing was written)."""


class MirrorProblem(StoreError):
    """The mirror is not a prefix of the store (a fork or a cut), or the store's new events do
    not verify, or a mirror file is unreadable. Nothing was written."""


@dataclass(frozen=True)
class MirrorConfig:
    directory: Path
    mirror_id: str | None = None  # the id of the mirror last acknowledged there
    events: int = 0  # what that mirror last acknowledged
    bytes: int = 0
    synced_at: str | None = None  # when (UTC, events.iso form) it last did


@dataclass(frozen=True)
class MirrorResult:
    mirror: Path
    events: int  # events the mirror now holds (complete lines)
    appended: int  # of which new in this sync
    created: bool


@dataclass(frozen=True)
class MirrorStatus:
    """The last automatic sync's outcome, for the board."""

    state: Literal["ok", "unreachable", "problem"]
    directory: Path
    events: int = 0  # events the mirror holds (when ok)
    message: str = ""

    def describe(self, store_events: int) -> str:
        if self.state == "unreachable":
            return f"mirror unreachable: {self.directory}"
        if self.state == "problem":
            return f"mirror PROBLEM: {self.message}"
        behind = store_events - self.events
        if behind <= 0:
            return "mirror up to date"
        return f"mirror {behind} event{'s' if behind != 1 else ''} behind"


@dataclass(frozen=True)
class _Head:
    mirror_id: str | None
    events: int
    hash: str
    bytes: int


# --------------------------------------------------------------------------- config and head


def _read_json(path: Path, what: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as f:
            raw = f.read(1 << 16)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise MirrorProblem(f"cannot read the {what} {path}: {e.strerror or e}", path) from e
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        value = None
    if type(value) is not dict:
        raise MirrorProblem(
            f"the {what} {path} is not the JSON object safetyapp writes; nothing was written - "
            "check it (or move it aside) and run `safetyapp mirror --to DIR` again",
            path,
        )
    return value


def _int(value: Any) -> int:
    return value if type(value) is int and value >= 0 else 0


def read_config(store: Path) -> MirrorConfig | None:
    """The configured mirror, or None when there is none."""
    path = config_path(Path(store))
    value = _read_json(path, "mirror configuration")
    if value is None:
        return None
    to = value.get("to")
    if not isinstance(to, str) or not to:
        raise MirrorProblem(
            f"the mirror configuration {path} names no folder ('to'); run "
            "`safetyapp mirror --to DIR` to set it",
            path,
        )
    mirror_id = value.get("mirror_id")
    return MirrorConfig(
        Path(to),
        mirror_id if isinstance(mirror_id, str) else None,
        _int(value.get("events")),
        _int(value.get("bytes")),
        synced if isinstance(synced := value.get("synced_at"), str) else None,
    )


def _write_json_atomic(path: Path, value: dict[str, Any]) -> None:
    """Replace ``path`` with ``value``: a new temporary file (exclusive, unpredictable name),
    fsynced, renamed over it."""
    data = (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    finally:
        with suppress(OSError):
            os.unlink(tmp)
    fsync_dir(path.parent)


def _write_config(store: Path, config: MirrorConfig) -> None:
    _write_json_atomic(
        config_path(store),
        {
            "note": "where safetyapp mirrors this store (configuration, not evidence)",
            "to": str(config.directory),
            "mirror_id": config.mirror_id,
            "events": config.events,
            "bytes": config.bytes,
            "synced_at": config.synced_at,
        },
    )


def _read_head(path: Path) -> _Head | None:
    value = _read_json(path, "mirror head file")
    if value is None:
        return None
    head_hash = value.get("hash")
    mirror_id = value.get("mirror_id")
    size = value.get("bytes")
    if not isinstance(head_hash, str) or type(size) is not int or size < 0:
        raise MirrorProblem(
            f"the mirror head file {path} lacks its 'hash' or 'bytes'; nothing was written - "
            "keep the mirror as it is and check it by hand",
            path,
        )
    return _Head(
        mirror_id if isinstance(mirror_id, str) else None, _int(value.get("events")), head_hash,
        size,
    )  # fmt: skip


# --------------------------------------------------------------------------- reading


def _read_store(store: Path) -> bytes:
    """The store's complete lines (a torn tail, an unfinished write, is left out)."""
    try:
        fd = os.open(store, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise StoreError(
            f"no store at {store}; check the path (or --db / SAFETYAPP_DB)", store
        ) from None
    except OSError as e:
        raise StoreError(f"cannot read the store {store}: {e.strerror or e}", store) from e
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise StoreError(
                f"{store} is not a regular file, so it is not a safetyapp store", store
            )
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read()
    finally:
        os.close(fd)
    return data[: data.rfind(b"\n") + 1]


def _first_difference(data: bytes, fd: int, size: int) -> int | None:
    """The first offset below ``min(size, len(data))`` where the file ``fd`` (``size`` bytes)
    differs from ``data``; None if it is a prefix of ``data`` (or ``data`` of it)."""
    end = min(size, len(data))
    offset = 0
    while offset < end:
        n = min(_CHUNK, end - offset)
        chunk = os.pread(fd, n, offset)
        if len(chunk) < n:
            chunk += b"\0"  # shorter than it said: differs here at the latest
        if chunk[:n] != data[offset : offset + n]:
            i = 0
            while i < n and chunk[i] == data[offset + i]:
                i += 1
            return offset + i
        offset += n
    return None


def _events_in(data: bytes, size: int) -> int:
    return data.count(b"\n", 0, size)


def _line_ending_at(data: bytes, end: int) -> bytes:
    """The text of the line of ``data`` that ends (newline included) at byte ``end``."""
    return data[data.rfind(b"\n", 0, end - 1) + 1 : end - 1]


def _hash_of_line(line: bytes) -> str | None:
    try:
        rec = json.loads(line)
    except (ValueError, RecursionError):
        return None
    value = rec.get("hash") if isinstance(rec, dict) else None
    return value if isinstance(value, str) else None


def _check_new_lines(store: Path, data: bytes, start: int) -> None:
    """The complete lines of ``data`` from byte ``start`` (a line start) must be records that
    chain on from the line before it (or from the start of the log)."""
    seq = _events_in(data, start)
    prev = GENESIS
    if seq:
        prev = _hash_of_line(_line_ending_at(data, start)) or ""
    text = data[start:].decode("utf-8", errors="replace").split("\n")
    text.pop()
    for line in text:
        seq += 1
        try:
            rec = parse_canonical(line)
        except RecursionError:  # nested deeper than JSON can be read here
            rec = None
        problem = None
        if type(rec) is not dict:
            problem = "the line is not an event in the form the app writes"
        elif rec.get("seq") != seq:
            problem = f"expected seq {seq}, found {rec.get('seq')!r}"
        elif rec.get("prev_hash") != prev:
            problem = "prev_hash does not link to the event before it"
        elif record_hash(rec) != rec.get("hash"):
            problem = "hash does not match its content"
        if problem is not None:
            raise MirrorProblem(
                f"the store {store} does not verify at event {seq} ({problem}); nothing was "
                "mirrored - run `safetyapp verify` on it",
                store,
            )
        prev = rec["hash"]


def _describe_fork(store: Path, mirror: Path, data: bytes, offset: int) -> str:
    event = _events_in(data, offset) + 1
    return (
        f"FORK: the store {store} and its mirror {mirror} differ from event {event} "
        f"(byte {offset}): one of them was changed after it was mirrored; nothing was written - "
        "keep both files as they are, and check each with `safetyapp --db FILE verify`"
    )


# --------------------------------------------------------------------------- the checks


@dataclass
class _Examined:
    size: int  # the mirror's size in bytes
    events: int  # complete events in it
    head: _Head | None


def _examine(
    store: Path,
    directory: Path,
    data: bytes,
    fd: int,
    config: MirrorConfig | None,
) -> _Examined:
    """Raise :class:`MirrorProblem` unless the mirror open on ``fd`` is a byte prefix of the
    store's complete lines ``data`` that kept all it acknowledged."""
    mirror = mirror_path(store, directory)
    head = _read_head(mirror_head_path(store, directory))
    size = os.fstat(fd).st_size
    events = _events_in(data, min(size, len(data)))
    diff = _first_difference(data, fd, size)
    if diff is not None:
        raise MirrorProblem(_describe_fork(store, mirror, data, diff), mirror)
    if size > len(data):
        extra = os.pread(fd, size - len(data), len(data)).count(b"\n")
        raise MirrorProblem(
            f"CUT: the store {store} is shorter than its mirror {mirror}: the store ends at event "
            f"{_events_in(data, len(data))}, the mirror holds {extra} more event(s) after it; the "
            "store was cut (or the mirror holds events the store lost); nothing was written - "
            "keep both files and check them with `safetyapp --db FILE verify`",
            mirror,
        )
    acknowledged = [(head.bytes, head.events, "its head file")] if head else []
    if (
        config is not None
        and config.directory == directory
        and config.mirror_id is not None
        and (head is None or head.mirror_id == config.mirror_id)
    ):
        acknowledged.append((config.bytes, config.events, f"{config_path(store)}"))
    for need, need_events, source in acknowledged:
        if size < need:
            raise MirrorProblem(
                f"CUT: the mirror {mirror} is {size} bytes ({events} events) but had "
                f"acknowledged {need} bytes ({need_events} events, recorded in {source}); it was "
                "cut or replaced by an older copy; nothing was written - keep it as it is",
                mirror,
            )
    if head is not None and head.bytes:
        at = _hash_of_line(_line_ending_at(data, head.bytes))
        if data[head.bytes - 1 : head.bytes] != b"\n" or at != head.hash:
            raise MirrorProblem(
                f"FORK: the mirror {mirror} no longer holds the event its head file "
                f"acknowledged ({head.events}, hash {head.hash[:12]}); nothing was written - keep "
                "both files as they are",
                mirror,
            )
    return _Examined(size, events, head)


def _check_directory(store: Path, directory: Path) -> None:
    if not directory.is_dir():
        raise MirrorUnreachable(
            f"mirror unreachable: {directory} is not a folder that exists (is the medium "
            "plugged in, the share mounted?); nothing was written",
            directory,
        )
    with suppress(OSError):
        if os.path.samefile(directory, store.parent):
            raise MirrorProblem(
                f"cannot mirror {store} into its own folder {directory}: the mirror must be on "
                "another medium (a USB stick, a network share)",
                directory,
            )


@contextmanager
def _sync_lock(store: Path, timeout: float) -> Iterator[None]:
    import filelock  # on first use, as the journal's (a start never needs it)

    lock = filelock.FileLock(str(lock_path(store)), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise MirrorUnreachable(
            f"another safetyapp process is mirroring {store}; try again", store
        ) from None
    except OSError as e:
        raise MirrorUnreachable(
            f"cannot lock {lock_path(store)}: {e.strerror or e}; make sure the store's folder "
            "is writable",
            store,
        ) from e
    try:
        yield
    finally:
        lock.release()


def mirror_to(
    store: Path, directory: Path, *, explicit: bool = True, lock_timeout: float = 30.0
) -> MirrorResult:
    """Bring the mirror of ``store`` in ``directory`` up to date (creating it when
    ``explicit``), and record ``directory`` as the store's mirror.

    Raises :class:`MirrorUnreachable` (folder absent or not writable) or :class:`MirrorProblem`
    (fork, cut, the store's new events do not verify); nothing is written then.
    """
    store = Path(store)
    directory = Path(os.path.abspath(directory))
    _check_directory(store, directory)
    mirror = mirror_path(store, directory)
    with _sync_lock(store, lock_timeout):
        data = _read_store(store)
        if not data:
            raise MirrorProblem(f"the store {store} holds no complete event; nothing to mirror")
        config = read_config(store)
        created = False
        try:
            try:
                fd = os.open(mirror, os.O_RDWR | os.O_APPEND | getattr(os, "O_NONBLOCK", 0))
            except FileNotFoundError:
                _refuse_missing(store, directory, config, explicit)
                fd = os.open(mirror, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o666)
                created = True
        except OSError as e:
            raise MirrorUnreachable(
                f"mirror unreachable: cannot open {mirror} ({e.strerror or e}); nothing was "
                "written",
                mirror,
            ) from e
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise MirrorProblem(f"{mirror} is not a regular file; nothing was written", mirror)
            seen = _examine(store, directory, data, fd, config)
            start = data.rfind(b"\n", 0, seen.size) + 1 if seen.size else 0
            _check_new_lines(store, data, start)
            new = data[seen.size :]
            try:
                view = memoryview(new)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError as e:
                created = False  # keep what reached the medium: the next sync completes it
                raise MirrorUnreachable(
                    f"mirror unreachable: writing {mirror} failed ({e.strerror or e}); the "
                    "mirror may end in part of an event, which the next sync completes",
                    mirror,
                ) from e
        except BaseException:
            if created:  # nothing mirrored into the new file: do not leave it behind
                with suppress(OSError):
                    os.unlink(mirror)
            raise
        finally:
            os.close(fd)
        if created:
            fsync_dir(directory)
        events = _events_in(data, len(data))
        mirror_id = (seen.head.mirror_id if seen.head else None) or secrets.token_hex(8)
        head_hash = _hash_of_line(_line_ending_at(data, len(data))) or ""
        try:
            _write_json_atomic(
                mirror_head_path(store, directory),
                {"mirror_id": mirror_id, "events": events, "hash": head_hash, "bytes": len(data)},
            )
        except OSError as e:
            raise MirrorUnreachable(
                f"mirror unreachable: cannot write {mirror_head_path(store, directory)} "
                f"({e.strerror or e}); the events themselves were mirrored",
                mirror,
            ) from e
        try:
            synced = iso(datetime.now(UTC))
            _write_config(store, MirrorConfig(directory, mirror_id, events, len(data), synced))
        except OSError as e:
            raise StoreError(
                f"mirrored, but cannot record the mirror in {config_path(store)} "
                f"({e.strerror or e}); make sure the store's folder is writable",
                store,
            ) from e
    return MirrorResult(mirror, events, events - seen.events, created)


def _refuse_missing(
    store: Path, directory: Path, config: MirrorConfig | None, explicit: bool
) -> None:
    """A mirror file that is not there: created only on the user's explicit request, and never
    when its head file says it held events."""
    head_file = mirror_head_path(store, directory)
    head = _read_head(head_file)
    mirror = mirror_path(store, directory)
    if head is not None:
        raise MirrorProblem(
            f"CUT: the mirror {mirror} is gone, but {head_file} says it held {head.events} "
            "events; nothing was written - find out who removed it",
            mirror,
        )
    if not explicit:
        held = config.events if config is not None and config.directory == directory else 0
        raise MirrorUnreachable(
            f"mirror unreachable: there is no mirror {mirror}"
            + (f" (it held {held} events)" if held else "")
            + "; run `safetyapp mirror --to DIR` to start one",
            mirror,
        )


@dataclass(frozen=True)
class MirrorCheck:
    mirror: Path
    events: int  # events the mirror covers
    store_events: int


def check_against_mirror(store: Path, directory: Path) -> MirrorCheck:
    """Prove that ``store`` still extends its mirror in ``directory`` (reads only). Raises
    :class:`MirrorUnreachable` or :class:`MirrorProblem` naming the first difference."""
    store = Path(store)
    directory = Path(os.path.abspath(directory))
    _check_directory(store, directory)
    mirror = mirror_path(store, directory)
    data = _read_store(store)
    try:
        fd = os.open(mirror, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise MirrorUnreachable(f"there is no mirror {mirror}", mirror) from None
    except OSError as e:
        raise MirrorUnreachable(
            f"cannot read the mirror {mirror}: {e.strerror or e}", mirror
        ) from e
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise MirrorProblem(f"{mirror} is not a regular file", mirror)
        seen = _examine(store, directory, data, fd, read_config(store))
    finally:
        os.close(fd)
    return MirrorCheck(mirror, seen.events, _events_in(data, len(data)))


# --------------------------------------------------------------------------- automatic syncs


class AutoMirror:
    """Mirrors after each decision when a mirror is configured: in a background thread (a
    network share can be slow), best effort, with the outcome in :attr:`status`."""

    def __init__(self, store: Path) -> None:
        self.store = Path(store)
        self._config = str(config_path(self.store))  # checked on every decision: kept cheap
        self.status: MirrorStatus | None = None
        self._cond = threading.Condition()
        self._pending = False
        self._busy = False
        self._thread: threading.Thread | None = None

    def configured(self) -> bool:
        return os.path.exists(self._config)

    def kick(self) -> None:
        """Ask for a sync (returns at once). Does nothing when no mirror is configured."""
        if not self.configured():
            self.status = None
            return
        with self._cond:
            self._pending = True
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="safetyapp-mirror", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def wait(self, timeout: float) -> MirrorStatus | None:
        """Wait (at most ``timeout`` seconds) for the requested syncs; the status then."""
        with self._cond:
            self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)
        return self.status

    def sync_now(self) -> MirrorStatus | None:
        """One sync in this thread; the status after it (None: no mirror configured)."""
        try:
            config = read_config(self.store)
        except MirrorProblem as exc:
            self.status = MirrorStatus("problem", config_path(self.store), 0, str(exc))
            return self.status
        if config is None:
            self.status = None
            return None
        try:
            result = mirror_to(self.store, config.directory, explicit=False, lock_timeout=10.0)
        except MirrorUnreachable:
            self.status = MirrorStatus("unreachable", config.directory)
        except StoreError as exc:
            self.status = MirrorStatus("problem", config.directory, 0, str(exc))
        except Exception as exc:  # best effort: a mirror never stops work
            self.status = MirrorStatus("problem", config.directory, 0, f"{type(exc).__name__}")
        else:
            self.status = MirrorStatus("ok", config.directory, result.events)
        return self.status

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending)
                self._pending, self._busy = False, True
            try:
                self.sync_now()
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
