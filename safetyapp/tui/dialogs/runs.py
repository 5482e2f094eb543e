"""Voiding a started run: the armorer and a safety supervisor, with a reason (issue 14)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from safetyapp.domain import engine
from safetyapp.tui.dialogs.holds import _HoldModal
from safetyapp.tui.widgets.signer import SignerField, people_with


class VoidRunModal(_HoldModal):
    """A run that will not be finished is voided, not faked: on the record and the report; it
    no longer blocks wrap. It moves no firearm (take it back with `t`)."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def compose(self) -> ComposeResult:
        crew = self.repo.state.crew
        with VerticalScroll(classes="dialog"):
            yield Static(f"Void run {self.run_id}", classes="title", markup=False)
            yield Static(
                "Signed by the armorer and a safety supervisor, two different people. Nothing"
                " more is signed in a voided run.",
                classes="hint",
            )
            yield SignerField("Armorer", people_with(crew, "armorer"), id="armorer")
            yield SignerField("Safety supervisor", people_with(crew, "supervisor"), id="boss")
            yield Static("Reason (required)", classes="field-label")
            yield Input(id="reason", placeholder="why the run will not be finished")
            yield from self.compose_buttons("Void run", variant="error")

    def submit(self) -> None:
        creds = [self.query_one(f"#{i}", SignerField).credential() for i in ("armorer", "boss")]
        reason = self.query_one("#reason", Input).value.strip()
        if any(c is None for c in creds) or not reason:
            self._refuse("Both signers with their PINs, and the reason, are needed.")
            return
        self._act(engine.void_run, self.run_id, [c for c in creds if c is not None], reason)
