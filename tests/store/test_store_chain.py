from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from store_testutil import event

from safetyapp.store.chain import (
    GENESIS,
    canonical,
    contains_checkpoint,
    record_hash,
    seal,
    seal_line,
    verify_chain,
)


def chain(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    prev = GENESIS
    for i in range(1, n + 1):
        rec = seal(event(i), i, prev)
        prev = rec["hash"]
        out.append(rec)
    return out


def test_canonical_is_json_dumps_sorted_compact_utf8() -> None:
    obj = {"b": [1, 2.5, None], "a": 'é\u2028\x1f"', "c": {"z": True, "y": {}}}
    assert canonical(obj) == json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def test_seal_sets_seq_prev_hash_and_hash() -> None:
    rec = seal({"kind": "x", "v": 1}, 1, GENESIS)
    assert rec["seq"] == 1
    assert rec["prev_hash"] == GENESIS
    body = {k: v for k, v in rec.items() if k != "hash"}
    assert rec["hash"] == hashlib.sha256(canonical(body).encode()).hexdigest()
    assert rec["hash"] == record_hash(rec)
    rec2 = seal({"kind": "y"}, 2, rec["hash"])
    assert rec2["prev_hash"] == rec["hash"]


def test_seal_line_is_canonical_record() -> None:
    rec, line = seal_line({"kind": "x", "t": (1, 2)}, 1, GENESIS)
    assert line == canonical(rec)
    assert json.loads(line) == rec
    assert rec["t"] == [1, 2]  # stored exactly as it reads back


def test_seal_copies_payload() -> None:
    payload: dict[str, Any] = {"kind": "x", "nested": {"a": 1}}
    rec = seal(payload, 1, GENESIS)
    payload["nested"]["a"] = 2
    assert rec["nested"] == {"a": 1}
    assert "seq" not in payload


def test_nested_int_keys_hash_matches_after_reload() -> None:
    rec, line = seal_line({"kind": "x", "m": {10: "a", 2: "b"}}, 1, GENESIS)
    reloaded = json.loads(line)
    assert record_hash(reloaded) == rec["hash"]
    assert verify_chain([reloaded]).ok


@pytest.mark.parametrize(
    "payload",
    [
        {"v": 1},
        {"kind": 3},
        {"kind": "x", "seq": 4},
        {"kind": "x", "prev_hash": GENESIS},
        {"kind": "x", "hash": "ab"},
        {"kind": "x", "v": float("nan")},
        {"kind": "x", "v": float("inf")},
        {"kind": "x", "v": {1, 2}},
        {"kind": "x", 5: "int key"},
        ["kind", "x"],
    ],
)
def test_seal_rejects_bad_payloads(payload: Any) -> None:
    with pytest.raises(ValueError):
        seal(payload, 1, GENESIS)


def test_verify_chain_ok() -> None:
    recs = chain(20)
    res = verify_chain(recs)
    assert res.ok and res.count == 20 and res.head_hash == recs[-1]["hash"]
    assert res.first_bad_seq is None and res.problem is None


def test_verify_empty_chain() -> None:
    res = verify_chain([])
    assert res.ok and res.count == 0 and res.head_hash == GENESIS


def _all_paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj)
    for k, v in items:
        if isinstance(v, (dict, list)) and v:
            out.extend(_all_paths(v, (*prefix, k)))
        else:
            out.append((*prefix, k))
    return out


def _changed(v: Any) -> Any:
    if isinstance(v, bool):
        return not v
    if isinstance(v, (int, float)):
        return v + 1
    if isinstance(v, str):
        return (v[:-1] + ("x" if v[-1:] != "x" else "y")) if v else "x"
    return "changed"


def test_verify_detects_change_in_every_field() -> None:
    base = chain(9)
    for path in _all_paths(base[4]):
        recs = copy.deepcopy(base)
        target: Any = recs[4]
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = _changed(target[path[-1]])
        res = verify_chain(recs)
        assert not res.ok, path
        assert res.first_bad_seq in (5, 6), path
        assert res.problem is not None and res.problem.startswith(f"event {res.first_bad_seq}:")


def test_verify_messages() -> None:
    recs = chain(20)
    tampered = copy.deepcopy(recs)
    tampered[16]["by"] = "Someone Else"
    res = verify_chain(tampered)
    assert res.first_bad_seq == 17 and res.count == 16 and res.head_hash == recs[15]["hash"]
    assert res.problem == "event 17: hash does not match its content (changed after it was written)"

    deleted = recs[:16] + recs[17:]
    res = verify_chain(deleted)
    assert res.first_bad_seq == 17
    assert res.problem == "event 17: expected seq 17, found 18"

    # deletion with renumbering (and re-hashing the renumbered events) breaks the link
    renumbered = recs[:16]
    prev = recs[17]["prev_hash"]
    for i, r in enumerate(recs[17:], 17):
        body = {k: v for k, v in r.items() if k not in ("seq", "prev_hash", "hash")}
        sealed = seal(body, i, prev)
        if i == 17:
            sealed["prev_hash"] = prev  # keep the original link, as a forger would have to
            sealed["hash"] = record_hash(sealed)
        renumbered.append(sealed)
        prev = sealed["hash"]
    res = verify_chain(renumbered)
    assert res.first_bad_seq == 17
    assert res.problem == (
        "event 17: prev_hash does not link to event 16 "
        "(an event was removed, inserted or reordered)"
    )

    swapped = [*recs[:16], recs[17], recs[16], *recs[18:]]
    res = verify_chain(swapped)
    assert res.first_bad_seq == 17 and res.problem == "event 17: expected seq 17, found 18"

    inserted = [*recs[:16], seal(event(99), 17, recs[15]["hash"]), *recs[16:]]
    res = verify_chain(inserted)
    assert not res.ok and res.first_bad_seq == 18


def test_verify_reports_non_records() -> None:
    recs: list[Any] = chain(3)
    recs[1] = {"kind": "x"}
    res = verify_chain(recs)
    assert not res.ok and res.first_bad_seq == 2
    recs[1] = "not a dict"
    assert verify_chain(recs).first_bad_seq == 2


def test_contains_checkpoint() -> None:
    recs = chain(10)
    head5 = recs[4]["hash"]
    assert contains_checkpoint(recs, head5) == 5
    assert contains_checkpoint(recs[:5], head5) == 5
    assert contains_checkpoint(recs[:4], head5) is None  # tail cut below the checkpoint
    assert contains_checkpoint(recs, "f" * 64) is None
    tampered = copy.deepcopy(recs)
    tampered[1]["n"] = 1000
    assert contains_checkpoint(tampered, head5) is None
    tampered_after = copy.deepcopy(recs)
    tampered_after[7]["n"] = 1000
    assert contains_checkpoint(tampered_after, head5) == 5


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(
    extra=st.dictionaries(
        st.text(max_size=8).filter(lambda k: k not in ("seq", "prev_hash", "hash", "kind")),
        json_values,
        max_size=5,
    ),
    kind=st.text(),
)
def test_roundtrip_through_json_keeps_hash(extra: dict[str, Any], kind: str) -> None:
    rec, line = seal_line({"kind": kind, **extra}, 1, GENESIS)
    reloaded = json.loads(line)
    assert reloaded == rec
    assert canonical(reloaded) == line
    assert verify_chain([reloaded]).ok


def test_cyclic_payload_is_rejected() -> None:
    payload: dict[str, Any] = {"kind": "x"}
    payload["self"] = payload
    with pytest.raises(ValueError):
        seal(payload, 1, GENESIS)
