"""What every modal dialog shares: Esc and the Cancel button, the refusal line, the app."""

from __future__ import annotations

from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Button, Select
from textual.widgets.button import ButtonVariant

from safetyapp.store.repository import Repository
from safetyapp.tui.context import SafetyContext, safety_of
from safetyapp.tui.widgets.error_line import ErrorLine

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT]):
    """A keyboard-first modal: it opens on its first chooser; Esc or Cancel dismisses it
    with None; a refusal is shown on its error line (id `refusal`) with the bell."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    @property
    def safety(self) -> SafetyContext:
        return safety_of(self)

    @property
    def repo(self) -> Repository:
        repo = self.safety.repo
        assert repo is not None, "dialogs open only once a production exists"
        return repo

    def compose_buttons(
        self, label: str, *, button_id: str = "submit", variant: ButtonVariant = "primary"
    ) -> ComposeResult:
        """The refusal line, then the dialog's own button beside Cancel."""
        yield ErrorLine(id="refusal")
        with Horizontal(classes="buttons"):
            yield Button(label, id=button_id, variant=variant)
            yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        """Start at the first chooser: the whole dialog is keyboard-first."""
        self.query(Select).first().focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def _refuse(self, message: str) -> None:
        self.query_one("#refusal", ErrorLine).say(message)
