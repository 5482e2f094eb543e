"""The keys that must work and show everywhere: HOLD, Incident and Quit."""

from __future__ import annotations

from textual.binding import Binding


def safety_bindings(namespace: str = "", *, quit_display: str = "q/^q") -> list[Binding]:
    """HOLD (F2), Incident (F3) and Quit (ctrl+q): priority keys, so a text field never takes
    them, shown in the Footer on every screen and dialog (a modal screen hides the app's own
    bindings from its Footer, so each dialog binds these too, with `namespace="app."`)."""
    return [
        Binding("f2", f"{namespace}raise_hold", "HOLD", id="raise-hold", priority=True,
                key_display="h/F2"),
        Binding("f3", f"{namespace}report_incident", "Incident", id="report-incident",
                priority=True, key_display="!/F3"),
        Binding("ctrl+q", f"{namespace}quit", "Quit", id="quit", priority=True,
                key_display=quit_display),
    ]  # fmt: skip
