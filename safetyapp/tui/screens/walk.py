"""Walking one run: layers as a vertical stepper, the open step with its evidence inputs."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Select, Static

from safetyapp.domain import clock
from safetyapp.domain.checklist import Step
from safetyapp.domain.engine import Decision, stale_layer
from safetyapp.domain.roles import ROLE_TITLES
from safetyapp.domain.state import Run
from safetyapp.tui.screens.base import SafetyScreen
from safetyapp.tui.text import short_time, visible, word
from safetyapp.tui.widgets.error_line import ErrorLine

YES_NO = [("yes", "yes"), ("no", "no")]


class WalkScreen(SafetyScreen):
    BINDINGS = [
        Binding("escape", "back", "Board", id="back"),
        Binding("p", "sign('pass')", "Pass", id="pass"),
        Binding("x", "sign('fail')", "Fail", id="fail"),
        Binding("n", "sign('na')", "N/A", id="na"),
        Binding("r", "resolve", "Resolve", id="resolve"),
        Binding("t", "take_back", "Take back", id="take-back"),
        Binding("v", "void", "Void run", id="void"),
    ]

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self._shown_step: str | None = "?"
        self.evidence_widgets: dict[str, Input | Select[str]] = {}

    @property
    def run(self) -> Run:
        return self.state.runs[self.run_id]

    def compose(self) -> ComposeResult:
        yield from self.compose_banner()
        yield Static(id="run-title", classes="title")
        with Horizontal(id="walk"):
            yield VerticalScroll(Static(id="stepper"), id="stepper-pane", can_focus=True)
            with VerticalScroll(id="step-pane"):
                yield Static(id="step-detail")
                yield Vertical(id="evidence")
                yield ErrorLine(id="walk-error")
                with Horizontal(classes="buttons", id="step-buttons"):
                    yield Button("✔ Pass (p)", id="btn-pass", variant="success", compact=True)
                    yield Button("✖ Fail (x)", id="btn-fail", variant="error", compact=True)
                    yield Button("N/A (n)", id="btn-na", compact=True)
                yield Static(id="step-guide")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        super().on_mount()
        # A time limit passes without any event: look again now and then (STALE shows itself).
        self.set_interval(15.0, self._redraw)

    def refresh_view(self) -> None:
        super().refresh_view()
        run, state = self.run, self.state
        status = state.run_status(run)
        stale = stale_layer(state, run, self.safety.clock())
        context = " · ".join(
            x for x in (run.firearm, run.performer, f"scene {run.scene}" if run.scene else "") if x
        )
        flag: list[str | tuple[str, str]] = [" · ", (word("stale"), "bold")] if stale else []
        self.query_one("#run-title", Static).update(
            Content.assemble(
                f"{run.id} · {run.checklist.title} · ",
                (word(status), "bold"),
                *flag,
                " · ",
                context,
            )
        )
        self.query_one("#stepper", Static).update(
            _stepper(run, stale[0] if stale else None, self.state.timezone)
        )
        self._show_step(run, stale[1] if stale else None)

    def _show_step(self, run: Run, stale: str | None = None) -> None:
        nxt = run.next_step()
        blocking = self.state.holds_blocking(run.id)
        detail = self.query_one("#step-detail", Static)
        buttons = self.query_one("#step-buttons")
        out = self._firearm_out(run)
        take_back = (
            f"\n\n{run.firearm} is {out}: the armorer takes it back at any time (press t)."
            if out
            else ""
        )
        if run.voided_at is not None:
            detail.update(
                Content.assemble(
                    ("⌀ VOID ", "bold"),
                    run.void_reason or "",
                    take_back,
                    "\n\nNothing more is signed in this run. Esc returns to the board.",
                )
            )
        elif run.completed_at is not None:
            detail.update("✔ COMPLETE — every layer signed. Esc returns to the board.")
        elif blocking:
            hold = blocking[0]
            detail.update(
                Content.assemble(
                    ("■ HOLD ", "bold"),
                    f"{hold.id}: ",
                    hold.reason,
                    "\n\nThe walk is stopped until the hold is resolved with a corrective action"
                    " signed by two people (press r). The failed layer then restarts from its"
                    " first step. A run that will not be finished can be voided (press v).",
                    take_back,
                )
            )
        current = nxt.id if nxt is not None and not run.closed and not blocking else None
        buttons.display = current is not None
        guide = self.query_one("#step-guide", Static)
        guide.update("")
        if current is not None and nxt is not None:
            detail.update(_step_heading(nxt, stale))
            guide.update(_step_guide(nxt, self._read_out(nxt)))
            self.query_one("#btn-na", Button).display = nxt.na_allowed
        if current != self._shown_step:
            self._shown_step = current
            self._mount_evidence(nxt if current else None)

    def _read_out(self, step: Step) -> list[str]:
        """Incidents and near misses this step must read out (the safety meeting)."""
        return [
            f"{i.id} {i.kind} ({clock.shown(i.reported_at, self.state.timezone)}, {i.reported_by}): {i.note}"
            for i in self.state.to_read_out(step.acknowledges)
        ]

    def _mount_evidence(self, step: Step | None) -> None:
        """Fresh inputs for the open step. No widget ids: old ones may still be unmounting."""
        box = self.query_one("#evidence", Vertical)
        box.remove_children()
        self.evidence_widgets = {}
        self.query_one("#walk-error", Static).update("")
        if step is None:
            return
        widgets: list[Any] = []
        for spec in step.evidence:
            widgets.append(Static(Content(spec.label), classes="field-label"))
            widget: Input | Select[str]
            # The evidence type chooses the input. Every typed input is plain text: the type
            # reads it when signing and refuses what it cannot read (an "integer" Input would
            # silently drop letters: "about 20, plus 4 stunt" became 204).
            if spec.kind.widget == "choice":
                widget = Select(YES_NO, prompt=spec.kind.hint)
            else:
                widget = Input(placeholder=spec.label, tooltip=spec.kind.hint)
            self.evidence_widgets[spec.key] = widget
            widgets.append(widget)
        box.mount_all(widgets)
        # Keyboard-first: the cursor waits in the first field (or on Pass when nothing to enter).
        first = next(iter(self.evidence_widgets.values()), None)
        target = first if first is not None else self.query_one("#btn-pass", Button)
        self.call_after_refresh(target.focus)

    def evidence_values(self, step: Step) -> dict[str, str]:
        values: dict[str, str] = {}
        for spec in step.evidence:
            widget = self.evidence_widgets.get(spec.key)
            if isinstance(widget, Select):
                value = widget.value
                if value is not Select.NULL:
                    values[spec.key] = str(value)
            elif isinstance(widget, Input) and widget.value.strip():
                values[spec.key] = widget.value.strip()
        return values

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        self.focus_next()

    @on(Button.Pressed, "#btn-pass")
    def _pass(self) -> None:
        self.action_sign("pass")

    @on(Button.Pressed, "#btn-fail")
    def _fail(self) -> None:
        self.action_sign("fail")

    @on(Button.Pressed, "#btn-na")
    def _na(self) -> None:
        self.action_sign("na")

    def action_sign(self, result: str) -> None:
        from safetyapp.tui.dialogs.signoff import SignOffModal

        run = self.run
        step = run.next_step()
        if step is None or run.closed or self.state.holds_blocking(run.id):
            self.app.bell()
            return
        if result == "na" and not step.na_allowed:
            self._say(f"'{step.title}' cannot be marked not applicable.")
            return
        values = self.evidence_values(step)
        missing = [e.label for e in step.evidence if e.key not in values]
        if result == "pass" and missing:
            self._say("Fill in before passing: " + "; ".join(missing))
            return
        self._say("")
        self.app.push_screen(SignOffModal(run.id, step, result, values), self._signed)

    def _signed(self, decision: Decision | None) -> None:
        if decision is not None:
            self._shown_step = "?"
            self.refresh_view()

    def _say(self, message: str) -> None:
        self.query_one("#walk-error", ErrorLine).say(message)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_resolve(self) -> None:
        from safetyapp.tui.dialogs.holds import ResolveHoldModal

        if self.state.holds_blocking(self.run_id):
            self.app.push_screen(ResolveHoldModal())

    def _firearm_out(self, run: Run) -> str | None:
        """Where the run's firearm is, when it is out of the armorer's hands."""
        if run.firearm is None:
            return None
        custody = self.state.custody(run.firearm)
        return custody.describe() if custody.holder in ("performer", "unaccounted") else None

    def action_take_back(self) -> None:
        from safetyapp.tui.dialogs.custody import TakeBackModal

        if self._firearm_out(self.run) is None:
            self.notify("The firearm is not out: nothing to take back.", markup=False)
            return
        self.app.push_screen(TakeBackModal(self.run.firearm), self._signed)

    def action_void(self) -> None:
        from safetyapp.tui.dialogs.runs import VoidRunModal

        if self.run.closed:
            self.notify(f"Run {self.run_id} is already {word(self.state.run_status(self.run))}.",
                        markup=False)  # fmt: skip
            return
        self.app.push_screen(VoidRunModal(self.run_id), self._signed)


def _stepper(run: Run, stale: str | None, zone: str) -> Content:
    parts: list[Content | str | tuple[str, str]] = []
    for number, layer in enumerate(run.checklist.layers, start=1):
        mark = f"  {word('stale')}: re-verify from its first step" if layer.id == stale else ""
        parts.append((f"{number}. {layer.title}{mark}\n", "bold"))
        for step in layer.steps:
            status = run.step_status(step.id)
            done = run.signoffs.get(step.id)
            style = "bold" if status in ("open", "failed") else ""
            parts.append((f"  {word(status):<9} ", style))
            parts.append(step.title)
            if done is not None:
                parts.append(f" — {done.by} {short_time(done.time, zone)}")
            parts.append("\n")
    return Content.assemble(*parts)


def _step_heading(step: Step, stale: str | None = None) -> Content:
    witnesses = ", ".join(ROLE_TITLES[w] for w in step.witnesses) or "none"
    warning: list[str | tuple[str, str]] = []
    if stale:
        warning = [
            (f"{word('stale')} ", "bold"),
            stale,
            " (signing records it and reopens the layer)\n\n",
        ]
    return Content.assemble(
        *warning,
        ("▶ " + step.title + "\n", "bold"),
        f"Signed by: {ROLE_TITLES[step.role]} · witnesses: {witnesses}",
    )


def _step_guide(step: Step, read_out: list[str]) -> Content:
    """What to do, anything to read out, then what the signature means: read before signing."""
    listing: list[str | tuple[str, str]] = []
    if read_out:
        listing.append(("\nRead out at this meeting:\n", "bold"))
        listing.extend(f"  ! {visible(line)}\n" for line in read_out)
    return Content.assemble(
        "\n" + step.prompt.strip() + ("\n" if step.prompt.strip() else ""),
        *listing,
        "\n",
        ("Your signature attests: ", "italic"),
        step.attests.strip(),
    )
