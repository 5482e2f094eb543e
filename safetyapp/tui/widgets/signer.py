"""Pick a person (only those holding the role) and take their PIN, masked."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, Static

from safetyapp.domain.engine import Credential
from safetyapp.domain.roles import ROLE_TITLES
from safetyapp.domain.state import CrewMember, Run
from safetyapp.tui.widgets.person import PersonChoice


class SignerField(Vertical):
    """One signer or witness: a person chooser and their own PIN."""

    DEFAULT_CSS = """
    SignerField { height: auto; }
    SignerField Horizontal { height: auto; }
    SignerField PersonChoice { width: 1fr; }
    SignerField Input { width: 16; }
    """

    def __init__(
        self,
        label: str,
        people: list[CrewMember],
        *,
        id: str | None = None,
        prompt: str = "who?",
        chosen: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.label = label
        self.people = people
        self.prompt = prompt
        # Who is expected to sign, pre-selected (still changeable): only one of those offered.
        self.chosen = chosen if chosen in {p.name for p in people} else None

    def compose(self) -> ComposeResult:
        yield Static(Content(self.label), classes="field-label")
        with Horizontal():
            names = [p.name for p in self.people]
            yield PersonChoice(names, prompt=self.prompt, classes="person", value=self.chosen)
            yield Input(password=True, placeholder="PIN", type="integer", classes="pin")

    @property
    def chooser(self) -> PersonChoice:
        return self.query_one(".person", PersonChoice)

    @property
    def person(self) -> str | None:
        """Who is chosen, or None."""
        return self.chooser.value

    @property
    def pin_input(self) -> Input:
        return self.query_one(".pin", Input)

    def credential(self) -> Credential | None:
        name = self.person
        pin = self.query_one(".pin", Input).value
        if name is None or not pin:
            return None
        return Credential(name, pin)

    def clear_pin(self) -> None:
        self.query_one(".pin", Input).value = ""


def people_with(crew: dict[str, CrewMember], role: str | None) -> list[CrewMember]:
    """Who can be chosen to sign: active crew members holding `role` (any role if None)."""
    return [m for m in crew.values() if m.active and (role is None or role in m.roles)]


def expected_signer(
    crew: dict[str, CrewMember], role: str, run: Run, opening: Run | None, taken: set[str]
) -> str | None:
    """Who is expected to sign in `role`: whoever acts in it in this run already, the run's
    performer for the actor, the day's (its opening run's) person in that role, or the only one
    crewed in it; never someone already chosen for another role of this sign-off."""
    offered = [m.name for m in people_with(crew, role) if m.name not in taken]
    candidates = [
        *(p for p, r in run.roles_by_person.items() if r == role),
        *([run.performer] if role == "actor" and run.performer else []),
        *(p for p, r in (opening.roles_by_person.items() if opening else ()) if r == role),
        *(offered if len(offered) == 1 else []),
    ]
    return next((c for c in candidates if c in offered), None)


def role_label(role: str) -> str:
    return ROLE_TITLES.get(role, role)
