"""Filtering the record through TinyDB's query layer."""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tinydb import Query
from tinydb.queries import QueryInstance

from safetyapp.domain import events as ev
from safetyapp.domain import names as naming

if TYPE_CHECKING:
    from safetyapp.store.repository import Repository

FLAGGED_KINDS = (
    ev.REFUSED,
    ev.HOLD_RAISED,
    ev.LOCKOUT,
    ev.LAYER_STALE,
    ev.FLAG_RAISED,
    ev.INCIDENT_REPORTED,
    ev.CUSTODY_BREAK,
    ev.CUSTODY_TAKEN_BACK,
    ev.RUN_VOIDED,
    *ev.AUTHORITY_KINDS,  # who may sign and what is on set: every change flagged
    ev.CHECKLIST_ADOPTED,  # which checklist versions may run
)
AUDIT_FIELDS = ("seq", "time", "kind", "by", "role", "run", "step", "result", "note")


@dataclass(frozen=True)
class AuditFilter:
    """`by`, `firearm` and `kind` each match by case-insensitive prefix (issue 14): "jo" is
    every person whose name starts so, "hold" both hold kinds, "colt" every COLT serial."""

    since: datetime | None = None
    until: datetime | None = None
    by: str | None = None
    firearm: str | None = None
    kind: str | None = None
    flagged: bool = False


# Keys under `data` that name people: witnesses, resolvers, a void's signers.
_PEOPLE_KEYS = ("witnesses", "resolvers", "signers")


@dataclass(frozen=True)
class Expanded:
    """What a filter's prefixes stand for in this record: the full names, serials and kinds
    (None where that filter is not set; empty where it matches nothing)."""

    people: tuple[str, ...] | None
    firearms: tuple[str, ...] | None
    kinds: tuple[str, ...] | None

    def unmatched(self, flt: AuditFilter) -> list[str]:
        """One line per filter value that matches nothing (for the CLI's stderr, the TUI)."""
        out = []
        for what, typed, found in (
            ("person", flt.by, self.people),
            ("firearm", flt.firearm, self.firearms),
            ("kind", flt.kind, self.kinds),
        ):
            if typed is not None and found == ():
                out.append(f"no {what} matches '{typed}'")
        return out


def _prefixed(typed: str | None, known: Sequence[str] | Any) -> tuple[str, ...] | None:
    if typed is None:
        return None
    wanted = naming.fold(typed)
    return tuple(k for k in known if naming.fold(k).startswith(wanted))


def expand(repo: Repository, flt: AuditFilter) -> Expanded:
    """The names, serials and kinds the filter's prefixes match (in the whole record: a person
    named only on an unverified hold is found too)."""
    people: tuple[str, ...] | None = None
    if flt.by is not None:
        names = dict.fromkeys([*repo.state.crew, *_index_for(repo.journal.records()).by_person])
        people = _prefixed(flt.by, list(names))
    return Expanded(
        people=people,
        firearms=_prefixed(flt.firearm, list(repo.state.firearms)),
        kinds=_prefixed(flt.kind, [str(k) for k in ev.KINDS]),
    )


def who_acted(record: dict[str, Any]) -> str:
    """Who an audit row names: "Name (role)", the name alone where the record has no role (a
    hold raised unverified under a name given), "-" where nobody acted."""
    by, role = record.get("by"), record.get("role")
    if not by:
        return "-"
    return f"{by} ({role})" if role else str(by)


def is_flagged(record: dict[str, Any]) -> bool:
    return record["kind"] in FLAGGED_KINDS or record.get("result") == "fail"


def condition(
    repo: Repository, flt: AuditFilter, expanded: Expanded | None = None
) -> QueryInstance:
    """The one definition of what a filter matches: a TinyDB query (also callable on a record)."""
    found = expanded if expanded is not None else expand(repo, flt)
    q = Query()
    cond: QueryInstance = q.seq.exists()
    if flt.since is not None:
        cond &= q.time >= ev.iso(flt.since)
    if flt.until is not None:
        cond &= q.time <= ev.iso(flt.until)
    if found.people is not None:
        people = list(found.people)
        named = q.by.one_of(people)
        for key in _PEOPLE_KEYS:
            named |= q.data[key].any(Query().name.one_of(people))
        cond &= named
    if found.kinds is not None:
        cond &= q.kind.one_of(list(found.kinds))
    if found.firearms is not None:
        serials = list(found.firearms)
        runs = [r.id for r in repo.state.runs.values() if r.firearm in found.firearms]
        cond &= q.run.one_of(runs) | q.data.serial.one_of(serials)
    if flt.flagged:
        cond &= q.kind.one_of(FLAGGED_KINDS) | (q.result == "fail")
    return cond


def select(repo: Repository, flt: AuditFilter) -> list[dict[str, Any]]:
    """Matching events, oldest first, secrets removed (through TinyDB's table search)."""
    found = repo.journal.db.table("events").search(condition(repo, flt))
    found.sort(key=lambda r: r["seq"])
    return [ev.public(dict(r)) for r in found]


def matching(repo: Repository, flt: AuditFilter) -> Sequence[dict[str, Any]]:
    """The same rows as :func:`select` (same query), for a live view over 100,000 events: the
    query runs on the in-memory records, narrowed first by an index of kinds and people.

    Returns the journal's own records, oldest first, secrets NOT removed: apply
    :func:`safetyapp.domain.events.public` before showing or exporting one; do not mutate them.
    The unfiltered result is one shared, read-only snapshot (a tuple) per record count, so that
    clearing the filter does not copy 100,000 references again.
    """
    records = repo.journal.records()
    if flt == AuditFilter():
        return _EVERYTHING.of(records)  # matches every stored record (each has a seq)
    index = _index_for(records)
    found = expand(repo, flt)
    positions: Sequence[int] | None = None
    if found.kinds is not None:
        positions = _union(index.by_kind.get(k, ()) for k in found.kinds)
    elif flt.flagged:
        flagged = [index.by_kind.get(k, ()) for k in FLAGGED_KINDS] + [index.failed]
        positions = _union(flagged)
    if found.people is not None:
        people = _union(index.by_person.get(n, ()) for n in found.people)
        if positions is None or len(people) < len(positions):
            positions = people
    cond = condition(repo, flt, found)
    candidates = records if positions is None else map(records.__getitem__, positions)
    return [r for r in candidates if cond(r)]


def _union(groups: Any) -> Sequence[int]:
    """Positions in any of these groups, in record order (which is seq order)."""
    lists = [g for g in groups if g]
    if len(lists) == 1:
        return lists[0]  # type: ignore[no-any-return]
    return sorted(set().union(*lists))


def prepare(repo: Repository) -> None:
    """Build the live filter's index now (one pass over the records), e.g. right after the
    audit screen's first frame, so the first filter change is as quick as the next."""
    _index_for(repo.journal.records())


class _Everything:
    """The unfiltered result: one tuple per record list and length, made again as it grows."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] | None = None
        self.rows: tuple[dict[str, Any], ...] = ()

    def of(self, records: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
        if self.records is not records or len(self.rows) != len(records):
            self.records, self.rows = records, tuple(records)
        return self.rows


_EVERYTHING = _Everything()


def _positions() -> array[int]:
    return array("q")


class _Index:
    """Positions in the record list of the records by kind, by person named (signer, witness,
    resolver), and of the failed ones; built once per record list and extended as it grows
    (records are only ever appended, in seq order). Positions are kept in arrays, not lists of
    records: the garbage collector has nothing to scan in them."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.done = 0
        self.by_kind: dict[str, array[int]] = {}
        self.by_person: dict[str, array[int]] = {}
        self.failed = _positions()

    def catch_up(self) -> None:
        by_kind, by_person, records = self.by_kind, self.by_person, self.records
        for i in range(self.done, len(records)):
            r = records[i]
            kind = by_kind.get(r["kind"])
            if kind is None:
                kind = by_kind[r["kind"]] = _positions()
            kind.append(i)
            names = set()
            if r.get("by"):
                names.add(r["by"])
            data = r.get("data")
            if isinstance(data, dict):
                for key in _PEOPLE_KEYS:
                    people = data.get(key)
                    if isinstance(people, list):
                        for p in people:
                            if isinstance(p, dict) and isinstance(p.get("name"), str):
                                names.add(p["name"])
            for name in names:
                if isinstance(name, str):
                    person = by_person.get(name)
                    if person is None:
                        person = by_person[name] = _positions()
                    person.append(i)
            if r.get("result") == "fail":
                self.failed.append(i)
        self.done = len(records)


_INDEXES: dict[int, _Index] = {}


def _index_for(records: list[dict[str, Any]]) -> _Index:
    index = _INDEXES.get(id(records))
    if index is None or index.records is not records or index.done > len(records):
        _INDEXES.clear()  # one journal at a time in a live view
        index = _INDEXES[id(records)] = _Index(records)
    index.catch_up()
    return index
