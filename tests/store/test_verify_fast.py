"""verify hashes each stored line's own text (minus its hash entry) instead of re-encoding the
record: the cut text must equal the canonical JSON of the record without its hash, always; and a
line that is not exactly canonical (same meaning, other text) must never pass."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from safetyapp.store.chain import EDITED, _body_text, canonical, seal_line, verify_chain

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.text(), json_values, max_size=5), st.text(max_size=20))
def test_cut_text_is_the_canonical_body(extra: dict[str, Any], note: str) -> None:
    payload = {"kind": "note", "note": note, **{k: v for k, v in extra.items() if k not in
               ("seq", "prev_hash", "hash", "kind")}}  # fmt: skip
    record, line = seal_line(payload, 1, "0" * 64)
    body = dict(record)
    claimed = body.pop("hash")
    cut = _body_text(line, claimed, record)
    assert cut is None or cut == canonical(body)
    assert cut is not None or line.count(f'"hash":"{claimed}"') != 1


def test_a_nested_copy_of_the_hash_entry_falls_back_to_encoding() -> None:
    record, _ = seal_line({"kind": "x"}, 1, "0" * 64)
    # A record (as a tamperer might write it) holding its own hash entry again, nested.
    forged = {**record, "data": {"hash": record["hash"]}}
    line = canonical(forged)
    assert _body_text(line, forged["hash"], forged) is None
    result = verify_chain([forged], [line])
    assert not result.ok and "hash does not match" in (result.problem or "")


def test_a_text_hash_mismatch_is_caught_like_a_record_one() -> None:
    record, line = seal_line({"kind": "x", "note": "a"}, 1, "0" * 64)
    edited = dict(record, note="b")
    assert not verify_chain([edited], [canonical(edited)]).ok
    assert (
        hashlib.sha256(_body_text(line, record["hash"], record).encode()).hexdigest()
        == record["hash"]
    )  # type: ignore[union-attr]


def _variants(record: dict[str, Any]) -> list[str]:
    """Texts with the same meaning as the record but not its canonical form."""
    keys = list(record)
    moved = {k: record[k] for k in keys if k != "hash"} | {"hash": record["hash"]}
    first = {"hash": record["hash"]} | {k: record[k] for k in keys if k != "hash"}
    return [
        json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True),
        json.dumps(record, sort_keys=True),  # spaces
        json.dumps(dict(reversed(list(record.items()))), separators=(",", ":"), ensure_ascii=False),
        json.dumps(moved, separators=(",", ":"), ensure_ascii=False),  # hash entry moved last
        json.dumps(first, separators=(",", ":"), ensure_ascii=False),  # hash entry moved first
        canonical(record) + " ",
    ]


@given(st.dictionaries(st.text(), json_values, max_size=5), st.text(max_size=20))
def test_only_the_canonical_text_passes(extra: dict[str, Any], note: str) -> None:
    payload = {"kind": "note", "note": note, **{k: v for k, v in extra.items() if k not in
               ("seq", "prev_hash", "hash", "kind")}}  # fmt: skip
    record, line = seal_line(payload, 1, "0" * 64)
    assert verify_chain([record], [line]).ok
    for text in _variants(record):
        if text == line:
            continue
        result = verify_chain([json.loads(text)], [text])
        assert not result.ok and result.problem == f"event 1: {EDITED}", (text, result)


def test_the_hash_entry_in_the_wrong_place_is_an_edit() -> None:
    record, line = seal_line({"kind": "x", "by": "Alex", "note": "n"}, 1, "0" * 64)
    for text in _variants(record)[3:5]:
        assert text != line
        again = json.loads(text)
        assert again == record  # same meaning
        assert _body_text(text, record["hash"], again) is None
        assert verify_chain([again], [text]).problem == f"event 1: {EDITED}"
