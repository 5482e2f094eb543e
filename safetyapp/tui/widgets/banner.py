"""The banner on every screen: the day's state, and HOLD in words as well as colour."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from safetyapp.domain import clock
from safetyapp.domain.state import State
from safetyapp.store.chain import receipt
from safetyapp.tui.text import visible


class StatusBanner(Static):
    """Red with the word HOLD and the reason while any hold is open; else the day's state."""

    DEFAULT_CLASSES = "banner"

    def show_state(
        self,
        state: State,
        store_warning: str | None = None,
        *,
        loading: bool = False,
        alarm: str | None = None,
    ) -> None:
        """``loading``: the checkpoint the app started from is still being checked against the
        record; ``alarm``: it did not match (writes are refused), shown before all else."""
        holds = state.open_holds()
        self.set_class(bool(holds) or alarm is not None, "-hold")
        self.set_class(not holds and bool(state.open_flags()), "-flag")
        self.set_class(not holds and not state.open_flags() and state.day is not None, "-open")
        if holds:
            first = holds[0]
            more = f" (+{len(holds) - 1} more)" if len(holds) > 1 else ""
            scope = f"run {first.run}" if first.run else "WHOLE DAY"
            text = Content.assemble(
                ("■ HOLD ", "bold"),
                f"{first.id} · {scope}: ",
                visible(first.reason),
                f" · receipt {receipt(first.raised_hash)}" if first.raised_hash else "",
                more,
                " — resolve with [r] on the board",
            )
        elif state.open_flags():
            flag = state.open_flags()[0]
            text = Content.assemble(
                ("⚑ FLAG ", "bold"),
                f"{flag.id}: ",
                visible(flag.reason),
                " — no handoff until a safety supervisor acknowledges it (k on the board)",
            )
        else:
            text = Content(_day_text(state))
        if alarm is not None:
            text = Content.assemble(("■ ", "bold"), visible(alarm), " · ", text)
        elif loading:
            text = Content.assemble(text, " · ⧗ checking the record…")
        if store_warning:
            text = Content.assemble(text, "  ⚠ ", visible(store_warning))
        self.update(text)


def _day_text(state: State) -> str:
    production = state.production or "no production"
    day = state.day
    if day is not None:
        since = clock.shown(day.opened_at, state.timezone, date=False)
        return f"{production} · DAY {day.number} OPEN since {since} · no holds"
    if state.days:
        return f"{production} · day {state.days[-1].number} WRAPPED · no holds"
    return f"{production} · day NOT OPENED · no holds"
