"""What every full screen shares: header, the status banner, the footer, live refresh."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Header

from safetyapp.checklists import unusable
from safetyapp.domain import engine
from safetyapp.domain.checklist import ChecklistError
from safetyapp.domain.engine import Decision
from safetyapp.domain.state import State
from safetyapp.store.repository import Repository
from safetyapp.tui.background import Background
from safetyapp.tui.context import SafetyContext, safety_of
from safetyapp.tui.crash import write_crash_log
from safetyapp.tui.widgets.banner import StatusBanner
from safetyapp.tui.widgets.footer import SteadyFooter


class SafetyScreen(Screen[None], Background):
    """A screen that shows the banner and re-renders whenever the record changes; slow
    work runs in a worker (`in_background`), its line with id `busy` showing meanwhile."""

    @property
    def safety(self) -> SafetyContext:
        return safety_of(self)

    @property
    def repo(self) -> Repository:
        repo = self.safety.repo
        assert repo is not None
        return repo

    @property
    def state(self) -> State:
        """The full state (waits for the whole record right after a quick start)."""
        repo = self.repo
        self.safety.ensure_loaded()
        return repo.view

    @property
    def view_state(self) -> State:
        """What to draw now: the full state, or the snapshot's preview while loading. Only
        the board and banner use it (they show nothing a preview lacks)."""
        return self.repo.view

    def start_run(self, checklist_id: str, **context: str | None) -> Decision | None:
        """Start a run of `checklist_id` (the version adopted last: see Repository.checklist);
        its decision, or None when there is no such checklist or the installed ones cannot be
        read. A refusal of either kind is said here, with the bell."""
        try:
            checklist = self.repo.checklist(checklist_id)
        except ChecklistError as exc:
            why = unusable(exc)
        else:
            if checklist is not None:
                decision = self.safety.act(engine.start_run, checklist, **context)
                if decision.ok:
                    return decision
                why = decision.refused or "refused"
            else:
                why = f"no checklist '{checklist_id}' installed"
        self.app.bell()
        self.notify(why, title="Refused", severity="error", markup=False)
        return None

    def compose_banner(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield StatusBanner(id="banner")

    def compose_footer(self) -> ComposeResult:
        yield SteadyFooter()

    _drawn_at_mount: int | None = None

    def on_mount(self) -> None:
        """Textual calls every class's own on_mount, a subclass's first, then this one: a
        subclass never calls it again (that drew the screen twice and watched twice)."""
        self.watch(self.app, "revision", self._on_revision, init=False)
        self._redraw()
        self._drawn_at_mount = self.safety.revision

    def on_screen_resume(self) -> None:
        # The first resume follows the mount at once (the screen shown): drawn already, unless
        # the record changed in between.
        drawn, self._drawn_at_mount = self._drawn_at_mount, None
        if drawn is None or drawn != self.safety.revision:
            self._redraw()

    _redraw_due = False

    def _on_revision(self, _: int) -> None:
        # Only the screen on top redraws: one beneath it (the board under a walk, a walk under
        # its sign dialog) redraws when it is shown again (on_screen_resume). Redrawing every
        # screen in the stack on each sign-off stalled the interface (issue 16). The redraw
        # follows the decision as this screen's next message, not inside it: a board that
        # starts a handoff is under its walk by then and does not rebuild its tables for
        # nothing (~10-20 ms of the act at 100,000 events); changes queued before it draw once.
        if self.app.screen is self and not self._redraw_due:
            self._redraw_due = True
            self.call_later(self._redraw_if_shown)

    def _redraw_if_shown(self) -> None:
        self._redraw_due = False
        if self.app.screen is self:
            self._redraw()

    def _redraw(self) -> None:
        try:
            self.refresh_view()
        except Exception as exc:
            repo = self.safety.repo
            if repo is None or not repo.loading:
                raise
            # A checkpoint that cannot be drawn: a malformed one (its check against the record
            # says so, and the record's own fold takes over) or a bug; either way, draw the
            # record's state, and leave the details where a bug report can find them.
            log = write_crash_log(exc)
            if self.safety.ensure_loaded(wait=True):
                self.notify(
                    f"The start-up view could not be drawn (details: {log or 'no log written'});"
                    " the board shows the whole record instead.",
                    title="Store", severity="warning", markup=False, timeout=30,
                )  # fmt: skip
                self.refresh_view()

    def refresh_view(self) -> None:
        """Re-render from the current state; subclasses extend."""
        banner = self.query(StatusBanner)
        if banner:
            banner.first().show_state(
                self.view_state, self.safety.store_warning, loading=self.repo.loading,
                alarm=self.repo.alarm,
            )  # fmt: skip
