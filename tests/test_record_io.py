"""Issue 13, items 5-7, as an attacker would try them, through the CLI in a subprocess on real
store files: outputs never touch the record, bad stores get clear errors, receipts work."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from report_support import walked_day, write_store

from safetyapp.store.chain import canonical, record_hash

PINS = {"Alex Reyes": "1111", "Jordan Lee": "2222", "Pat Okafor": "5555", "Riley Chen": "4444"}


def run(
    db: Path, *args: str, stdin: str = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFETYAPP")}
    env["XDG_STATE_HOME"] = str(db.parent / "state")
    proc = subprocess.run(
        [sys.executable, "-m", "safetyapp", "--db", str(db), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A real store holding a whole walked day."""
    return write_store(walked_day(), tmp_path / "record.jsonl")


def _untouched(path: Path, before: bytes) -> None:
    assert path.read_bytes() == before, f"{path} was changed"


# -- item 6: outputs never touch the record ---------------------------------------------------


@pytest.mark.parametrize("fmt", ["pdf", "md"])
def test_report_out_onto_the_store_is_refused(store: Path, fmt: str) -> None:
    before = store.read_bytes()
    out = run(store, "report", "--out", str(store), "--format", fmt)
    assert out.returncode == 1
    assert "belongs to the store" in out.stderr
    _untouched(store, before)


@pytest.mark.parametrize("suffix", [".lock", ".snapshot", ".head", ".credentials"])
def test_report_out_onto_a_sibling_file_is_refused(store: Path, suffix: str) -> None:
    sibling = Path(f"{store}{suffix}")
    if not sibling.exists():  # the head file is real: keep it (it guards the store)
        sibling.write_bytes(b"sibling\n")
    before = sibling.read_bytes()
    out = run(store, "report", "--out", str(sibling), "--format", "md")
    assert out.returncode == 1 and "belongs to the store" in out.stderr
    assert sibling.read_bytes() == before


def test_report_out_onto_another_spelling_or_a_hard_link_is_refused(store: Path) -> None:
    before = store.read_bytes()
    other = store.parent / "sub"
    other.mkdir()
    spelled = other / ".." / store.name
    assert run(store, "report", "--out", str(spelled)).returncode == 1
    link = store.parent / "looks-new.pdf"
    os.link(store, link)
    out = run(store, "report", "--out", str(link))
    assert out.returncode == 1 and "belongs to the store" in out.stderr
    _untouched(store, before)


def test_report_out_through_a_symlink_is_refused(store: Path) -> None:
    before = store.read_bytes()
    link = store.parent / "day.md"
    link.symlink_to(store)
    out = run(store, "report", "--out", str(link))
    assert out.returncode == 1 and "symbolic link" in out.stderr
    _untouched(store, before)


def test_a_planted_symlink_at_the_old_temp_name_is_not_followed(store: Path) -> None:
    before = store.read_bytes()
    (store.parent / ".day.md.tmp").symlink_to(store)
    out = run(store, "report", "--out", str(store.parent / "day.md"))
    assert out.returncode == 0, out.stderr
    _untouched(store, before)
    assert (store.parent / "day.md").read_text(encoding="utf-8").startswith("# ")
    assert (store.parent / ".day.md.tmp").is_symlink()  # left alone, not written through
    leftovers = [p.name for p in store.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [".day.md.tmp"]


def test_export_into_a_store_file_or_through_a_link_is_refused(store: Path) -> None:
    before = store.read_bytes()
    assert run(store, "export", "--out", f"{store}.snapshot").returncode == 1
    link = store.parent / "bundle"
    link.symlink_to(store.parent / "elsewhere")
    out = run(store, "export", "--out", str(link))
    assert out.returncode == 1 and "symbolic link" in out.stderr
    _untouched(store, before)


def test_store_files_names_every_sibling(tmp_path: Path) -> None:
    from safetyapp.store.files import store_files

    store = tmp_path / "r.jsonl"
    torn = Path(f"{store}.torn-20260302T070000Z")
    torn.write_bytes(b"x")
    names = {p.name for p in store_files(store)}
    for suffix in (".lock", ".snapshot", ".head", ".credentials", ".mirror.json"):
        assert f"r.jsonl{suffix}" in names
    assert torn.name in names and "r.jsonl" in names


# -- item 7: bad stores get clear errors ------------------------------------------------------


@pytest.mark.parametrize("args", [["crew", "list"], ["verify"], ["verify", "--salvage", "x"]])
def test_a_fifo_as_the_store_is_refused_at_once(tmp_path: Path, args: list[str]) -> None:
    fifo = tmp_path / "record.jsonl"
    os.mkfifo(fifo)
    if args[-1] == "x":
        args = [*args[:-1], str(tmp_path / "new.jsonl")]
    out = run(fifo, *args, timeout=10)
    assert out.returncode == 1
    assert "not a regular file" in out.stderr and str(fifo) in out.stderr


_TUI_ON_FIFO = """
import asyncio, sys
from pathlib import Path
from safetyapp.tui.app import SafetyApp
from safetyapp.tui.screens.welcome import StoreErrorScreen

async def go() -> None:
    app = SafetyApp(Path(sys.argv[1]))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StoreErrorScreen), app.screen
        print("ERROR SCREEN:", app.screen.message)

asyncio.run(go())
"""


def test_a_fifo_as_the_store_does_not_hang_the_app(tmp_path: Path) -> None:
    fifo = tmp_path / "record.jsonl"
    os.mkfifo(fifo)
    # In a subprocess with a timeout: a blocking open would hang the app's own event loop.
    out = subprocess.run(
        [sys.executable, "-c", _TUI_ON_FIFO, str(fifo)],
        capture_output=True, text=True, timeout=30, env={**os.environ, "SAFETYAPP_DB": ""},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "not a regular file" in out.stdout


def test_a_device_as_the_store_is_refused(tmp_path: Path) -> None:
    out = run(Path("/dev/null"), "crew", "list", timeout=10)
    assert out.returncode == 1 and "not a regular file" in out.stderr


def _append_forged(store: Path, payload: dict[str, object]) -> int:
    """Append a correctly hashed event by hand, as an attacker would; return its seq."""
    last = json.loads(store.read_text(encoding="utf-8").splitlines()[-1])
    rec = {**payload, "seq": last["seq"] + 1, "prev_hash": last["hash"]}
    rec["hash"] = record_hash(rec)
    with store.open("a", encoding="utf-8") as f:
        f.write(canonical(rec) + "\n")
    return int(rec["seq"])


def _nested(depth: int) -> object:
    value: object = []
    for _ in range(depth):
        value = [value]
    return value


def test_a_deeply_nested_line_names_the_file_and_line(store: Path) -> None:
    seq = _append_forged(store, {"kind": "refused", "time": "2026-03-02T09:00:00.000000Z"})
    lines = store.read_text(encoding="utf-8").splitlines()
    lines[-1] = "[" * 100_000 + "]" * 100_000
    store.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for args in (["crew", "list"], ["verify"], ["report", "--out", str(store.parent / "r.md")]):
        out = run(store, *args)
        assert out.returncode == 1, out
        assert "unexpected error" not in out.stderr
        assert str(store) in out.stderr and f"{seq}" in out.stderr
        assert "nested too deeply" in out.stderr or "line" in out.stderr


def _signed_like(store: Path, **changes: object) -> dict[str, object]:
    records = [json.loads(line) for line in store.read_text(encoding="utf-8").splitlines()]
    signed = next(r for r in reversed(records) if r["kind"] == "signed")
    body = {k: v for k, v in signed.items() if k not in ("seq", "prev_hash", "hash")}
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time": "yesterday"}, "time"),
        ({"time": "2026-13-45T07:00:00.000000Z"}, "time"),
        ({"time": 17}, "time"),
        ({"note": ["x"]}, "note"),
        ({"data": "nothing"}, "data"),
        ({"result": "maybe"}, "result"),
    ],
)
def test_a_hash_valid_event_with_a_malformed_field_names_file_line_and_field(
    store: Path, change: dict[str, object], field: str
) -> None:
    seq = _append_forged(store, _signed_like(store, **change))
    for args in (
        ["run", "list"],
        ["report", "--out", str(store.parent / "r.md")],
        ["export", "--out", str(store.parent / "bundle")],
    ):
        out = run(store, *args)
        assert out.returncode == 1, out
        assert "unexpected error" not in out.stderr
        assert str(store) in out.stderr
        assert f"line {seq}" in out.stderr and f"field '{field}'" in out.stderr


def test_a_malformed_data_field_is_named(store: Path) -> None:
    seq = _append_forged(
        store,
        {"kind": "ammo-added", "time": "2026-03-02T09:00:00.000000Z", "by": None, "role": None,
         "run": None, "step": None, "result": None, "note": "",
         "data": {"lot": "D-9", "type": "dummy", "count": "many"}},
    )  # fmt: skip
    out = run(store, "ammo", "list")
    assert out.returncode == 1
    assert f"line {seq}" in out.stderr and "field 'data.count'" in out.stderr


# -- item 5: receipts -------------------------------------------------------------------------


def _receipt(text: str) -> tuple[str, int]:
    found = re.search(r"receipt ([0-9a-f]{10}) \(event (\d+)\)", text)
    assert found, text
    return found.group(1), int(found.group(2))


def test_a_hold_receipt_is_shown_and_found_by_verify(store: Path) -> None:
    out = run(store, "hold", "raise", "--by", "Riley Chen", "--reason", "Smoke",
              stdin=PINS["Riley Chen"] + "\n")  # fmt: skip
    assert out.returncode == 0, out.stderr
    code, seq = _receipt(out.stdout)
    records = [json.loads(x) for x in store.read_text(encoding="utf-8").splitlines()]
    assert records[seq - 1]["hash"].startswith(code) and records[seq - 1]["kind"] == "hold-raised"
    listed = run(store, "hold", "list", "--open")
    assert f"receipt {code}" in listed.stdout
    found = run(store, "verify", "--against", code)
    assert found.returncode == 0, found.stderr
    assert f"checkpoint found at event {seq}: seq {seq}, hold-raised" in found.stdout
    assert records[seq - 1]["time"] in found.stdout


def test_verify_against_an_8_character_prefix(store: Path) -> None:
    records = [json.loads(x) for x in store.read_text(encoding="utf-8").splitlines()]
    target = records[4]
    out = run(store, "verify", "--against", target["hash"][:8].upper())
    assert out.returncode == 0, out.stderr
    assert f"checkpoint found at event 5: seq 5, {target['kind']}" in out.stdout
    shown = run(store, "verify", "--against", target["hash"][:16] + "…")  # as the app shows it
    assert shown.returncode == 0 and "checkpoint found at event 5" in shown.stdout
    short = run(store, "verify", "--against", target["hash"][:7])
    assert short.returncode == 2 and "8 to 64 hex" in short.stderr
    missing = run(store, "verify", "--against", "f" * 12 if not target["hash"].startswith("f")
                  else "0" * 12)  # fmt: skip
    assert missing.returncode == 1 and "NOT in this record" in missing.stderr


def test_verify_against_an_ambiguous_prefix_says_so(tmp_path: Path) -> None:
    # Two events whose hashes share 8 characters: search for them among many appended events.
    world = walked_day()
    store = write_store(world, tmp_path / "record.jsonl")
    records = [json.loads(x) for x in store.read_text(encoding="utf-8").splitlines()]
    seen: dict[str, int] = {}
    clash = None
    # A birthday search over forged, hash-valid `refused` events (the fold counts them only).
    last = records[-1]
    lines = []
    for i in range(200_000):
        rec = {"kind": "refused", "time": "2026-03-02T09:00:00.000000Z", "by": None,
               "role": None, "run": None, "step": None, "result": "refused", "note": str(i),
               "data": {"action": "sign", "code": "unknown-person"}, "seq": last["seq"] + 1,
               "prev_hash": last["hash"]}  # fmt: skip
        rec["hash"] = record_hash(rec)
        lines.append(canonical(rec))
        last = rec
        p = rec["hash"][:8]
        if p in seen:
            clash = p
            break
        seen[p] = rec["seq"]
    assert clash is not None
    with store.open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    out = run(store, "verify", "--against", clash)
    assert out.returncode == 1
    assert "ambiguous" in out.stderr and "2 events" in out.stderr


def test_run_sign_prints_a_receipt(tmp_path: Path) -> None:
    world = walked_day()
    store = write_store(world, tmp_path / "record.jsonl")
    started = run(store, "run", "start", "opening", "--json")
    assert started.returncode == 0, started.stderr
    run_id = json.loads(started.stdout)["id"]
    out = run(store, "run", "sign", run_id, "meeting-held", "--by", "Jordan Lee",
              "--by", "Alex Reyes", "--evidence", "attendees=20", "--evidence",
              "concerns-read=yes", stdin="2222\n1111\n")  # fmt: skip
    assert out.returncode == 0, out.stderr
    code, seq = _receipt(out.stdout)
    records = [json.loads(x) for x in store.read_text(encoding="utf-8").splitlines()]
    assert records[seq - 1]["kind"] == "signed" and records[seq - 1]["hash"].startswith(code)
    assert run(store, "verify", "--against", code).returncode == 0
