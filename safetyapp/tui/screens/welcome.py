"""First run: create a production or load the demo; and the screen for a store we cannot read."""

from __future__ import annotations

import os

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Header, Input, Static

from safetyapp.checklists import load_bundled
from safetyapp.domain.auth import hash_pin, pin_problem
from safetyapp.store.journal import StoreError
from safetyapp.store.repository import Repository
from safetyapp.tui.context import SafetyContext, safety_of
from safetyapp.tui.widgets.error_line import ErrorLine
from safetyapp.tui.widgets.footer import SteadyFooter

WELCOME = """Welcome to safetyapp.

It walks the armorer, the 1st AD and the performers through every layer of the checks that
stand between a firearm and a person, records each sign-off with the signer's own PIN, and stops
the work loudly when any layer fails or is skipped.

This store is empty. Create your production, or load the demo to practise a whole day."""


class WelcomeScreen(Screen[None]):
    DEFAULT_CSS = """
    WelcomeScreen .pins { height: auto; }
    WelcomeScreen .pins Input { width: 1fr; }
    """
    BINDINGS = [
        Binding("d", "demo", "Load demo", id="demo"),
        Binding("escape", "app.quit", "Quit", id="quit-welcome", show=False),
    ]

    def compose(self) -> ComposeResult:
        from safetyapp.demo import DEMO_CREW

        yield Header()
        with VerticalScroll(classes="welcome"):
            yield Static(WELCOME, classes="hint")
            yield Static("Production name", classes="field-label")
            yield Input(id="production", placeholder="e.g. Dusk Rider")
            yield Static(
                "First safety supervisor (signs every crew change from now on)",
                classes="field-label",
            )
            yield Input(id="supervisor", placeholder="full name")
            with Horizontal(classes="pins"):
                yield Input(
                    id="supervisor-pin", password=True, type="integer", placeholder="PIN (4-12)"
                )
                yield Input(
                    id="supervisor-pin2", password=True, type="integer", placeholder="PIN again"
                )
            yield ErrorLine(id="error")
            with Horizontal(classes="buttons"):
                yield Button("Create production", id="create", variant="primary")
                yield Button("Load the demo (d)", id="demo")
            crew = "\n".join(f"  {n:<14} {', '.join(r):<11} PIN {p}" for n, r, p in DEMO_CREW)
            yield Static(Content("Demo crew and their practice PINs:\n" + crew), classes="hint")
        yield SteadyFooter()

    @property
    def safety(self) -> SafetyContext:
        return safety_of(self)

    def _path_ready(self) -> bool:
        app = self.safety
        if app.create_dirs:
            try:
                app.store_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self._say(f"cannot create {app.store_path.parent}: {exc.strerror}")
                return False
        return True

    @on(Input.Submitted, "#production")
    @on(Button.Pressed, "#create")
    def create(self) -> None:
        app = self.safety
        name = self.query_one("#production", Input).value.strip()
        if not name:
            self._say("Give the production a name.")
            return
        supervisor = self.query_one("#supervisor", Input).value.strip()
        pin = self.query_one("#supervisor-pin", Input).value
        again = self.query_one("#supervisor-pin2", Input).value
        problem = pin_problem(pin) or (None if pin == again else "the two PINs do not match")
        if not supervisor:
            self._say("Name the production's first safety supervisor.")
            return
        if problem:
            self._say(f"Supervisor's PIN: {problem}")
            return
        if not self._path_ready():
            return
        record = hash_pin(pin, os.urandom(16))
        for wid in ("#supervisor-pin", "#supervisor-pin2"):
            self.query_one(wid, Input).value = ""
        try:
            repo = Repository.create(
                app.store_path, name, supervisor, record, load_bundled(), app.clock
            )
        except (StoreError, ValueError) as exc:
            self._say(str(exc))
            return
        app.use_repository(repo)
        self.app.notify(
            f"Production created with {supervisor} as safety supervisor. Add the crew next"
            " (c on the board), signed by the supervisor.",
            markup=False,
        )

    @on(Button.Pressed, "#demo")
    def action_demo(self) -> None:
        from safetyapp.demo import seed_demo

        app = self.safety
        if not self._path_ready():
            return
        try:
            seed_demo(app.store_path, app.clock)
            repo = Repository.open(app.store_path, load_bundled(), app.clock)
        except StoreError as exc:
            self._say(str(exc))
            return
        app.use_repository(repo)

    def _say(self, message: str) -> None:
        self.query_one("#error", ErrorLine).say(message)


class StoreErrorScreen(Screen[None]):
    """The store cannot be read: say so, touch nothing, let the user quit."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("✖ THE STORE CANNOT BE OPENED", classes="banner -hold")
        yield Static(Content(self.message), classes="error")
        yield Static(
            "The file has not been changed. Keep a copy of it, run `safetyapp verify` for"
            " details, and `safetyapp verify --salvage NEW_FILE` to copy its intact events to a"
            " new store (README: The store). Press q to quit.",
            classes="hint",
        )
        yield SteadyFooter()
