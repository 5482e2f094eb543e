"""Starting a handoff: which firearm, to which performer, for which setup."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static


class StartHandoffModal(ModalScreen[tuple[str, str, str] | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def compose(self) -> ComposeResult:
        from safetyapp.tui.app import SafetyApp

        app = self.app
        assert isinstance(app, SafetyApp) and app.repo is not None
        state = app.repo.state
        firearms = [
            (Content(f"{f.serial} · {f.description}"), f.serial) for f in state.firearms.values()
        ]
        performers = [(Content(m.name), m.name) for m in state.crew.values() if "actor" in m.roles]
        with VerticalScroll(classes="dialog"):
            yield Static("Start a handoff (rehearsals count)", classes="title")
            yield Static("Firearm", classes="field-label")
            yield Select(firearms, prompt="which firearm?", id="firearm")
            yield Static("Performer", classes="field-label")
            yield Select(performers, prompt="to which performer?", id="performer")
            yield Static("Scene / setup", classes="field-label")
            yield Input(id="scene", placeholder="e.g. 12A rehearsal")
            yield Static(id="refusal", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Start", id="submit", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        """Start at the first chooser: the whole dialog is keyboard-first."""
        self.query(Select).first().focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        firearm = self.query_one("#firearm", Select).value
        performer = self.query_one("#performer", Select).value
        if firearm is Select.NULL or performer is Select.NULL:
            self.app.bell()
            self.query_one("#refusal", Static).update("Choose the firearm and the performer.")
            return
        scene = self.query_one("#scene", Input).value.strip()
        self.dismiss((str(firearm), str(performer), scene))
