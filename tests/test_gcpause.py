"""The idle collector: no full garbage collection while the app is in use, one once it is quiet
(or when garbage has piled up regardless), and the collector restored afterwards."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from safetyapp.gcpause import IdleCollector


@pytest.fixture
def full_collections() -> Iterator[list[int]]:
    """Generations of the collections that ran (gen 2 is a full one)."""
    seen: list[int] = []

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    from safetyapp.gcpause import release_full_collections

    gc.callbacks.append(note)
    release_full_collections()  # a CLI command run in-process by an earlier test holds them
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's defaults, whatever an earlier test (an app) left
    yield seen
    gc.callbacks.remove(note)
    gc.set_threshold(*saved)


def make_garbage(cycles: int) -> None:
    """Lists in reference cycles that live long enough to be promoted, then die."""
    keep = []
    for _ in range(cycles):
        cell: list[Any] = []
        cell.append(cell)
        keep.append(cell)
    del keep


def test_no_full_collection_while_in_use_one_when_quiet(full_collections: list[int]) -> None:
    collector = IdleCollector(quiet_seconds=3.0, force_after=10**6)
    saved = gc.get_threshold()
    collector.start(now=100.0)
    make_garbage(300_000)  # with the default thresholds, several full collections
    assert 2 not in full_collections
    collector.activity(now=101.0)
    assert not collector.tick(now=103.5)  # 2.5 s since the last key: not quiet yet
    assert 2 not in full_collections
    assert collector.tick(now=104.0)  # quiet for 3 s: now
    assert full_collections.count(2) == 1 and collector.collections == 1
    assert gc.get_count()[2] == 0
    collector.stop()
    assert gc.get_threshold() == saved


def test_garbage_never_piles_up_without_bound(full_collections: list[int]) -> None:
    collector = IdleCollector(quiet_seconds=3.0, force_after=5)
    collector.start(now=0.0)
    make_garbage(300_000)  # far more than 5 young collections' worth
    collector.activity(now=10.0)
    assert collector.tick(now=10.5)  # never quiet, but due anyway
    assert 2 in full_collections
    collector.stop()


def test_nothing_to_do_is_not_a_collection(full_collections: list[int]) -> None:
    collector = IdleCollector(quiet_seconds=0.0)
    assert not collector.tick(now=5.0)  # not started: the app's collector is not in charge
    collector.start(now=0.0)
    gc.collect()
    assert not collector.tick(now=5.0)  # nothing promoted since the last full collection
    collector.stop()
    collector.stop()  # twice is harmless
    assert not collector.running


def test_a_short_command_holds_full_collections_until_released(
    full_collections: list[int],
) -> None:
    from safetyapp.gcpause import hold_full_collections, release_full_collections

    saved = gc.get_threshold()
    hold_full_collections()
    hold_full_collections()  # twice: still one hold, one release restores
    make_garbage(300_000)
    assert 2 not in full_collections
    release_full_collections()
    assert gc.get_threshold() == saved
