"""``python -m safetyapp.audit.child``: write a day's report or an export in a process of its own.

The app's audit screen runs its PDF report and its CSV and JSON exports here, so that their
pure-Python work (folding the record, drawing the PDF, encoding 100,000 rows) never shares the
interpreter lock with the interface (issue 16: the event loop stalled up to 1.4 s on them).

Protocol: one JSON request on the first line of stdin; one JSON reply on stdout, then exit.

- ``{"job": "report", "store": PATH, "target": PATH, "now": ISO}``: the latest day's PDF,
  written as ``safetyapp report`` writes it (:func:`safetyapp.audit.report.write_day_report`).
  Reply ``{"day": N, "what": "73 page(s)", "head_hash": HASH}``.
- ``{"job": "export", "store": PATH, "target": PATH, "fmt": "csv"|"json", "zone": ZONE,
  "ranges": [[FIRST, LAST], ...], "last": [SEQ, HASH] | null}``: the events whose seq is in
  the ranges (the rows the screen shows), as the screen wrote them before. ``last`` is the
  last row shown: if the record holds another event there, nothing is written (the record on
  disk is not the one shown). Reply ``{"count": N}``.

A refusal the user can act on (no such day, the target belongs to the store, cannot write, a
damaged store) is ``{"refused": TEXT}`` and exit status 0; anything else is ``{"crash": TYPE,
"message": TEXT, "traceback": TEXT}`` and status 1. Every output goes through
:func:`safetyapp.store.files.write_output` (never onto the store's files or through a link,
atomically: all or nothing).

The child never outlives the app: the app keeps stdin open while it waits, and the child
stops (SIGTERM to itself: temporary files removed) as soon as stdin closes, which it does when
the app exits or is killed. The app also terminates it when it quits or gives up on the job.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import traceback
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from safetyapp.audit.export import export_text, pick_rows
from safetyapp.store.files import write_output
from safetyapp.store.journal import Journal, StoreError


def report(request: dict[str, Any]) -> dict[str, Any]:
    """The latest day's PDF report (what the audit screen's `p` writes)."""
    from safetyapp.audit.report import ReportError, write_day_report
    from safetyapp.checklists import load_bundled
    from safetyapp.store.repository import Repository

    target = Path(request["target"])
    try:
        target.parent.mkdir(exist_ok=True)
        repo = Repository.open(Path(request["store"]), load_bundled())
        repo.read_only = True  # this process only reads the record
        written = write_day_report(repo, target, now=datetime.fromisoformat(request["now"]))
    except (ReportError, OSError, StoreError) as exc:
        return {"refused": str(exc)}
    built = written.report
    return {"day": built.day, "what": written.what, "head_hash": built.head_hash}


def export(request: dict[str, Any]) -> dict[str, Any]:
    """The rows shown (by seq), as CSV or JSON (what the audit screen's `e` and `j` write)."""
    store, target = Path(request["store"]), Path(request["target"])
    fmt = request["fmt"]
    if fmt not in ("csv", "json"):
        raise ValueError(f"unknown export format {fmt!r}")
    try:
        records = Journal.open(store).records()
        last = request.get("last")
        rows = pick_rows(records, request["ranges"], None if last is None else tuple(last))
        data = export_text(rows, fmt, request["zone"]).encode("utf-8")
        target.parent.mkdir(exist_ok=True)
        write_output(target, data, store=store)
    except (OSError, StoreError) as exc:
        return {"refused": str(exc)}
    return {"count": len(rows)}


JOBS = {"report": report, "export": export}


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds: write_output removes its temporary file


def _stop_with_parent() -> None:
    """Stop this process when stdin closes (the app exited, was killed, or gave up)."""

    def watch() -> None:
        # os.read, not sys.stdin: no buffer lock for interpreter shutdown to trip over.
        with suppress(OSError):
            while os.read(0, 65536):
                pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _reply(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def main() -> int:
    signal.signal(signal.SIGTERM, _terminated)
    line = sys.stdin.buffer.readline()
    _stop_with_parent()
    try:
        request = json.loads(line)
        job = JOBS.get(request.get("job"))
        if job is None:
            raise ValueError(f"unknown job {request.get('job')!r}")
        reply = job(request)
    except Exception as exc:
        _reply({"crash": type(exc).__name__, "message": str(exc),
                "traceback": traceback.format_exc()})  # fmt: skip
        return 1
    _reply(reply)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
