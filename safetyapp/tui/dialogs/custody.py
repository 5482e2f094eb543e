"""Custody moves off the checklist: lock up for a break, check out again, or record a break."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input, Select, SelectionList, Static

from safetyapp.domain import engine
from safetyapp.tui.dialogs.holds import _HoldModal
from safetyapp.tui.widgets.signer import SignerField, people_with

ACTIONS = [
    ("Lock up for a break (lunch, a move)", "locked"),
    ("Check out again from storage", "armorer"),
    ("Record a custody break (something was out of sight)", "break"),
]


class CustodyModal(_HoldModal):
    """Every custody change makes earlier verifications stale: handoffs restart from the
    ammunition check."""

    def compose(self) -> ComposeResult:
        state = self.repo.state
        with VerticalScroll(classes="dialog"):
            yield Static("Custody", classes="title")
            yield Static(
                "Locking up, checking out or any break in custody makes earlier checks stale: the"
                " next handoff of those firearms restarts from the ammunition check.",
                classes="hint",
            )
            yield Select(ACTIONS, prompt="what happened?", id="action-kind")
            yield Static(
                "Firearms (none chosen = every firearm out, for a break)", classes="field-label"
            )
            yield SelectionList[str](
                *[(Content(f"{s} · {state.custody(s).describe()}"), s) for s in state.firearms],
                id="serials",
            )
            yield SignerField("Who (the armorer moves firearms; anyone records a break)",
                              people_with(state.crew, None), id="who")  # fmt: skip
            yield Static("Reason (required)", classes="field-label")
            yield Input(id="reason", placeholder="e.g. lunch")
            yield from self.compose_buttons("Record")

    def submit(self) -> None:
        kind = self.query_one("#action-kind", Select).value
        serials = list(self.query_one("#serials", SelectionList).selected)
        cred = self.query_one("#who", SignerField).credential()
        reason = self.query_one("#reason", Input).value.strip()
        if kind is Select.NULL or cred is None or not reason:
            self._refuse("Choose what happened, who you are (with your PIN), and the reason.")
            return
        if kind == "break":
            self._act(engine.record_custody_break, cred, reason, serials=serials or None)
            return
        if not serials:
            self._refuse("Choose the firearms to move.")
            return
        self._act(engine.move_firearms, cred, serials, str(kind), reason)
