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
from safetyapp.tui.widgets.signer import SignerField, expected_signer, people_with, role_label

RESULT_WORDS = {"pass": "✔ PASS", "fail": "✖ FAIL", "na": "– NOT APPLICABLE"}


class SignOffModal(Dialog[Decision | None]):
    def __init__(self, run_id: str, step: Step, result: str, evidence: dict[str, str]) -> None:
        super().__init__()
        self.run_id, self.step, self.result, self.evidence = run_id, step, result, evidence

    def compose(self) -> ComposeResult:
        state = self.repo.state
        crew = state.crew
        step = self.step
        run = state.runs[self.run_id]
        opening = state.runs.get(state.day.opening_run) if state.day else None
        taken: set[str] = set()

        def expect(role: str) -> str | None:
            name = expected_signer(crew, role, run, opening, taken)
            taken.add(name) if name else None
            return name

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
                chosen=expect(step.role),
            )
            for i, role in enumerate(step.witnesses):
                yield SignerField(
                    f"Witness — {role_label(role)}",
                    people_with(crew, role),
                    id=f"witness-{i}",
                    prompt="who witnessed it?",
                    chosen=expect(role),
                )
            label = {"fail": "What failed (required)", "na": "Why not applicable (required)"}
            yield Static(label.get(self.result, "Note (optional)"), classes="field-label")
            yield Input(id="note", placeholder="note")
            yield from self.compose_buttons("Sign", button_id="sign")

    def focus_first(self) -> None:
        """Open on the first PIN (the signers are pre-selected), else on the first chooser
        nobody is chosen in."""
        for field in self.query(SignerField):
            if field.person is None:
                field.query_one(".person").focus()
                return
            if not field.pin_input.value:
                field.pin_input.focus()
                return

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter in a PIN moves to the next PIN; on the last it signs (or asks for the note a
        failure or N/A needs)."""
        if event.input.id == "note":
            self.sign()
            return
        pins = [f.pin_input for f in self.query(SignerField)]
        if event.input in pins and event.input is not pins[-1]:
            nxt = pins[pins.index(event.input) + 1]
            field = self.query(SignerField)[pins.index(event.input) + 1]
            (nxt if field.person is not None else field.query_one(".person")).focus()
            return
        note = self.query_one("#note", Input)
        if event.input not in pins:
            self.focus_next()
        elif self.result in ("fail", "na") and not note.value.strip():
            note.focus()  # a failure or N/A says why before it is signed
        else:
            self.sign()

    def recorded(self, decision: Decision) -> None:
        """A wrong PIN clears only that person's PIN (the others stand) and waits there."""
        who = decision.wrong_pin_of
        fields = [f for f in self.query(SignerField) if f.person == who]
        if decision.ok or who is None or not fields:
            super().recorded(decision)
            return
        fields[0].pin_input.value = ""
        fields[0].pin_input.focus()
        self._refuse(f"REFUSED: {decision.refused}")

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
