"""A virtual table of events: renders only the visible lines, so 100,000 events stay instant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from safetyapp.audit.query import is_flagged, who_acted
from safetyapp.domain import clock
from safetyapp.tui.text import visible

# The time column: the production's local time with its zone (`clock.shown`, with seconds).
TIME_WIDTH = 24
HEADER = (
    f"  {'seq':>7}  {'time (local)':<{TIME_WIDTH}}  {'kind':<15}  {'result':<9}"
    "  who · run/step · note"
)


def format_row(record: dict[str, Any], zone: str = "UTC") -> str:
    flag = "⚑" if is_flagged(record) else " "
    who = who_acted(record)
    where = "/".join(x for x in (record.get("run"), record.get("step")) if x)
    result = (record.get("result") or "").upper()
    when = clock.shown(record["time"], zone, seconds=True)
    text = (
        f"{flag} {record['seq']:>7}  {when:<{TIME_WIDTH}}  {record['kind']:<15}  {result:<9}  {who}"
    )
    if where:
        text += f" · {where}"
    if record.get("note"):
        text += f" · {record['note']}"
    return visible(text)


class EventLog(ScrollView, can_focus=True):
    """Line-API list of event rows with a cursor; posts Highlighted as the cursor moves."""

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
    ]
    DEFAULT_CSS = "EventLog { height: 1fr; }"

    cursor: reactive[int] = reactive(0, init=False)

    @dataclass
    class Highlighted(Message):
        record: dict[str, Any] | None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: Sequence[dict[str, Any]] = ()
        self.zone = "UTC"  # the production's time zone: times are shown in it
        self._cache: dict[int, str] = {}

    def set_rows(
        self, rows: Sequence[dict[str, Any]], *, keep_end: bool = False, zone: str = "UTC"
    ) -> None:
        if rows is not self.rows or zone != self.zone:
            self.rows, self.zone = rows, zone
            self._cache.clear()
        self.virtual_size = Size(self.size.width, len(rows))
        last = max(0, len(rows) - 1)
        # Set without the watcher: one Highlighted below, not a second one from watch_cursor.
        self.set_reactive(EventLog.cursor, last if keep_end else min(self.cursor, last))
        self._ensure_visible()
        self.refresh()
        self.post_message(self.Highlighted(self.current()))

    def current(self) -> dict[str, Any] | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.size.width
        if index >= len(self.rows):
            return Strip.blank(width, Style())  # a style, not None: NO_COLOR's filter needs one
        text = self._cache.get(index)
        if text is None:
            text = self._cache[index] = format_row(self.rows[index], self.zone)
        record = self.rows[index]
        style = Style(reverse=True) if index == self.cursor and self.has_focus else Style()
        if index == self.cursor and not self.has_focus:
            style = Style(underline=True)
        if is_flagged(record):
            style += Style(bold=True)
        strip = Strip([Segment(text, style)])
        return strip.crop(self.scroll_offset.x, self.scroll_offset.x + width).adjust_cell_length(
            width, style
        )

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh()
        self._ensure_visible()
        self.post_message(self.Highlighted(self.current()))

    def _ensure_visible(self) -> None:
        top, height = self.scroll_offset.y, max(1, self.size.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_move(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.size.height - 1))

    def action_jump(self, where: int) -> None:
        if self.rows:
            self.cursor = 0 if where == 0 else len(self.rows) - 1

    def on_click(self, event: Any) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < len(self.rows):
            self.cursor = index
