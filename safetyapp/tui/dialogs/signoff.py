"""The sign-off modal: who signs, who witnesses, their PINs, and what the signature means."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Static

from safetyapp.domain import engine
from safetyapp.domain.checklist import Step
from safetyapp.domain.engine import Decision
from safetyapp.tui.dialogs.base import Dialog
from safetyapp.tui.widgets.signer import SignerField, people_with, role_label

RESULT_WORDS = {"pass": "✔ PASS", "fail": "✖ FAIL", "na": "– NOT APPLICABLE"}


class SignOffModal(Dialog[Decision | None]):
    def __init__(self, run_id: str, step: Step, result: str, evidence: dict[str, str]) -> None:
        super().__init__()
        self.run_id, self.step, self.result, self.evidence = run_id, step, result, evidence

    def compose(self) -> ComposeResult:
        crew = self.repo.state.crew
        step = self.step
        with VerticalScroll(classes="dialog"):
            yield Static(
                Content.assemble(
                    (f"Sign {RESULT_WORDS[self.result]}: ", "bold"), step.title, f" ({self.run_id})"
                ),
                classes="title",
            )
            yield Static(Content.assemble(("Your signature attests: ", "italic"), step.attests))
            if self.evidence:
                seen = ", ".join(f"{k}={v}" for k, v in self.evidence.items())
                yield Static(Content.assemble("Evidence: ", seen), classes="hint")
            yield SignerField(
                f"Signer — {role_label(step.role)}",
                people_with(crew, step.role),
                id="signer",
                prompt="who is signing?",
            )
            for i, role in enumerate(step.witnesses):
                yield SignerField(
                    f"Witness — {role_label(role)}",
                    people_with(crew, role),
                    id=f"witness-{i}",
                    prompt="who witnessed it?",
                )
            label = {"fail": "What failed (required)", "na": "Why not applicable (required)"}
            yield Static(label.get(self.result, "Note (optional)"), classes="field-label")
            yield Input(id="note", placeholder="note")
            yield from self.compose_buttons("Sign", button_id="sign")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "note":
            self.sign()
        else:
            self.focus_next()

    @on(Button.Pressed, "#sign")
    def _sign_pressed(self) -> None:
        self.sign()

    def sign(self) -> None:
        fields = list(self.query(SignerField))
        creds = [f.credential() for f in fields]
        if any(c is None for c in creds):
            self._refuse("Choose each person and enter their own PIN.")
            return
        note = self.query_one("#note", Input).value.strip()
        if self.result in ("fail", "na") and not note:
            self._refuse("Say what failed." if self.result == "fail" else "Give the reason.")
            return
        signer, *witnesses = [c for c in creds if c is not None]
        self.record(
            engine.sign,
            self.run_id,
            self.step.id,
            signer,
            witnesses=witnesses,
            result=self.result,
            evidence=self.evidence,
            note=note if self.result != "na" else "",
            na_reason=note if self.result == "na" else "",
            busy="Checking PINs and signing…",
        )
