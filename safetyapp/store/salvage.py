"""Recovery from real corruption: copy the intact prefix of a damaged store to a NEW file.

The original is only read, never written. The intact prefix is every record before the first bad
one, where a record is good when its line is valid UTF-8 JSON in exactly the form the app writes,
is structurally a store record, its hash matches its content and it links to the record before.
The copy is byte-for-byte those lines, so it opens as a store and its chain verifies. The
prefix also stops before the first event the engine would not have produced (replay, see
safetyapp.domain.replay), and never ends inside a decision.
"""

from __future__ import annotations

import json
import os
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from safetyapp.store.chain import GENESIS, canonical, record_hash
from safetyapp.store.files import check_output
from safetyapp.store.head import HeadDamaged, write_head
from safetyapp.store.journal import (
    _TOO_DEEP,
    Journal,
    StoreCorrupt,
    StoreError,
    _check_record,
    _strerror,
    _write_hint,
    create_new_file,
)

__all__ = ["SalvageResult", "intact_prefix", "salvage"]


@dataclass(frozen=True, slots=True)
class SalvageResult:
    """What :func:`salvage` kept and cut. ``first_bad_line`` is None when nothing was bad."""

    source: Path
    target: Path
    kept: int
    head_hash: str
    first_bad_line: int | None
    problem: str | None
    lines_cut: int
    bytes_cut: int

    def summary(self) -> str:
        kept = f"copied {self.kept} intact event(s) from {self.source} to {self.target}"
        head = f"head {self.head_hash}"
        if self.first_bad_line is None and not self.bytes_cut:
            return f"{kept} ({head}); nothing was cut; {self.source} was not changed"
        where = f"line {self.first_bad_line}: " if self.first_bad_line is not None else ""
        return (
            f"{kept} ({head}); cut from {where}{self.problem}; not copied: {self.lines_cut} "
            f"line(s), {self.bytes_cut} byte(s); {self.source} was not changed"
        )


def intact_prefix(path: Path, data: bytes) -> tuple[int, int, str, int | None, str | None]:
    """``(prefix_bytes, records, head_hash, first_bad_line, problem)`` for a store's bytes."""
    pos = 0
    prev = GENESIS
    n = 0
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            if pos < len(data):
                return pos, n, prev, None, "an unfinished write at the end (no final newline)"
            return pos, n, prev, None, None
        line_no = n + 1
        raw = data[pos:nl]
        problem = _line_problem(path, line_no, raw, prev)
        if problem is not None:
            return pos, n, prev, line_no, problem
        prev = json.loads(raw)["hash"]
        n = line_no
        pos = nl + 1


def _line_problem(path: Path, line_no: int, raw: bytes, prev: str) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "bytes that are not valid UTF-8 text"
    try:
        rec = json.loads(text)
    except ValueError:
        return "the line is not valid JSON"
    except RecursionError:
        return _TOO_DEEP
    try:
        _check_record(path, line_no, rec)
    except StoreCorrupt as e:
        return e.problem
    if canonical(rec) != text:
        return "the stored text was edited (it is not in the form the app writes)"
    if record_hash(rec) != rec["hash"]:
        return "hash does not match its content (changed after it was written)"
    if rec["prev_hash"] != prev:
        return "prev_hash does not link to the event before (removed, inserted or reordered)"
    return None


def salvage(source: Path, target: Path) -> SalvageResult:
    """Copy the intact prefix of ``source`` to ``target``, which must not exist.

    Raises :class:`StoreError` (nothing written) if ``target`` exists, ``source`` cannot be read,
    no record at all is intact, or ``target`` cannot be written.
    """
    source, target = Path(source), Path(target)
    if os.path.lexists(target):
        raise StoreError(
            f"cannot salvage into {target}: something already exists there and was not changed; "
            "choose the name of a new file",
            target,
        )
    check_output(target, source)  # never one of the store's own files (its head, a mirror...)
    # Read as a store is read: a FIFO or a device is refused at once, never waited on.
    data, _ = Journal(source)._read_file()
    end, kept, head, bad_line, problem = intact_prefix(source, data)
    cut = _replayed_prefix(source, data[:end])
    if cut is not None:
        end, kept, head, bad_line, problem = cut
    if kept == 0:
        why = f"line 1: {problem}" if problem else "the file is empty"
        raise StoreError(
            f"nothing to salvage from {source}: not even its first event is intact ({why}); "
            f"nothing was written; restore the store from a backup",
            source,
        )
    _create_exclusive(target, data[:end])
    # The copy is a store of its own: its head is its last event (see safetyapp.store.head).
    last = data[data.rfind(b"\n", 0, end - 1) + 1 : end]
    with suppress(OSError, HeadDamaged):
        write_head(target, kept, head, end, len(last))
    rest = data[end:]
    lines_cut = rest.count(b"\n") + (0 if not rest or rest.endswith(b"\n") else 1)
    return SalvageResult(source, target, kept, head, bad_line, problem, lines_cut, len(rest))


def _replayed_prefix(path: Path, data: bytes) -> tuple[int, int, str, int, str] | None:
    """For chain-intact ``data``: ``(prefix_bytes, records, head_hash, first_bad_line,
    problem)`` cut before the first event replay refuses (or the last decision left
    incomplete), or None when every event replays."""
    from safetyapp.domain.replay import Replay
    from safetyapp.domain.state import State
    from safetyapp.store.repository import _apply

    state, replay = State(), Replay()
    starts: list[int] = []  # byte offset of each line
    pos, leader = 0, 0
    while pos < len(data):
        starts.append(pos)
        nl = data.index(b"\n", pos)
        record = json.loads(data[pos:nl])
        if not replay.pending:
            leader = len(starts)
        try:
            _apply(path, state, record, replay)
        except StoreError as exc:
            n = len(starts)
            return starts[n - 1], n - 1, str(record["prev_hash"]), n, str(exc)
        pos = nl + 1
    if replay.pending:
        at = starts[leader - 1]
        prev = json.loads(data[at : data.index(b"\n", at)])["prev_hash"]
        return at, leader - 1, str(prev), leader, "the last decision is incomplete"
    return None


def _create_exclusive(target: Path, data: bytes) -> None:
    """Write ``data`` to a new file at ``target`` atomically; never replace anything."""
    create_new_file(
        target,
        data,
        no_folder=f"cannot salvage into {target}: the folder {target.parent} does not exist; "
        "create it first",
        exists=f"cannot salvage into {target}: something already exists there and was not "
        "changed; choose the name of a new file",
        failed=lambda e: (
            f"could not write {target}: {_strerror(e)}; nothing was salvaged; {_write_hint(e)}"
        ),
    )
