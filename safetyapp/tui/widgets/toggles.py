"""A checkbox that reads as checked or not without colour: `[x]` or `[ ]`."""

from __future__ import annotations

from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, SelectionList
from textual.widgets.option_list import OptionDoesNotExist


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


class TickList(SelectionList[str]):
    """A SelectionList whose boxes read `[x]` / `[ ]`, for the same reason as :class:`TickBox`."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        try:
            selection = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        segments = list(strip)
        if len(segments) < 3:
            return strip
        mark = "x" if selection.value in self.selected else " "
        segments[:3] = [
            Segment(text, segment.style)
            for text, segment in zip("[" + mark + "]", segments[:3], strict=True)
        ]
        return Strip(segments, strip.cell_length)
