"""Storage faults injected at the os-call level (tests run as root, so chmod stops nothing).

`install(spec, target, setattr)` replaces os functions so that calls touching the store file
(or, for a read-only folder, anything in its folder) fail with the given errno. Used in-process
with `monkeypatch.setattr`, and in a real CLI process by `faultwrap.py`. Specs:

- ``write:ENOSPC`` / ``write:EIO``: every os.write to the store file fails;
- ``half-write:ENOSPC``: the first os.write writes half its bytes, the next one fails;
- ``half-write-no-truncate:EIO``: as above, and the clean-up os.ftruncate fails too;
- ``fsync:EIO``: the first os.fsync of the store file fails (the write itself went through);
- ``ro-file:EACCES``: opening the store file for writing fails (a read-only file);
- ``ro-dir:EROFS``: opening anything in the store's folder for writing, creating, linking or
  removing there fails (a read-only folder or file system);
- ``crash:RuntimeError``: `safetyapp run status` hits an unexpected error (a bug stand-in).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

Setter = Callable[[Any, str, Any], None]


def _oserror(name: str) -> OSError:
    code = getattr(errno, name)
    return OSError(code, os.strerror(code))


def install(spec: str, target: Path, setattr_: Setter) -> None:
    what, _, err = spec.partition(":")
    target = Path(os.path.abspath(target))
    real_open, real_write, real_fsync = os.open, os.write, os.fsync
    real_ftruncate, real_link, real_unlink = os.ftruncate, os.link, os.unlink

    def is_store_fd(fd: int) -> bool:
        try:
            return os.path.samefile(f"/proc/self/fd/{fd}", target)
        except OSError:
            return False

    def in_dir(path: Any) -> bool:
        return Path(os.path.abspath(os.fsdecode(path))).parent == target.parent

    if what in ("write", "half-write", "half-write-no-truncate"):
        state = {"calls": 0}

        def write(fd: int, data: Any) -> int:
            if not is_store_fd(fd):
                return real_write(fd, data)
            state["calls"] += 1
            if what != "write" and state["calls"] == 1:
                return real_write(fd, bytes(data[: max(1, len(data) // 2)]))
            raise _oserror(err)

        setattr_(os, "write", write)
        if what == "half-write-no-truncate":

            def ftruncate(fd: int, length: int) -> None:
                if is_store_fd(fd):
                    raise _oserror(err)
                real_ftruncate(fd, length)

            setattr_(os, "ftruncate", ftruncate)
    elif what == "fsync":
        failed = {"n": 0}

        def fsync(fd: int) -> None:
            if is_store_fd(fd) and not failed["n"]:
                failed["n"] += 1
                raise _oserror(err)
            real_fsync(fd)

        setattr_(os, "fsync", fsync)
    elif what in ("ro-file", "ro-dir"):

        def open_(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
            if flags & WRITE_FLAGS:
                p = Path(os.path.abspath(os.fsdecode(path)))
                if p == target or (what == "ro-dir" and in_dir(p)):
                    raise _oserror(err)
            return real_open(path, flags, mode, dir_fd=dir_fd)

        setattr_(os, "open", open_)
        if what == "ro-dir":

            def link(src: Any, dst: Any, **kw: Any) -> None:
                if in_dir(dst):
                    raise _oserror(err)
                real_link(src, dst, **kw)

            def unlink(path: Any, **kw: Any) -> None:
                if in_dir(path):
                    raise _oserror(err)
                real_unlink(path, **kw)

            setattr_(os, "link", link)
            setattr_(os, "unlink", unlink)
    elif what == "crash":
        import safetyapp.cli

        def boom(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("injected failure\nsecond line of the message")

        setattr_(safetyapp.cli, "run_view", boom)
    else:
        raise ValueError(f"unknown fault {spec!r}")
