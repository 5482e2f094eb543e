"""Finding and reading checklist files (the IO side of checklists).

The *installed* checklists are the bundled ones, or the folder named by ``SAFETYAPP_CHECKLISTS``.
A new store adopts the installed versions at `init`; after that a file only runs once its
version is adopted into the record (see :mod:`safetyapp.domain.engine.checklists`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from safetyapp.domain.checklist import Checklist, ChecklistError, Problem, parse_checklist

CHECKLISTS_ENV = "SAFETYAPP_CHECKLISTS"


def bundled_dir() -> Path:
    """The bundled checklists: inside the installed wheel, or `checklists/` in a source tree."""
    here = Path(__file__).resolve().parent
    installed = here / "_bundled_checklists"
    return installed if installed.is_dir() else here.parent / "checklists"


def load_file(path: Path) -> Checklist:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ChecklistError(str(path), [Problem("", f"cannot read the file: {exc}")]) from None
    return parse_checklist(text, str(path))


def load_dir(directory: Path) -> dict[str, Checklist]:
    """Every `*.yaml` checklist in a folder, by id; a duplicate id is an error."""
    found: dict[str, Checklist] = {}
    origin: dict[str, Path] = {}
    for path in sorted(directory.glob("*.yaml")):
        checklist = load_file(path)
        if checklist.id in found:
            msg = f"duplicate checklist id '{checklist.id}' (also in {origin[checklist.id]})"
            raise ChecklistError(str(path), [Problem("id", msg)])
        found[checklist.id], origin[checklist.id] = checklist, path
    return found


def installed_dir() -> Path:
    """Where the installed checklists are: ``$SAFETYAPP_CHECKLISTS``, else the bundled ones."""
    chosen = os.environ.get(CHECKLISTS_ENV)
    return Path(chosen) if chosen else bundled_dir()


def load_bundled() -> dict[str, Checklist]:
    """The installed checklists by id (see :func:`installed_dir`)."""
    return load_dir(installed_dir())


def unusable(problem: ChecklistError) -> str:
    """What to tell a user whose installed checklists cannot be read, and what to do."""
    return (
        f"an installed checklist cannot be used: {problem}; fix it (`safetyapp checklists"
        f" validate`) or point {CHECKLISTS_ENV} at another folder"
    )


class Installed(Mapping[str, Checklist]):
    """The installed checklists, read on first use (and once): opening a store to show it or
    to sign a step never needs them, only starting a run does (the installed file of an id is
    checked against its adopted version then), so a start does not pay for reading and
    validating them (~0.1 s). The folder is the one named when this is made.

    A folder that cannot be read raises its ChecklistError on every use, or what `on_error`
    makes of it (the CLI's clear refusal); :meth:`problem` reads it ahead, from any thread."""

    def __init__(
        self,
        directory: Path | None = None,
        on_error: Callable[[ChecklistError], Exception] | None = None,
    ) -> None:
        self.directory = directory if directory is not None else installed_dir()
        self._on_error = on_error
        self._lock = threading.Lock()
        self._found: dict[str, Checklist] | None = None
        self._problem: ChecklistError | None = None

    def problem(self) -> ChecklistError | None:
        """Read the folder if not yet read; what is wrong with it, or None."""
        with self._lock:
            if self._found is None and self._problem is None:
                try:
                    self._found = load_dir(self.directory)
                except ChecklistError as exc:
                    self._problem = exc
        return self._problem

    def _loaded(self) -> dict[str, Checklist]:
        problem = self.problem()
        if problem is not None:
            raise (self._on_error(problem) if self._on_error else problem) from None
        assert self._found is not None
        return self._found

    def __getitem__(self, checklist_id: str) -> Checklist:
        return self._loaded()[checklist_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())
