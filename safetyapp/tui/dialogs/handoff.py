"""Starting a handoff: which firearm, to which performer, for which setup."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Select, Static

from safetyapp.tui.dialogs.base import Dialog


class StartHandoffModal(Dialog[tuple[str, str, str] | None]):
    def compose(self) -> ComposeResult:
        state = self.repo.state
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
            yield from self.compose_buttons("Start")

    @on(Input.Submitted)
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        firearm = self.query_one("#firearm", Select).value
        performer = self.query_one("#performer", Select).value
        if firearm is Select.NULL or performer is Select.NULL:
            self._refuse("Choose the firearm and the performer.")
            return
        scene = self.query_one("#scene", Input).value.strip()
        self.dismiss((str(firearm), str(performer), scene))
