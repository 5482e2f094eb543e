"""The status board (home): the day, each firearm, open runs, open holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from safetyapp.domain.engine import stale_layer
from safetyapp.domain.state import Run, State
from safetyapp.tui.screens.base import SafetyScreen
from safetyapp.tui.text import lit, short_time, word

PALETTE = [
    (
        "Pre-production gate",
        "Risk assessment, the armorer, licences and training: before any opening",
        "gate",
    ),
    ("Open the day", "Start the opening checklist: safety meeting, ammunition check", "open_day"),
    ("Start a handoff", "One firearm to one performer for one setup", "new_handoff"),
    ("Wrap the day", "Custody back, counts reconciled, locked up", "wrap"),
    ("Resolve a hold", "Corrective action signed by two people", "resolve_hold"),
    ("Acknowledge a flag", "Safety supervisor: what was decided", "acknowledge_flag"),
    ("Custody: lock up, check out, record a break", "Lunch, a move, out of sight", "custody"),
    ("Audit log", "Every event, filtered, verified, exported", "audit"),
    ("Crew", "Crew members, roles and PINs", "crew"),
    ("Firearms and ammunition", "Inventory and ammunition lots", "inventory"),
]

# Board keys that lead to recording something (every one but the audit).
_WRITING = {"gate", "open_day", "new_handoff", "wrap", "walk", "resolve_hold", "crew", "inventory",
            "acknowledge_flag", "custody", "take_back", "next_take"}  # fmt: skip


class BoardScreen(SafetyScreen):
    BINDINGS = [
        Binding("o", "open_day", "Open day", id="open-day"),
        Binding("n", "new_handoff", "Handoff", id="new-handoff"),
        Binding("w", "wrap", "Wrap", id="wrap"),
        Binding("enter", "walk", "Walk run", id="walk", show=False),
        Binding("r", "resolve_hold", "Resolve", id="resolve-hold"),
        Binding("a", "audit", "Audit", id="audit"),
        Binding("c", "crew", "Crew", id="crew"),
        Binding("i", "inventory", "Inventory", id="inventory"),
        Binding("k", "acknowledge_flag", "Ack flag", id="ack-flag"),
        Binding("l", "custody", "Lock/custody", id="custody"),
        Binding("t", "take_back", "Take back", id="take-back"),
        Binding("g", "next_take", "Next take", id="next-take", show=False),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A read-only view (`serve --read-only`) offers the audit only: no key that writes."""
        if getattr(self.app, "read_only", False) and action in _WRITING:
            return False
        return super().check_action(action, parameters)

    def __init__(self) -> None:
        super().__init__()
        self._filled: dict[str, list[tuple[tuple[Any, ...], str | None]]] = {}  # see _fill

    def compose(self) -> ComposeResult:
        yield from self.compose_banner()
        with VerticalScroll(id="board"):
            yield Static("Runs (Enter to walk)", classes="section")
            yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
            yield Static("Open holds, flags and incidents", classes="section")
            yield DataTable(id="holds", cursor_type="row")
            yield Static("Firearms", classes="section")
            yield DataTable(id="firearms", cursor_type="row")
            yield Static(id="demo-pins", classes="hint")
        yield Static(id="mirror-status", classes="hint", markup=False)
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.query_one("#runs", DataTable).add_columns(
            "Run", "Checklist", "State", "Firearm", "Performer", "Next step"
        )
        self.query_one("#holds", DataTable).add_columns("Open", "Scope", "Raised", "Reason")
        self.query_one("#firearms", DataTable).add_columns(
            "Serial", "Kind", "Custody", "Last verified"
        )
        self.query_one("#runs", DataTable).focus()
        self.repo.mirror.kick()  # a configured mirror: sync (in its thread) and show how it is
        self.set_interval(1.0, self._show_mirror_status)

    def refresh_view(self) -> None:
        super().refresh_view()
        state = self.view_state
        now = self.safety.clock()
        self._show_demo_pins(state)
        self._show_mirror_status()
        run_rows: list[tuple[tuple[Any, ...], str | None]] = []
        for run in _runs_to_show(state):
            nxt = run.next_step()
            status = word(state.run_status(run))
            if not run.closed and stale_layer(state, run, now):
                status += " " + word("stale")
            cells: tuple[Any, ...] = (run.id, run.checklist.id, status, lit(run.firearm or ""),
                     lit(run.performer or ""), lit(nxt.title if nxt and not run.closed else ""))  # fmt: skip
            run_rows.append((cells, run.id))
        if not run_rows:
            run_rows.append((("—", _next_hint(state), "", "", "", ""), "-"))
        hold_rows: list[tuple[tuple[Any, ...], str | None]] = []
        for hold in state.open_holds():
            scope = f"run {hold.run}" if hold.run else "WHOLE DAY"
            unverified = "" if hold.verified else f" · UNVERIFIED ({hold.raised_by})"
            cells = (word("hold") + " " + hold.id, scope,
                     short_time(hold.raised_at, state.timezone), lit(hold.reason + unverified))  # fmt: skip
            hold_rows.append((cells, None))
        for flag in state.open_flags():
            cells = (f"⚑ FLAG {flag.id}", "handoffs", short_time(flag.raised_at, state.timezone),
                     lit(flag.reason))  # fmt: skip
            hold_rows.append((cells, None))
        for incident in state.open_incidents():
            cells = (f"! {incident.id}", incident.kind,
                     short_time(incident.reported_at, state.timezone),
                     lit(f"{incident.status}: {incident.note}"))  # fmt: skip
            hold_rows.append((cells, None))
        if not hold_rows:
            hold_rows.append((("none", "", "", ""), None))
        firearm_rows: list[tuple[tuple[Any, ...], str | None]] = []
        for serial, fa in state.firearms.items():
            where, inspected = _whereabouts(state, serial, now)
            firearm_rows.append(((lit(serial), fa.kind, lit(where), lit(inspected)), None))
        self._fill("#runs", run_rows)
        self._fill("#holds", hold_rows)
        self._fill("#firearms", firearm_rows)

    def _fill(self, table_id: str, rows: list[tuple[tuple[Any, ...], str | None]]) -> None:
        """Show `rows` (cells, key) in the table, rebuilt only when they differ from what it
        shows: a rebuild re-measures every cell (tens of ms on a busy board), and most
        redraws (the background check done, back from a walk) change nothing or little."""
        table = self.query_one(table_id, DataTable)
        if self._filled.get(table_id) == rows and table.row_count == len(rows):
            return
        table.clear()
        for cells, key in rows:
            table.add_row(*cells, key=key)
        self._filled[table_id] = rows

    def _show_mirror_status(self) -> None:
        """The configured mirror's state from its last sync (no IO here: it syncs in a thread)."""
        line = self.query_one("#mirror-status", Static)
        status = self.repo.mirror.status
        line.display = status is not None
        if status is not None:
            line.update(status.describe(self.repo.view.last_seq))

    def _show_demo_pins(self, state: State) -> None:
        """On the demo production only: its practice PINs, so a new user can walk a day."""
        from safetyapp.demo import DEMO_CREW, DEMO_PRODUCTION

        hint = self.query_one("#demo-pins", Static)
        hint.display = state.production == DEMO_PRODUCTION
        if hint.display:
            pins = " · ".join(f"{name} ({roles[0]}) {pin}" for name, roles, pin in DEMO_CREW)
            hint.update(f"Demo practice PINs: {pins}")

    # -- actions --------------------------------------------------------------------------------
    def _start(self, checklist_id: str, **context: str | None) -> None:
        decision = self.start_run(checklist_id, **context)
        if decision is not None:
            self.open_run(str(decision.run_id))

    def open_run(self, run_id: str) -> None:
        from safetyapp.tui.screens.walk import WalkScreen

        self.app.push_screen(WalkScreen(run_id))

    def action_open_day(self) -> None:
        self._start("opening")

    def action_gate(self) -> None:
        self._start("prep")

    def action_wrap(self) -> None:
        self._start("wrap")

    def action_new_handoff(self) -> None:
        from safetyapp.tui.dialogs.handoff import StartHandoffModal

        def started(choice: tuple[str, str, str] | None) -> None:
            if choice is not None:
                firearm, performer, scene = choice
                self._start("handoff", firearm=firearm, performer=performer, scene=scene or None)

        self.app.push_screen(StartHandoffModal(), started)

    def action_walk(self) -> None:
        runs = self.query_one("#runs", DataTable)
        if runs.row_count == 0:
            return
        key = runs.coordinate_to_cell_key(runs.cursor_coordinate).row_key.value
        if key and key in self.state.runs:
            self.open_run(key)

    @on(DataTable.RowSelected, "#runs")
    def _run_selected(self, event: DataTable.RowSelected) -> None:
        if getattr(self.app, "read_only", False):  # walking a run is for signing: not here
            return
        key = event.row_key.value
        if key and key in self.state.runs:
            self.open_run(key)

    def action_next_take(self) -> None:
        """`g` on a completed handoff's row: its next take (same firearm, performer, scene)."""
        from safetyapp.tui.screens.walk import start_next_take, takes_again

        runs = self.query_one("#runs", DataTable)
        key = (
            runs.coordinate_to_cell_key(runs.cursor_coordinate).row_key.value
            if runs.row_count
            else None
        )
        run = self.state.runs.get(key or "")
        if run is None or not takes_again(run):
            self.notify("Select a completed handoff: g starts its next take.", markup=False)
            return
        new = start_next_take(self, run)
        if new is not None:
            self.open_run(new)

    def action_resolve_hold(self) -> None:
        from safetyapp.tui.dialogs.holds import ResolveHoldModal

        if not self.state.open_holds():
            self.notify("There is no open hold.", markup=False)
            return
        self.app.push_screen(ResolveHoldModal())

    def action_acknowledge_flag(self) -> None:
        from safetyapp.tui.dialogs.incidents import AcknowledgeFlagModal

        if not self.state.open_flags():
            self.notify("There is no open flag.", markup=False)
            return
        self.app.push_screen(AcknowledgeFlagModal())

    def action_custody(self) -> None:
        from safetyapp.tui.dialogs.custody import CustodyModal

        self.app.push_screen(CustodyModal(default="locked"))  # the key says "Lock"

    def action_take_back(self) -> None:
        from safetyapp.tui.dialogs.custody import TakeBackModal

        state = self.state
        if all(state.custody(s).holder in ("locked", "armorer") for s in state.firearms):
            self.notify("No firearm is out: nothing to take back.", markup=False)
            return
        self.app.push_screen(TakeBackModal())

    def action_audit(self) -> None:
        from safetyapp.tui.screens.audit import AuditScreen

        self.app.push_screen(AuditScreen())

    def action_crew(self) -> None:
        from safetyapp.tui.screens.crew import CrewScreen

        self.app.push_screen(CrewScreen())

    def action_inventory(self) -> None:
        from safetyapp.tui.screens.inventory import InventoryScreen

        self.app.push_screen(InventoryScreen())


def _runs_to_show(state: State) -> list[Run]:
    """Open runs first, then the day's completed ones (see :meth:`State.current_runs`)."""
    return sorted(state.current_runs(), key=lambda r: (r.closed, r.id))


def _next_hint(state: State) -> str:
    if state.day is None and not state.gate.complete:
        return f"No run. {state.gate.reason}: ctrl+p, Pre-production gate."
    if state.day is None:
        return "No run. Press o to open the day."
    return "No run. Press n for a handoff, w to wrap."


def _whereabouts(state: State, serial: str, now: datetime) -> tuple[str, str]:
    """Where a firearm is (derived custody) and its last time-limited verification, with age;
    STALE once custody changed after it or its time limit passed (before anyone signs)."""
    where = state.custody(serial).describe()
    last = state.last_verified(serial)
    if last is None:
        return where, ""
    run, signoff = last
    shown = f"{short_time(signoff.time, state.timezone)} by {signoff.by} ({run.id})"
    if not run.closed and stale_layer(state, run, now) is not None:
        shown = f"{word('stale')} · {shown}"
    return where, shown
