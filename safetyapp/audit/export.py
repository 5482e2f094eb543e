"""CSV and JSON exports of audit rows, safe to open in a spreadsheet, and the archive bundle.

Times: every row keeps its ISO-8601 UTC time (`time` in JSON, `time_utc` in CSV) and gains
`time_local`, the same moment in the production's time zone (or the one given), as ISO 8601
with its UTC offset. Scripts reading `time`/`time_utc` are unaffected by the zone.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetyapp.domain import clock
from safetyapp.domain import events as ev
from safetyapp.store.files import check_output
from safetyapp.store.journal import StoreError

if TYPE_CHECKING:
    from safetyapp.store.repository import Repository

CSV_FIELDS = (
    "seq", "time_utc", "time_local", "kind", "by", "role", "run", "step", "result", "note", "data",
    "prev_hash", "hash",
)  # fmt: skip
# A cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets. A
# leading quote is added too, so that every neutralised cell is undone by dropping one quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "'")


def spreadsheet_safe(value: Any) -> str:
    """Text a spreadsheet shows as text: a leading formula character gets a quote in front."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def spreadsheet_unsafe(text: str) -> str:
    """The original text of a cell written by `spreadsheet_safe` (for round trips)."""
    return text[1:] if text.startswith("'") else text


def local_time(stamp: str, tz: tzinfo | None = None) -> str:
    """An event's UTC time as ISO-8601 in `tz`, with its offset (callers pass the production's
    zone; without one, this machine's)."""
    if not stamp:
        return ""
    return ev.parse_time(stamp).astimezone(tz).isoformat(timespec="seconds")


def to_csv(rows: list[dict[str, Any]], tz: tzinfo | None = None) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for row in rows:
        cells = []
        for field in CSV_FIELDS:
            if field == "time_utc":
                value: Any = row.get("time")
            elif field == "time_local":
                value = local_time(row.get("time") or "", tz)
            elif field == "data":
                value = json.dumps(row.get("data") or {}, ensure_ascii=False, sort_keys=True)
            else:
                value = row.get(field)
            cells.append(str(value) if field == "seq" else spreadsheet_safe(value))
        writer.writerow(cells)
    return buf.getvalue()


def with_local_time(rows: list[dict[str, Any]], tz: tzinfo | None = None) -> list[dict[str, Any]]:
    return [{**row, "time_local": local_time(row.get("time") or "", tz)} for row in rows]


def to_json(rows: list[dict[str, Any]], tz: tzinfo | None = None) -> str:
    return json.dumps(with_local_time(rows, tz), indent=2, ensure_ascii=False) + "\n"


def export_text(records: Sequence[dict[str, Any]], fmt: str, zone: str) -> str:
    """Records as the CLI's `audit --csv` / `audit --json` give them (secrets removed): UTC
    times, and the production's local time (`zone`) beside them. The audit screen's export."""
    rows = [ev.public(dict(r)) for r in records]
    tz = clock.zone(zone)
    return to_csv(rows, tz) if fmt == "csv" else to_json(rows, tz)


def seq_ranges(rows: Sequence[dict[str, Any]]) -> list[list[int]]:
    """The seqs of `rows` (in seq order, each once) as [first, last] runs: one run when they
    follow each other (every event: no pass over them), few for a filter's rows."""
    if not rows:
        return []
    first, last = int(rows[0]["seq"]), int(rows[-1]["seq"])
    if last - first + 1 == len(rows):
        return [[first, last]]
    runs: list[list[int]] = []
    for row in rows:
        seq = int(row["seq"])
        if runs and runs[-1][1] + 1 == seq:
            runs[-1][1] = seq
        else:
            runs.append([seq, seq])
    return runs


def pick_rows(
    records: Sequence[dict[str, Any]],
    ranges: Sequence[Sequence[int]],
    last: tuple[int, str] | None,
) -> list[dict[str, Any]]:
    """The records whose seq is in `ranges` (from :func:`seq_ranges`). `last` is the seq and
    hash of the last one shown: a StoreError if the record holds another event there (or none),
    so that an export is never of a record other than the one on screen."""
    if last is not None:
        seq, digest = last
        if not 1 <= seq <= len(records) or records[seq - 1].get("hash") != digest:
            raise StoreError(
                f"the record on disk is not the one shown (event {seq} differs or is missing); "
                "nothing was written - reopen the audit screen and export again"
            )
    picked: list[dict[str, Any]] = []
    for first, end in ranges:
        if not 1 <= first <= end <= len(records):
            raise StoreError(f"events {first}-{end} are not in the record; nothing was written")
        picked.extend(records[first - 1 : end])
    return picked  # a journal's record n is event n (checked as it is read)


# -- the archive bundle -----------------------------------------------------------------------


@dataclass(frozen=True)
class Bundle:
    path: Path
    files: list[dict[str, Any]]
    head_hash: str
    head_seq: int
    verified: bool
    days: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_README = """\
safetyapp archive of production: {production}
Made {generated_at} (UTC). Record head hash {head_hash} (event {head_seq}); verify {verdict}.

store/{store}
    the record itself, exactly as kept (JSON Lines, each event hash-chained to the one before)
events.json
    every event, PIN hashes removed, with its UTC time and the production's local time
events.csv
    the same, for a spreadsheet (a cell that could run as a formula starts with ')
reports/day-NNN-DATE.pdf, .md
    the daily safety report of every day, as PDF and as Markdown
manifest.json, SHA256SUMS
    each file's size and SHA-256; check them with `sha256sum -c SHA256SUMS`

To check the record later: `safetyapp --db store/{store} verify --against {head_hash}`.
"""


def write_bundle(repo: Repository, out: Path, *, now: datetime, tz: tzinfo | None = None) -> Bundle:
    """Write the archive bundle to `out` (a new or empty folder). Everything in it comes from
    one snapshot of the record, taken under the store's lock. The folder appears complete or
    not at all. OutputRefused (a StoreError) if `out` is a store's file or folder, or a link."""
    from safetyapp.audit.report import (
        build_report,
        day_changes,
        day_records,
        render_markdown,
        render_pdf,
    )

    out = Path(out)
    check_output(out, repo.path)  # never onto the store's files, its mirror, or a link
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not an empty folder; choose a new one")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"the folder {out.parent} does not exist")
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        work.chmod(0o755)  # mkdtemp makes it private; an archive folder is an ordinary one
        (work / "store").mkdir()
        with repo.journal.locked():
            repo.refresh()
            shutil.copyfile(repo.path, work / "store" / repo.path.name)
            records = list(repo.journal.records())
            state = repo.full_state
            verify = repo.journal.verify()
        rows = [ev.public(r) for r in records]
        local = tz or clock.zone(state.timezone)
        (work / "events.json").write_text(to_json(rows, local), encoding="utf-8")
        (work / "events.csv").write_text(to_csv(rows, local), encoding="utf-8", newline="")
        reports = work / "reports"
        reports.mkdir()
        for day in state.days:
            report = build_report(
                state,
                day_records(state, records, day),
                verify,
                day=day,
                generated_at=now,
                tz=local,
                changes=day_changes(state, records, day),
            )
            stem = f"day-{day.number:03d}-{report.date}"
            render_pdf(report, reports / f"{stem}.pdf")
            (reports / f"{stem}.md").write_text(render_markdown(report), encoding="utf-8")
        (work / "README.txt").write_text(
            _README.format(
                production=state.production,
                generated_at=ev.iso(now),
                head_hash=state.head_hash,
                head_seq=state.last_seq,
                verdict="PASSED" if verify.ok else f"FAILED ({verify.problem})",
                store=repo.path.name,
            ),
            encoding="utf-8",
        )
        files = [
            {
                "path": p.relative_to(work).as_posix(),
                "bytes": p.stat().st_size,
                "sha256": _sha256(p),
            }
            for p in sorted(work.rglob("*"))
            if p.is_file()
        ]
        manifest = {
            "production": state.production,
            "generated_at": ev.iso(now),
            "head_hash": state.head_hash,
            "head_seq": state.last_seq,
            "verify": {"ok": verify.ok, "count": verify.count, "problem": verify.problem},
            "days": len(state.days),
            "files": files,
        }
        (work / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        sums: list[dict[str, Any]] = [
            *files,
            {"path": "manifest.json", "sha256": _sha256(work / "manifest.json")},
        ]
        (work / "SHA256SUMS").write_text(
            "".join(f"{f['sha256']}  {f['path']}\n" for f in sums), encoding="utf-8"
        )
        if out.exists():
            out.rmdir()
        os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Bundle(out, files, state.head_hash, state.last_seq, verify.ok, len(state.days))
