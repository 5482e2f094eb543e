"""The start-up view of the state: what the status board shows, as plain JSON data, and back.

Pure: no IO. The view holds everything in a :class:`State` except the runs nobody is looking at
any more: it keeps the open runs, the last day's runs, the runs behind each firearm's last
verification, the runs of open holds and the voided runs, and only the latest custody mark per firearm; no PIN
hashes. A state restored from a view is a *preview*: good for drawing the board, never for
deciding (the engine always works on a full fold of the record).

The same function builds the view from a full fold, so a saved view can be checked: fold the
record up to the view's event and compare the two views, as canonical JSON text (in Python
``5 == 5.0 == True``; in a view they differ).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import datetime
from itertools import chain, compress, count
from operator import itemgetter
from typing import Any

import orjson

from safetyapp.domain.checklist import Checklist
from safetyapp.domain.state import (
    Adoption,
    AmmoLot,
    CrewMember,
    Custody,
    CustodyMark,
    Day,
    Firearm,
    Flag,
    GateDone,
    Hold,
    Incident,
    Licence,
    Run,
    SignOff,
    State,
    Training,
)

View = dict[str, Any]


def view_runs(state: State) -> list[Run]:
    """The runs a view keeps, in the record's order."""
    last_day = state.days[-1].number if state.days else None
    keep = {run.id for run, _ in state.verified_index.values()}
    keep.update(h.run for h in state.holds.values() if h.open and h.run is not None)
    # A voided run is kept too (rare; a checkpoint's compact row is a completed run's).
    return [
        run
        for run in state.runs.values()
        if not run.closed or run.day == last_day or run.id in keep or run.voided_at is not None
    ]


def to_view(state: State) -> View:
    """The view of ``state`` (JSON types only: lists, dicts, str, int, bool, None)."""
    runs = view_runs(state)
    digests = {id(c): d for d, c in state.checklists.items()}
    # Every version recorded, not just the kept runs': a run started after the snapshot may
    # name any of them by digest.
    checklists = {d: c.text() for d, c in state.checklists.items()}
    run_views = []
    for run in runs:
        digest = digests.get(id(run.checklist)) or run.checklist.digest()
        if digest not in checklists:
            checklists[digest] = run.checklist.text()
        run_views.append(_run_view(run, digest))
    return {
        "production": state.production,
        "crew": [_crew_view(m) for m in state.crew.values()],
        "firearms": [asdict(f) for f in state.firearms.values()],
        "lots": [asdict(lot) for lot in state.lots.values()],
        "holds": [asdict(h) for h in state.holds.values()],
        "days": [asdict(d) for d in state.days],
        "incidents": [asdict(i) for i in state.incidents.values()],
        "flags": [asdict(f) for f in state.flags.values()],
        "holders": {serial: asdict(c) for serial, c in state.holders.items()},
        "last_marks": {
            serial: asdict(marks[-1]) for serial, marks in state.custody_marks.items() if marks
        },
        "refusals": state.refusals,
        "format": state.format,
        "last_seq": state.last_seq,
        "head_hash": state.head_hash,
        "runs": run_views,
        "verified": {
            serial: [run.id, _index_of(run.history, signoff)]
            for serial, (run, signoff) in state.verified_index.items()
        },
        "checklists": checklists,
        "adoptions": [asdict(a) for a in state.adoptions],
        "gate_runs": state.gate_runs,
        "gate_done": _gate_view(state.gate_done),
        "wrap_counts": {lot: list(counted) for lot, counted in state.wrap_counts.items()},
    }


def from_view(view: View) -> State:
    """A preview state from a view. Raises (KeyError, TypeError, ValueError, ...) on a view
    that is not one :func:`to_view` wrote; callers then fold the record instead."""
    checklists: dict[str, Checklist] = {
        digest: Checklist.from_text(data) for digest, data in view["checklists"].items()
    }  # (validated when adopted; the comparison with the full fold covers any other text here)
    state = State(
        production=view["production"],
        crew={m["name"]: _crew_from(m) for m in view["crew"]},
        firearms={f["serial"]: Firearm(**f) for f in view["firearms"]},
        lots={lot["lot"]: AmmoLot(**lot) for lot in view["lots"]},
        holds={h["id"]: Hold(**h) for h in view["holds"]},
        days=[Day(**d) for d in view["days"]],
        incidents={i["id"]: Incident(**i) for i in view["incidents"]},
        flags={f["id"]: Flag(**f) for f in view["flags"]},
        holders={serial: Custody(**c) for serial, c in view["holders"].items()},
        custody_marks={serial: [CustodyMark(**m)] for serial, m in view["last_marks"].items()},
        refusals=view["refusals"],
        format=view["format"],
        checklists=checklists,
        last_seq=view["last_seq"],
        head_hash=view["head_hash"],
        gate_runs=view["gate_runs"],
        gate_done=_gate_from(view["gate_done"]),
        wrap_counts={lot: (n, started) for lot, (n, started) in view["wrap_counts"].items()},
    )
    for data in view["adoptions"]:
        adoption = Adoption(**data)
        state.adoptions.append(adoption)
        state.adopted[adoption.digest] = adoption
        state.current_checklists[adoption.checklist_id] = adoption.digest
    for data in view["runs"]:
        run = _run_from(data, checklists)
        state.runs[run.id] = run
        if not run.closed:
            state.open_run_index[run.id] = run
        elif run.completed_at is not None and run.checklist.scope in ("opening", "meeting"):
            state.last_meeting_at = max(state.last_meeting_at, run.completed_at)
    for serial, (run_id, index) in view["verified"].items():
        run = state.runs[run_id]
        state.verified_index[serial] = (run, run.history[index])
    return state


# -- runs and crew --------------------------------------------------------------------------------


def _run_view(run: Run, digest: str) -> dict[str, Any]:
    return {
        "id": run.id,
        "checklist": digest,
        "started_at": run.started_at,
        "day": run.day,
        "firearm": run.firearm,
        "performer": run.performer,
        "scene": run.scene,
        "history": [asdict(s) for s in run.history],
        "current": {step: _index_of(run.history, s) for step, s in run.signoffs.items()},
        "roles_by_person": dict(run.roles_by_person),
        "completed_at": run.completed_at,
        "voided_at": run.voided_at,
        "void_reason": run.void_reason,
        "voided_by": [dict(p) for p in run.voided_by],
    }


def _run_from(data: dict[str, Any], checklists: dict[str, Checklist]) -> Run:
    history = [SignOff(**s) for s in data["history"]]
    return Run(
        id=data["id"],
        checklist=checklists[data["checklist"]],
        started_at=data["started_at"],
        day=data["day"],
        firearm=data["firearm"],
        performer=data["performer"],
        scene=data["scene"],
        signoffs={step: history[i] for step, i in data["current"].items()},
        history=history,
        roles_by_person=dict(data["roles_by_person"]),
        completed_at=data["completed_at"],
        voided_at=data.get("voided_at"),
        void_reason=data.get("void_reason"),
        voided_by=list(data.get("voided_by", [])),
    )


def _index_of(history: list[SignOff], signoff: SignOff) -> int:
    """Position of this very sign-off (not an equal one) in the run's history."""
    for i in range(len(history) - 1, -1, -1):
        if history[i] is signoff:
            return i
    raise ValueError(f"sign-off of step {signoff.step!r} is not in its run's history")


def _gate_view(done: GateDone | None) -> dict[str, Any] | None:
    if done is None:
        return None
    return {
        "run": done.run,
        "completed_at": done.completed_at,
        "kinds": list(done.kinds),
        "armorers": list(done.armorers),
    }


def _gate_from(data: dict[str, Any] | None) -> GateDone | None:
    if data is None:
        return None
    return GateDone(
        data["run"], data["completed_at"], tuple(data["kinds"]), tuple(data["armorers"])
    )


def _crew_view(member: CrewMember) -> dict[str, Any]:
    locked = member.locked_until
    # No PIN hash or salt: those live only in the credentials file; the id names which is current.
    return {
        "name": member.name,
        "roles": list(member.roles),
        "pin_id": member.pin_id,
        "active": member.active,
        "failures": member.failures,
        "locked_until": locked.isoformat() if locked is not None else None,
        "training": [asdict(t) for t in member.training],
        "licences": [asdict(x) for x in member.licences],
    }


def _crew_from(data: dict[str, Any]) -> CrewMember:
    locked = data["locked_until"]
    return CrewMember(
        name=data["name"],
        roles=list(data["roles"]),
        pin_id=data["pin_id"],
        active=data["active"],
        failures=data["failures"],
        locked_until=datetime.fromisoformat(locked) if locked is not None else None,
        training=[Training(**t) for t in data["training"]],
        licences=[Licence(**x) for x in data["licences"]],
    )


# -- the checkpoint: a view that a decision can be made on ----------------------------------------


def to_checkpoint(state: State) -> View:
    """The view of ``state`` plus what the engine needs of the runs the view leaves out (every
    run's identity, place in order, people and completion, never its sign-offs): restored by
    :func:`from_checkpoint`, it decides as the full fold does. Only the finished runs of earlier
    days are cut short (see :func:`stub_runs`), and nothing decides on their sign-offs."""
    view = to_view(state)
    kept = {run["id"] for run in view["runs"]}
    digests = {id(c): d for d, c in state.checklists.items()}
    closed = []
    # Compact: thousands of runs name a few checklists and people (by place in these lists).
    names: dict[str, int] = {}
    used: dict[str, int] = {}
    for run in state.runs.values():
        if run.id in kept:
            continue
        digest = digests.get(id(run.checklist)) or run.checklist.digest()
        if digest not in view["checklists"]:
            view["checklists"][digest] = run.checklist.text()
        roles = []
        for person, role in run.roles_by_person.items():
            roles += [names.setdefault(person, len(names)), names.setdefault(role, len(names))]
        closed.append(
            [run.id, used.setdefault(digest, len(used)), run.started_at, run.day, run.firearm,
             run.performer, run.scene, roles, run.completed_at]
        )  # fmt: skip
    view["closed_runs"] = {"names": list(names), "checklists": list(used), "runs": closed}
    view["run_order"] = list(state.runs)
    return view


def from_checkpoint(view: View) -> tuple[State, set[str]]:
    """The state a checkpoint holds, and the ids of the runs restored without their sign-offs
    (finished runs of earlier days: what shows or reports them reads the record instead).
    Those runs stay the checkpoint's compact rows until something reads one
    (:class:`StubbedRuns`): at 1,000,000 events, ~90,000 of them, that a start or a decision
    mostly never reads. The rows are a list (as :func:`to_checkpoint` made them: every row
    checked here) or the checkpoint file's rows section as it was read, unparsed (see
    :data:`ROWS_OPEN`; its layout and count checked here, each row as it is parsed, raising
    :class:`CheckpointRowError` then). Raises as :func:`from_view` on anything else
    :func:`to_checkpoint` did not write."""
    state = from_view(view)
    closed = view["closed_runs"]
    names: list[str] = closed["names"]
    checklists = [state.checklists[d] for d in closed["checklists"]]
    table: list[list[Any]] | bytes = closed["runs"]
    order = view["run_order"]
    kept = state.runs
    if type(order) is not list:
        raise ValueError("a checkpoint's run order does not name its runs")
    # In bulk (~90,000 runs at 1,000,000 events): each kept run, else its row's place.
    values: list[Any] = list(map(kept.get, order))
    places = count()
    values = [next(places) if value is None else value for value in values]
    stubs = list(compress(order, map(int.__instancecheck__, values)))
    if isinstance(table, bytes):
        ends = table.endswith(b"\n]") if stubs else table == ROWS_OPEN + b"]"
        if not ends or not table.startswith(ROWS_OPEN) or table.count(b"\n") != len(stubs) + 1:
            raise ValueError("a checkpoint's rows section does not hold its closed runs")
        runs = StubbedRuns(names, checklists, stubs, rows=table)
    else:
        runs = StubbedRuns(names, checklists, stubs, table=table)
        runs.check_table(table)
    dict.update(runs, zip(order, values, strict=True))
    if len(runs) != len(order) or len(order) - len(stubs) != len(kept):
        raise ValueError("a checkpoint's run order names a run twice, or leaves a run out")
    state.runs = runs
    return state, set(stubs)


_FROM_END = 64  # a row this near the section's end is found from it, the section left whole

# The rows section of a checkpoint file: this line, then one row per line (each but the last
# followed by a comma), then ``]``: a JSON array read whole, or one row by its line.
ROWS_OPEN = b"[\n"


def rows_section(table: list[list[Any]]) -> bytes:
    """The closed runs' rows as the checkpoint file holds them (see :data:`ROWS_OPEN`)."""
    return ROWS_OPEN + b",\n".join(map(orjson.dumps, table)) + (b"\n]" if table else b"]")


def _check_rows(table: list[list[Any]], n_names: int, n_checklists: int) -> None:
    """Closed runs' rows as :func:`to_checkpoint` writes them, checked in bulk: every row of a
    list at restore (nothing can fail when one is made into its run), a row of the file's
    section when it is parsed (see :class:`CheckpointRowError`)."""
    if not table:
        return
    if set(map(type, table)) != {list} or set(map(len, table)) != {9}:
        raise ValueError("a closed run in a checkpoint must be a row of nine")
    if None in map(itemgetter(8), table):
        raise ValueError("a closed run in a checkpoint must be complete")
    if set(map(type, map(itemgetter(0), table))) != {str}:
        raise ValueError("a closed run in a checkpoint has no id")
    digests = list(map(itemgetter(1), table))
    if set(map(type, digests)) != {int} or min(digests) < 0 or max(digests) >= n_checklists:
        raise ValueError("a closed run in a checkpoint names no checklist of it")
    roles = list(map(itemgetter(7), table))
    if set(map(type, roles)) != {list} or any(n % 2 for n in set(map(len, roles))):
        raise ValueError("a closed run in a checkpoint gives its people unpaired")
    people = list(chain.from_iterable(roles))
    if people and (
        not set(map(type, people)) <= {int} or min(people) < 0 or max(people) >= n_names
    ):
        raise ValueError("a closed run in a checkpoint names no one of it")


class CheckpointRowError(ValueError):
    """A checkpoint's row, read after the open, is not one :func:`to_checkpoint` writes (the
    checkpoint was sealed, so only someone holding its key, or a fault in the writer, makes
    one): the caller is told through :attr:`StubbedRuns.on_unreadable` first."""


class StubbedRuns(dict[str, Run]):
    """A checkpoint's runs, in the record's order: the finished runs of earlier days kept as
    their compact rows (see :func:`to_checkpoint`) until one is read, then made into the
    :class:`Run` it stands for - once: the same object from then on. Everything that reads a
    run (an index, ``get``, ``values``, ``items``, a copy, a comparison) reads runs; ids,
    order, length and membership need no run at all. Until made, such a run's value is its
    row's place among the rows; the rows are a list, or the checkpoint file's rows section
    still unparsed (a row is then parsed, and checked, when its run is first read)."""

    def __init__(
        self,
        names: list[str],
        checklists: list[Checklist],
        stubs: list[str],
        *,
        table: list[list[Any]] | None = None,
        rows: bytes | None = None,
    ) -> None:
        super().__init__()
        self._names = names
        self._checklists = checklists
        self._stubs = stubs
        self._table = table
        self._rows = rows
        self._lines: list[bytes] | None = None
        self._all_made = False
        # Told (with what is wrong) before a row read after the open raises CheckpointRowError:
        # the store sets its checkpoint aside, so the next open reads the record in full.
        self.on_unreadable: Callable[[str], None] | None = None

    def _unreadable(self, exc: Exception) -> CheckpointRowError:
        problem = str(exc) or type(exc).__name__
        if self.on_unreadable is not None:
            self.on_unreadable(problem)
        return CheckpointRowError(problem)

    def make_all(self) -> None:
        """Every row made into its run (what reading them all in order costs anyway: done in
        one pass, the rows section parsed whole)."""
        if self._all_made:
            return
        try:
            table = self._whole_table()
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            raise self._unreadable(exc) from exc
        made: dict[str, Run] = {}
        value: Any
        for run_id, value in dict.items(self):
            if type(value) is int:
                made[run_id] = self._make(run_id, table[value])
        dict.update(self, made)
        self._all_made = True
        # The parsed rows stay (about 12 MB at 1,000,000 events): a reader in another thread
        # (the interface, while a worker builds the checkpoint) that took a row's place just
        # before still finds its row.
        self._rows = self._lines = None

    def check_table(self, table: Any) -> None:
        """Raise unless ``table`` is every row these runs stand for, in order, each well
        formed (the rows as a list, or the whole section once parsed)."""
        if type(table) is not list:
            raise ValueError("a checkpoint's closed runs are not a list of rows")
        _check_rows(table, len(self._names), len(self._checklists))
        if [row[0] for row in table] != self._stubs:
            raise ValueError("a checkpoint's closed runs are not the runs its order leaves")

    def _whole_table(self) -> list[list[Any]]:
        if self._table is None:
            table = orjson.loads(self._rows or b"[]")
            self.check_table(table)
            self._table = table
        return self._table

    def _row(self, run_id: str, ordinal: int) -> list[Any]:
        if self._table is not None:
            return self._table[ordinal]
        back = len(self._stubs) - ordinal  # 1: the last row
        if self._lines is None and back <= _FROM_END:
            line = self._line_from_end(back)  # the board reading back to the day's first run
        else:
            if self._lines is None:
                lines = (self._rows or b"").split(b"\n")  # ~12 ms at 1,000,000 events
                if len(lines) != len(self._stubs) + 2 or lines[0] + b"\n" != ROWS_OPEN:
                    raise ValueError("a checkpoint's rows section does not hold its closed runs")
                self._lines = lines
            line = self._lines[ordinal + 1]
        row = orjson.loads(line[:-1] if back > 1 else line)
        if type(row) is not list:
            raise ValueError("a closed run in a checkpoint must be a row of nine")
        _check_rows([row], len(self._names), len(self._checklists))
        if row[0] != run_id:
            raise ValueError(f"a checkpoint's row for run {run_id} names another run")
        return row

    def _line_from_end(self, back: int) -> bytes:
        """The line of the row ``back`` rows from the last (1: the last), found backwards
        from the end of the section (``...,\\n<row>\\n]``) without splitting it all."""
        rows = self._rows or b""
        hi = len(rows) - 2  # the newline before the closing bracket
        lo = hi
        for _ in range(back):
            lo = rows.rfind(b"\n", 0, hi)
            if lo < 0:
                raise ValueError("a checkpoint's rows section does not hold its closed runs")
            line, hi = rows[lo + 1 : hi], lo
        return line

    def _run(self, run_id: str, value: Any) -> Run:
        if type(value) is not int:
            return value  # type: ignore[no-any-return]
        try:
            row = self._row(run_id, value)
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            raise self._unreadable(exc) from exc
        run = self._make(run_id, row)
        dict.__setitem__(self, run_id, run)
        return run

    def _make(self, run_id: str, row: list[Any]) -> Run:
        _, digest, started, day, firearm, performer, scene, roles, completed = row
        names = self._names
        people = dict(
            zip(
                map(names.__getitem__, roles[::2]), map(names.__getitem__, roles[1::2]), strict=True
            )
        )
        return Run(
            id=run_id, checklist=self._checklists[digest], started_at=started, day=day,
            firearm=firearm, performer=performer, scene=scene, roles_by_person=people,
            completed_at=completed,
        )  # fmt: skip

    def __getitem__(self, run_id: str) -> Run:
        return self._run(run_id, dict.__getitem__(self, run_id))

    def get(self, run_id: str, default: Any = None) -> Any:
        value = dict.get(self, run_id, _ABSENT)
        return default if value is _ABSENT else self._run(run_id, value)

    def __iter__(self) -> Iterator[str]:
        # Not dict's own: {**runs} and dict(runs) would copy the rows themselves.
        return iter(dict.keys(self))

    def values(self) -> _Runs:  # type: ignore[override]
        return _Runs(self)

    def items(self) -> _RunItems:  # type: ignore[override]
        return _RunItems(self)

    def pop(self, run_id: str, *default: Any) -> Any:
        if run_id not in self and default:
            return default[0]
        run = self[run_id]
        dict.pop(self, run_id)
        return run

    def popitem(self) -> tuple[str, Run]:
        run_id = next(reversed(self))
        return run_id, self.pop(run_id)

    def setdefault(self, run_id: str, default: Any = None) -> Any:
        if run_id in self:
            return self[run_id]
        self[run_id] = default
        return default

    def copy(self) -> dict[str, Run]:
        return dict(self.items())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, dict) or len(other) != len(self):
            return False
        return all(run_id in other and other[run_id] == run for run_id, run in self.items())

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None

    def __repr__(self) -> str:
        return f"StubbedRuns({dict(self.items())!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self.items()),))


_ABSENT = object()


class _Runs:
    """The runs of a :class:`StubbedRuns`: in order, all made at once; ``reversed``, each
    made when reached (reading back to a day's first run makes only those)."""

    def __init__(self, runs: StubbedRuns) -> None:
        self._runs = runs

    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self) -> Iterator[Run]:
        self._runs.make_all()  # in order, mostly to the end: all of them at once
        return iter(dict.values(self._runs))

    def __reversed__(self) -> Iterator[Run]:
        runs = self._runs
        return (runs[run_id] for run_id in reversed(dict.keys(runs)))

    def __contains__(self, run: object) -> bool:
        return any(r is run or r == run for r in self)


class _RunItems:
    def __init__(self, runs: StubbedRuns) -> None:
        self._runs = runs

    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self) -> Iterator[tuple[str, Run]]:
        self._runs.make_all()
        return iter(dict.items(self._runs))

    def __reversed__(self) -> Iterator[tuple[str, Run]]:
        runs = self._runs
        return ((run_id, runs[run_id]) for run_id in reversed(dict.keys(runs)))
