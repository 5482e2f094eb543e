"""Where an unexpected error's details go: a log file, never the user's screen."""

from __future__ import annotations

import os
import traceback
from datetime import UTC, datetime
from pathlib import Path

from safetyapp.paths import log_dir


def write_crash_log(error: BaseException) -> Path | None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        directory = log_dir()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"error-{stamp}-{os.getpid()}.log"
        path.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
    except OSError:
        return None
    return path
