"""What every modal dialog shares: Esc and the Cancel button, the refusal line, the app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static
from textual.widgets.button import ButtonVariant

from safetyapp.domain.engine import Decision
from safetyapp.store.repository import Repository
from safetyapp.tui.background import Background
from safetyapp.tui.context import SafetyContext, safety_of
from safetyapp.tui.keys import safety_bindings
from safetyapp.tui.widgets.error_line import ErrorLine
from safetyapp.tui.widgets.footer import SteadyFooter

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT], Background):
    """A keyboard-first modal: it opens on its first chooser; Esc or Cancel dismisses it
    with None; a refusal is shown on its error line (id `refusal`) with the bell. What it
    records runs in a worker (:meth:`record`), its busy line showing meanwhile."""

    # Textual focuses the first focusable widget once composed (by default the dialog's own
    # scrolling body) and focus_first then moves on: each move restyled the whole body, ~10-15
    # ms each for a sign dialog at 100,000 events. Here only focus_first focuses.
    AUTO_FOCUS = ""

    BINDINGS = [
        *safety_bindings("app.", quit_display="^q"),  # a modal hides the app's own from its Footer
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

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
        """The refusal line, then the dialog's own button beside Cancel: docked at the foot
        of the dialog (class `dialog-foot`), so they stay on screen while a long body scrolls
        above them on a small terminal."""
        with Vertical(classes="dialog-foot"):
            yield ErrorLine(id="refusal")
            yield Static("", id="busy", classes="busy")
            with Horizontal(classes="buttons"):
                yield Button(label, id=button_id, variant=variant)
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        """The Footer (HOLD, Incident and Quit first) shows under every dialog too."""
        self.mount(SteadyFooter())
        self.focus_first()

    def focus_first(self) -> None:
        """Start at the first chooser: the whole dialog is keyboard-first."""
        self.query("Select, PersonChoice").first().focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self.busy:  # the signature may be being written: wait for the outcome
            self.app.bell()
            return
        self.dismiss(None)

    def record(
        self,
        action: Callable[..., Decision],
        *args: Any,
        busy: str = "Checking PINs and recording…",
        **kwargs: Any,
    ) -> None:
        """Run one engine action in a worker (PIN checks and the fsync'd append off the
        interface's thread); then :meth:`recorded` with its decision."""
        safety = self.safety
        self.in_background(lambda: safety.act(action, *args, **kwargs), self.recorded, busy=busy)

    def recorded(self, decision: Decision) -> None:
        """Recorded: dismiss with the decision. Refused: clear the PINs, say why."""
        if decision.ok:
            # Dialogs that record are Dialog[Decision | None].
            self.dismiss(decision)  # type: ignore[arg-type]
            return
        self.clear_pins()
        self._refuse(f"REFUSED: {decision.refused}")

    def clear_pins(self) -> None:
        for pin in self.query(".pin").results(Input):
            pin.value = ""

    def work_failed(self, message: str) -> None:
        super().work_failed(message)
        self._refuse(message)

    def _refuse(self, message: str) -> None:
        self.query_one("#refusal", ErrorLine).say(message)
