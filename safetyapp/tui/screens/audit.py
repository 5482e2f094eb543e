"""Audit review: every event, filtered; the chain's verify status; the full event; exports."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Input, Select, Static

from safetyapp.audit.export import seq_ranges
from safetyapp.audit.query import AuditFilter, expand, matching, prepare
from safetyapp.domain import clock
from safetyapp.domain import events as ev
from safetyapp.store.chain import VerifyResult
from safetyapp.tui.screens.base import SafetyScreen
from safetyapp.tui.text import visible
from safetyapp.tui.widgets.event_log import HEADER, EventLog
from safetyapp.tui.widgets.toggles import TickBox


class AuditScreen(SafetyScreen):
    AUTO_FOCUS = "EventLog"  # straight to the log: no focus hop (and Footer rebuild) on opening
    BINDINGS = [
        Binding("escape", "back", "Board", id="back"),
        Binding("slash", "focus_filter", "Filter", id="filter"),
        Binding("f", "toggle_flagged", "Flagged only", id="flagged"),
        Binding("v", "verify", "Verify chain", id="verify"),
        Binding("e", "export('csv')", "Export CSV", id="export-csv"),
        Binding("j", "export('json')", "Export JSON", id="export-json"),
        Binding("p", "print_report", "Day report PDF", id="print-report"),
    ]
    DEFAULT_CSS = """
    AuditScreen #filters { height: auto; }
    AuditScreen #filters Input { width: 1fr; margin: 0 1 0 0; }
    AuditScreen #filters Select { width: 24; }
    AuditScreen #filters TickBox { width: auto; }
    AuditScreen #log-header { color: $text-muted; }
    AuditScreen #detail { height: 7; border-top: solid $primary; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        # What the log shows: the filter, the record list and its length it was computed on.
        self._shown: tuple[AuditFilter, list[dict[str, Any]], int] | None = None
        self._rows: Sequence[dict[str, Any]] = ()

    def compose(self) -> ComposeResult:
        yield from self.compose_banner()
        yield Static("Verifying the hash chain…", id="verify-status", classes="title")
        yield Static("", id="busy", classes="busy")
        with Horizontal(id="filters"):
            yield Input(id="who", placeholder="person (prefix)", compact=True)
            yield Input(id="firearm", placeholder="serial (prefix)", compact=True)
            yield Input(id="since", placeholder="since YYYY-MM-DD", compact=True)
            yield Input(id="until", placeholder="until YYYY-MM-DD", compact=True)
            kinds = [(k, k) for k in ev.KINDS]
            yield Select(kinds, prompt="any kind", id="kind", compact=True)
            yield TickBox("flagged", id="only-flagged", compact=True)
        yield Static(HEADER, id="log-header", markup=False)
        yield EventLog(id="log")
        yield Static(id="detail", markup=False)
        yield from self.compose_footer()

    def on_mount(self) -> None:  # (then SafetyScreen.on_mount draws it)
        self.query_one(EventLog).focus()
        self.action_verify()
        self.call_after_refresh(self._prepare)  # after the first frame

    def _prepare(self) -> None:
        prepare(self.repo)
        # The whole record is in memory now (read for this screen): out of the collector's
        # sight, as the app does at start (SafetyApp._settle_memory). A full collection over
        # 100,000 records, left to come whenever, froze the interface for ~0.7 s (issue 16).
        gc.freeze()

    def refresh_view(self) -> None:
        super().refresh_view()
        self.apply_filter(keep_end=True)

    # -- filtering ------------------------------------------------------------------------------
    def current_filter(self) -> AuditFilter | str:
        values = {w: self.query_one(f"#{w}", Input).value.strip() for w in ("who", "firearm")}
        when: dict[str, datetime | None] = {}
        for name in ("since", "until"):
            text = self.query_one(f"#{name}", Input).value.strip()
            when[name] = None
            if text:
                try:
                    moment = datetime.fromisoformat(text)
                    # A date or a time without an offset: the production's local one.
                    zone = clock.zone(self.repo.state.timezone)
                    moment = moment if moment.tzinfo else moment.replace(tzinfo=zone)
                except ValueError:
                    return f"'{text}' is not a date (YYYY-MM-DD)"
                if name == "until" and len(text) == 10:
                    moment = moment.replace(hour=23, minute=59, second=59)
                when[name] = moment
        kind = self.query_one("#kind", Select).value
        return AuditFilter(
            since=when["since"],
            until=when["until"],
            by=values["who"] or None,
            firearm=values["firearm"] or None,
            kind=None if kind is Select.NULL else str(kind),
            flagged=self.query_one("#only-flagged", TickBox).value,
        )

    def apply_filter(self, *, keep_end: bool = False) -> None:
        flt = self.current_filter()
        log = self.query_one(EventLog)
        if isinstance(flt, str):
            self.query_one("#detail", Static).update(flt)
            return
        records = self.repo.journal.records()
        shown = self._shown
        if shown is None or shown[0] != flt or shown[1] is not records or shown[2] != len(records):
            # The journal's records: public() before showing.
            self._rows = matching(self.repo, flt)
            self._shown = (flt, records, len(records))
            unmatched = expand(self.repo, flt).unmatched(flt)  # prefixes: "jo", "colt"
            said = "".join(f" · {line}" for line in unmatched)
            self.query_one("#log-header", Static).update(
                f"{HEADER}   [{len(self._rows)} events{said}]"
            )
        log.set_rows(self._rows, keep_end=keep_end, zone=self.repo.state.timezone)

    @on(Input.Changed)
    @on(Select.Changed)
    @on(TickBox.Changed)
    def _filter_changed(self) -> None:
        self.apply_filter()

    @on(EventLog.Highlighted)
    def _show_detail(self, message: EventLog.Highlighted) -> None:
        record = message.record
        text = (
            ""
            if record is None
            else visible(json.dumps(ev.public(record), ensure_ascii=False, indent=None))
        )
        self.query_one("#detail", Static).update(text, layout=False)  # fixed height: no relayout

    def action_focus_filter(self) -> None:
        self.query_one("#who", Input).focus()

    def action_toggle_flagged(self) -> None:
        box = self.query_one("#only-flagged", TickBox)
        box.value = not box.value

    # -- verify and export ----------------------------------------------------------------------
    @work(exclusive=True, exit_on_error=False, group="verify")
    async def action_verify(self) -> None:
        # In a child process: on another core, not competing with the interface for the GIL.
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "safetyapp.store.verify_child", str(self.repo.path),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        out, _ = await proc.communicate()
        try:
            data = json.loads(out)
            result = VerifyResult(**data) if "error" not in data else None
        except (ValueError, TypeError):
            data, result = {}, None
        if result is None:
            # The child could not run or read the store: check here instead.
            result = await asyncio.to_thread(self.repo.journal.verify)
        if result.ok:
            text = f"✔ CHAIN OK · {result.count} events · head {result.head_hash}"
        else:
            text = f"✖ CHAIN BROKEN at event {result.first_bad_seq}: {result.problem}"
        self._show_verify(text, result.ok)

    def _show_verify(self, text: str, ok: bool) -> None:
        status = self.query_one("#verify-status", Static)
        status.update(Content(text))
        status.set_class(not ok, "error")

    def action_export(self, fmt: str) -> None:
        """The events shown, as CSV or JSON next to the store (exports/), written by a child
        process (safetyapp.audit.child) so the interface never waits for the encoding."""
        rows = self.query_one(EventLog).rows  # what is shown now (replaced, never changed)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        store, zone = self.repo.path, self.repo.state.timezone
        path = default_export_dir(store) / f"audit-{stamp}.{fmt}"

        def request() -> dict[str, Any]:
            last = [rows[-1]["seq"], rows[-1]["hash"]] if rows else None
            return {"job": "export", "store": str(store), "target": str(path), "fmt": fmt,
                    "zone": zone, "ranges": seq_ranges(rows), "last": last}  # fmt: skip

        def then(reply: dict[str, Any]) -> None:
            if "refused" in reply:
                self._tell((False, f"Export failed: {reply['refused']}"))
            else:
                self._tell((True, f"{reply['count']} events exported to {path}"))

        busy = f"Exporting {len(rows)} events as {fmt.upper()}…"
        self.in_child(request, then, busy=busy, what="the export")

    def action_print_report(self) -> None:
        """The latest day's safety report as PDF, next to the store (exports/), written by a
        child process (safetyapp.audit.child): it reads and folds the record itself."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        store = self.repo.path
        path = default_export_dir(store) / f"safety-report-{stamp}.pdf"

        def request() -> dict[str, Any]:
            return {"job": "report", "store": str(store), "target": str(path),
                    "now": datetime.now(UTC).isoformat()}  # fmt: skip

        def then(reply: dict[str, Any]) -> None:
            if "refused" in reply:
                self._tell((False, f"No report: {reply['refused']}"))
                return
            self._tell((True, (
                f"Day {reply['day']} report ({reply['what']}) written to {path}; "
                f"checkpoint {str(reply['head_hash'])[:16]}…"
            )))  # fmt: skip

        self.in_child(request, then, busy="Writing the day's PDF report…", what="the report")

    def _tell(self, outcome: tuple[bool, str]) -> None:
        ok, text = outcome
        if not ok:
            self.app.bell()
        self.notify(text, severity="information" if ok else "error", markup=False, timeout=15)

    def action_back(self) -> None:
        self.app.pop_screen()


def default_export_dir(store: Path) -> Path:
    return store.parent / "exports"
