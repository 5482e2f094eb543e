"""verify hashes each stored line's own text (minus its hash entry) instead of re-encoding the
record: the cut text must equal the canonical JSON of the record without its hash, always."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safetyapp.store.chain import (
    _body_text,
    canonical,
    parse_canonical,
    seal_line,
    verify_chain,
)
from safetyapp.store.journal import Journal

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
    cut = _body_text(line, claimed)
    assert cut is None or cut == canonical(body)
    assert cut is not None or line.count(f'"hash":"{claimed}"') != 1


def test_a_nested_copy_of_the_hash_entry_falls_back_to_encoding() -> None:
    record, _ = seal_line({"kind": "x"}, 1, "0" * 64)
    # A record (as a tamperer might write it) holding its own hash entry again, nested.
    forged = {**record, "data": {"hash": record["hash"]}}
    line = canonical(forged)
    assert _body_text(line, forged["hash"]) is None
    result = verify_chain([forged], [line])
    assert not result.ok and "hash does not match" in (result.problem or "")


def test_a_text_hash_mismatch_is_caught_like_a_record_one() -> None:
    record, line = seal_line({"kind": "x", "note": "a"}, 1, "0" * 64)
    edited = dict(record, note="b")
    assert not verify_chain([edited], [canonical(edited)]).ok
    assert hashlib.sha256(_body_text(line, record["hash"]).encode()).hexdigest() == record["hash"]  # type: ignore[union-attr]


def test_text_hashed_as_it_stands_is_still_an_edit_unless_canonical(tmp_path: Path) -> None:
    # A tamperer can hash any text: a duplicate key, a space or an escape, with the hash
    # recomputed over that very text, must still fail (found in review of a faster check).
    path = tmp_path / "record.jsonl"
    journal = Journal.create(path, [{"kind": "a"}, {"kind": "x", "by": "Alex", "note": "A"}])
    record = journal.records()[-1]
    first, line = path.read_text().splitlines()
    for before, after in (('"by":"Alex"', '"by":"Alex","by":null'),
                          ('"kind":"x"', '"kind": "x"'), ('"note":"A"', '"note":"\\u0041"')):  # fmt: skip
        body = line.replace(f',"hash":"{record["hash"]}"', "").replace(before, after)
        forged = hashlib.sha256(body.encode()).hexdigest()
        text = body.replace(',"kind"', f',"hash":"{forged}","kind"', 1)
        assert text != line and json.loads(text)["hash"] == forged
        path.write_text(first + "\n" + text + "\n")
        result = Journal(path).verify()
        assert not result.ok and result.first_bad_seq == 2, text
        assert "edited" in (result.problem or ""), result.problem


@given(
    st.one_of(
        st.text(max_size=60),
        json_values.map(json.dumps),
        json_values.map(canonical),
        st.dictionaries(st.text(), json_values, max_size=4).map(canonical),
    )
)
def test_the_fast_canonical_parse_agrees_with_json(text: str) -> None:
    try:
        value = json.loads(text)
    except ValueError:
        assert parse_canonical(text) is None
        return
    if canonical(value) == text:
        assert canonical(parse_canonical(text)) == text
    else:
        assert parse_canonical(text) is None


@pytest.mark.parametrize("text", ['{"a":NaN}', '{"a":Infinity}', '{"n":123456789012345678901234567890}',
                                  '"\\ud800"', '{"k":1,"k":2}', '{"a":1e400}', '[-0.0,100.0]', "[1,2]"])  # fmt: skip
def test_what_orjson_reads_otherwise_json_decides(text: str) -> None:
    value = json.loads(text)
    expected = text if canonical(value) == text else None
    got = parse_canonical(text)
    assert (canonical(got) if got is not None else None) == expected
