"""`verify` with the chain check in a forked child beside the replay (Linux, stores over 1 MB)
gives exactly the answer of the one-pass check, whichever problem comes first."""

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


def _both(db: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[VerifyResult, VerifyResult]:
    """(one pass, two processes) for the same file."""
    monkeypatch.setattr(repository, "_PARALLEL_FROM_BYTES", 1 << 62)
    one = verify_replayed(Journal(db))
    monkeypatch.setattr(repository, "_PARALLEL_FROM_BYTES", 0)
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
    one, two = _both(db, monkeypatch)
    assert two == one and not two.ok and "incomplete" in (two.problem or ""), two


def test_an_honest_store_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log, seq = _forged_log(FORGERIES["order"][0])
    one, two = _both(_store(tmp_path, log[: seq - 1]), monkeypatch)
    assert two == one and two.ok and two.count == seq - 1, two
