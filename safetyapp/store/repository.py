"""The repository: the journal plus the state folded from it, and the one way to act on it.

Every action runs as: take the writer lock, catch up with events other processes appended,
let the pure engine decide, append its events durably, fold them. So two processes acting at
once each decide on the latest record.

Opening (:meth:`Repository.open`, the CLI's, and :meth:`Repository.open_quick`, the app's)
starts from the checkpoint beside the store when it is usable (see
:mod:`safetyapp.store.snapshot`: sealed with this store's key, its event at its place, and the
BLAKE3 digest of every byte before it equal to the one it recorded): its state is restored and only
the events after it are read and folded, by the same fold as a full open. The state then
decides as the full fold would (:func:`safetyapp.domain.snapshot.to_checkpoint`); the finished
runs of earlier days are held without their sign-offs (:attr:`Repository.stubs`), and what
shows or reports those reads :attr:`Repository.full_state`, folded from the whole record. The
record itself is read only when something asks for it (:meth:`Journal.records`).

The checkpoint is a cache, never evidence: the app re-checks the one it started from against a
full fold of the record in the background (:meth:`Repository.load_rest` /
:meth:`Repository.ensure_loaded`, or :meth:`Repository.check_in_child`); any difference is an
alarm (:attr:`Repository.alarm`): every write is refused from then on and the checkpoint is set
aside. ``safetyapp verify`` does the same check.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from safetyapp.domain import engine
from safetyapp.domain import events as ev
from safetyapp.domain.checklist import Checklist
from safetyapp.domain.engine import Decision
from safetyapp.domain.replay import Replay, ReplayMismatch
from safetyapp.domain.snapshot import StubbedRuns, from_checkpoint, to_checkpoint
from safetyapp.domain.state import FormatError, State
from safetyapp.domain.validate import field_problem
from safetyapp.gcpause import collector_paused
from safetyapp.store.chain import GENESIS, VerifyResult, fast_loads, parse_canonical
from safetyapp.store.credentials import credentials_path, read_credentials, write_credentials
from safetyapp.store.head import chain_fault
from safetyapp.store.journal import (
    Journal,
    Mark,
    Record,
    StoreError,
    parse_lines,
    stored_lines,
    verify_lines,
    whole_result,
)
from safetyapp.store.mirror import AutoMirror
from safetyapp.store.prefix import new_digest, start_prefix_digest
from safetyapp.store.snapshot import Saved, comparable, read_saved, set_aside, write_snapshot

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
        self.seq, self.kind, self.rule, self.detail = seq, kind, rule, detail


class StoreFormatUnknown(StoreError):
    """The record is not in the format this version reads (see ``events.RECORD_FORMAT``)."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"store {path} cannot be opened: {detail}; the file was not changed", path)


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


# A command-line process writes a checkpoint from a full fold of at least this many events (a
# smaller record folds in a moment), or when this many events follow the one it started from.
CHECKPOINT_MIN_EVENTS = 2000


class Repository:
    def __init__(
        self,
        journal: Journal,
        checklists: Mapping[str, Checklist],
        clock: Clock = utc_now,
        *,
        _start: tuple[State, set[str], Saved] | None = None,
    ) -> None:
        """Fold the whole ``journal``; or (from a checkpoint only) start from its state, the
        journal opened at its mark, and fold what follows."""
        self._journal = journal
        self.checklists = checklists
        self.clock = clock
        self.snapshot_mismatch = False  # the checkpoint differed from the full fold
        self.alarm: str | None = None  # set when it did: every write is refused
        self.snapshot_seq: int | None = None  # the event the snapshot on disk is tied to
        # A read-only view (`serve --read-only`): execute() refuses before the lock and no
        # snapshot is written, so nothing at all reaches the disk from here.
        self.read_only = False
        # The runs held without their sign-offs (from a checkpoint); empty after a full fold.
        self.stubs: set[str] = set()
        self._check: _Check | None = None
        self._from: Saved | None = None  # the checkpoint this state started from
        self._full: State | None = None  # a full fold, made on demand (see full_state)
        self._full_replay: Replay | None = None  # and the replay of that fold
        # Each event folded is first replayed through the engine (see safetyapp.domain.replay):
        # from the first event after a full open, from the checkpoint's (always a decision
        # boundary: see save_snapshot) after a start from it. A mismatch marks the store
        # damaged for good (`_damaged`): nothing decides on it, nothing is written to it.
        self._replay = Replay()
        self._damaged: StoreError | None = None
        # When a mirror is configured, each append is mirrored (in a background thread).
        self.mirror = AutoMirror(journal.path)
        # The sealed records (with their hashes: the receipts) of the last action recorded.
        self.last_appended: list[Record] = []
        if _start is not None:
            self._state, self.stubs, self._from = _start
            self.snapshot_seq = self._from.mark.seq
            self._folded = self._state.last_seq
            self._catch_up()
            return
        if journal.partial:
            raise ValueError("a journal opened at a mark needs a checkpoint")
        self._state = State()
        self._folded = 0
        self._catch_up()

    @classmethod
    def open(
        cls, path: Path, checklists: Mapping[str, Checklist], clock: Clock = utc_now
    ) -> Repository:
        """From the checkpoint and the events after it when the checkpoint is usable, else
        read and fold the whole record."""
        found = cls._from_checkpoint(Path(path), checklists, clock)
        return found if found is not None else cls.open_full(path, checklists, clock)

    @classmethod
    def open_full(
        cls, path: Path, checklists: Mapping[str, Checklist], clock: Clock = utc_now
    ) -> Repository:
        """Read and fold the whole record (no checkpoint)."""
        return cls(Journal.open(path), checklists, clock)

    @classmethod
    def create(
        cls,
        path: Path,
        production: str,
        supervisor: str,
        pin: dict[str, Any],
        checklists: Mapping[str, Checklist],
        clock: Clock = utc_now,
        *,
        timezone: str = "UTC",
        blank_distance_ft: int | None = None,
    ) -> Repository:
        """A new store: the production and its first safety supervisor (``pin``: their PIN
        record, from :func:`safetyapp.domain.auth.hash_pin`), the PIN in the credentials file,
        ``checklists`` (the installed, bundled versions) adopted by that supervisor; ``timezone``:
        the production's (its days are local dates); ``blank_distance_ft``: its safe distance
        from blank fire in feet (default: the checklists' 20 ft)."""
        decision = engine.create_production(
            State(),
            production,
            supervisor,
            pin,
            clock(),
            adopt=checklists.values(),
            timezone=timezone,
            blank_distance_ft=blank_distance_ft,
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

    @staticmethod
    def read_ahead(path: Path) -> None:
        """Start the part of opening ``path`` that needs no interpreter: hashing the bytes its
        checkpoint was folded from (see :func:`~safetyapp.store.prefix.start_prefix_digest`),
        for an open a moment later. Harmless when there is no checkpoint or no store."""
        start_prefix_digest(path)

    @classmethod
    def open_quick(
        cls, path: Path, checklists: Mapping[str, Checklist], clock: Clock = utc_now
    ) -> Repository:
        """The app's open: as :meth:`open`, and when it started from a checkpoint, that
        checkpoint's check against the full fold is pending (:attr:`loading`) until
        :meth:`load_rest` (or :meth:`check_in_child`) and :meth:`ensure_loaded`."""
        repo = cls.open(path, checklists, clock)
        if repo._from is not None:
            repo._check = _Check(repo.path, repo._from)
        return repo

    @classmethod
    def _from_checkpoint(
        cls, path: Path, checklists: Mapping[str, Checklist], clock: Clock
    ) -> Repository | None:
        saved = read_saved(path)
        if saved is None or not saved.sealed or saved.prefix_blake3 is None:
            return None
        journal = Journal.open_at(path, saved.mark, from_snapshot=True)
        if journal is None:
            return None
        # The bytes before the mark are hashed (IO and hashing, outside the interpreter lock)
        # while the checkpoint's state is restored: on two cores the digest costs nothing.
        confirmed: list[bool | BaseException] = []

        def confirm() -> None:
            try:
                confirmed.append(journal.confirm_prefix(str(saved.prefix_blake3)))
            except BaseException as exc:  # raised below, on this thread
                confirmed.append(exc)

        hashing = threading.Thread(target=confirm, name="prefix-digest", daemon=True)
        hashing.start()
        try:
            state, stubs = from_checkpoint(saved.view)
        except (*_FOLD_ERRORS, KeyError):
            state = None  # an odd checkpoint (only a cache): the full fold decides
        finally:
            hashing.join()
        outcome = confirmed[0] if confirmed else False
        if isinstance(outcome, BaseException):
            raise outcome
        if not outcome or state is None:
            return None  # the bytes before the mark are not the ones it was folded from
        if state.last_seq != saved.mark.seq or state.head_hash != saved.mark.hash:
            return None
        if isinstance(state.runs, StubbedRuns):

            def unreadable(problem: str) -> None:  # a row read later: never started from again
                set_aside(path)

            state.runs.on_unreadable = unreadable
        try:
            return cls(journal, checklists, clock, _start=(state, stubs, saved))
        except (StoreError, *_FOLD_ERRORS):
            # An event after it that it cannot take: the full fold decides, and names any
            # real problem with the record.
            return None

    # -- what callers read ----------------------------------------------------------------------
    @property
    def state(self) -> State:
        """The state decisions are made on: the fold of the whole record, or the checkpoint's
        state and the events after it (which decides the same; see :attr:`stubs`)."""
        return self._state

    @property
    def full_state(self) -> State:
        """Every run with every sign-off: the state itself after a full fold, else the whole
        record read and folded now (for what shows or reports the finished runs of earlier
        days). Never the state decisions are made on. Raises the store's damage, once found."""
        if self._damaged is not None:
            raise self._damaged
        self._catch_up()
        if not self.stubs:
            return self._state
        full = self._full
        if full is None or full.last_seq != self._journal.last_seq:
            full, replay = State(), Replay()
            records = self._journal.records()
            try:
                with collector_paused(len(records)):
                    for record in records:
                        _apply(self.path, full, record, replay)
            except StoreForged as exc:
                self._damaged = exc  # a forged event before the checkpoint: damaged
                raise
            self._full, self._full_replay = full, replay
        return full

    @property
    def journal(self) -> Journal:
        """The record (the part before a checkpoint is read when something asks for it)."""
        return self._journal

    @property
    def view(self) -> State:
        """The state to draw now (the same as :attr:`state`)."""
        return self._state

    @property
    def loading(self) -> bool:
        """True while the checkpoint this started from has not yet been checked against the
        full fold of the record (the app's background check)."""
        return self._check is not None

    @property
    def warnings(self) -> list[str]:
        return self._journal.warnings

    @property
    def path(self) -> Path:
        return self._journal.path

    # -- the check of the checkpoint (the app's, in the background) ------------------------------
    def load_rest(self) -> None:
        """Check the checkpoint against a full fold of the record, in this process. Safe to run
        in another thread; the result is taken on the next :meth:`ensure_loaded`."""
        check = self._check
        if check is not None:
            check.run()

    def stop_check(self) -> None:
        """Stop the background check of the checkpoint, if it is running (the app closing:
        quitting never waits for it). Nothing is decided on after this."""
        check = self._check
        if check is not None:
            check.stop()

    def check_in_child(self) -> None:
        """The same check in a separate process (the app's: it neither competes with the
        interface for the interpreter nor holds the whole record in the app's memory). Safe to
        run in another thread."""
        check = self._check
        if check is not None:
            check.run(child=True)

    @property
    def check_done(self) -> bool:
        """True when the checkpoint's check has run (its outcome not yet taken, maybe), or
        there is none: :meth:`ensure_loaded` will not wait."""
        return self._check is None or self._check.done

    def ensure_loaded(self) -> None:
        """Wait for (or do) the check, and take its result: a mismatch sets :attr:`alarm`
        (writes refused) and sets the checkpoint aside. Raises :class:`StoreError` when the
        record before the checkpoint cannot be read (e.g. it is damaged)."""
        check = self._check
        if check is None or check.stopped:
            return
        try:
            outcome = check.result()
        except StoreForged as exc:
            self._check = None
            self._damaged = exc  # the record before the checkpoint does not replay
            raise
        self._check = None
        if outcome is not None:
            self.raise_alarm(outcome)

    def raise_alarm(self, problem: str) -> None:
        """The record and the checkpoint disagree: refuse every write from now on."""
        self.snapshot_mismatch = True
        self.alarm = (
            f"ALARM: the checkpoint beside {self.path} does not match the record ({problem}); "
            "nothing more is recorded here - someone or something changed the files beside the "
            "store: keep copies of them, run `safetyapp verify`, and call the safety supervisor"
        )
        if set_aside(self.path) is not None:
            self.snapshot_seq = None
        # The record wins: what is shown from now on is its own fold, never the checkpoint's.
        self._state = self.full_state
        if self._full_replay is not None:
            self._replay = self._full_replay
        self.stubs, self._full, self._full_replay = set(), None, None

    def save_snapshot(self) -> bool:
        """Write the checkpoint for the current state; False if not written (read-only, an
        alarm, a chain that does not verify, or the state behind the record)."""
        if self.read_only or self.alarm is not None or self._damaged is not None:
            return False
        self._catch_up()
        state = self._state
        journal = self._journal
        if self._replay.pending:  # only at a decision boundary: a fresh Replay starts there
            return False
        if not state.last_seq or state.last_seq != journal.last_seq or journal.chain_fault:
            return False
        written = write_snapshot(self.path, journal.mark(), to_checkpoint(state))
        if written:
            self.snapshot_seq, self.snapshot_mismatch = state.last_seq, False
        return written

    def keep_checkpoint(self) -> bool:
        """A command-line process's part: write the checkpoint after a full fold of a long
        record, or when many events follow the checkpoint it started from."""
        if self.read_only or self._check is not None:
            return False
        if self._from is None:
            due = self._state.last_seq >= CHECKPOINT_MIN_EVENTS
        else:
            due = self._state.last_seq - self._from.mark.seq >= CHECKPOINT_MIN_EVENTS
        return due and self.save_snapshot()

    # -- acting and catching up ------------------------------------------------------------------
    def refresh(self) -> bool:
        """Pick up events appended by other processes; True when there were any."""
        self._journal.refresh()
        return self._catch_up()

    def _catch_up(self) -> bool:
        new = self._journal.since(self._folded)
        if not new:
            return False
        with collector_paused(len(new)):
            for record in new:
                self._apply(self._state, record)
                self._folded += 1
        return True

    def _fold_own(self, appended: list[Record]) -> None:
        """Fold the events this process's engine just decided on this very state (under the
        lock, caught up first: they are the next in the record). Replaying them would re-run
        the same command on the same state; other processes' events are replayed on catch-up,
        and every open and `verify` replays all of them."""
        if self._folded + len(appended) != self._journal.last_seq:
            self._catch_up()  # (not the next ones after all: read them as anyone else's)
            return
        for record in appended:
            try:
                _check_fields(self.path, record)
                self._state.apply(record)
            except StoreError as exc:
                self._damaged = exc
                raise
            except _FOLD_ERRORS as exc:
                detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
                self._damaged = StoreUnreadable(self.path, record["seq"], record["kind"], detail)
                raise self._damaged from exc
            self._folded += 1

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
        if self.alarm is not None:
            raise StoreError(self.alarm, self.path)
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
                self._fold_own(self.last_appended)
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


_STREAM_CHUNK = 8 * 1024 * 1024


def fold_stream(
    path: Path, end: int | None = None
) -> tuple[State, Mark, tuple[int, str] | None, str, Replay]:
    """Read, replay and fold the record's complete lines (the first ``end`` bytes, else all),
    a few megabytes at a time and keeping no record: the state, where it ends, the chain's
    first fault (verify's words), the prefix digest of the bytes read and the replay (``pending`` if
    those bytes end inside a decision). Raises as a full open does (:class:`StoreCorrupt`,
    :class:`StoreUnreadable`, :class:`StoreForged`, ...) for what it reads."""
    state, replay = State(), Replay()
    prev, seq, offset, last_len = GENESIS, 1, 0, 0
    fault: tuple[int, str] | None = None
    digest = new_digest()
    carry = b""
    with open(path, "rb") as f:
        while True:
            want = _STREAM_CHUNK if end is None else min(_STREAM_CHUNK, end - offset - len(carry))
            chunk = f.read(want) if want > 0 else b""
            if not chunk:
                break
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            data, carry = data[:cut], data[cut:]
            if not data:
                continue
            digest.update(data)
            records = parse_lines(path, data, seq)
            if fault is None:
                fault = chain_fault(data, records, prev)
            with collector_paused(len(records)):
                for record in records:
                    _apply(path, state, record, replay)
            prev = str(records[-1]["hash"])
            seq += len(records)
            offset += len(data)
            last_len = len(data) - data.rfind(b"\n", 0, len(data) - 1) - 1
            del records, data
    return state, Mark(seq - 1, prev, offset, last_len), fault, digest.hexdigest(), replay


def check_checkpoint(path: Path, saved: Saved) -> str | None:
    """Fold the record up to the checkpoint's event and compare: None when the checkpoint is
    exactly the fold's (as canonical text: 5 == 5.0 == True in Python, not in a view), else
    what differs. Raises :class:`StoreError` when that part of the record cannot be read."""
    journal = Journal.open_at(path, saved.mark)
    if journal is None:
        return f"event {saved.mark.seq} is not where the checkpoint says"
    state, mark, fault, digest, replay = fold_stream(path, saved.mark.offset)
    if mark != saved.mark:
        return f"the record does not end its first {saved.mark.seq} events where it says"
    if fault is not None:
        return f"the record's chain does not verify before it ({fault[1]})"
    if digest != saved.prefix_blake3:
        return "the bytes before its event are not the ones it was folded from"
    if replay.pending:
        return f"event {saved.mark.seq} ends no decision (a checkpoint is only written after one)"
    if comparable(to_checkpoint(state)) != comparable(saved.view):
        return f"its state at event {saved.mark.seq} is not the fold of the record"
    return None


def checkpoint_from_record(path: Path) -> bool:
    """Fold the whole record (streamed: a million events in bounded memory besides the state)
    and write the checkpoint for it; False when its chain does not verify or the snapshot
    cannot be written. (The benchmark's, for stores it generated; the app writes its own.)"""
    state, mark, fault, _, replay = fold_stream(path)
    if fault is not None or not mark.seq or replay.pending:
        return False
    return write_snapshot(path, mark, to_checkpoint(state))


class _Check:
    """The check of one checkpoint, exactly once, in whichever thread asks first; a second
    caller waits for the first. Its outcome: None (it matches) or what differs."""

    def __init__(self, path: Path, saved: Saved) -> None:
        self._path, self._saved = path, saved
        self._lock = threading.Lock()
        self._done = False
        self._outcome: str | None = None
        self._error: BaseException | None = None
        self._child_lock = threading.Lock()
        self._child: subprocess.Popen[str] | None = None
        self.stopped = False  # stopped before its outcome was in (the app closing)

    def run(self, *, child: bool = False) -> None:
        with self._lock:
            if self._done or self.stopped:
                return
            try:
                if child:
                    self._outcome = self._in_child()
                else:
                    self._outcome = check_checkpoint(self._path, self._saved)
            except BaseException as exc:  # kept for the owner's thread, raised there
                self._error = exc
            self._done = not self.stopped

    def _in_child(self) -> str | None:
        mark = self._saved.mark
        args = [sys.executable, "-m", "safetyapp.store.verify_child", "--checkpoint",
                str(self._path), str(mark.seq), mark.hash]  # fmt: skip
        with self._child_lock:
            if self.stopped:
                return None
            self._child = subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        out, err = self._child.communicate()
        return None if self.stopped else _child_outcome(self._path, out, err)

    def stop(self) -> None:
        """Stop the check where it is (its child killed): the app is closing. Its outcome is
        never taken: the state stays "loading" (and no checkpoint is written from it)."""
        with self._child_lock:
            self.stopped = True
            if self._child is not None and self._child.poll() is None:
                self._child.kill()

    @property
    def done(self) -> bool:
        return self._done

    def result(self) -> str | None:
        if self.stopped:
            raise StoreError(f"the check of {self._path} against its checkpoint was stopped")
        self.run()
        if self._error is not None:
            raise self._error
        return self._outcome


def _child_outcome(path: Path, stdout: str, stderr: str) -> str | None:
    """What the check's child process (safetyapp.store.verify_child --checkpoint) said."""
    try:
        data = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        detail = (stderr.strip().splitlines() or ["no output"])[-1]
        raise StoreError(
            f"the check of {path} against its checkpoint failed: {detail}", path
        ) from None
    forged = data.get("forged")
    if isinstance(forged, list) and len(forged) == 4:  # an event before it does not replay
        seq, kind, rule, detail = forged
        raise StoreForged(path, int(seq), kind, str(rule), str(detail))
    if data.get("error"):
        raise StoreError(str(data["error"]), path)
    problem = data.get("problem")
    return str(problem) if problem else None


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
    """`verify`: the whole chain re-read from disk and every event replayed through the engine
    from the state before it (see safetyapp.domain.replay). The result names the first event
    whose hash, link, fields or rules do not hold.

    The file is read once. Where a process can be forked (Linux) and the record is long, it is
    checked in two parts at once, one per core: this process checks the chain and replays the
    events before a run's start about half-way; a child checks and replays the rest, from the
    state the plain fold of the first part gives (the fold the replay itself folds with, so the
    same state whenever the first part replays). The answer is the one-pass answer: the first
    part's problem if it has one, else the second part's; and if a decision of the first part
    runs on past the boundary (a record no honest store has), the first part simply goes on."""
    data = journal.read_bytes()
    lines, bad = stored_lines(data)
    split = _split_point(lines) if len(data) >= _PARALLEL_FROM_BYTES else None
    rest = _Rest.start(journal.path, lines, split) if split is not None else None
    state, replay = State(), Replay()

    def check(record: Record) -> None:
        _apply(journal.path, state, record, replay)

    if rest is None or split is None:
        return whole_result(_finished(journal.path, verify_lines(lines, check), replay), bad)
    try:
        first = verify_lines(lines[:split], check)
        ends = not replay.pending or not replay.takes(parse_canonical(lines[split]) or {})
    finally:
        second = rest.result()
    if not first.ok:
        return first
    if ends and second is not None:
        return whole_result(second, bad)
    after = (first.count, first.head_hash)  # the first part's decision runs on: go on here
    return whole_result(
        _finished(journal.path, verify_lines(lines[split:], check, after), replay), bad
    )


def _finished(path: Path, result: VerifyResult, replay: Replay) -> VerifyResult:
    return result if not result.ok or not replay.pending else _unfinished(path, replay)


def _unfinished(path: Path, replay: Replay) -> VerifyResult:
    """The record ends inside a decision: the engine would have written more."""
    first = replay.leader_record
    assert first is not None
    try:
        replay.finish()
    except ReplayMismatch as exc:
        problem = str(StoreForged(path, exc.seq, exc.kind, exc.rule, exc.detail))
        seq = int(first["seq"])
        return VerifyResult(False, seq - 1, str(first["prev_hash"]), seq, problem)
    raise AssertionError("a pending replay always finishes with a mismatch")


# Below this one pass is quicker than a fork (~1 MB: about 2,000 events).
_PARALLEL_FROM_BYTES = 1 << 20
# Where the record is cut: the child also parses and folds the first part (about an eighth of
# what checking it costs), so the first part is a little longer than half.
_SPLIT_AT = 0.535


def _split_point(lines: list[str]) -> int | None:
    """The index of the first line, from a little past half-way, that starts a run (a decision
    of its own); None for a short record, one without, or where a fork is not possible."""
    if sys.platform != "linux" or len(lines) < 4:
        return None
    starts = f'"kind":"{ev.RUN_STARTED}"'  # (as canonical JSON writes it: only a real entry)
    for i in range(int(len(lines) * _SPLIT_AT), len(lines)):
        if starts in lines[i]:
            return i
    return None


def _check_rest(path: Path, lines: list[str], split: int) -> VerifyResult | None:
    """The second part's verdict (the child's work), or None when the first part cannot be
    folded (its own check then says why)."""
    state = State()
    try:
        with collector_paused(split):
            for line in lines[:split]:
                record = read_like_json(line)
                state.apply(record)
        after = (split, str(record["hash"]))
    except Exception:  # any failure here is the first part's to report
        return None
    replay = Replay()

    def check(record: Record) -> None:
        _apply(path, state, record, replay)

    return _finished(path, verify_lines(lines[split:], check, after), replay)


# orjson reads an integer beyond 64 bits as a float; json.loads (the chain check's reader, where
# orjson's value does not encode back to the line) as the integer. A line with such a number is
# read by json here, so the second part starts from exactly the state the first part folded.
_LONG_NUMBER = re.compile(r"\d{19}")


def read_like_json(line: str) -> Any:
    """The value of one stored line as the chain check reads it (see above)."""
    return json.loads(line) if _LONG_NUMBER.search(line) else fast_loads(line)


class _Rest:
    """The second part's check in a forked child process (see verify_replayed)."""

    def __init__(self, path: Path, process: Any, conn: Any) -> None:
        self._path, self._process, self._conn = path, process, conn

    @classmethod
    def start(cls, path: Path, lines: list[str], split: int) -> _Rest | None:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        mine, theirs = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_rest_child, args=(path, lines, split, theirs), daemon=True)
        try:
            process.start()
        except OSError:
            return None
        theirs.close()
        return cls(path, process, mine)

    def result(self) -> VerifyResult | None:
        """The child's verdict; None if it had none (the first part then goes on here)."""
        try:
            got: Any = self._conn.recv()
        except (EOFError, OSError):
            got = None
        finally:
            self._conn.close()
            self._process.join()
        return got if isinstance(got, VerifyResult) else None


def _rest_child(path: Path, lines: list[str], split: int, conn: Any) -> None:
    try:
        out = _check_rest(path, lines, split)
    except Exception:  # no verdict: the parent checks this part itself
        out = None
    conn.send(out)
    conn.close()
