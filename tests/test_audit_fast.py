"""The audit screen's live filter (in-memory, indexed) returns exactly TinyDB's rows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from report_support import walked_day, write_store
from support import ACTOR, AD, ARMORER, CHECKLISTS, SUPERVISOR, cred

from safetyapp.audit.query import AuditFilter, matching, select
from safetyapp.domain import events as ev
from safetyapp.store.repository import Repository

FILTERS = [
    AuditFilter(),
    AuditFilter(kind="refused"),
    AuditFilter(kind="signed"),
    AuditFilter(kind="no-such-kind"),
    AuditFilter(flagged=True),
    AuditFilter(by=AD[0]),
    AuditFilter(by=ACTOR[0]),
    AuditFilter(by=SUPERVISOR[0], flagged=True),
    AuditFilter(by=ARMORER[0], kind="signed"),
    AuditFilter(by="Nobody"),
    AuditFilter(firearm="COLT-1"),
    AuditFilter(firearm="GLOCK-2", kind="signed"),
    AuditFilter(since=datetime(2026, 3, 2, 7, 10, tzinfo=UTC)),
    AuditFilter(until=datetime(2026, 3, 2, 7, 10, tzinfo=UTC), flagged=True),
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repository:
    path = write_store(walked_day(), tmp_path_factory.mktemp("audit") / "record.jsonl")
    return Repository.open(Path(path), CHECKLISTS)


@pytest.mark.parametrize("flt", FILTERS, ids=repr)
def test_fast_path_matches_tinydb(repo: Repository, flt: AuditFilter) -> None:
    slow = select(repo, flt)
    fast = [ev.public(dict(r)) for r in matching(repo, flt)]
    assert fast == slow


def test_filters_are_not_trivial(repo: Repository) -> None:
    counts = {repr(f): len(select(repo, f)) for f in FILTERS}
    assert counts[repr(AuditFilter(kind="refused"))] >= 1
    assert 0 < counts[repr(AuditFilter(by=AD[0]))] < counts[repr(AuditFilter())]
    assert counts[repr(AuditFilter(by="Nobody"))] == 0


def test_fast_path_follows_appends(repo: Repository, tmp_path: Path) -> None:
    before = len(matching(repo, AuditFilter(by=AD[0])))
    from safetyapp.domain import engine

    decision = repo.do(engine.raise_hold, cred(AD), "Smoke on set")
    assert decision.ok, decision.refused
    assert len(matching(repo, AuditFilter(by=AD[0]))) == before + 1
    assert [ev.public(dict(r)) for r in matching(repo, AuditFilter(by=AD[0]))] == select(
        repo, AuditFilter(by=AD[0])
    )
