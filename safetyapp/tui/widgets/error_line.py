"""The one line under a form or dialog that says what is wrong (empty when nothing is)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class ErrorLine(Static):
    """Shows a problem literally (no markup) and rings the bell; `say("")` clears it."""

    DEFAULT_CLASSES = "error"

    def say(self, message: str) -> None:
        self.update(Content(message))
        if message:
            self.app.bell()
