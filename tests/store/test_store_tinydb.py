from __future__ import annotations

from pathlib import Path

import pytest
from store_testutil import event, make_store
from tinydb import Query, where

from safetyapp.store.journal import AppendOnlyError, Journal


def test_search_by_kind_and_all(store_path: Path) -> None:
    j = make_store(store_path, 5)
    j.append([event(6, kind="hold"), event(7, kind="hold")])
    events = j.db.table("events")
    holds = events.search(Query().kind == "hold")
    assert [h["n"] for h in holds] == [6, 7]
    assert [h.doc_id for h in holds] == [6, 7]
    everything = events.all()
    assert [d.doc_id for d in everything] == list(range(1, 8))
    assert everything == j.records()
    assert events.get(doc_id=3) == j.records()[2]
    assert len(events) == 7
    # "events" is also the default table
    assert j.db.search(where("kind") == "hold") == holds
    assert j.db.table("_default").all() == []


def test_queries_see_new_appends(store_path: Path) -> None:
    j = make_store(store_path, 3)
    events = j.db.table("events")
    q = Query().kind == "hold"
    assert events.search(q) == []  # now cached by TinyDB
    j.append([event(4, kind="hold")])
    assert [d.doc_id for d in events.search(q)] == [4]
    assert j.db.count(q) == 1
    assert len(events.all()) == 4


def test_queries_see_other_processes_appends_after_refresh(store_path: Path) -> None:
    j = make_store(store_path, 2)
    other = Journal.open(store_path)
    q = Query().kind == "hold"
    assert j.db.search(q) == []
    other.append([event(3, kind="hold")])
    j.refresh()
    assert [d.doc_id for d in j.db.search(q)] == [3]


def test_query_results_are_copies(store_path: Path) -> None:
    j = make_store(store_path, 2)
    doc = j.db.get(doc_id=2)
    assert doc is not None
    doc["by"] = "someone else"
    assert j.records()[1]["by"] == "Ana Pérez"
    assert j.verify().ok


@pytest.mark.parametrize(
    "action",
    [
        "insert",
        "insert_multiple",
        "update",
        "update_nomatch",
        "remove",
        "truncate",
        "upsert",
        "drop_tables",
        "drop_table",
        "storage_write",
        "insert_other_table",
    ],
)
def test_tinydb_writes_are_refused(store_path: Path, action: str) -> None:
    j = make_store(store_path, 3)
    before_bytes = store_path.read_bytes()
    before = [dict(r) for r in j.records()]
    db = j.db
    events = db.table("events")
    with pytest.raises(AppendOnlyError) as ei:
        if action == "insert":
            events.insert({"kind": "x"})
        elif action == "insert_multiple":
            events.insert_multiple([{"kind": "x"}])
        elif action == "update":
            events.update({"by": "forger"}, doc_ids=[2])
        elif action == "update_nomatch":
            events.update({"by": "forger"}, Query().kind == "nothing")
        elif action == "remove":
            events.remove(doc_ids=[2])
        elif action == "truncate":
            events.truncate()
        elif action == "upsert":
            events.upsert({"kind": "x", "n": 2}, Query().n == 2)
        elif action == "drop_tables":
            db.drop_tables()
        elif action == "drop_table":
            db.drop_table("events")
        elif action == "storage_write":
            data = db.storage.read()
            assert data is not None
            data["events"] = {k: v for k, v in data["events"].items() if k != "2"}
            db.storage.write(data)
        elif action == "insert_other_table":
            db.table("notes").insert({"kind": "x"})
    assert str(store_path) in str(ei.value)
    assert j.records() == before
    assert store_path.read_bytes() == before_bytes
    assert j.verify().ok
    assert db.table("events").all() == before


def test_writes_that_change_nothing_are_accepted(store_path: Path) -> None:
    j = make_store(store_path, 3)
    db = j.db
    data = db.storage.read()
    assert data is not None
    db.storage.write(data)
    db.table("fresh", persist_empty=True)
    assert len(db.table("events")) == 3
