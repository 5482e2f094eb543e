"""Exports: CSV and JSON through every filter, spreadsheet-safe cells that round-trip, the
archive bundle with its manifest, and the browser view served on loopback."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest
from report_support import walked_day, write_store
from support import CHECKLISTS, PINS, SUPERVISOR, cheap_pin, cred, open_day, setup_world
from test_cli import Cli

from safetyapp.audit.export import CSV_FIELDS, spreadsheet_safe, spreadsheet_unsafe, to_csv
from safetyapp.domain import engine
from safetyapp.store.repository import Repository

HOSTILE = [
    '=HYPERLINK("http://example.invalid","click")',
    "+1+1",
    "-2-3",
    "@SUM(A1:A9)",
    "\tleading tab",
    "\rleading return",
    "'=already quoted",
    "'plain quote",
    'comma, "quotes" and\na new line',
    "Zoë 火 🔫 |pipe|",
    "  =spaced formula",
]
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture()
def hostile(tmp_path: Path) -> Cli:
    """A store whose crew name, notes and hold reasons are formula-shaped or odd."""
    world = setup_world()
    name = "=cmd|' /C calc'!A0"
    PINS[name] = "7777"
    assert world.do(engine.add_crew, cred(SUPERVISOR), name, ["actor"], cheap_pin("7777")).ok
    open_day(world)
    for text in HOSTILE:
        assert world.do(engine.raise_hold, cred(name), text).ok, text
    cli = Cli(tmp_path)
    write_store(world, cli.db)
    return cli


def test_spreadsheet_safe_round_trips() -> None:
    for text in [*HOSTILE, "", "plain", "42"]:
        safe = spreadsheet_safe(text)
        assert not safe.startswith(FORMULA)
        assert spreadsheet_unsafe(safe) == text


def test_csv_round_trip_with_hostile_values(hostile: Cli) -> None:
    events = json.loads(hostile("audit", "--json").stdout)
    rows = parse_csv(hostile("audit", "--csv").stdout)
    assert list(rows[0]) == list(CSV_FIELDS)
    assert len(rows) == len(events)
    for row, event in zip(rows, events, strict=True):
        for cell in row.values():
            assert not cell.startswith(FORMULA), cell
        assert int(row["seq"]) == event["seq"]
        assert spreadsheet_unsafe(row["time_utc"]) == event["time"]
        for field in ("kind", "by", "role", "run", "step", "result", "note", "hash"):
            assert spreadsheet_unsafe(row[field]) == (event[field] or ""), field
        assert json.loads(spreadsheet_unsafe(row["data"])) == event["data"]
    notes = [spreadsheet_unsafe(r["note"]) for r in rows if r["kind"] == "hold-raised"]
    assert notes == [h.strip() for h in HOSTILE]  # the engine strips reasons, nothing else
    assert "pin" not in hostile("audit", "--csv").stdout.lower().split("hash")[0]


def test_csv_and_json_honour_every_filter(hostile: Cli) -> None:
    everything = json.loads(hostile("audit", "--json").stdout)
    middle = everything[len(everything) // 2]["time"]
    filters = [
        ["--kind", "hold-raised"],
        ["--by", "Jordan Lee"],
        ["--by", "=cmd|' /C calc'!A0"],
        ["--firearm", "COLT-1"],
        ["--flagged"],
        ["--since", middle],
        ["--until", middle],
        ["--since", "2026-03-02", "--until", "2026-03-02", "--kind", "signed"],
    ]
    for args in filters:
        as_json = json.loads(hostile("audit", "--json", *args).stdout)
        as_csv = parse_csv(hostile("audit", "--csv", *args).stdout)
        assert [int(r["seq"]) for r in as_csv] == [e["seq"] for e in as_json], args
        assert 0 < len(as_json) < len(everything) or args[0] == "--since", args
    signed = json.loads(hostile("audit", "--json", "--by", "Jordan Lee").stdout)
    assert signed and all(
        e["by"] == "Jordan Lee" or "Jordan Lee" in json.dumps(e["data"]) for e in signed
    )


def test_local_time_column_uses_the_productions_zone_not_the_machines(hostile: Cli) -> None:
    # The production's zone (UTC here); the machine's (EST5) plays no part. A production far
    # from UTC: tests/test_local_time.py.
    hostile.env["TZ"] = "EST5"  # POSIX zone string: no tz database needed
    row = parse_csv(hostile("audit", "--csv", "--kind", "production-created").stdout)[0]
    assert row["time_utc"] == "2026-03-02T07:00:00.000000Z"
    assert row["time_local"] == "2026-03-02T07:00:00+00:00"
    event = json.loads(hostile("audit", "--json", "--kind", "production-created").stdout)[0]
    assert event["time"] == "2026-03-02T07:00:00.000000Z"
    assert event["time_local"] == "2026-03-02T07:00:00+00:00"


def test_to_csv_of_nothing_is_a_header() -> None:
    assert to_csv([]) == ",".join(CSV_FIELDS) + "\r\n"


# -- the archive bundle -----------------------------------------------------------------------


def test_export_bundle_holds_everything_with_a_manifest(tmp_path: Path) -> None:
    world = walked_day()
    world.tick(24 * 60)
    walked_day(world)
    cli = Cli(tmp_path)
    write_store(world, cli.db)
    out = tmp_path / "archive"
    made = cli("export", "--out", str(out))
    assert "2 daily report(s)" in made.stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    paths = {f["path"] for f in manifest["files"]}
    assert paths == {
        "README.txt",
        "events.csv",
        "events.json",
        "store/record.jsonl",
        "reports/day-001-2026-03-02.pdf",
        "reports/day-001-2026-03-02.md",
        "reports/day-002-2026-03-03.pdf",
        "reports/day-002-2026-03-03.md",
    }
    for f in manifest["files"]:
        data = (out / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"]
    sums = dict(
        reversed(line.split("  ", 1))
        for line in (out / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    )
    assert set(sums) == paths | {"manifest.json"}
    for path, digest in sums.items():
        assert hashlib.sha256((out / path).read_bytes()).hexdigest() == digest
    assert (out / "store/record.jsonl").read_bytes() == cli.db.read_bytes()
    head = Repository.open(cli.db, CHECKLISTS).journal.head_hash
    assert manifest["head_hash"] == head and manifest["verify"]["ok"] is True
    events = json.loads((out / "events.json").read_text(encoding="utf-8"))
    assert events[-1]["hash"] == head and "time_local" in events[-1]
    assert len(parse_csv((out / "events.csv").read_text(encoding="utf-8"))) == len(events)
    # The copy verifies on its own, against the head hash the bundle names.
    copy = Cli(tmp_path)
    copy.db = out / "store" / "record.jsonl"
    assert "checkpoint found" in copy("verify", "--against", head).stdout
    # Never over an existing bundle.
    again = cli("export", "--out", str(out), code=1)
    assert "already exists" in again.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".archive")]


# -- the browser view -------------------------------------------------------------------------


def test_which_addresses_count_as_this_computer_only() -> None:
    from safetyapp.cli import _is_loopback

    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("localhost")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("example.invalid")
