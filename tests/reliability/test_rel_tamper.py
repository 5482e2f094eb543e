"""5. Tamper evidence, property-based: random stores, random single edits.

Stores are built through the app (Repository + engine, real files) from seeded random action
sequences, including hostile text; hypothesis then picks a store and an edit. Any changed field,
removed or added key, deleted, swapped or inserted event makes `verify` exit 1 naming the first
bad event. A cut tail or a re-sealed rewrite leaves a valid chain, which `verify --against` the
earlier head rejects.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rel_support import ACTOR, AD, ARMORER, build_store, run_cli, start_opening
from support import PINS

from safetyapp.domain import engine
from safetyapp.domain.engine import Credential
from safetyapp.store.chain import canonical, contains_checkpoint, seal_line
from safetyapp.store.journal import Journal

STORES = 8
EXAMPLES = 300
WEIRD = ["[bold]x[/]", "\x1b[31mred", "‮evil", "🔫", "=1+1", "a\nb", "é" * 50, ""]


def _random_store(path: Path, seed: int) -> None:
    rng = random.Random(seed)
    repo = build_store(path)
    run = start_opening(repo) if rng.random() < 0.7 else None
    for i in range(rng.randrange(2, 30)):
        text = rng.choice(WEIRD) + str(i)
        pick = rng.randrange(5)
        if pick == 0:
            repo.do(
                engine.add_firearm,
                Credential(ARMORER, PINS[ARMORER]),
                f"F{i}{text}",
                text,
                "rubber",
                rng.choice([None, 6]),
            )
        elif pick == 1:
            repo.do(
                engine.add_ammo,
                Credential(ARMORER, PINS[ARMORER]),
                f"L{i}",
                rng.choice(["dummy", "live"]),
                i,
                text,
            )
        elif pick == 2:
            pin = PINS[AD] if rng.random() < 0.7 else "0000"
            repo.do(engine.raise_hold, Credential(AD, pin), text, run=run)
        elif pick == 3 and run is not None:
            repo.do(
                engine.sign, run, "meeting-held", Credential(AD, PINS[AD]),
                witnesses=[Credential(ARMORER, PINS[ARMORER])],
                evidence={"attendees": str(i), "concerns-read": "yes"}, note=text,
            )  # fmt: skip
        else:
            repo.do(engine.sign, run or "R0009", "inspect", Credential(ACTOR, PINS[ACTOR]))


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    out = []
    for seed in range(STORES):
        path = tmp_path_factory.mktemp("tamper") / "record.jsonl"
        _random_store(path, seed)
        out.append(path.read_bytes())
    return out


def _leaves(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict) and obj:
        return [p for k, v in obj.items() for p in _leaves(v, (*prefix, k))]
    if isinstance(obj, list) and obj:
        return [p for i, v in enumerate(obj) for p in _leaves(v, (*prefix, i))]
    return [prefix]


def _set(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        obj = obj[part]
    obj[path[-1]] = value


VALUES = st.one_of(
    st.text(max_size=20), st.integers(), st.booleans(), st.none(),
    st.floats(allow_nan=False, allow_infinity=False), st.lists(st.integers(), max_size=2),
)  # fmt: skip
EDITS = ["change", "drop-key", "add-key", "delete", "swap", "insert-copy", "insert-forged"]


def _edit(
    data: st.DataObject, records: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], int | None, str]:
    """Apply one random edit; return (records, expected first bad seq or None, description)."""
    n = len(records)
    recs = [json.loads(canonical(r)) for r in records]
    kind = data.draw(st.sampled_from(EDITS))
    i = data.draw(st.integers(0, n - 1))
    if kind == "change":
        path = data.draw(st.sampled_from(_leaves(recs[i])))
        old = recs[i]
        for part in path:
            old = old[part]
        new = data.draw(VALUES.filter(lambda v: canonical(v) != canonical(old)))
        _set(recs[i], path, new)
        return recs, i + 1, f"change {path} of event {i + 1} to {new!r}"
    if kind == "drop-key":
        key = data.draw(st.sampled_from(sorted(recs[i])))
        del recs[i][key]
        return recs, i + 1, f"drop {key!r} from event {i + 1}"
    if kind == "add-key":
        key = data.draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in recs[i]))
        recs[i][key] = data.draw(VALUES)
        return recs, i + 1, f"add {key!r} to event {i + 1}"
    if kind == "delete":
        del recs[i]
        return recs, (i + 1 if i < n - 1 else None), f"delete event {i + 1}"
    if kind == "swap":
        j = data.draw(st.integers(0, n - 1).filter(lambda j: j != i))
        a, b = sorted((i, j))
        recs[a], recs[b] = recs[b], recs[a]
        return recs, a + 1, f"swap events {a + 1} and {b + 1}"
    if kind == "insert-copy":
        k = data.draw(st.integers(0, n - 1))
        recs.insert(i, json.loads(canonical(records[k])))
        return recs, (i + 2 if k == i else i + 1), f"insert a copy of event {k + 1} at {i + 1}"
    # insert-forged: a well-formed record sealed into the chain at position i (not at the end,
    # which would be an ordinary append): it verifies itself, the event after it does not.
    prev = recs[i - 1]["hash"] if i else "0" * 64
    payload = {k: v for k, v in records[i].items() if k not in ("seq", "prev_hash", "hash")}
    payload["note"] = "forged"
    forged, _ = seal_line(payload, i + 1, prev)
    recs.insert(i, forged)
    return recs, i + 2, f"insert a forged event at {i + 1}"


def _write(path: Path, recs: list[dict[str, Any]]) -> None:
    path.write_text("".join(canonical(r) + "\n" for r in recs), encoding="utf-8")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_single_edit_is_detected_and_named(
    stores: list[bytes], data: st.DataObject, figures: Counter[str]
) -> None:
    raw = data.draw(st.sampled_from(stores))
    records = [json.loads(line) for line in raw.splitlines()]
    edited, expected, what = _edit(data, records)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "record.jsonl"
        _write(path, edited)
        result = Journal(path).verify()
        if expected is None:  # the last event deleted: a valid, shorter chain
            assert result.ok, what
            assert contains_checkpoint(edited, records[-1]["hash"]) is None, what
            out = run_cli(path, "verify", "--against", records[-1]["hash"])
            assert out.code == 1 and "NOT in this record" in out.stderr, what
        else:
            assert not result.ok, what
            assert result.first_bad_seq == expected, (what, result)
            out = run_cli(path, "verify")
            assert out.code == 1, what
            # Replay (issue 13) may name the edited event itself, before the chain breaks: a
            # forged event inserted is not one the engine would have recorded.
            named = [f"event {expected}:", f"line {expected}:", f"event {expected} (kind"]
            named.append(f"event {expected - 1} (kind")
            assert any(n in out.stderr for n in named), (what, out.stderr)
            assert str(path) in out.stderr
    figures["tamper: random edits detected (hypothesis)"] += 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_cut_tail_or_full_rewrite_is_caught_against_a_checkpoint(
    stores: list[bytes], data: st.DataObject, figures: Counter[str]
) -> None:
    raw = data.draw(st.sampled_from(stores))
    records = [json.loads(line) for line in raw.splitlines()]
    n = len(records)
    head = records[-1]["hash"]
    i = data.draw(st.integers(1, n - 1))
    if data.draw(st.booleans()):  # cut the tail after event i
        new = records[:i]
    else:  # rewrite event i+1 and re-seal everything after it: a valid, different chain
        new = records[:i]
        for rec in records[i:]:
            payload = {k: v for k, v in rec.items() if k not in ("seq", "prev_hash", "hash")}
            if len(new) == i:
                payload["note"] = "rewritten"
            sealed, _ = seal_line(payload, len(new) + 1, new[-1]["hash"])
            new.append(sealed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "record.jsonl"
        _write(path, new)
        plain = run_cli(path, "verify")
        if plain.code == 1:  # the rewrite broke a rule (a note the engine writes): replay caught it
            assert "would have recorded" in plain.stderr, plain
            figures["tamper: cuts/rewrites caught by --against (hypothesis)"] += 1
            return
        assert plain.code == 0
        out = run_cli(path, "verify", "--against", head)
        assert out.code == 1 and "NOT in this record" in out.stderr
        earlier = records[i - 1]["hash"]  # a checkpoint from before the change still holds
        out = run_cli(path, "verify", "--against", earlier)
        assert out.code == 0 and f"checkpoint found at event {i}" in out.stdout
    figures["tamper: cuts/rewrites caught by --against (hypothesis)"] += 1


def test_stores_are_varied(stores: list[bytes]) -> None:
    """The generated stores hold the kinds of events the edits should range over."""
    kinds = Counter(json.loads(line)["kind"] for raw in stores for line in raw.splitlines())
    for kind in ("crew-added", "signed", "refused", "hold-raised", "run-started", "ammo-added"):
        assert kinds[kind] > 0, kinds
