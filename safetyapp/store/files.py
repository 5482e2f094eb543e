"""Which paths belong to a store, and the one way outputs (reports, exports) are written.

A store is more than its file: the lock, the start-up snapshot, the acknowledged head, the
credentials, torn-tail side files, the mirror's configuration and the mirror folder itself.
:func:`store_files` and :func:`store_folders` are the one list of them: a file added beside a
store goes in :data:`SIBLING_SUFFIXES` (or is named by its own module through
:func:`store_files`) and every output is refused on it from then on.

:func:`write_output` writes a report or export: never onto any of those paths (compared by
resolved path and by inode, so another spelling or a hard link is caught), never through a
symbolic link, and through a temporary file created exclusively (``O_EXCL``) under an
unpredictable name in the target's folder, then renamed into place.
"""

from __future__ import annotations

import glob
import importlib
import os
import secrets
import stat
from contextlib import suppress
from pathlib import Path

from safetyapp.store.journal import StoreError

__all__ = ["OutputRefused", "check_output", "store_files", "store_folders", "write_output"]

# Files kept beside a store, ``<store><suffix>``: the writer lock, the start-up snapshot, the
# acknowledged head, the credentials, the mirror's configuration and its lock.
SIBLING_SUFFIXES = (".lock", ".snapshot", ".head", ".credentials", ".mirror.json", ".mirror.lock")
# Side files named ``<store><pattern>`` (a torn tail set aside on open).
SIBLING_PATTERNS = (".torn-*",)


class OutputRefused(StoreError):
    """An output was not written because its target belongs to the store (or is a link)."""


def _mirror_module() -> object | None:
    # safetyapp.store.mirror names its own files (protected_files) and folder (read_config);
    # it is optional here so that this list never falls out of step with it.
    try:
        return importlib.import_module("safetyapp.store.mirror")
    except ImportError:
        return None


def store_files(store: Path) -> list[Path]:
    """Every file that belongs to ``store`` (existing or not): outputs never go there."""
    store = Path(store)
    files = [store, *(Path(f"{store}{suffix}") for suffix in SIBLING_SUFFIXES)]
    for pattern in SIBLING_PATTERNS:
        files += sorted(Path(p) for p in glob.glob(glob.escape(str(store)) + pattern))
    mirror = _mirror_module()
    protected = getattr(mirror, "protected_files", None)
    if callable(protected):
        with suppress(Exception):  # an unreadable mirror configuration names no more files
            files += [Path(p) for p in protected(store)]
    return files


def store_folders(store: Path) -> list[Path]:
    """Folders that belong to ``store`` (its mirror's): no output goes anywhere inside them."""
    mirror = _mirror_module()
    read_config = getattr(mirror, "read_config", None)
    if not callable(read_config):
        return []
    try:
        config = read_config(Path(store))
    except Exception:  # an unreadable configuration: no folder known
        return []
    directory = getattr(config, "directory", None)
    return [Path(directory)] if directory is not None else []


def _same(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def _inside(path: Path, folder: Path) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(folder)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def check_output(target: Path, store: Path) -> None:
    """Refuse (:class:`OutputRefused`) an output at ``target`` that would touch ``store``."""
    target = Path(target)
    if target.is_symlink():
        raise OutputRefused(
            f"refusing to write {target}: it is a symbolic link (an output is never written "
            "through a link); choose another file name",
            target,
        )
    for path in store_files(store):
        if _same(target, path):
            raise OutputRefused(
                f"refusing to write {target}: it is {path}, which belongs to the store "
                f"{store}; nothing was written - choose another file name",
                target,
            )
    for folder in store_folders(store):
        if _inside(target, folder):
            raise OutputRefused(
                f"refusing to write {target}: it is inside {folder}, the mirror of the store "
                f"{store}; nothing was written - choose a file outside it",
                target,
            )


def write_output(target: Path, data: bytes, *, store: Path | None) -> None:
    """Write ``data`` to ``target`` atomically: a temporary file created exclusively with an
    unpredictable name beside it, synced, then renamed over ``target``. Refuses anything
    :func:`check_output` refuses (when ``store`` is given). Raises OSError if it cannot write;
    nothing is left behind then."""
    target = Path(target)
    if store is not None:
        check_output(target, store)
    folder = target.parent
    mask = os.umask(0)
    os.umask(mask)
    while True:
        tmp = folder / f".{target.name}.{secrets.token_hex(8)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666 & ~mask)
            break
        except FileExistsError:
            continue  # a name already taken (or planted): draw another one
    try:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(f"{tmp} is not a regular file")
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if store is not None:
            check_output(target, store)  # again, right before the rename
        os.replace(tmp, target)  # replaces a name (a link planted since is replaced, not followed)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
