"""The repository: the journal plus the state folded from it, and the one way to act on it.

Every action runs as: take the writer lock, catch up with events other processes appended,
let the pure engine decide, append its events durably, fold them. So two processes acting at
once each decide on the latest record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from safetyapp.domain import engine
from safetyapp.domain.checklist import Checklist
from safetyapp.domain.engine import Decision
from safetyapp.domain.state import State
from safetyapp.store.journal import Journal, StoreError

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


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Repository:
    def __init__(
        self, journal: Journal, checklists: dict[str, Checklist], clock: Clock = utc_now
    ) -> None:
        self.journal = journal
        self.checklists = checklists
        self.clock = clock
        self.state = State()
        self._folded = 0
        self._catch_up()

    @classmethod
    def open(
        cls, path: Path, checklists: dict[str, Checklist], clock: Clock = utc_now
    ) -> Repository:
        return cls(Journal.open(path), checklists, clock)

    @classmethod
    def create(
        cls, path: Path, production: str, checklists: dict[str, Checklist], clock: Clock = utc_now
    ) -> Repository:
        decision = engine.create_production(State(), production, clock())
        if not decision.ok:
            raise ValueError(decision.refused)
        return cls(Journal.create(path, decision.events), checklists, clock)

    @property
    def path(self) -> Path:
        return self.journal.path

    def refresh(self) -> bool:
        """Pick up events appended by other processes; True when there were any."""
        self.journal.refresh()
        return self._catch_up()

    def _catch_up(self) -> bool:
        records = self.journal.records()
        new = records[self._folded :]
        for record in new:
            try:
                self.state.apply(record)
            except _FOLD_ERRORS as exc:
                seq = record.get("seq", self._folded + 1)
                detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
                raise StoreUnreadable(self.path, seq, record.get("kind"), detail) from exc
            self._folded += 1
        return bool(new)

    def execute(self, decide: Callable[[State, datetime], Decision]) -> Decision:
        with self.journal.locked():
            self._catch_up()
            decision = decide(self.state, self.clock())
            if decision.events:
                self.journal.append(decision.events)
                self._catch_up()
        return decision

    def do(self, action: Callable[..., Decision], *args: Any, **kwargs: Any) -> Decision:
        """Run one engine action, e.g. `repo.do(engine.sign, run_id, step_id, signer)`."""
        return self.execute(lambda state, now: action(state, *args, now=now, **kwargs))

    def checklist(self, checklist_id: str) -> Checklist | None:
        return self.checklists.get(checklist_id)
