"""One key per decision: a yes/no toggle, a digits-only count, a pick from a numbered list.

Each moves the focus on once its answer is complete; a key it does not take is refused
visibly (an :class:`EntryRefused` message, shown by the screen, and the bell), never dropped
in silence and never let through into the record.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static


@dataclass
class EntryRefused(Message):
    """A key a field does not take: `why` says what the field takes."""

    why: str


class YesNo(Static, can_focus=True):
    """Yes or no, one key: `y` or `n` sets it and moves on. Nothing is chosen until then (no
    key, such as space, picks a side for you)."""

    DEFAULT_CSS = """
    YesNo { height: 1; padding: 0 1; }
    YesNo:focus { text-style: bold reverse; }
    """

    def __init__(self, label: str, *, classes: str | None = None) -> None:
        super().__init__("", classes=classes, markup=False)
        self.label = label
        self.value: str | None = None

    def on_mount(self) -> None:
        self._show()

    def action_choose(self, value: str) -> None:
        self.value = value
        self._show()
        self.screen.focus_next()

    def _show(self) -> None:
        def mark(word: str) -> str:
            return f"[{'x' if self.value == word else ' '}] {word}"

        self.update(Content(f"{mark('yes')}   {mark('no')}    (y / n)"))

    def on_key(self, event: events.Key) -> None:
        char = (event.character or "").lower()
        if not (event.is_printable and char.isalnum()) or char in "pxh":
            return  # pass, fail and hold stay the screen's keys
        event.stop()
        event.prevent_default()
        if char in "yn":
            self.action_choose("yes" if char == "y" else "no")
            return
        self.app.bell()
        self.post_message(EntryRefused(f"{self.label}: press y or n"))


class CountInput(Input):
    """A count, digits only (the walk moves on by itself once the type says no further digit
    could fit: `6` of 6 chambers; `1` of 17 waits for a second digit). Any other key is refused, said, and empties the field:
    never dropped in silence, never leaving the digits around it as a count."""

    def __init__(self, label: str, **kwargs: object) -> None:
        super().__init__(placeholder=label, restrict=r"[0-9]*", **kwargs)  # type: ignore[arg-type]
        self.label = label

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """Every printable key is the field's (a digit, or refused) but `h` and `!`: a hold
        or an incident, from any field (the Footer shows them)."""
        return character not in ("h", "!") and super().check_consume_key(key, character)

    def on_key(self, event: events.Key) -> None:
        char = event.character
        if char in ("h", "!"):  # never refused: a hold or an incident, from any field
            event.prevent_default()
            return
        if event.is_printable and char and not char.isdigit():
            event.stop()
            event.prevent_default()
            # The digits around it are not the count either ("about 20, plus 4" is not 204):
            # the field empties, to be entered again, the count alone.
            self.value = ""
            self.app.bell()
            self.post_message(
                EntryRefused(
                    f"{self.label} takes digits only: {char!r} refused and the field cleared;"
                    " enter the count alone (anything else goes in the note)"
                )
            )


class PickList(Static, can_focus=True):
    """Items picked by their number in the list. `one`: a digit picks it and moves on; else
    each digit toggles its item, `0` picks none, and Enter moves on. A list of more than nine
    takes the number's digits, then Enter."""

    BINDINGS = [Binding("enter", "done", "Done", show=False)]
    DEFAULT_CSS = """
    PickList { height: auto; padding: 0 1; }
    PickList:focus { text-style: bold reverse; }
    """

    def __init__(self, label: str, items: list[str], *, one: bool, id: str | None = None) -> None:
        super().__init__("", markup=False, id=id)
        self.label, self.items, self.one = label, items, one
        self.picked: list[str] | None = None  # None: nothing entered yet; [] is "none"
        self.typed = ""  # a number being typed, in a list of more than nine

    @property
    def value(self) -> str:
        if self.picked is None:
            return ""
        return ",".join(self.picked) or "none"

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        marks = [
            f"{n}{'✔' if item in (self.picked or []) else ' '}{item}"
            for n, item in enumerate(self.items, start=1)
        ]
        more = "" if self.one else "  · 0 none · Enter done"
        typed = f"  number: {self.typed}" if self.typed else ""
        self.update(Content("  ".join(marks) + f"   (press its number{more}){typed}"))

    def on_key(self, event: events.Key) -> None:
        char = event.character or ""
        if not (event.is_printable and char.isalnum()) or char in "pxnh":
            return  # pass, fail, N/A and hold stay the screen's keys
        event.stop()
        event.prevent_default()
        if char.isdigit() and len(self.items) > 9 and (self.typed or char != "0"):
            self.typed += char
            self._show()
            return
        self._pick(char)

    def _pick(self, char: str) -> None:
        if char.isdigit() and 1 <= int(char) <= len(self.items):
            item = self.items[int(char) - 1]
            if self.one:
                self.picked = [item]
                self._show()
                self.screen.focus_next()
                return
            picked = self.picked or []
            self.picked = [i for i in picked if i != item] if item in picked else [*picked, item]
        elif char == "0" and not self.one:
            self.picked = []
        else:
            self.app.bell()
            self.post_message(
                EntryRefused(f"{self.label}: press a number from 1 to {len(self.items)}")
            )
            return
        self._show()

    def action_done(self) -> None:
        if self.typed:
            typed, self.typed = self.typed, ""
            self._pick(typed)
            return
        if self.picked is None:
            self.app.bell()
            self.post_message(EntryRefused(f"{self.label}: press a number first"))
            return
        self.screen.focus_next()
