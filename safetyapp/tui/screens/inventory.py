"""Firearms and ammunition lots: list and add, signed by an armorer (the engine's rule). Live
ammunition is refused and holds the day."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Input, Select, Static

from safetyapp.domain import engine
from safetyapp.domain.engine import Credential, Decision
from safetyapp.tui.screens.base import SafetyScreen
from safetyapp.tui.text import lit
from safetyapp.tui.widgets.error_line import ErrorLine
from safetyapp.tui.widgets.signer import SignerField, people_with

AMMO_CHOICES = [("dummy", "dummy"), ("blank", "blank"), ("live (never valid)", "live")]


class InventoryScreen(SafetyScreen):
    BINDINGS = [Binding("escape", "back", "Board", id="back")]

    def compose(self) -> ComposeResult:
        yield from self.compose_banner()
        with VerticalScroll():
            yield SignerField(
                "Signed by (armorer): every firearm and lot added",
                people_with(self.state.crew, "armorer"),
                id="inventory-by",
            )
            yield Static("Firearms", classes="section")
            yield DataTable(id="firearms", cursor_type="row")
            with Horizontal(classes="form"):
                yield Input(id="serial", placeholder="serial")
                yield Input(id="description", placeholder="description")
            with Horizontal(classes="form"):
                kinds = [(k, k) for k in engine.FIREARM_KINDS]
                yield Select(kinds, prompt="kind", id="kind")
                yield Input(id="chambers", type="integer", placeholder="chambers (optional)")
                yield Button("Add firearm", id="add-firearm", variant="primary")
            yield Static("Ammunition lots", classes="section")
            yield DataTable(id="lots", cursor_type="row")
            with Horizontal(classes="form"):
                yield Input(id="lot", placeholder="lot id")
                yield Select(AMMO_CHOICES, prompt="type", id="ammo-type")
                yield Input(id="count", type="integer", placeholder="count")
            with Horizontal(classes="form"):
                yield Input(id="source", placeholder="source (where it came from)")
                yield Button("Declare lot", id="add-lot", variant="primary")
            yield ErrorLine(id="inventory-error")
            yield Static("", id="busy", classes="busy")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.query_one("#firearms", DataTable).add_columns(
            "Serial", "Kind", "Chambers", "Description"
        )
        self.query_one("#lots", DataTable).add_columns("Lot", "Type", "Count", "Source")
        # (then SafetyScreen.on_mount draws it: Textual calls each class's own on_mount)

    def refresh_view(self) -> None:
        super().refresh_view()
        firearms = self.query_one("#firearms", DataTable)
        firearms.clear()
        for fa in self.state.firearms.values():
            firearms.add_row(lit(fa.serial), fa.kind, str(fa.chambers or "–"), lit(fa.description))
        lots = self.query_one("#lots", DataTable)
        lots.clear()
        for lot in self.state.lots.values():
            lots.add_row(lit(lot.lot), lot.type, str(lot.count), lit(lot.source))

    @on(Button.Pressed, "#add-firearm")
    def add_firearm(self) -> None:
        serial = self.query_one("#serial", Input).value.strip()
        description = self.query_one("#description", Input).value.strip()
        kind = self.query_one("#kind", Select).value
        chambers_text = self.query_one("#chambers", Input).value.strip()
        if not serial or not description or kind is Select.NULL:
            self._say("Serial, description and kind are needed.")
            return
        chambers = int(chambers_text) if chambers_text else None
        cred = self._armorer()
        if cred is None:
            return
        self._record(
            ("#serial", "#description", "#chambers"),
            engine.add_firearm, cred, serial, description, str(kind), chambers,
        )  # fmt: skip

    @on(Button.Pressed, "#add-lot")
    def add_lot(self) -> None:
        lot = self.query_one("#lot", Input).value.strip()
        ammo_type = self.query_one("#ammo-type", Select).value
        count_text = self.query_one("#count", Input).value.strip()
        source = self.query_one("#source", Input).value.strip()
        if not lot or ammo_type is Select.NULL or not count_text:
            self._say("Lot id, type and count are needed.")
            return
        cred = self._armorer()
        if cred is None:
            return
        self._record(
            ("#lot", "#count", "#source"),
            engine.add_ammo, cred, lot, str(ammo_type), int(count_text), source,
        )  # fmt: skip

    def _record(self, clear: tuple[str, ...], action: Callable[..., Decision], *args: Any) -> None:
        """The armorer's PIN checked and the change written in a worker."""
        safety = self.safety
        self.in_background(
            lambda: safety.act(action, *args),
            lambda decision: self._after(decision.refused, clear),
            busy="Checking the PIN and recording…",
        )

    def _armorer(self) -> Credential | None:
        signer = self.query_one("#inventory-by", SignerField)
        cred = signer.credential()
        signer.clear_pin()
        if cred is None:
            self._say("An armorer signs: choose who, with their PIN.")
        return cred

    def _after(self, refused: str | None, clear: tuple[str, ...]) -> None:
        if refused:
            self._say(f"Refused: {refused}")
            return
        for wid in clear:
            self.query_one(wid, Input).value = ""
        self._say("")

    def _say(self, message: str) -> None:
        self.query_one("#inventory-error", ErrorLine).say(message)

    def action_back(self) -> None:
        self.app.pop_screen()
