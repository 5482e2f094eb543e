"""A checkbox that reads as checked or not without colour: `[x]` or `[ ]`."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class TickBox(Checkbox):
    """Textual's Checkbox draws the same `X` checked or not, only its colour differs: on a
    NO_COLOR or monochrome terminal the two are indistinguishable. This one draws `[x]` when
    checked and `[ ]` when not; the colours stay as the theme has them."""

    BUTTON_LEFT = "["
    BUTTON_RIGHT = "]"

    @property
    def _button(self) -> Content:
        mark = "x" if self.value else " "
        return Content.assemble("[", (mark, self.get_visual_style("toggle--button")), "]")
