"""A Footer that shows the safety keys first and rebuilds only when its keys have changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.screen import Screen

FIRST_ACTIONS = ("app.raise_hold", "app.report_incident", "app.quit")
"""Shown first, in this order, on every screen and dialog: a narrow terminal drops keys off the
Footer's right end, and HOLD, Incident and Quit must never be the ones dropped."""


def _rank(action: str) -> int:
    bare = action.removeprefix("app.")
    for rank, first in enumerate(FIRST_ACTIONS):
        if first.removeprefix("app.") == bare:
            return rank
    return len(FIRST_ACTIONS)


class SteadyFooter(Footer):
    """Textual's Footer, the safety keys first (:data:`FIRST_ACTIONS`), minus redundant rebuilds.

    Textual's Footer removes and re-mounts every key each time the screen's bindings are
    "updated": on every focus change and screen resume, one full rebuild per notice, even
    when the same keys are shown. Opening the audit screen sends four notices (about 15-50 ms
    each), which spill into the first interactions. Here notices that arrive before the
    pending rebuild has run are folded into it, and a rebuild that would show the very same
    keys is skipped. What is shown is unchanged: the rebuild reads the bindings as they are
    when it runs, exactly as Footer does.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rebuild_pending = False
        self._shown: object = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    def _keys_shown(self) -> object:
        """Everything Footer.compose reads from the bindings (and the app's key display)."""
        app = self.app
        active = self.screen.active_bindings
        keys = tuple(
            (binding, app.get_key_display(binding), enabled, tooltip)
            for (_, binding, enabled, tooltip) in active.values()
            if binding.show
        )
        palette = None
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            found = active.get(app.COMMAND_PALETTE_BINDING)
            if found is not None:
                _, binding, enabled, tooltip = found
                palette = (binding, app.get_key_display(binding), enabled, tooltip)
        return keys, palette, self.combine_groups

    def compose(self) -> ComposeResult:
        """Footer's keys, HOLD, Incident and Quit moved to the front (otherwise in order)."""
        widgets = list(super().compose())
        keys = [
            w for w in widgets if isinstance(w, FooterKey) and not w.has_class("-command-palette")
        ]
        keys.sort(key=lambda key: _rank(key.action))
        rest = [w for w in widgets if w not in keys]
        yield from keys
        yield from rest

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return
        shown = self._keys_shown()
        if shown == self._shown:
            return
        self._shown = shown
        await self.recompose()
