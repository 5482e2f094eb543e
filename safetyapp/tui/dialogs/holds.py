"""Raising a hold (anyone, any time) and resolving one (corrective action, two signatures)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Select, Static

from safetyapp.domain import engine
from safetyapp.domain.engine import Credential, Decision
from safetyapp.tui.dialogs.base import Dialog
from safetyapp.tui.widgets.signer import SignerField, people_with, role_label


class _HoldModal(Dialog[Decision | None]):
    """A dialog whose submit runs one engine action: refused, PINs are cleared and the
    reason is shown; recorded, it dismisses with the decision."""

    @on(Button.Pressed, "#submit")
    def _submit_pressed(self) -> None:
        self.submit()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("reason", "action"):
            self.submit()
        else:
            self.focus_next()

    def submit(self) -> None:
        raise NotImplementedError

    def _act(self, action: Callable[..., Decision], *args: Any, **kwargs: Any) -> None:
        self.record(action, *args, **kwargs)


class RaiseHoldModal(_HoldModal):
    """Stop work. Anyone on set may, at any time: never refused. A crew member's right PIN
    marks it verified; without one (forgotten, locked out) or for someone not on the crew list
    (their name typed), it is raised UNVERIFIED under the name given."""

    def __init__(self, run_id: str | None = None) -> None:
        super().__init__()
        self.run_id = run_id

    def compose(self) -> ComposeResult:
        crew = self.repo.state.crew
        scope = f"run {self.run_id}" if self.run_id else "the WHOLE DAY"
        with VerticalScroll(classes="dialog"):
            yield Static(f"■ Raise a HOLD on {scope}", classes="title")
            yield Static(
                "Anyone may stop the work for safety. The hold stops the work until it is"
                " answered and resolved by two people.",
                classes="hint",
            )
            yield SignerField(
                "Who is raising it (PIN if you have it: without, the hold is UNVERIFIED)",
                people_with(crew, None),
                id="raiser",
            )
            yield Static("…or your name, if you are not on the list", classes="field-label")
            yield Input(id="name-given", placeholder="name (not on the crew list)")
            yield Static("Reason (required)", classes="field-label")
            yield Input(id="reason", placeholder="what is unsafe")
            yield from self.compose_buttons("Raise HOLD", variant="error")

    def submit(self) -> None:
        field = self.query_one("#raiser", SignerField)
        person = field.person
        pin = field.query_one(".pin", Input).value
        typed = self.query_one("#name-given", Input).value.strip()
        reason = self.query_one("#reason", Input).value.strip()
        by: Credential | str | None = None
        if person is not None:
            by = Credential(person, pin)
        elif typed:
            by = typed
        if by is None or not reason:
            self._refuse("Choose who you are (or type your name) and give a reason.")
            return
        self._act(engine.raise_hold, by, reason, run=self.run_id)


_COUNT = {2: "two", 3: "three"}


class ResolveHoldModal(_HoldModal):
    """Pick an open hold, record the corrective action, two people sign."""

    def compose(self) -> ComposeResult:
        state = self.repo.state
        holds = state.open_holds()
        with VerticalScroll(classes="dialog"):
            yield Static("Resolve a HOLD", classes="title")
            options = [(Content(f"{h.id} · {h.reason}"), h.id) for h in holds]
            yield Select(options, value=holds[0].id, allow_blank=False, id="hold")
            yield Static(id="needs", classes="hint")
            yield SignerField("First signer", people_with(state.crew, None), id="first")
            yield SignerField("Second signer", people_with(state.crew, None), id="second")
            yield SignerField("Third signer", people_with(state.crew, None), id="third")
            yield Static("Corrective action taken (required)", classes="field-label")
            yield Input(id="action", placeholder="what was done about it")
            yield from self.compose_buttons("Resolve")

    def on_mount(self) -> None:  # (then Dialog.on_mount: Textual calls each class's own)
        self._explain()

    @on(Select.Changed, "#hold")
    def _explain(self) -> None:
        state = self.repo.state
        hold = state.holds.get(str(self.query_one("#hold", Select).value))
        if hold is None:
            return
        roles = engine.resolver_roles(state, hold)
        self._signers = len(roles)
        self.query_one("#third", SignerField).display = len(roles) > 2
        need = " and ".join(role_label(r) for r in roles)
        reopen = (
            f" Layer '{hold.layer}' of {hold.run} then restarts from its first step."
            if hold.layer
            else ""
        )
        self.query_one("#needs", Static).update(
            Content(f"Signed by the {need}, {_COUNT[len(roles)]} different people.{reopen}")
        )

    def submit(self) -> None:
        hold_id = str(self.query_one("#hold", Select).value)
        ids = ("first", "second", "third")[: getattr(self, "_signers", 2)]
        creds = [self.query_one(f"#{i}", SignerField).credential() for i in ids]
        action = self.query_one("#action", Input).value.strip()
        if any(c is None for c in creds) or not action:
            self._refuse("Every signer with their PIN, and the corrective action, are needed.")
            return
        self._act(engine.resolve_hold, hold_id, [c for c in creds if c is not None], action)
