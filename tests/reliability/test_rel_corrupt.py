"""4. Corrupt store: every command refuses, naming the file and the problem, touching nothing.
Torn tail: set aside with a warning; a deeper cut is caught by `verify --against`.
Recovery: `verify --salvage NEW` copies the intact prefix to a new file, never the original."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from rel_support import AD, ARMORER, build_store, pins_for, run_cli, start_opening

from safetyapp.store.head import head_path
from safetyapp.store.journal import Journal


def _lines(db: Path) -> list[bytes]:
    return db.read_bytes().splitlines(keepends=True)


def _random_bytes(db: Path) -> str:
    rng = random.Random(3)
    db.write_bytes(bytes(rng.randrange(256) for _ in range(3000)) + b"\n")
    return "line 1"


def _empty(db: Path) -> str:
    db.write_bytes(b"")
    return "empty store file"


def _tinydb_shape(db: Path) -> str:
    db.write_text(json.dumps({"_default": {"1": {"kind": "crew-added"}}}) + "\n")
    return "missing or non-integer 'seq'"


def _json_list(db: Path) -> str:
    db.write_text("[1, 2, 3]\n")
    return "expected a JSON object, found list"


def _duplicated(db: Path) -> str:
    lines = _lines(db)
    db.write_bytes(b"".join([*lines[:4], lines[3], *lines[4:]]))
    return "line 5: expected seq 5, found 4 (an event is duplicated"


def _broken_middle(db: Path) -> str:
    lines = _lines(db)
    lines[4] = lines[4][: len(lines[4]) // 2] + b"\n"  # cut short in the middle of the file
    db.write_bytes(b"".join(lines))
    return "line 5: the line is not valid JSON"


CASES: dict[str, Callable[[Path], str]] = {
    "random-bytes": _random_bytes,
    "empty": _empty,
    "tinydb-shape": _tinydb_shape,
    "json-list": _json_list,
    "duplicated-event": _duplicated,
    "broken-middle": _broken_middle,
}

COMMANDS: list[tuple[list[str], list[str]]] = [
    (["crew", "list"], []),
    (["crew", "add", "New Person", "--role", "actor", "--by", "Pat Okafor"], ["Pat Okafor"]),
    (["crew", "pin", AD], [AD]),
    (["firearm", "list", "--json"], []),
    (["firearm", "add", "X-1", "--description", "d", "--kind", "rubber", "--by", ARMORER],
     [ARMORER]),
    (["ammo", "list"], []),
    (["ammo", "add", "L-9", "--type", "dummy", "--count", "1", "--by", ARMORER], [ARMORER]),
    (["run", "start", "opening"], []),
    (["run", "sign", "R0001", "meeting-held", "--by", AD, "--by", ARMORER,
      "--evidence", "attendees=3", "--evidence", "concerns-read=yes"], [AD, ARMORER]),
    (["run", "status", "R0001"], []),
    (["run", "list"], []),
    (["hold", "list"], []),
    (["hold", "raise", "--by", AD, "--reason", "r"], [AD]),
    (["hold", "resolve", "H0001", "--by", "Pat Okafor", "--by", ARMORER, "--action", "a"],
     ["Pat Okafor", ARMORER]),
    (["audit"], []),
    (["audit", "--json"], []),
    (["audit", "--csv"], []),
    (["verify"], []),
    (["verify", "--json"], []),
    (["verify", "--against", "0" * 64], []),
]  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_every_command_refuses_a_corrupt_store_untouched(
    tmp_path: Path, case: str, figures: Counter[str]
) -> None:
    db = tmp_path / "record.jsonl"
    start_opening(build_store(db))
    problem = CASES[case](db)
    before = db.read_bytes()
    files_before = sorted(p.name for p in tmp_path.iterdir())
    for args, by in COMMANDS:
        out = run_cli(db, *args, stdin=pins_for(by) + "9876\n9876\n")
        assert out.code == 1, (case, args, out)
        last = out.stderr.strip().splitlines()[-1]
        assert str(db) in last, (case, args, out.stderr)
        if args[0] == "verify":  # verify names the first bad event, or the open problem
            assert "BROKEN" in last or problem in last, (case, args, last)
        else:
            assert problem in last, (case, args, last)
        assert "was not changed" in last or "left untouched" in last, last
        assert db.read_bytes() == before, (case, args)
        figures["corrupt: commands refused on a corrupt store"] += 1
    assert sorted(p.name for p in tmp_path.iterdir()) == files_before


def test_verify_names_the_first_bad_event_of_a_damaged_store(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    build_store(db)
    _broken_middle(db)
    out = run_cli(db, "verify", "--json")
    assert out.code == 1
    report = json.loads(out.stdout)
    assert report["ok"] is False and report["first_bad_seq"] == 5 and report["count"] == 4
    assert "event 5: the line is not valid JSON" in out.stderr
    assert "verify --salvage NEW_FILE" in out.stderr


def test_torn_tail_is_set_aside_and_a_deeper_cut_is_refused_as_a_cut(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    build_store(db)
    checkpoint = json.loads(run_cli(db, "verify", "--json").stdout)["head_hash"]
    lines = _lines(db)
    n = len(lines)
    whole = b"".join(lines)

    # A crash mid-append: a partial line past the acknowledged head (never acknowledged).
    torn = lines[-1][:40]
    db.write_bytes(whole + torn)
    out = run_cli(db, "firearm", "list")
    assert out.code == 0
    (side,) = tmp_path.glob("record.jsonl.torn-*")
    assert side.read_bytes() == torn
    assert f"moved to {side}" in out.stderr and "unfinished write" in out.stderr
    assert db.read_bytes() == whole
    side.unlink()

    # The last acknowledged line cut short is no torn tail: a cut, refused, nothing changed.
    db.write_bytes(b"".join(lines[:-1]) + torn)
    for args in (
        ("firearm", "list"),
        ("crew", "add", "Zed", "--role", "armorer", "--by", "Pat Okafor"),
        ("verify",),
    ):
        out = run_cli(db, *args)
        assert out.code == 1, args
        assert (
            f"the record was cut: the app acknowledged {n} events (head {checkpoint[:12]}…), "
            f"the file holds {n - 1} and 40 bytes of a partial line" in out.stderr
        )
        assert db.read_bytes() == b"".join(lines[:-1]) + torn
    assert not list(tmp_path.glob("record.jsonl.torn-*"))

    # A cut through the middle of an acknowledged record: the same.
    db.write_bytes(b"".join(lines[: n - 3]) + lines[n - 3][:25])
    out = run_cli(db, "crew", "list")
    assert out.code == 1 and f"events {n - 2} to {n} are missing" in out.stderr
    assert run_cli(db, "verify").code == 1

    # Without the head file (a store from an older version): a warning, and the cut is
    # visible only against a checkpoint, as before.
    head_path(db).unlink()
    out = run_cli(db, "crew", "list")
    assert out.code == 0 and "has no head file" in out.stderr
    assert run_cli(db, "verify", "--against", checkpoint).code == 1
    earlier = json.loads(lines[n - 4])["hash"]
    out = run_cli(db, "verify", "--against", earlier)
    assert out.code == 0 and f"checkpoint found at event {n - 3}" in out.stdout


# -- salvage ----------------------------------------------------------------------------------


def _salvage(db: Path, out_path: Path) -> tuple[int, dict[str, object], str]:
    out = run_cli(db, "verify", "--salvage", str(out_path), "--json")
    return out.code, json.loads(out.stdout) if out.code == 0 else {}, out.stderr


@pytest.mark.parametrize(
    ("damage", "first_bad"),
    [("broken-middle", 5), ("duplicated-event", 5), ("hash-edit", 6), ("torn-tail", None)],
)
def test_salvage_copies_the_intact_prefix_to_a_new_file(
    tmp_path: Path, damage: str, first_bad: int | None, figures: Counter[str]
) -> None:
    db = tmp_path / "record.jsonl"
    repo = build_store(db)
    start_opening(repo)
    lines = _lines(db)
    if damage == "broken-middle":
        _broken_middle(db)
    elif damage == "duplicated-event":
        _duplicated(db)
    elif damage == "hash-edit":  # valid JSON, canonical, but the content no longer matches
        rec = json.loads(lines[5])
        rec["note"] = "edited"
        lines[5] = (json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n").encode()
        db.write_bytes(b"".join(lines))
    else:
        db.write_bytes(b"".join(lines) + b'{"kind":"torn')
    before = db.read_bytes()
    target = tmp_path / "salvaged.jsonl"
    code, report, err = _salvage(db, target)
    assert code == 0, err
    kept = (first_bad - 1) if first_bad else len(lines)
    assert report["kept"] == kept and report["first_bad_line"] == first_bad
    assert target.read_bytes() == b"".join(lines[:kept])
    assert db.read_bytes() == before, "salvage changed the original"
    salvaged = Journal.open(target)
    assert salvaged.verify().ok and salvaged.last_seq == kept and salvaged.warnings == []
    assert run_cli(target, "crew", "list").code == 0
    # Human report says what was cut and that the original was not changed.
    text = run_cli(db, "verify", "--salvage", str(tmp_path / "again.jsonl"))
    assert text.code == 0 and f"copied {kept} intact event(s)" in text.stdout
    assert f"{db} was not changed" in text.stdout
    if first_bad:
        assert f"cut from line {first_bad}: " in text.stdout
    figures["corrupt: salvage cases"] += 1


def test_salvage_refuses_an_existing_target_and_a_store_with_nothing_intact(
    tmp_path: Path,
) -> None:
    db = tmp_path / "record.jsonl"
    build_store(db)
    target = tmp_path / "taken.jsonl"
    target.write_bytes(b"precious")
    out = run_cli(db, "verify", "--salvage", str(target))
    assert out.code == 1 and "already exists there and was not changed" in out.stderr
    assert target.read_bytes() == b"precious"
    before = db.read_bytes()
    out = run_cli(db, "verify", "--salvage", str(db))  # never onto the store itself
    assert out.code == 1 and db.read_bytes() == before
    # An intact store: everything is copied, nothing cut.
    out = run_cli(db, "verify", "--salvage", str(tmp_path / "copy.jsonl"))
    assert out.code == 0 and "nothing was cut" in out.stdout
    assert (tmp_path / "copy.jsonl").read_bytes() == db.read_bytes()
    # First record bad: nothing to salvage, nothing written.
    _random_bytes(db)
    out = run_cli(db, "verify", "--salvage", str(tmp_path / "none.jsonl"))
    assert out.code == 1 and "nothing to salvage" in out.stderr
    assert not (tmp_path / "none.jsonl").exists()
    out = run_cli(tmp_path / "missing.jsonl", "verify", "--salvage", str(tmp_path / "x.jsonl"))
    assert out.code == 1 and "no store at" in out.stderr
