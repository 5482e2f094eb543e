"""Who: a chooser of one person among those offered, light enough for every dialog.

It keeps the keys of Textual's ``Select`` (Enter, space, up or down opens the list; up, down
and Enter pick; Esc closes it; a letter jumps to the next name starting with it; a click
opens it and picks), so nothing a crew member learned changes. It is two widgets until the
list is opened, where a ``Select`` is six composed for each chooser of each dialog: at
160x48 the three of the sign dialog cost about 40 ms in one step of the interface's event
loop, the dialog's longest stall (issue 16's "signing" figure). The list (an ``OptionList``)
is mounted only when opened and removed when closed.

Names are shown literally (``Content``): never read as markup.
"""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class _People(OptionList):
    """The opened list: the prompt first (nobody), then the people offered."""

    BINDINGS = [Binding("escape", "close", "Close the list", show=False, id="close-people")]

    def action_close(self) -> None:
        parent = self.parent
        if isinstance(parent, PersonChoice):
            parent.close(refocus=True)

    def on_key(self, event: events.Key) -> None:
        """A letter jumps to the next name starting with it (as a Select's search does)."""
        if event.character is None or not event.is_printable or not event.character.strip():
            return
        parent = self.parent
        if not isinstance(parent, PersonChoice):
            return
        event.stop()
        event.prevent_default()
        letter = event.character.casefold()
        count = len(parent.names)
        start = self.highlighted or 0  # (0 is the prompt: the search starts after it)
        for step in range(1, count + 1):
            at = (start - 1 + step) % count  # index into names
            if parent.names[at].casefold().startswith(letter):
                self.highlighted = at + 1
                return

    def on_blur(self) -> None:
        parent = self.parent
        if isinstance(parent, PersonChoice) and self.screen.focused is not parent:
            self.call_later(parent.close)  # a click or Tab elsewhere closes it


class _Current(Static):
    """The chosen person (or the prompt) and the list's arrow at the right end, as a
    Select draws them."""

    def __init__(self, label: Content) -> None:
        super().__init__(classes="current", markup=False)
        self.label = label

    def show(self, label: Content) -> None:
        self.label = label
        self.refresh()

    def render(self) -> Content:
        width = self.content_size.width
        gap = max(1, width - self.label.cell_length - 1)
        return Content.assemble(self.label, " " * gap, "▼")


class PersonChoice(Vertical, can_focus=True):
    """One person among ``names`` (or nobody: ``value`` None), shown on one line."""

    BINDINGS = [
        Binding("enter,down,space,up", "open", "Choose who", show=False, id="choose-person")
    ]

    DEFAULT_CSS = """
    PersonChoice {
        height: auto;
        color: $foreground;
        & > .current {
            height: 3;
            border: tall $border-blurred;
            background: $surface;
            padding: 0 2;
            width: 1fr;
        }
        &:focus > .current {
            border: tall $border;
            background-tint: $foreground 5%;
        }
        & > _People {
            width: 1fr;
            height: auto;
            max-height: 12;
            overlay: screen;
            constrain: none inside;
            border: tall $border-blurred;
            background: $surface;
            & > .option-list--option { padding: 0 1; }
        }
    }
    """

    class Changed(Message):
        """The person chosen changed (``value`` None: nobody)."""

        def __init__(self, choice: PersonChoice, value: str | None) -> None:
            super().__init__()
            self.choice, self.value = choice, value

        @property
        def control(self) -> PersonChoice:
            return self.choice

    def __init__(
        self,
        names: list[str],
        *,
        prompt: str = "who?",
        value: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.names = list(names)
        self.prompt = prompt
        self._value = self._checked(value)

    def compose(self) -> ComposeResult:
        yield _Current(self._label())

    @property
    def value(self) -> str | None:
        return self._value

    @value.setter
    def value(self, value: str | None) -> None:
        value = self._checked(value)
        if value == self._value:
            return
        self._value = value
        if self.is_mounted:
            self.query_one(_Current).show(self._label())
        self.post_message(self.Changed(self, value))

    def _checked(self, value: str | None) -> str | None:
        if value is not None and value not in self.names:
            raise ValueError(f"{value!r} is not among those offered here: {self.names!r}")
        return value

    def _label(self) -> Content:
        if self._value is None:
            return Content.styled(self.prompt, "dim")
        return Content(self._value)

    @property
    def expanded(self) -> bool:
        return bool(self.query(_People))

    def action_open(self) -> None:
        if self.expanded:
            return
        options = [
            Option(Content.styled(self.prompt, "dim")),
            *map(Option, map(Content, self.names)),
        ]
        people = _People(*options)
        self.mount(people)
        people.highlighted = 0 if self._value is None else self.names.index(self._value) + 1
        people.focus(scroll_visible=False)

    def close(self, *, refocus: bool = False) -> None:
        for people in self.query(_People):
            people.remove()
        if refocus:
            self.focus()

    def on_click(self, event: events.Click) -> None:
        """A click on the chosen person opens the list (one on the list picks, there)."""
        if isinstance(event.widget, _Current):  # (not one on the list, bubbling up)
            event.stop()
            if self.expanded:
                self.close(refocus=True)  # a second click closes it, as a Select's does
            else:
                self.focus()
                self.action_open()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = event.option_index
        self.value = None if index == 0 else self.names[index - 1]
        self.close(refocus=True)
