"""`verify` in two parts at once (Linux, stores over 1 MB): this process checks and replays the
events before a run's start a little past half-way, a forked child the rest from the plain fold
of the first part. It gives exactly the answer of the one-pass check, whichever problem comes
first and in whichever part, and when a decision runs on past the boundary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from test_replay import FORGERIES, _forged_log  # type: ignore[import-not-found]

from safetyapp.store import repository
from safetyapp.store.chain import VerifyResult
from safetyapp.store.journal import Journal
from safetyapp.store.repository import verify_replayed

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the child is forked on Linux")


def _both(
    db: Path, monkeypatch: pytest.MonkeyPatch, *, split: bool = True
) -> tuple[VerifyResult, VerifyResult]:
    """(one pass, two processes) for the same file; the second really split in two unless
    ``split`` is False (a record too short to split: one pass then, too)."""
    monkeypatch.setattr(repository, "_PARALLEL_FROM_BYTES", 1 << 62)
    one = verify_replayed(Journal(db))
    monkeypatch.setattr(repository, "_PARALLEL_FROM_BYTES", 0)
    lines = db.read_text(encoding="utf-8").splitlines()
    assert (repository._split_point(lines) is not None) == split, "split or not as expected"
    two = verify_replayed(Journal(db))
    return one, two


def _store(tmp_path: Path, log: list[dict[str, Any]]) -> Path:
    db = tmp_path / "record.jsonl"
    Journal.create(db, log)
    return db


@pytest.mark.parametrize("name", list(FORGERIES))
def test_each_forgery_gets_the_same_answer(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log, seq = _forged_log(FORGERIES[name][0])
    one, two = _both(_store(tmp_path, log), monkeypatch)
    assert not two.ok and two.first_bad_seq == seq, two
    assert two == one


def _lines(db: Path) -> list[bytes]:
    return db.read_bytes().splitlines(keepends=True)


def test_a_changed_byte_before_a_forgery_is_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log, _seq = _forged_log(FORGERIES["order"][0])
    db = _store(tmp_path, log)
    lines = _lines(db)
    lines[2] = lines[2].replace(b'"note":"', b'"note":"X', 1)
    db.write_bytes(b"".join(lines))
    one, two = _both(db, monkeypatch)
    assert two == one and two.first_bad_seq == 3 and "hash" in (two.problem or ""), two


def test_a_forgery_before_a_changed_byte_is_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log, seq = _forged_log(FORGERIES["order"][0])
    db = _store(tmp_path, [*log, *log[-1:]])
    lines = _lines(db)
    lines[-1] = lines[-1].replace(b'"note":"', b'"note":"X', 1)
    db.write_bytes(b"".join(lines))
    one, two = _both(db, monkeypatch)
    assert two == one and two.first_bad_seq == seq and "out-of-order" in (two.problem or "")


def test_a_line_that_is_not_json_and_a_record_cut_inside_a_decision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log, seq = _forged_log(FORGERIES["order"][0])
    db = _store(tmp_path, log[: seq - 1])
    honest = _lines(db)
    db.write_bytes(b"".join([*honest[:4], b"{not json}\n", *honest[5:]]))
    one, two = _both(db, monkeypatch)
    assert two == one and two.first_bad_seq == 5, two
    # production-created without the crew-added event the command appends with it
    db.write_bytes(honest[0])
    one, two = _both(db, monkeypatch, split=False)
    assert two == one and not two.ok and "incomplete" in (two.problem or ""), two


def test_an_honest_store_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log, seq = _forged_log(FORGERIES["order"][0])
    one, two = _both(_store(tmp_path, log[: seq - 1]), monkeypatch)
    assert two == one and two.ok and two.count == seq - 1, two


def test_a_forgery_in_the_first_part_is_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log, seq = _forged_log(FORGERIES["separation of duties"][0])
    # More after it (it cannot replay after a forgery, but the first problem is the answer).
    db = _store(tmp_path, [*log, *log[10:seq]])
    lines = _lines(db)
    split = repository._split_point([x.decode() for x in lines])
    assert split is not None and split >= seq
    one, two = _both(db, monkeypatch)
    assert two == one and two.first_bad_seq == seq and "separation" in (two.problem or "")


def test_a_decision_that_runs_on_past_the_boundary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event that ends the first part's last decision (a run's completion after its last
    step) removed: the first part's decision runs into the run started at the boundary."""
    log, seq = _forged_log(FORGERIES["order"][0])
    at = max(
        i for i in range(1, seq - 1)
        if log[i]["kind"] == "run-started" and log[i - 1]["kind"] == "run-completed"
    )  # fmt: skip
    cut = [*log[: at - 1], *log[at : seq - 1]]  # the completion before that run's start gone
    monkeypatch.setattr(repository, "_SPLIT_AT", (at - 1 + 0.5) / len(cut))  # split right there
    db = _store(tmp_path, cut)
    assert repository._split_point(db.read_text(encoding="utf-8").splitlines()) == at - 1
    one, two = _both(db, monkeypatch)
    assert two == one and not two.ok and two.first_bad_seq is not None, two


def test_the_second_part_reads_numbers_as_the_chain_check_does() -> None:
    """orjson reads an integer beyond 64 bits as a float; the first part's reader (canonical
    check, json as its fallback) reads the integer: the second part's fold must too, or a
    crafted record could replay differently in the two parts."""
    line = '{"data":{"chambers":1000000000000000000000000000000},"kind":"firearm-added"}'
    value = repository.read_like_json(line)
    assert value["data"]["chambers"] == 10**30 and type(value["data"]["chambers"]) is int
    from safetyapp.store.chain import parse_canonical

    assert parse_canonical(line) == value
    short = '{"data":{"chambers":6},"kind":"firearm-added"}'
    assert repository.read_like_json(short) == parse_canonical(short)
