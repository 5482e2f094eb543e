"""Walking one run: layers as a vertical stepper, the open step with its evidence inputs."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Static

from safetyapp.domain import clock
from safetyapp.domain.checklist import Evidence, Step
from safetyapp.domain.engine import Decision, stale_layer
from safetyapp.domain.roles import ROLE_TITLES
from safetyapp.domain.state import Run
from safetyapp.tui.screens.base import SafetyScreen
from safetyapp.tui.text import short_time, visible, word
from safetyapp.tui.widgets.entry import CountInput, EntryRefused, PickList, YesNo
from safetyapp.tui.widgets.error_line import ErrorLine

Entry = Input | YesNo | PickList


class WalkScreen(SafetyScreen):
    BINDINGS = [
        Binding("escape", "back", "Board", id="back"),
        Binding("p", "sign('pass')", "Pass", id="pass"),
        Binding("x", "sign('fail')", "Fail", id="fail"),
        Binding("n", "sign('na')", "N/A", id="na"),
        Binding("r", "resolve", "Resolve", id="resolve"),
        Binding("t", "take_back", "Take back", id="take-back"),
        Binding("v", "void", "Void run", id="void"),
        Binding("g", "next_take", "Next take", id="next-take"),
    ]

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self._shown_step: str | None = "?"
        self.evidence_widgets: dict[str, Entry] = {}

    @property
    def run(self) -> Run:
        return self.state.runs[self.run_id]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`g` (next take) only once this handoff is complete."""
        if action == "next_take" and not takes_again(self.run):
            return False
        return super().check_action(action, parameters)

    def action_next_take(self) -> None:
        new = start_next_take(self, self.run)
        if new is not None:
            self.app.switch_screen(WalkScreen(new))

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

    def on_mount(self) -> None:  # (then SafetyScreen.on_mount draws it)
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
        self.refresh_bindings()  # `g` next take once complete
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
            again = (
                " g starts the next take (same firearm, performer, scene)."
                if takes_again(run)
                else ""
            )
            detail.update(f"✔ COMPLETE — every layer signed. Esc returns to the board.{again}")
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
            if spec.kind.counts_lots:  # the day's lots, to read from, never filled in
                widgets.append(Static(Content(self._lots_line()), classes="hint"))
            widget = self._entry_for(spec)
            self.evidence_widgets[spec.key] = widget
            widgets.append(widget)
        box.mount_all(widgets)
        # Keyboard-first: the cursor waits in the first field (or on Pass when nothing to enter).
        first = next(iter(self.evidence_widgets.values()), None)
        target = first if first is not None else self.query_one("#btn-pass", Button)
        self.call_after_refresh(target.focus)

    def _entry_for(self, spec: Evidence) -> Entry:
        """The evidence type chooses the input; each starts empty (never filled from an earlier
        run). Typed text is read by the type when signing, which refuses what it cannot read."""
        kind = spec.kind
        if kind.widget == "choice":
            return YesNo(spec.label)
        if kind.widget == "count":
            return CountInput(spec.label, tooltip=kind.hint)
        serials = list(self.state.firearms)
        if kind.widget == "pick" and serials:
            return PickList(spec.label, serials, one=kind.picks_one(spec))
        return Input(placeholder=spec.label, tooltip=kind.hint)

    def _chambers(self) -> int | None:
        firearm = self.state.firearms.get(self.run.firearm or "")
        return firearm.chambers if firearm is not None else None

    def _lots_line(self) -> str:
        lots = self.state.lots.values()
        listed = ", ".join(f"{lot.lot} ({lot.type})" for lot in lots) or "none declared"
        return f"Lots: {listed} · enter LOT=N, comma-separated; 0 for none"

    def evidence_values(self, step: Step) -> dict[str, str]:
        values: dict[str, str] = {}
        for spec in step.evidence:
            widget = self.evidence_widgets.get(spec.key)
            if widget is None:
                continue
            value = widget.value
            if value is not None and value.strip():
                values[spec.key] = value.strip()
        return values

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        if event.input in self.evidence_widgets.values() and not event.value.strip():
            self.app.bell()
            self._say("Enter it as seen first, then Enter moves on.")
            return
        self.focus_next()

    @on(Input.Changed)
    def _complete(self, event: Input.Changed) -> None:
        """An answer no further key could extend moves on by itself (its type says when)."""
        step = self.run.next_step()
        key = next((k for k, w in self.evidence_widgets.items() if w is event.input), None)
        spec = next((e for e in step.evidence if e.key == key), None) if step else None
        if spec is not None and event.input.has_focus:
            lots = list(self.state.lots)
            if spec.kind.complete(spec, event.value.strip(), self._chambers(), lots):
                self.focus_next()

    @on(EntryRefused)
    def _refused_key(self, event: EntryRefused) -> None:
        self._say(event.why)

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


def takes_again(run: Run) -> bool:
    """A completed handoff: the next take starts from it (same firearm, performer, scene)."""
    return run.completed_at is not None and run.checklist.id == "handoff"


def start_next_take(screen: SafetyScreen, run: Run) -> str | None:
    """Start the next handoff for the same firearm, performer and scene; its id, or None
    (refused: said). Nothing is carried over but those three: every item is entered again."""
    decision = screen.start_run(
        "handoff", firearm=run.firearm, performer=run.performer, scene=run.scene
    )
    if decision is None:
        return None
    return str(decision.run_id)


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
