"""Hash chain over store records. Pure functions, no IO.

A *record* is a caller's payload (a JSON object with a string ``kind``) plus three keys set here:

- ``seq``: 1-based, consecutive position in the log;
- ``prev_hash``: the ``hash`` of the previous record (``GENESIS`` for seq 1);
- ``hash``: SHA-256 (hex) of the canonical JSON of the record without its ``hash`` key, so it
  covers the payload, ``seq`` and ``prev_hash``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from orjson import loads as _fast_loads

fast_loads = _fast_loads  # JSON text to a value, about twice as fast as json.loads

GENESIS = "0" * 64
RESERVED_KEYS = frozenset({"seq", "prev_hash", "hash"})

# One encoder built once: json.dumps() with non-default options builds a new encoder per call.
# The output is byte-identical to
# json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).
# check_circular=False only skips bookkeeping (records read from JSON cannot be cyclic); the
# strict encoder used for new payloads keeps the check, so a cyclic payload is a ValueError.
_encode = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False
).encode
# Same output, but refuses NaN/Infinity (not JSON); used when sealing new records.
_encode_strict = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def parse_canonical(text: str) -> Any:
    """The JSON value in ``text`` if ``text`` is exactly its canonical JSON, else None (for
    text that is not JSON too). The same answer as ``canonical(json.loads(text)) == text``.

    orjson parses about twice as fast, but not always to the same value (an integer beyond 64
    bits becomes a float); whenever its value does not encode back to ``text``, json.loads
    decides."""
    try:
        value = _fast_loads(text)
    except ValueError:
        value = None
    else:
        try:
            if _encode(value) == text:
                return value
        except RecursionError:  # nested too deeply to be an event: not in canonical form
            return None
    try:
        value = json.loads(text)
        return value if _encode(value) == text else None
    except (ValueError, RecursionError):
        return None


def canonical(obj: Any) -> str:
    """Canonical JSON text of ``obj`` (sorted keys, no whitespace, UTF-8 characters kept)."""
    return _encode(obj)


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of ``record`` without its ``hash`` key."""
    body = dict(record)
    body.pop("hash", None)
    return hashlib.sha256(_encode(body).encode()).hexdigest()


def _check_payload(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise ValueError(f"an event must be a JSON object (dict), not {type(payload).__name__}")
    kind = payload.get("kind")
    if not isinstance(kind, str):
        raise ValueError("an event must have a string 'kind'")
    reserved = RESERVED_KEYS.intersection(payload)
    if reserved:
        names = ", ".join(sorted(reserved))
        raise ValueError(f"an event must not set {names}: the store sets these itself")


def seal_line(payload: Mapping[str, Any], seq: int, prev_hash: str) -> tuple[dict[str, Any], str]:
    """Seal ``payload`` as record number ``seq``; return ``(record, canonical line without "\\n")``.

    The record is rebuilt from its JSON text, so it is a deep copy that holds exactly what is
    written (tuples become lists, and so on) and its hash matches what a reader recomputes.
    Raises ValueError for an invalid payload (not a dict, no string ``kind``, a reserved key,
    something JSON cannot hold such as NaN, a set or a non-string key).
    """
    _check_payload(payload)
    if type(seq) is not int or seq < 1:
        raise ValueError(f"seq must be a positive int, not {seq!r}")
    if not isinstance(prev_hash, str) or len(prev_hash) != 64:
        raise ValueError("prev_hash must be a 64-character hex string")
    if any(not isinstance(k, str) for k in payload):
        raise ValueError("event keys must be strings")
    body = dict(payload)
    body["seq"] = seq
    body["prev_hash"] = prev_hash
    try:
        text = _encode_strict(body)
    except (TypeError, ValueError) as e:
        raise ValueError(f"event cannot be stored as JSON: {e}") from e
    record: dict[str, Any] = json.loads(text)
    # Nested non-string keys (e.g. ints) become strings and may sort differently: re-encode.
    text = _encode(record)
    record["hash"] = hashlib.sha256(text.encode()).hexdigest()
    return record, _encode(record)


def seal(payload: Mapping[str, Any], seq: int, prev_hash: str) -> dict[str, Any]:
    """Return the full record for ``payload`` at ``seq`` linked to ``prev_hash``."""
    return seal_line(payload, seq, prev_hash)[0]


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of a chain check.

    On success ``count`` is the number of records and ``head_hash`` the last record's hash.
    On failure they describe the intact prefix before ``first_bad_seq`` (``GENESIS`` if none), and
    ``problem`` is a sentence for a user.
    """

    ok: bool
    count: int
    head_hash: str
    first_bad_seq: int | None
    problem: str | None


def _body_text(line: str, claimed: Any) -> str | None:
    """The canonical JSON of a record without its ``hash`` key, cut from ``line``, which must be
    the canonical JSON of the whole record (the caller checked). None when it cannot be cut
    safely (the caller then re-encodes).

    In canonical JSON every quote inside a string is escaped, so ``"hash":"<value>"`` occurs
    only as an object entry; if it occurs once, it is the record's own top-level entry, and
    removing it (with its comma) leaves the canonical JSON of the rest, keys still sorted.
    (A claimed value that JSON escapes cannot be found as written and falls back; any other
    odd value is not a SHA-256 digest, so whatever is cut, the hash check fails, rightly.)
    """
    if type(claimed) is not str:
        return None
    entry = '"hash":"' + claimed + '"'
    i = line.find(entry)
    if i <= 0 or line.find(entry, i + 1) != -1:
        return None
    j = i + len(entry)
    before = line[i - 1]
    if before == ",":
        return line[: i - 1] + line[j:]
    if before == "{":
        return line[:i] + line[j + 1 :] if line[j] == "," else line[:i] + line[j:]
    return None


def _walk(
    records: Iterable[Mapping[str, Any]],
    stop_at: str | None,
    lines: Iterable[str | None] | None = None,
    after: tuple[int, str] = (0, GENESIS),
) -> tuple[VerifyResult, bool]:
    """Verify records in order. Returns (result, stopped): stopped is True when a record whose
    hash equals ``stop_at`` verified (the result then describes the chain up to it).

    ``lines``, when given, holds each record's canonical JSON text (or None), which saves
    re-encoding the record to hash it. ``after``: (seq, hash) of the event before the first
    record (a part of a chain checked on its own; the part before it is checked elsewhere)."""
    sha256 = hashlib.sha256
    encode = _encode
    body_of = _body_text
    n, prev = after
    texts = itertools.chain(lines if lines is not None else (), itertools.repeat(None))
    for rec, line in zip(records, texts, strict=False):  # texts never runs out
        n += 1
        try:
            seq = rec["seq"]
            claimed = rec["hash"]
            linked = rec["prev_hash"]
            body_text = body_of(line, claimed) if line is not None else None
            if body_text is None:
                body = dict(rec)
                del body["hash"]
                body_text = encode(body)
            actual = sha256(body_text.encode()).hexdigest()
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            return VerifyResult(
                False, n - 1, prev, n, f"event {n}: not a valid record ({type(e).__name__}: {e})"
            ), False
        if seq != n or type(seq) is not int:
            return VerifyResult(
                False, n - 1, prev, n, f"event {n}: expected seq {n}, found {seq!r}"
            ), False
        if actual != claimed:
            return VerifyResult(
                False,
                n - 1,
                prev,
                n,
                f"event {n}: hash does not match its content (changed after it was written)",
            ), False
        if linked != prev:
            what = "the start of the log" if n == 1 else f"event {n - 1}"
            return VerifyResult(
                False,
                n - 1,
                prev,
                n,
                f"event {n}: prev_hash does not link to {what} "
                "(an event was removed, inserted or reordered)",
            ), False
        prev = claimed
        if claimed == stop_at:
            return VerifyResult(True, n, prev, None, None), True
    return VerifyResult(True, n, prev, None, None), False


def verify_chain(
    records: Iterable[Mapping[str, Any]],
    lines: Iterable[str | None] | None = None,
    after: tuple[int, str] = (0, GENESIS),
) -> VerifyResult:
    """Check seq numbering, every record's hash and every link. Stops at the first problem.

    ``lines``: optionally, each record's canonical JSON text, as stored (it must be exactly
    ``canonical(record)``; verify checked that), to hash without encoding again. ``after``:
    the (seq, hash) the first record follows (the count in the result includes those before)."""
    return _walk(records, None, lines, after)[0]


def contains_checkpoint(records: Iterable[Mapping[str, Any]], head_hash: str) -> int | None:
    """Seq of the record whose hash is ``head_hash`` if the chain up to it verifies, else None.

    Use it to check a head hash written down earlier (e.g. on a printed report): a seq back means
    everything up to that point is still exactly as it was.
    """
    result, stopped = _walk(records, head_hash)
    return result.count if stopped else None


RECEIPT_LENGTH = 10  # hex characters: short enough for a call sheet, unique in any real record
MIN_PREFIX = 8  # the shortest prefix `verify --against` accepts


def receipt(event_hash: str) -> str:
    """The short receipt of an event (the first hex characters of its hash), shown after each
    sign-off and hold; `verify --against RECEIPT` finds the event again."""
    return event_hash[:RECEIPT_LENGTH]


def matching_events(records: Iterable[Mapping[str, Any]], prefix: str) -> list[Mapping[str, Any]]:
    """The records whose hash starts with ``prefix`` (lower-case hex), in order."""
    return [r for r in records if isinstance(h := r.get("hash"), str) and h.startswith(prefix)]
