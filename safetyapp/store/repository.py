"""The repository: the journal plus the state folded from it, and the one way to act on it.

Every action runs as: take the writer lock, catch up with events other processes appended,
let the pure engine decide, append its events durably, fold them. So two processes acting at
once each decide on the latest record.

Quick start (:meth:`Repository.open_quick`, the app's): with a usable snapshot beside the store,
only the events after it are read, folded onto the snapshot's view: a *preview* that
:attr:`Repository.view` serves at once. The whole record is then read and folded (in another
thread, :meth:`Repository.load_rest`), checked against the snapshot, and takes over.
:attr:`Repository.state` and :attr:`Repository.journal` always give the full fold and record,
waiting for it if need be, so nothing decides on a preview.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from safetyapp.domain import engine
from safetyapp.domain.checklist import Checklist
from safetyapp.domain.engine import Decision
from safetyapp.domain.replay import Replay, ReplayMismatch
from safetyapp.domain.snapshot import from_view, to_view
from safetyapp.domain.state import FormatError, State
from safetyapp.domain.validate import field_problem
from safetyapp.gcpause import collector_paused
from safetyapp.store.chain import VerifyResult, canonical
from safetyapp.store.credentials import credentials_path, read_credentials, write_credentials
from safetyapp.store.journal import Journal, Record, StoreError
from safetyapp.store.mirror import AutoMirror
from safetyapp.store.snapshot import read_snapshot, write_snapshot

# What a fold of an odd event can raise (a `signed` event for a run that never started, a field
# of the wrong type, a checklist this version cannot parse, ...).
_FOLD_ERRORS = (LookupError, TypeError, ValueError, AttributeError, AssertionError)


class StoreUnreadable(StoreError):
    """The chain is intact but an event cannot be folded into state by this version."""

    def __init__(self, path: Path, seq: int, kind: object, detail: str) -> None:
        super().__init__(
            f"store {path} holds an event this version cannot read: seq {seq} (kind {kind!r}: "
            f"{detail}); the file was not changed - check it with `safetyapp verify`, and open "
            "it with the safetyapp version that wrote it",
            path,
        )
        self.seq = seq


class EventMalformed(StoreUnreadable):
    """The chain is intact but an event's field is malformed (see safetyapp.domain.validate):
    an event the app never wrote. Named by file, line and field; the file is not changed."""

    def __init__(self, path: Path, seq: int, kind: object, field: str, problem: str) -> None:
        StoreError.__init__(
            self,
            f"store {path}, line {seq} (event {seq}, kind {kind!r}): field '{field}' is "
            f"malformed: {problem}; the app never writes such an event and the file was not "
            "changed - run `safetyapp verify` and restore the store from a backup (or copy the "
            "events before it with `safetyapp verify --salvage NEW_FILE`)",
            path,
        )
        self.seq = seq
        self.field = field


class StoreForged(StoreUnreadable):
    """The chain is intact but an event is not one the engine would have produced from the
    state before it (see safetyapp.domain.replay): a hand-made event. Named by seq and rule; the
    store is damaged: reported, never written to."""

    def __init__(self, path: Path, seq: int, kind: object, rule: str, detail: str) -> None:
        StoreError.__init__(
            self,
            f"store {path}, event {seq} (kind {kind!r}) is not one the app would have recorded:"
            f" it breaks rule '{rule}' ({detail}); the store is treated as damaged and nothing"
            " is written to it - run `safetyapp verify`, and restore the store from a backup (or"
            " copy the events before it with `safetyapp verify --salvage NEW_FILE`)",
            path,
        )
        self.seq, self.rule = seq, rule


class StoreFormatUnknown(StoreError):
    """The record is not in the format this version reads (see ``events.RECORD_FORMAT``)."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"store {path} cannot be opened: {detail}; the file was not changed", path)


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Repository:
    def __init__(
        self,
        journal: Journal,
        checklists: dict[str, Checklist],
        clock: Clock = utc_now,
        *,
        _preview: tuple[State, _Rest, int] | None = None,
    ) -> None:
        """Fold the whole ``journal``; or (from :meth:`open_quick` only) start from a preview
        folded up to the journal's end, its rest to be loaded, and the snapshot's event."""
        self._journal = journal
        self.checklists = checklists
        self.clock = clock
        self.snapshot_mismatch = False  # the snapshot differed from the full fold
        self.snapshot_seq: int | None = None  # the event the snapshot on disk is tied to
        # A read-only view (`serve --read-only`): execute() refuses before the lock and no
        # snapshot is written, so nothing at all reaches the disk from here.
        self.read_only = False
        self._rest: _Rest | None = None
        # When a mirror is configured, each append is mirrored (in a background thread).
        self.mirror = AutoMirror(journal.path)
        # The sealed records (with their hashes: the receipts) of the last action recorded.
        self.last_appended: list[Record] = []
        # Each event of the full fold is replayed through the engine before it is folded (see
        # safetyapp.domain.replay); a mismatch marks the store damaged for good (`_damaged`).
        self._replay = Replay()
        self._damaged: StoreError | None = None
        if _preview is not None:
            self._state, self._rest, self.snapshot_seq = _preview
            self._folded = self._state.last_seq
            return
        if journal.partial:
            raise ValueError("a journal opened at a mark needs Repository.open_quick")
        self._state = State()
        self._folded = 0
        self._catch_up()

    @classmethod
    def open(
        cls, path: Path, checklists: dict[str, Checklist], clock: Clock = utc_now
    ) -> Repository:
        """Read and fold the whole record."""
        return cls(Journal.open(path), checklists, clock)

    @classmethod
    def create(
        cls,
        path: Path,
        production: str,
        supervisor: str,
        pin: dict[str, Any],
        checklists: dict[str, Checklist],
        clock: Clock = utc_now,
        *,
        timezone: str = "UTC",
    ) -> Repository:
        """A new store: the production and its first safety supervisor (``pin``: their PIN
        record, from :func:`safetyapp.domain.auth.hash_pin`), the PIN in the credentials file,
        ``checklists`` (the installed, bundled versions) adopted by that supervisor; ``timezone``:
        the production's (its days are local dates)."""
        decision = engine.create_production(
            State(),
            production,
            supervisor,
            pin,
            clock(),
            adopt=checklists.values(),
            timezone=timezone,
        )
        if not decision.ok:
            raise ValueError(decision.refused)
        path = Path(path)
        if not path.parent.is_dir() or os.path.lexists(path):
            return cls(Journal.create(path, decision.events), checklists, clock)  # its refusal
        # The PIN first (the record names it), merged into any file there: a second `init`
        # racing this one loses at Journal.create and must not erase the winner's PIN.
        fresh = not os.path.lexists(credentials_path(path))
        try:
            write_credentials(path, decision.credentials)
        except StoreError as exc:
            cause = exc.__cause__
            why = (cause.strerror if isinstance(cause, OSError) else None) or str(exc)
            raise StoreError(
                f"could not create a store at {path}: {why}; nothing was created; make sure the"
                " folder is writable and the disk has space, then retry",
                path,
            ) from exc
        try:
            journal = Journal.create(path, decision.events)
        except BaseException:
            if fresh and not os.path.lexists(path):
                with contextlib.suppress(OSError):
                    os.unlink(credentials_path(path))
            raise
        return cls(journal, checklists, clock)

    @classmethod
    def open_quick(
        cls, path: Path, checklists: dict[str, Checklist], clock: Clock = utc_now
    ) -> Repository:
        """Open from the snapshot beside the store when it is usable (a preview until
        :meth:`load_rest`), else read and fold the whole record."""
        saved = read_snapshot(path)
        journal = Journal.open_at(path, saved[0]) if saved is not None else None
        if saved is None or journal is None:
            return cls.open(path, checklists, clock)
        mark, view = saved
        try:
            saved_text = canonical(view)  # here, not deep in the loading thread's stack
            preview = from_view(view)
            for record in journal.since(mark.seq):
                _check_fields(path, record)
                preview.apply(record)
        except Exception:  # an odd snapshot (it is only a cache) or event: fold it all
            return cls.open(path, checklists, clock)
        rest = _Rest(journal, saved_text)
        return cls(journal, checklists, clock, _preview=(preview, rest, mark.seq))

    # -- what callers read ----------------------------------------------------------------------
    @property
    def state(self) -> State:
        """The state folded from the whole record (waits for it after a quick open)."""
        self.ensure_loaded()
        return self._state

    @property
    def journal(self) -> Journal:
        """The whole record (waits for it after a quick open)."""
        self.ensure_loaded()
        return self._journal

    @property
    def view(self) -> State:
        """The state to draw now: the full fold, or the preview while the rest is loading.
        Only for display of what a view keeps (see :mod:`safetyapp.domain.snapshot`)."""
        return self._state

    @property
    def loading(self) -> bool:
        """True while the state is a preview (the whole record not yet read)."""
        return self._rest is not None

    @property
    def warnings(self) -> list[str]:
        return self._journal.warnings

    @property
    def path(self) -> Path:
        return self._journal.path

    # -- the rest of the record after a quick open ---------------------------------------------
    def load_rest(self) -> None:
        """Read and fold the events before the snapshot. Safe to run in another thread; the
        result takes over on the next :meth:`ensure_loaded` (call it on this object's own
        thread). Errors are kept for that call."""
        rest = self._rest
        if rest is not None:
            rest.run()

    def ensure_loaded(self) -> None:
        """Make the full fold current: wait for (or do) :meth:`load_rest`, then take it over.
        Raises :class:`StoreError` (e.g. the earlier part of the file is damaged)."""
        rest = self._rest
        if rest is None:
            return
        done = rest.result()
        self._journal.adopt_prefix(done.prefix)
        state = done.state
        self._replay = done.replay
        for record in self._journal.since(state.last_seq):
            self._apply(state, record)
        self._state, self._folded, self._rest = state, state.last_seq, None
        self.snapshot_mismatch = not done.matches

    def save_snapshot(self) -> bool:
        """Write the snapshot for the current state (the full fold); False if not written."""
        if self.read_only or self._damaged is not None:
            return False
        self.ensure_loaded()
        self._catch_up()
        state = self._state
        if self._replay.pending:  # written only from a replayed state, whole decisions
            return False
        if not state.last_seq or state.last_seq != self._journal.last_seq:
            return False
        written = write_snapshot(self.path, self._journal.mark(), to_view(state))
        if written:
            self.snapshot_seq, self.snapshot_mismatch = state.last_seq, False
        return written

    # -- acting and catching up ------------------------------------------------------------------
    def refresh(self) -> bool:
        """Pick up events appended by other processes; True when there were any."""
        self._journal.refresh()
        return self._catch_up()

    def _catch_up(self) -> bool:
        new = self._journal.since(self._folded)
        if not new:
            return False
        if self._rest is not None:
            try:
                for record in new:
                    _check_fields(self.path, record)
                    self._state.apply(record)
                    self._folded += 1
            except _FOLD_ERRORS:
                self.ensure_loaded()  # the preview lacks what this event needs: fold it all
            return True
        with collector_paused(len(new)):
            for record in new:
                self._apply(self._state, record)
                self._folded += 1
        return True

    def _apply(self, state: State, record: Record) -> None:
        if self._damaged is not None:
            raise self._damaged
        try:
            _apply(self.path, state, record, self._replay)
        except StoreError as exc:
            self._damaged = exc  # the state is half-folded: nothing decides on it again
            raise

    def execute(self, decide: Callable[[State, datetime], Decision]) -> Decision:
        if self.read_only:
            raise StoreError(
                f"{self.path} is open read-only here: nothing can be recorded", self.path
            )
        self.ensure_loaded()  # decisions only ever on the full fold
        if self._damaged is not None:
            raise self._damaged
        with self._journal.locked():
            self._catch_up()
            self._state.credentials = read_credentials(self.path)
            try:
                decision = decide(self._state, self.clock())
            finally:
                self._state.credentials = {}  # secrets held only while deciding
            if decision.events:
                if decision.credentials:  # first: the events below name these records
                    keep = [m.pin_id for m in self._state.crew.values() if m.pin_id]
                    write_credentials(self.path, decision.credentials, keep=keep)
                self.last_appended = self._journal.append(decision.events)
                self._catch_up()
        if decision.events:
            self.mirror.kick()  # best effort, never blocks: see safetyapp.store.mirror
        return decision

    def do(self, action: Callable[..., Decision], *args: Any, **kwargs: Any) -> Decision:
        """Run one engine action, e.g. `repo.do(engine.sign, run_id, step_id, signer)`."""
        return self.execute(lambda state, now: action(state, *args, now=now, **kwargs))

    def checklist(self, checklist_id: str) -> Checklist | None:
        """The version a new run of this id walks: the one adopted last; or an installed file
        that is not adopted (its run is then refused, saying how to adopt it). See
        :func:`safetyapp.domain.engine.checklist_to_start`."""
        return engine.checklist_to_start(self.state, self.checklists, checklist_id)

    def known_checklists(self) -> list[str]:
        """Checklist ids a run may name: adopted or installed."""
        return list(dict.fromkeys([*self.state.current_checklists, *self.checklists]))


@dataclass
class _Loaded:
    prefix: list[Record]
    state: State  # folded up to the snapshot's event
    matches: bool  # its view equals the snapshot's
    replay: Replay  # the replay of that fold, to go on with


class _Rest:
    """Reading and folding the events before a snapshot, exactly once, in whichever thread
    asks first; a second caller waits for the first."""

    def __init__(self, journal: Journal, saved_text: str) -> None:
        self._journal, self._saved_text = journal, saved_text
        self._lock = threading.Lock()
        self._done: _Loaded | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        with self._lock:
            if self._done is not None or self._error is not None:
                return
            try:
                self._done = self._load()
            except BaseException as exc:  # kept for the owner's thread, raised there
                self._error = exc

    def result(self) -> _Loaded:
        self.run()
        if self._error is not None:
            raise self._error
        assert self._done is not None
        return self._done

    def _load(self) -> _Loaded:
        prefix = self._journal.read_prefix()
        state = State()
        replay = Replay()
        path = self._journal.path
        with collector_paused(len(prefix)):
            for record in prefix:
                _apply(path, state, record, replay)
        # Compared as text: 5 == 5.0 == True in Python, not in a view.
        matches = canonical(to_view(state)) == self._saved_text
        return _Loaded(prefix, state, matches, replay)


def _apply(path: Path, state: State, record: Record, replay: Replay) -> None:
    """Replay one event through the engine and fold it; an event this version cannot fold is a
    :class:`StoreUnreadable`, one with a malformed field an :class:`EventMalformed`, one the
    engine would not have produced a :class:`StoreForged`."""
    _check_fields(path, record)
    try:
        replay.apply(state, record)
    except ReplayMismatch as exc:
        raise StoreForged(path, exc.seq, exc.kind, exc.rule, exc.detail) from None
    except FormatError as exc:
        raise StoreFormatUnknown(path, str(exc)) from exc
    except _FOLD_ERRORS as exc:
        seq = record.get("seq", state.last_seq + 1)
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise StoreUnreadable(path, seq, record.get("kind"), detail) from exc


def _check_fields(path: Path, record: Record) -> None:
    """The read boundary: every event's fields are checked once, before it is folded."""
    found = field_problem(record)
    if found is not None:
        seq = record.get("seq", 0)
        raise EventMalformed(path, seq, record.get("kind"), *found)


def verify_replayed(journal: Journal) -> VerifyResult:
    """`verify`: the whole chain re-read from disk and, in the same pass, every event replayed
    through the engine from the state before it (see safetyapp.domain.replay). The result names
    the first event whose hash, link, fields or rules do not hold."""
    state, replay = State(), Replay()
    leader: list[Record] = []

    def check(record: Record) -> None:
        if not replay.pending:
            leader[:] = [record]
        _apply(journal.path, state, record, replay)

    result = journal.verify(check)
    if not result.ok or not replay.pending:
        return result
    first = leader[0]  # the record ends inside a decision: the engine would have written more
    try:
        replay.finish()
    except ReplayMismatch as exc:
        problem = str(StoreForged(journal.path, exc.seq, exc.kind, exc.rule, exc.detail))
        seq = int(first["seq"])
        return VerifyResult(False, seq - 1, str(first["prev_hash"]), seq, problem)
    return result
