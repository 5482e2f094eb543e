"""Pick a person (only those holding the role) and take their PIN, masked."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, Select, Static

from safetyapp.domain.engine import Credential
from safetyapp.domain.roles import ROLE_TITLES
from safetyapp.domain.state import CrewMember


class SignerField(Vertical):
    """One signer or witness: a person chooser and their own PIN."""

    DEFAULT_CSS = """
    SignerField { height: auto; }
    SignerField Horizontal { height: auto; }
    SignerField Select { width: 1fr; }
    SignerField Input { width: 16; }
    """

    def __init__(
        self, label: str, people: list[CrewMember], *, id: str | None = None, prompt: str = "who?"
    ) -> None:
        super().__init__(id=id)
        self.label = label
        self.people = people
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        yield Static(Content(self.label), classes="field-label")
        with Horizontal():
            options = [(Content(p.name), p.name) for p in self.people]
            yield Select(options, prompt=self.prompt, classes="person")
            yield Input(password=True, placeholder="PIN", type="integer", classes="pin")

    def credential(self) -> Credential | None:
        name = self.query_one(".person", Select).value
        pin = self.query_one(".pin", Input).value
        if name is Select.NULL or not pin:
            return None
        return Credential(str(name), pin)

    def clear_pin(self) -> None:
        self.query_one(".pin", Input).value = ""


def people_with(crew: dict[str, CrewMember], role: str | None) -> list[CrewMember]:
    """Who can be chosen to sign: active crew members holding `role` (any role if None)."""
    return [m for m in crew.values() if m.active and (role is None or role in m.roles)]


def role_label(role: str) -> str:
    return ROLE_TITLES.get(role, role)
