"""Custody moves off the checklist: lock up for a break, check out again, or record a break."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input, Select, SelectionList, Static

from safetyapp.domain import engine
from safetyapp.tui.dialogs.holds import _HoldModal
from safetyapp.tui.widgets.signer import SignerField, people_with

ACTIONS = [
    ("Lock up for a break (lunch, a move)", "locked"),
    ("Check out again from storage", "armorer"),
    ("Record a custody break (something was out of sight)", "break"),
]


class CustodyModal(_HoldModal):
    """Every custody change makes earlier verifications stale: handoffs restart from the
    ammunition check. Opened from the board's "Lock" key it starts on locking up; with no
    firearm chosen it does what its labels say: a lock-up locks every firearm out with the
    armorer, a check-out takes every one in storage, a break covers every one out."""

    def __init__(self, default: str | None = None) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        state = self.repo.state
        with VerticalScroll(classes="dialog"):
            yield Static("Custody", classes="title")
            yield Static(
                "Locking up, checking out or any break in custody makes earlier checks stale: the"
                " next handoff of those firearms restarts from the ammunition check.",
                classes="hint",
            )
            yield Select(
                ACTIONS,
                prompt="what happened?",
                id="action-kind",
                value=self.default if self.default is not None else Select.NULL,
            )
            yield Static(
                "Firearms (none chosen = every one: all with the armorer for a lock-up, all in"
                " storage for a check-out, all out for a break)",
                classes="field-label",
            )
            yield SelectionList[str](
                *[(Content(f"{s} · {state.custody(s).describe()}"), s) for s in state.firearms],
                id="serials",
            )
            yield SignerField("Who (the armorer moves firearms; anyone records a break)",
                              people_with(state.crew, None), id="who")  # fmt: skip
            yield Static("Reason (required)", classes="field-label")
            yield Input(id="reason", placeholder="e.g. lunch")
            yield from self.compose_buttons("Record")

    def submit(self) -> None:
        kind = self.query_one("#action-kind", Select).value
        serials = list(self.query_one("#serials", SelectionList).selected)
        cred = self.query_one("#who", SignerField).credential()
        reason = self.query_one("#reason", Input).value.strip()
        if kind is Select.NULL or cred is None or not reason:
            self._refuse("Choose what happened, who you are (with your PIN), and the reason.")
            return
        if kind == "break":
            self._act(engine.record_custody_break, cred, reason, serials=serials or None)
            return
        if not serials:
            state = self.repo.state
            source = "armorer" if kind == "locked" else "locked"
            serials = [s for s in state.firearms if state.custody(s).holder == source]
            if not serials:
                where = "with the armorer" if kind == "locked" else "in storage"
                self._refuse(f"No firearm is {where}: nothing to move.")
                return
        self._act(engine.move_firearms, cred, serials, str(kind), reason)


class TakeBackModal(_HoldModal):
    """The armorer takes a firearm back at once: hold or not, run finished or not (issue 14).
    Only the armorer's PIN; the firearm's custody follows the real gun."""

    def __init__(self, serial: str | None = None) -> None:
        super().__init__()
        self.serial = serial

    def compose(self) -> ComposeResult:
        state = self.repo.state
        out = [s for s in state.firearms if state.custody(s).holder not in ("locked", "armorer")]
        options = [(Content(f"{s} · {state.custody(s).describe()}"), s) for s in out]
        chosen = self.serial if self.serial in out else (out[0] if out else None)
        with VerticalScroll(classes="dialog"):
            yield Static("Take a firearm back", classes="title")
            yield Static(
                "Always possible, whatever is on hold. A handoff that is still open records the"
                " rounds and re-inspection at its return step.",
                classes="hint",
            )
            if chosen is None:
                yield Select([], prompt="no firearm is out", id="serial")
            else:
                yield Select(options, value=chosen, allow_blank=False, id="serial")
            yield SignerField("Armorer", people_with(state.crew, "armorer"), id="who")
            yield Static("Reason (required)", classes="field-label")
            yield Input(id="reason", placeholder="e.g. misfire, stop-work, after the take")
            yield from self.compose_buttons("Take back")

    def focus_first(self) -> None:
        """The firearm is given: start at the armorer who takes it back."""
        self.query_one("#who", SignerField).chooser.focus()

    def submit(self) -> None:
        serial = self.query_one("#serial", Select).value
        cred = self.query_one("#who", SignerField).credential()
        reason = self.query_one("#reason", Input).value.strip()
        if serial is Select.NULL or cred is None or not reason:
            self._refuse("Choose the firearm, the armorer (with their PIN) and the reason.")
            return
        self._act(engine.take_back, cred, str(serial), reason)
