"""Issue 12 in the TUI: crew and inventory changes are signed by a supervisor / an armorer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Button, Input, Select, SelectionList, Static
from tuikit import Clock, make_store, new_app, settle

from safetyapp.store.credentials import credentials_path
from safetyapp.store.journal import Journal
from safetyapp.tui.screens.board import BoardScreen
from safetyapp.tui.widgets.signer import SignerField


async def _board_shown(pilot: Any) -> None:
    """Wait (a bounded while) until the board is the screen and its header is fully mounted."""
    for _ in range(200):
        await pilot.pause()
        screen = pilot.app.screen
        if isinstance(screen, BoardScreen) and screen.is_mounted and screen.query("HeaderTitle"):
            break
    else:
        raise AssertionError(f"the board was not shown: {pilot.app.screen!r}")
    await settle(pilot)


def _sign(field: SignerField, name: str | None, pin: str) -> None:
    if name is not None:
        field.chooser.value = name
    field.query_one(".pin", Input).value = pin


async def test_crew_add_is_signed_by_a_supervisor_in_the_tui(tmp_path: Path) -> None:
    clock = Clock()
    path = make_store(tmp_path / "record.jsonl", clock)
    app = new_app(path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        signer = screen.query_one("#add-by", SignerField)
        # Only safety supervisors can be chosen to sign a crew change.
        assert [p.name for p in signer.people] == ["Pat Okafor"]

        async def add(name: str, pin: str | None) -> str:
            screen.query_one("#name", Input).value = name
            screen.query_one("#roles", SelectionList).select("ad")
            screen.query_one("#pin", Input).value = "8642"
            screen.query_one("#pin2", Input).value = "8642"
            if pin is not None:
                _sign(signer, "Pat Okafor", pin)
            screen.query_one("#add", Button).press()
            await pilot.pause()
            return str(screen.query_one("#crew-error", Static).render())

        assert "A safety supervisor signs" in await add("Quinn Pike", None)
        assert "wrong PIN for Pat Okafor" in await add("Quinn Pike", "0000")
        kinds = [r["kind"] for r in Journal.open(path).records()]
        assert kinds[-1] == "refused" and "Quinn Pike" not in app.repo.state.crew  # type: ignore[union-attr]
        assert await add("Quinn Pike", "5555") == ""
        added = Journal.open(path).records()[-1]
        assert added["kind"] == "crew-added" and added["by"] == "Pat Okafor"
        assert added["data"]["name"] == "Quinn Pike" and added["data"]["roles"] == ["ad"]


async def test_inventory_is_signed_by_an_armorer_in_the_tui(tmp_path: Path) -> None:
    clock = Clock()
    path = make_store(tmp_path / "record.jsonl", clock)
    app = new_app(path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("i")
        await pilot.pause()
        screen = app.screen
        signer = screen.query_one("#inventory-by", SignerField)
        assert [p.name for p in signer.people] == ["Alex Reyes"]

        async def add_firearm(pin: str | None) -> str:
            screen.query_one("#serial", Input).value = "SIG-3"
            screen.query_one("#description", Input).value = "Rubber pistol"
            screen.query_one("#kind", Select).value = "rubber"
            if pin is not None:
                _sign(signer, "Alex Reyes", pin)
            screen.query_one("#add-firearm", Button).press()
            await pilot.pause()
            return str(screen.query_one("#inventory-error", Static).render())

        assert "An armorer signs" in await add_firearm(None)
        assert "wrong PIN for Alex Reyes" in await add_firearm("9999")
        assert await add_firearm("1111") == ""
        added = Journal.open(path).records()[-1]
        assert added["kind"] == "firearm-added" and added["by"] == "Alex Reyes"


async def test_a_production_is_created_with_its_first_supervisor_in_the_tui(
    tmp_path: Path,
) -> None:
    clock = Clock()
    path = tmp_path / "record.jsonl"
    app = new_app(path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one("#production", Input).value = "Dusk Rider"
        screen.query_one("#create", Button).press()
        await pilot.pause()
        assert "first safety supervisor" in str(screen.query_one("#error", Static).render())
        assert not path.exists()
        screen.query_one("#supervisor", Input).value = "Pat Okafor"
        screen.query_one("#supervisor-pin", Input).value = "9137"
        screen.query_one("#supervisor-pin2", Input).value = "9137"
        screen.query_one("#create", Button).press()
        # The switch to the board must finish before the app closes: a Header still mounting
        # (or the welcome screen's, being removed) as the app shuts down raises NoMatches.
        await _board_shown(pilot)
        kinds = [(r["kind"], r["by"]) for r in Journal.open(path).records()]
        assert (
            kinds
            == [("production-created", None), ("crew-added", "Pat Okafor")]
            + [("checklist-adopted", "Pat Okafor")] * 5
        )  # the bundled checklists (handoff, meeting, opening, prep, wrap), by the supervisor
        assert credentials_path(path).stat().st_mode & 0o777 == 0o600
        await settle(pilot)
