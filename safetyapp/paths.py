"""Where the store and the error log live: --db, else SAFETYAPP_DB, else the user data dir."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "safetyapp"
STORE_NAME = "safetyapp-record.jsonl"


def default_store() -> Path:
    return Path(platformdirs.user_data_dir(APP, appauthor=False)) / STORE_NAME


def resolve_store(explicit: str | os.PathLike[str] | None) -> tuple[Path, bool]:
    """The store path, and whether it is the default one (which we may create folders for)."""
    if explicit:
        return Path(explicit).expanduser(), False
    env = os.environ.get("SAFETYAPP_DB")
    if env:
        return Path(env).expanduser(), False
    return default_store(), True


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP, appauthor=False))
