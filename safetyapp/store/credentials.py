"""The credentials file: ``<store>.credentials``, the PIN records (salted scrypt hashes) of a
store's crew, kept apart from the shared record.

The record (the hash chain, its exports, the bundle, the snapshot, the reports) says only that a
PIN was set, by whom and when, naming the PIN by an id; the hash and salt live here. The file is
local to the armorer station: mode 0600, never copied into a bundle, an export or a mirror.
Written only under the store's writer lock, atomically: a new temporary file (``O_EXCL``, 0600),
fsync, rename over the old one, fsync of the folder. A crash leaves the old file or the new one,
never half of either.

It is written *before* the events that name its new records are appended: a crash in between
leaves a record nobody names (dropped at the next write), never a named PIN that is missing.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any

from safetyapp.store.journal import StoreError, fsync_dir

FORMAT = "safetyapp-credentials/1"
MAX_BYTES = 16 * 1024 * 1024
MODE = 0o600


def credentials_path(store: Path) -> Path:
    return Path(f"{store}.credentials")


class CredentialsUnreadable(StoreError):
    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"the credentials file {path} cannot be read ({problem}); the store was not changed."
            " Restore the file from a backup, or move it aside and have a safety supervisor set"
            " every PIN again",
            path,
        )


def read_credentials(store: Path) -> dict[str, dict[str, Any]]:
    """The PIN records beside ``store``, by id; empty if there is no credentials file."""
    path = credentials_path(store)
    try:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise CredentialsUnreadable(path, e.strerror or str(e)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
            raise CredentialsUnreadable(path, "not a regular file of a sane size")
        with os.fdopen(os.dup(fd), "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    finally:
        os.close(fd)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CredentialsUnreadable(path, f"not JSON: {e}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CredentialsUnreadable(path, f"not a {FORMAT} file")
    pins = data.get("pins")
    if not isinstance(pins, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) for k, v in pins.items()
    ):
        raise CredentialsUnreadable(path, "its 'pins' is not a mapping of id to PIN record")
    return pins


def write_credentials(
    store: Path, pins: dict[str, dict[str, Any]], keep: Iterable[str] | None = None
) -> None:
    """Replace the credentials file beside ``store`` with ``pins`` added to what it holds
    (keeping, when ``keep`` is given, only those ids and the new ones). Call with the store's
    writer lock held. Raises :class:`StoreError` when it cannot be written (nothing changed)."""
    path = credentials_path(store)
    current = read_credentials(store)
    if keep is not None:
        wanted = set(keep)
        current = {k: v for k, v in current.items() if k in wanted}
    current.update(pins)
    body = json.dumps({"format": FORMAT, "pins": current}, sort_keys=True, indent=1).encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), MODE)
        try:
            os.fchmod(fd, MODE)  # whatever the umask
            view = memoryview(body)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as e:
        with suppress(OSError):
            os.unlink(tmp)
        raise StoreError(
            f"could not write the credentials file {path}: {e.strerror or e}; nothing was"
            " changed; make sure the folder is writable and the disk has space, then retry",
            store,
        ) from e
    fsync_dir(path.parent)
