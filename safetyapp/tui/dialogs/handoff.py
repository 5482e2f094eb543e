"""Starting a handoff: which firearm, to which performer, for which setup."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Button, Input, Static

from safetyapp.tui.dialogs.base import Dialog
from safetyapp.tui.widgets.entry import EntryRefused, PickList


class StartHandoffModal(Dialog[tuple[str, str, str] | None]):
    """Each picked by its number in a list; an only choice comes picked. The firearms offered
    are those with the armorer (a handoff starts from the armorer's custody), else every one
    (the refusal then says why)."""

    def compose(self) -> ComposeResult:
        state = self.repo.state
        with_armorer = [s for s in state.firearms if state.custody(s).holder == "armorer"]
        firearms = with_armorer or list(state.firearms)
        performers = [m.name for m in state.crew.values() if m.active and "actor" in m.roles]
        with VerticalScroll(classes="dialog"):
            yield Static("Start a handoff (rehearsals count)", classes="title")
            yield Static("Firearm", classes="field-label")
            yield _picker("Firearm", firearms, "firearm")
            yield Static("Performer", classes="field-label")
            yield _picker("Performer", performers, "performer")
            yield Static("Scene / setup", classes="field-label")
            yield Input(id="scene", placeholder="e.g. 12A rehearsal")
            yield from self.compose_buttons("Start")

    def focus_first(self) -> None:
        for picker in self.query(PickList):
            if picker.picked is None:
                picker.focus()
                return
        self.query_one("#scene", Input).focus()

    @on(EntryRefused)
    def _refused_key(self, event: EntryRefused) -> None:
        self._refuse(event.why)

    @on(Input.Submitted)
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        firearm = self.query_one("#firearm", PickList).value
        performer = self.query_one("#performer", PickList).value
        if not firearm or not performer:
            self._refuse("Choose the firearm and the performer (press its number).")
            return
        scene = self.query_one("#scene", Input).value.strip()
        self.dismiss((firearm, performer, scene))


def _picker(label: str, items: list[str], id: str) -> PickList:
    picker = PickList(label, items, one=True, id=id)
    if len(items) == 1:
        picker.picked = list(items)
    return picker
