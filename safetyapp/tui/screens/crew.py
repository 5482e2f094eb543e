"""Crew: who is on the production, in which roles; add people, change roles, deactivate, set
or reset PINs. Every change but your own PIN is signed by a safety supervisor (the engine's
rule; this screen only collects the signature)."""

from __future__ import annotations

import os
from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Input, Select, SelectionList, Static

from safetyapp.domain import engine
from safetyapp.domain import names as naming
from safetyapp.domain.auth import hash_pin, pin_problem
from safetyapp.domain.engine import Decision
from safetyapp.domain.roles import ROLE_TITLES, ROLES
from safetyapp.tui.screens.base import SafetyScreen
from safetyapp.tui.text import lit
from safetyapp.tui.widgets.error_line import ErrorLine
from safetyapp.tui.widgets.signer import SignerField, people_with
from safetyapp.tui.widgets.toggles import TickList


class CrewScreen(SafetyScreen):
    BINDINGS = [Binding("escape", "back", "Board", id="back")]

    def compose(self) -> ComposeResult:
        yield from self.compose_banner()
        with VerticalScroll():
            yield Static("Crew", classes="section")
            yield DataTable(id="crew", cursor_type="row")
            yield Static("Add a crew member", classes="section")
            yield Input(id="name", placeholder="full name")
            yield TickList(*[(ROLE_TITLES[r], r) for r in ROLES], id="roles")
            with Horizontal(classes="pins"):
                yield Input(
                    id="pin", password=True, type="integer", placeholder="PIN (4-12 digits)"
                )
                yield Input(id="pin2", password=True, type="integer", placeholder="PIN again")
            yield SignerField(
                "Signed by (safety supervisor)",
                people_with(self.state.crew, "supervisor"),
                id="add-by",
            )
            yield Button("Add", id="add", variant="primary")
            yield Static("Change roles, or deactivate", classes="section")
            yield Static(
                "Signed by a safety supervisor; nobody changes their own roles.", classes="hint"
            )
            with Horizontal(classes="form"):
                yield Input(id="change-who", placeholder="whose roles (name)")
                yield Select([(ROLE_TITLES[r], r) for r in ROLES], prompt="role", id="change-role")
            yield SignerField(
                "Signed by (safety supervisor)",
                people_with(self.state.crew, "supervisor"),
                id="change-by",
            )
            with Horizontal(classes="form"):
                yield Button("Grant role", id="grant")
                yield Button("Revoke role", id="revoke")
                yield Button("Deactivate", id="deactivate", variant="error")
            yield Static("Set or reset a PIN", classes="section")
            yield Static(
                "Authorised by the person themselves (current PIN) or a safety supervisor.",
                classes="hint",
            )
            yield SignerField("Authorised by", people_with(self.state.crew, None), id="authoriser")
            yield Input(id="pin-for", placeholder="whose PIN (name)")
            with Horizontal(classes="pins"):
                yield Input(id="new-pin", password=True, type="integer", placeholder="new PIN")
                yield Input(id="new-pin2", password=True, type="integer", placeholder="again")
            yield Button("Set PIN", id="set-pin")
            yield ErrorLine(id="crew-error")
            yield Static("", id="busy", classes="busy")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        # (then SafetyScreen.on_mount draws it: Textual calls each class's own on_mount)
        self.query_one("#crew", DataTable).add_columns("Name", "Roles", "Status")

    def refresh_view(self) -> None:
        super().refresh_view()
        table = self.query_one("#crew", DataTable)
        table.clear()
        for member in self.state.crew.values():
            roles = ", ".join(ROLE_TITLES[r] for r in member.roles)
            status = "LOCKED OUT" if member.locked_until else ""
            status = status if member.active else "deactivated"
            table.add_row(lit(member.name), roles, status)

    @on(Button.Pressed, "#add")
    def add(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        roles = list(self.query_one("#roles", SelectionList).selected)
        pin = self._new_pin("#pin", "#pin2")
        if pin is None:
            return
        if not name or not roles:
            self._say("Give the name and at least one role.")
            return
        repo = self.safety.repo
        name = naming.normalise(name)
        problem = naming.new_name_problem(name, repo.state.crew if repo else {})
        if problem:  # before the supervisor types a PIN, as the CLI does
            self._say(f"Refused: {problem}")
            return
        signer = self.query_one("#add-by", SignerField)
        cred = signer.credential()
        if cred is None:
            self._say("A safety supervisor signs: choose who, with their PIN.")
            return
        signer.clear_pin()
        safety, salt = self.safety, os.urandom(16)

        def added(decision: Decision) -> None:
            if not decision.ok:
                self._say(f"Refused: {decision.refused}")
                return
            for wid in ("#name", "#pin", "#pin2"):
                self.query_one(wid, Input).value = ""
            self.query_one("#roles", SelectionList).deselect_all()
            self._say("")
            self.notify(f"Added {name}", markup=False)

        self.in_background(  # two scrypt runs (the new PIN, the supervisor's): ~90 ms
            lambda: safety.act(engine.add_crew, cred, name, roles, hash_pin(pin, salt)),
            added,
            busy="Checking the PIN and recording…",
        )

    @on(Button.Pressed, "#set-pin")
    def set_pin(self) -> None:
        cred = self.query_one("#authoriser", SignerField).credential()
        whose = self.query_one("#pin-for", Input).value.strip()
        pin = self._new_pin("#new-pin", "#new-pin2")
        if pin is None:
            return
        if cred is None or not whose:
            self._say("Choose who authorises (with their PIN) and whose PIN to set.")
            return
        self.query_one("#authoriser", SignerField).clear_pin()
        safety, salt = self.safety, os.urandom(16)
        self.in_background(
            lambda: safety.act(engine.set_pin, whose, cred, hash_pin(pin, salt)),
            lambda decision: self._done(decision, f"PIN set for {whose}"),
            busy="Checking the PIN and recording…",
        )

    @on(Button.Pressed, "#grant, #revoke, #deactivate")
    def change(self, event: Button.Pressed) -> None:
        whose = self.query_one("#change-who", Input).value.strip()
        role = self.query_one("#change-role", Select).value
        signer = self.query_one("#change-by", SignerField)
        cred = signer.credential()
        if not whose or cred is None:
            self._say("Give whose roles, and the safety supervisor who signs (with their PIN).")
            return
        safety = self.safety
        job: Callable[[], Decision]
        if event.button.id == "deactivate":
            job = lambda: safety.act(engine.deactivate, cred, whose)  # noqa: E731
            done = f"{whose} deactivated"
        elif role is Select.NULL:
            self._say("Choose the role to grant or revoke.")
            return
        elif event.button.id == "grant":
            job = lambda: safety.act(engine.grant_role, cred, whose, str(role))  # noqa: E731
            done = f"{whose}: {ROLE_TITLES[str(role)]} granted"
        else:
            job = lambda: safety.act(engine.revoke_role, cred, whose, str(role))  # noqa: E731
            done = f"{whose}: {ROLE_TITLES[str(role)]} revoked"
        signer.clear_pin()

        def changed(decision: Decision) -> None:
            if self._done(decision, done):
                self.query_one("#change-who", Input).value = ""

        self.in_background(job, changed, busy="Checking the PIN and recording…")

    def _done(self, decision: Decision, done: str) -> bool:
        if not decision.ok:
            self._say(f"Refused: {decision.refused}")
            return False
        self._say("")
        self.notify(done, markup=False)
        return True

    def _new_pin(self, first: str, second: str) -> str | None:
        pin, again = self.query_one(first, Input).value, self.query_one(second, Input).value
        problem = pin_problem(pin) or (None if pin == again else "the two PINs do not match")
        if problem:
            self._say(f"PIN: {problem}")
            return None
        return pin

    def _say(self, message: str) -> None:
        self.query_one("#crew-error", ErrorLine).say(message)

    def action_back(self) -> None:
        self.app.pop_screen()
