"""Finding and reading checklist files (the IO side of checklists).

The *installed* checklists are the bundled ones, or the folder named by ``SAFETYAPP_CHECKLISTS``.
A new store adopts the installed versions at `init`; after that a file only runs once its
version is adopted into the record (see :mod:`safetyapp.domain.engine.checklists`).
"""

from __future__ import annotations

import os
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
