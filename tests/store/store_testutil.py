"""Helpers for the store tests: real files in tmp_path, no mocks of the journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from safetyapp.store.journal import Journal


def event(i: int, kind: str = "signoff") -> dict[str, Any]:
    return {
        "kind": kind,
        "n": i,
        "by": "Ana Pérez",
        "prop": f"P-{i % 3}",
        "ok": True,
        "tags": ["barrel", "cylinder"],
        "detail": {"note": f"check {i}", "score": 1.5},
    }


def make_store(path: Path, n: int) -> Journal:
    """A store with ``n`` records: one from create(), the rest from one append()."""
    j = Journal.create(path, [{"kind": "store-created", "n": 1}])
    if n > 1:
        j.append([event(i) for i in range(2, n + 1)])
    return j


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)
