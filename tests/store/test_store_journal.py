from __future__ import annotations

import errno
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import filelock
import pytest
from store_testutil import event, lines_of, make_store

from safetyapp.store.chain import GENESIS, contains_checkpoint, verify_chain
from safetyapp.store.head import head_path
from safetyapp.store.journal import (
    Journal,
    StoreCorrupt,
    StoreError,
    StoreLocked,
    StoreMissing,
)

# ------------------------------------------------------------------ create / append / reopen


def test_create_append_reopen(store_path: Path) -> None:
    j = Journal.create(store_path, [{"kind": "store-created", "name": "Set A"}])
    assert j.last_seq == 1 and j.warnings == []
    sealed = j.append([event(2), event(3)])
    assert [r["seq"] for r in sealed] == [2, 3]
    assert j.append([]) == []
    j.append([event(4)])
    assert j.last_seq == 4

    again = Journal.open(store_path)
    assert again.records() == j.records()
    assert again.head_hash == j.head_hash == j.records()[-1]["hash"]
    assert again.last_seq == 4
    assert again.verify().ok
    assert again.warnings == []
    # every line is the canonical JSON of its record
    for line, rec in zip(lines_of(store_path), again.records(), strict=True):
        assert line == (json.dumps(rec, sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False) + "\n").encode()  # fmt: skip


def test_chaining(store_path: Path) -> None:
    j = make_store(store_path, 6)
    recs = j.records()
    assert [r["seq"] for r in recs] == list(range(1, 7))
    assert recs[0]["prev_hash"] == GENESIS
    for a, b in itertools.pairwise(recs):
        assert b["prev_hash"] == a["hash"]
    assert verify_chain(recs).ok
    res = j.verify()
    assert res.ok and res.count == 6 and res.head_hash == j.head_hash


def test_records_is_not_copied(store_path: Path) -> None:
    j = make_store(store_path, 3)
    assert j.records() is j.records()


def test_append_keeps_caller_payload_and_validates(store_path: Path) -> None:
    j = make_store(store_path, 2)
    before = store_path.read_bytes()
    payload: dict[str, Any] = {"kind": "x", "v": [1]}
    j.append([payload])
    assert payload == {"kind": "x", "v": [1]}
    before = store_path.read_bytes()
    for bad in ({"v": 1}, {"kind": "x", "seq": 9}, {"kind": "x", "hash": "h"}):
        with pytest.raises(ValueError):
            j.append([event(10), bad])  # all or nothing
    assert store_path.read_bytes() == before
    assert j.last_seq == 3


def test_create_refuses_existing_file(store_path: Path) -> None:
    store_path.write_bytes(b"precious")
    with pytest.raises(StoreError) as ei:
        Journal.create(store_path, [event(1)])
    assert str(store_path) in str(ei.value) and "already exists" in str(ei.value)
    assert store_path.read_bytes() == b"precious"
    assert sorted(p.name for p in store_path.parent.iterdir()) == [store_path.name]


def test_create_refuses_missing_folder(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "events.jsonl"
    with pytest.raises(StoreError) as ei:
        Journal.create(path, [event(1)])
    assert "does not exist" in str(ei.value) and str(path.parent) in str(ei.value)


def test_create_needs_a_valid_first_event(store_path: Path) -> None:
    with pytest.raises(ValueError):
        Journal.create(store_path, [])
    with pytest.raises(ValueError):
        Journal.create(store_path, [{"no": "kind"}])
    assert not store_path.exists()
    assert list(store_path.parent.iterdir()) == []


def test_open_missing(store_path: Path) -> None:
    with pytest.raises(StoreMissing) as ei:
        Journal.open(store_path)
    assert str(store_path) in str(ei.value)


def test_open_directory(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        Journal.open(tmp_path)


# ------------------------------------------------------------------ tamper detection via verify()


def _flip(b: int) -> int:
    return ord("y") if b == ord("x") else ord("x")


def test_verify_detects_any_single_changed_byte_in_middle_record(store_path: Path) -> None:
    j = make_store(store_path, 5)
    original = store_path.read_bytes()
    lines = lines_of(store_path)
    start = sum(len(x) for x in lines[:2])
    middle = lines[2][:-1]  # record 3, without its newline
    for i in range(len(middle)):
        data = bytearray(original)
        data[start + i] = _flip(data[start + i])
        store_path.write_bytes(bytes(data))
        res = j.verify()
        assert not res.ok, f"undetected change at byte {i} of {middle!r}"
        assert res.first_bad_seq in (3, 4)
        assert res.problem
    store_path.write_bytes(original)
    assert j.verify().ok


def test_verify_detects_change_inside_each_field(store_path: Path) -> None:
    j = make_store(store_path, 5)
    original = store_path.read_bytes()
    rec = j.records()[2]
    line = lines_of(store_path)[2]
    start = original.index(line)
    for key, value in rec.items():
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if isinstance(value, bool):
            continue  # no same-length change keeps valid JSON; covered by the byte-flip test
        key_at = line.index(f'"{key}":'.encode()) + len(key) + 3
        assert line[key_at:].startswith(text.encode())
        if isinstance(value, (int, float)):
            pos = key_at + len(text) - 1  # last digit
        elif isinstance(value, str):
            pos = key_at + 1  # first character inside the quotes
        else:
            pos = key_at + 2  # first character of the first nested string
        data = bytearray(original)
        old = data[start + pos]
        data[start + pos] = (
            (ord("2") if old == ord("1") else ord("1")) if chr(old).isdigit() else _flip(old)
        )
        store_path.write_bytes(bytes(data))
        res = j.verify()
        assert not res.ok, key
        if key != "seq":  # a changed seq is also a structural error at open
            reopened = Journal.open(store_path)
            assert not reopened.verify().ok
            assert reopened.verify().first_bad_seq in (3, 4)
    store_path.write_bytes(original)


def test_verify_detects_meaning_preserving_edit(store_path: Path) -> None:
    j = Journal.create(store_path, [{"kind": "x", "s": "a\x1fb"}])
    j.append([event(2)])
    data = store_path.read_bytes()
    assert b"\\u001f" in data
    store_path.write_bytes(data.replace(b"\\u001f", b"\\u001F"))
    res = j.verify()
    assert not res.ok and res.first_bad_seq == 1
    assert Journal.open(store_path).records() == j.records()  # same meaning, so it opens


def test_verify_detects_deletion_swap_insertion(store_path: Path) -> None:
    j = make_store(store_path, 6)
    original = lines_of(store_path)
    cases = {
        "deletion": original[:3] + original[4:],
        "swap": [*original[:2], original[3], original[2], *original[4:]],
        "insertion": [*original[:3], original[2], *original[3:]],
    }
    for name, lines in cases.items():
        store_path.write_bytes(b"".join(lines))
        res = j.verify()
        assert not res.ok, name
        assert res.first_bad_seq in (3, 4), name
        with pytest.raises(StoreCorrupt):
            Journal.open(store_path)
    # deleting the last events: the head file beside the store names the cut ...
    store_path.write_bytes(b"".join(original[:4]))
    assert j.verify().ok
    with pytest.raises(StoreCorrupt, match="the record was cut: the app acknowledged 6 events"):
        Journal.open(store_path)
    # ... and without it, it is only visible against a recorded head hash
    head_path(store_path).unlink()
    assert contains_checkpoint(Journal.open(store_path).records(), j.head_hash) is None


def test_verify_reports_non_utf8_and_non_json(store_path: Path) -> None:
    j = make_store(store_path, 4)
    original = lines_of(store_path)
    store_path.write_bytes(b"".join([*original[:2], b"\xff" + original[2], original[3]]))
    res = j.verify()
    assert not res.ok and res.first_bad_seq == 3 and res.count == 2
    store_path.write_bytes(b"".join([*original[:2], b"{oops\n", original[3]]))
    res = j.verify()
    assert not res.ok and res.first_bad_seq == 3


def test_checkpoint_after_more_appends_and_after_tail_cut(store_path: Path) -> None:
    j = make_store(store_path, 5)
    checkpoint = j.head_hash
    j.append([event(i) for i in range(6, 11)])
    assert contains_checkpoint(j.records(), checkpoint) == 5
    assert contains_checkpoint(Journal.open(store_path).records(), checkpoint) == 5

    lines = lines_of(store_path)
    head_path(store_path).unlink()  # (with it, any cut is refused: tests/store/test_head.py)
    store_path.write_bytes(b"".join(lines[:5]))  # cut exactly at the checkpoint: still there
    assert contains_checkpoint(Journal.open(store_path).records(), checkpoint) == 5
    store_path.write_bytes(b"".join(lines[:4]))  # cut below it: gone
    cut = Journal.open(store_path)
    assert cut.verify().ok
    assert contains_checkpoint(cut.records(), checkpoint) is None


# ------------------------------------------------------------------ structural corruption on open


def _good(n: int = 4) -> Callable[[Path], list[bytes]]:
    def build(path: Path) -> list[bytes]:
        make_store(path, n)
        return lines_of(path)

    return build


def _edit_record(line: bytes, edit: Callable[[dict[str, Any]], Any]) -> bytes:
    rec = json.loads(line)
    out = edit(rec)
    rec = rec if out is None else out
    return (
        json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    ).encode()


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(rec: dict[str, Any]) -> None:
        rec[key] = value

    return edit


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    def edit(rec: dict[str, Any]) -> None:
        del rec[key]

    return edit


CORRUPT_CASES: dict[str, tuple[Callable[[list[bytes]], bytes], int | None]] = {
    "empty file": (lambda ls: b"", None),
    "not json": (lambda ls: b"".join([ls[0], b"{not json\n", *ls[2:]]), 2),
    "blank line": (lambda ls: b"".join([ls[0], b"\n", *ls[1:]]), 2),
    "array not object": (lambda ls: b"".join([*ls[:2], b"[1,2]\n", *ls[3:]]), 3),
    "string not object": (lambda ls: b"".join([*ls[:2], b'"x"\n', *ls[3:]]), 3),
    "missing seq": (lambda ls: b"".join([*ls[:2], _edit_record(ls[2], _drop("seq")), ls[3]]), 3),
    "seq is a string": (
        lambda ls: b"".join([*ls[:2], _edit_record(ls[2], _set("seq", "3")), ls[3]]),
        3,
    ),
    "seq is a bool": (lambda ls: b"".join([_edit_record(ls[0], _set("seq", True)), *ls[1:]]), 1),
    "missing prev_hash": (
        lambda ls: b"".join([ls[0], _edit_record(ls[1], _drop("prev_hash")), *ls[2:]]),
        2,
    ),
    "hash is an int": (
        lambda ls: b"".join([ls[0], _edit_record(ls[1], _set("hash", 7)), *ls[2:]]),
        2,
    ),
    "hash too short": (
        lambda ls: b"".join([ls[0], _edit_record(ls[1], _set("hash", "abc")), *ls[2:]]),
        2,
    ),
    "missing kind": (lambda ls: b"".join([*ls[:3], _edit_record(ls[3], _drop("kind"))]), 4),
    "kind not a string": (lambda ls: b"".join([*ls[:3], _edit_record(ls[3], _set("kind", 1))]), 4),
    "seq gap (deleted event)": (lambda ls: b"".join([ls[0], *ls[2:]]), 2),
    "duplicated event": (lambda ls: b"".join([*ls[:2], ls[1], *ls[2:]]), 3),
    "seq not starting at 1": (lambda ls: b"".join(ls[1:]), 1),
    "non-utf8 byte": (
        lambda ls: b"".join([*ls[:2], ls[2][:5] + b"\xc3\x28" + ls[2][5:], ls[3]]),
        3,
    ),
    "bad last line with newline": (lambda ls: b"".join([*ls[:3], ls[3][:20] + b"\n"]), 4),
    "no complete line": (lambda ls: ls[0][:-1], 1),
}


@pytest.mark.parametrize("case", sorted(CORRUPT_CASES))
def test_corrupt_store_refused_and_untouched(store_path: Path, case: str) -> None:
    damage, line = CORRUPT_CASES[case]
    data = damage(_good()(store_path))
    store_path.write_bytes(data)
    listing = sorted(p.name for p in store_path.parent.iterdir())
    with pytest.raises(StoreCorrupt) as ei:
        Journal.open(store_path)
    err = ei.value
    assert err.path == store_path
    assert err.line == line
    assert err.problem
    msg = str(err)
    assert str(store_path) in msg and "\n" not in msg
    if line is not None:
        assert f"line {line}" in msg
    assert store_path.read_bytes() == data
    assert sorted(p.name for p in store_path.parent.iterdir()) == listing


def test_empty_file_message(store_path: Path) -> None:
    store_path.write_bytes(b"")
    with pytest.raises(StoreCorrupt, match="empty store file"):
        Journal.open(store_path)


def test_hash_mismatch_is_not_an_open_error(store_path: Path) -> None:
    make_store(store_path, 4)
    store_path.write_bytes(store_path.read_bytes().replace(b"check 3", b"check 9"))
    j = Journal.open(store_path)
    res = j.verify()
    assert not res.ok and res.first_bad_seq == 3
    assert "changed after it was written" in (res.problem or "")


# ------------------------------------------------------------------ torn tail


def _side_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".torn-*"))


@pytest.mark.parametrize("cut", [1, 30, -1])
def test_torn_tail_moved_aside(store_path: Path, cut: int) -> None:
    j = make_store(store_path, 3)
    good = store_path.read_bytes()
    sealed_line = json.dumps(
        {**event(4), "seq": 4, "prev_hash": j.head_hash, "hash": "0" * 64},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    torn = sealed_line[:cut]  # cut == -1: the whole record but no newline: still torn
    store_path.write_bytes(good + torn)

    again = Journal.open(store_path)
    assert store_path.read_bytes() == good
    assert again.records() == j.records()
    (side,) = _side_files(store_path)
    assert side.read_bytes() == torn
    assert len(again.warnings) == 1
    assert str(side) in again.warnings[0] and f"{len(torn)} bytes" in again.warnings[0]

    again.append([event(4)])
    assert Journal.open(store_path).verify().ok
    assert Journal.open(store_path).last_seq == 4


def test_torn_tail_left_by_other_writer_after_open(store_path: Path) -> None:
    j = make_store(store_path, 3)
    with store_path.open("ab") as f:
        f.write(b'{"kind":"half')
    j.append([event(4)])
    assert len(_side_files(store_path)) == 1
    reopened = Journal.open(store_path)
    assert reopened.verify().ok and reopened.last_seq == 4
    assert reopened.warnings == []


def test_refresh_ignores_unfinished_line(store_path: Path) -> None:
    j = make_store(store_path, 2)
    other = Journal.open(store_path)
    other.append([event(3)])
    line = lines_of(store_path)[-1]
    # simulate a write in progress: cut the last line in two
    store_path.write_bytes(store_path.read_bytes()[: -len(line) // 2])
    assert j.refresh() == []
    assert j.last_seq == 2


# ------------------------------------------------------------------ other writers


def test_two_journals_interleave(store_path: Path) -> None:
    a = make_store(store_path, 1)
    b = Journal.open(store_path)
    for i in range(10):
        writer = a if i % 2 == 0 else b
        writer.append([event(i), event(i + 100)])
    a.refresh()
    b.refresh()
    assert a.last_seq == b.last_seq == 21
    assert a.records() == b.records() == Journal.open(store_path).records()
    assert a.verify().ok and verify_chain(a.records()).ok


def test_refresh_returns_new_records(store_path: Path) -> None:
    a = make_store(store_path, 2)
    b = Journal.open(store_path)
    new = a.append([event(3), event(4)])
    assert b.refresh() == new
    assert b.refresh() == []
    assert b.head_hash == a.head_hash


def test_refresh_detects_rewrite_and_truncation(store_path: Path) -> None:
    j = make_store(store_path, 4)
    original = store_path.read_bytes()

    store_path.write_bytes(original.replace(b"check 4", b"check 8"))
    with pytest.raises(StoreCorrupt, match="changed by another program"):
        j.refresh()
    with pytest.raises(StoreCorrupt):
        j.append([event(5)])
    assert store_path.read_bytes() == original.replace(b"check 4", b"check 8")

    store_path.write_bytes(original[: -len(lines_of(store_path)[-1])])
    with pytest.raises(StoreCorrupt, match="changed by another program"):
        j.refresh()


def test_refresh_detects_replaced_file(store_path: Path) -> None:
    j = make_store(store_path, 2)
    tmp = store_path.with_name("copy")
    tmp.write_bytes(store_path.read_bytes())
    os.replace(tmp, store_path)
    with pytest.raises(StoreCorrupt, match="replaced"):
        j.refresh()


# ------------------------------------------------------------------ lock


def test_lock_timeout(store_path: Path) -> None:
    j = make_store(store_path, 1)
    j2 = Journal.open(store_path, lock_timeout=0.2)
    before = store_path.read_bytes()
    holder = filelock.FileLock(f"{store_path}.lock")
    with holder:
        t0 = time.monotonic()
        with pytest.raises(StoreLocked) as ei:
            j2.append([event(2)])
        assert 0.15 < time.monotonic() - t0 < 5
    assert str(store_path) in str(ei.value) and "try again" in str(ei.value)
    assert store_path.read_bytes() == before
    j2.append([event(2)])
    assert j.refresh()[0]["seq"] == 2


def test_locked_is_reentrant(store_path: Path) -> None:
    j = make_store(store_path, 1)
    with j.locked(), j.locked():
        j.append([event(2)])
        j.append([event(3)])
    other = Journal.open(store_path, lock_timeout=0.1)
    other.append([event(4)])  # released after the outer block
    assert other.verify().ok


def test_locked_excludes_other_writers(store_path: Path) -> None:
    j = make_store(store_path, 1)
    other = Journal.open(store_path, lock_timeout=0.1)
    with j.locked(), pytest.raises(StoreLocked):
        other.append([event(2)])


# ------------------------------------------------------------------ write failures


def _failing_write(
    monkeypatch: pytest.MonkeyPatch, err: int, store_path: Path, partial: bool = True
) -> None:
    """Make os.write on the store fail like the OS would: a short write, then ``err``."""
    real_write = os.write
    target = os.stat(store_path).st_ino
    state = {"calls": 0}

    def write(fd: int, data: Any) -> int:
        if os.fstat(fd).st_ino != target:
            return real_write(fd, data)
        state["calls"] += 1
        if partial and state["calls"] == 1:
            return real_write(fd, bytes(data[: max(1, len(data) // 2)]))
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(os, "write", write)


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EIO, errno.EROFS, errno.EACCES])
def test_write_failure_records_nothing(
    store_path: Path, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    j = make_store(store_path, 3)
    before = store_path.read_bytes()
    records_before = list(j.records())
    _failing_write(monkeypatch, err, store_path)
    with pytest.raises(StoreError) as ei:
        j.append([event(4), event(5)])
    msg = str(ei.value)
    assert str(store_path) in msg and os.strerror(err) in msg and "nothing was recorded" in msg
    monkeypatch.undo()
    assert store_path.read_bytes() == before
    assert j.records() == records_before and j.last_seq == 3
    assert j.verify().ok
    j.append([event(4)])
    reopened = Journal.open(store_path)
    assert reopened.last_seq == 4 and reopened.verify().ok and reopened.warnings == []


def test_enospc_message(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    j = make_store(store_path, 1)
    _failing_write(monkeypatch, errno.ENOSPC, store_path, partial=False)
    with pytest.raises(StoreError, match="No space left on device; nothing was recorded; free"):
        j.append([event(2)])


def test_fsync_failure_records_nothing(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    j = make_store(store_path, 2)
    before = store_path.read_bytes()
    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(StoreError, match="Input/output error"):
        j.append([event(3)])
    monkeypatch.undo()
    assert store_path.read_bytes() == before and j.last_seq == 2


def test_reading_a_store_never_imports_the_lock_library(store_path: Path) -> None:
    # A start that only reads (the board, a listing) does without filelock's ~8 ms import;
    # the first write takes the lock as ever (the lock tests above).
    Journal.create(store_path, [{"kind": "note", "time": "2026-03-01T08:00:00.000000Z"}])
    code = (
        "import sys; from pathlib import Path; import safetyapp.tui.app; "
        "from safetyapp.store.journal import Journal; "
        f"Journal.open(Path({str(store_path)!r})).records(); "
        "print('filelock' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
