"""Reporting an incident (anyone, any time) and a supervisor acknowledging a flag."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Select, Static

from safetyapp.domain import engine
from safetyapp.domain.incidents import HOLDING_KINDS, INCIDENT_KINDS, INCIDENT_TITLES
from safetyapp.tui.dialogs.holds import _HoldModal
from safetyapp.tui.widgets.signer import SignerField, people_with


class ReportIncidentModal(_HoldModal):
    """A discharge, misfire, injury, missing firearm or ammunition, near miss or concern."""

    def compose(self) -> ComposeResult:
        state = self.repo.state
        kinds = [(INCIDENT_TITLES[k], k) for k in INCIDENT_KINDS]
        firearms = [(Content(f.serial), f.serial) for f in state.firearms.values()]
        with VerticalScroll(classes="dialog"):
            yield Static("! Report an incident", classes="title")
            yield Static(
                "A discharge, misfire, injury, safety concern or anything missing puts the whole"
                " day on HOLD until the safety supervisor and the armorer review it. A near miss"
                " is read out at the next safety meeting.",
                classes="hint",
            )
            yield Select(kinds, prompt="what happened?", id="kind")
            yield SignerField("Who is reporting", people_with(state.crew, None), id="reporter")
            yield Static("Firearm (if one is involved)", classes="field-label")
            yield Select(firearms, prompt="no firearm", id="firearm")
            yield Static("What happened (required)", classes="field-label")
            yield Input(id="reason", placeholder="what, where, who")
            yield from self.compose_buttons("Report", variant="error")

    @on(Select.Changed, "#kind")
    def _kind_chosen(self, event: Select.Changed) -> None:
        holds = event.value in HOLDING_KINDS
        self.query_one("#submit", Button).label = "Report and HOLD the day" if holds else "Report"

    def submit(self) -> None:
        kind = self.query_one("#kind", Select).value
        cred = self.query_one("#reporter", SignerField).credential()
        firearm = self.query_one("#firearm", Select).value
        note = self.query_one("#reason", Input).value.strip()
        if kind is Select.NULL or cred is None or not note:
            self._refuse(
                "Choose what happened, who you are (with your PIN), and say what happened."
            )
            return
        serial = None if firearm is Select.NULL else str(firearm)
        self._act(engine.report_incident, cred, str(kind), note, firearm=serial)


class AcknowledgeFlagModal(_HoldModal):
    """A safety supervisor acknowledges a flag and records what was decided."""

    def compose(self) -> ComposeResult:
        state = self.repo.state
        flags = state.open_flags()
        with VerticalScroll(classes="dialog"):
            yield Static("⚑ Acknowledge a flag", classes="title")
            options = [(Content(f"{f.id} · {f.reason}"), f.id) for f in flags]
            yield Select(options, value=flags[0].id, allow_blank=False, id="flag")
            yield Static(
                "No handoff starts until a safety supervisor acknowledges it.", classes="hint"
            )
            yield SignerField(
                "Safety supervisor", people_with(state.crew, "supervisor"), id="supervisor"
            )
            yield Static("What was decided (required)", classes="field-label")
            yield Input(id="reason", placeholder="e.g. props covered by the props assistant")
            yield from self.compose_buttons("Acknowledge")

    def submit(self) -> None:
        flag_id = str(self.query_one("#flag", Select).value)
        cred = self.query_one("#supervisor", SignerField).credential()
        note = self.query_one("#reason", Input).value.strip()
        if cred is None or not note:
            self._refuse("The supervisor with their PIN, and what was decided, are needed.")
            return
        self._act(engine.acknowledge_flag, flag_id, cred, note)
