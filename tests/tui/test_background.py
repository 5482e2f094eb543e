"""Slow work runs in workers: the interface stays live, says it is busy, and failures land in
the app's one worker handler (issue 11 item 5).

To hold a sign-off mid-way without mocking the store, the test takes the app's `record_lock`
itself, as a second writer would: the job waits for it in its thread. Reports and exports run in
a child process (tests/tui/test_export_child.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_flows import OPENING
from textual.widgets import Checkbox, Static
from tuikit import Clock, fill_evidence, make_store, new_app, settle, sign_in_modal, walk_step

from safetyapp.tui.dialogs.signoff import SignOffModal
from safetyapp.tui.screens.audit import AuditScreen
from safetyapp.tui.screens.walk import WalkScreen

A, AD = "Alex Reyes", "Jordan Lee"


def busy_text(screen: Any) -> str:
    line = screen.query_one("#busy", Static)
    return str(line.render()) if line.display else ""


def messages(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


async def test_sign_off_runs_in_a_worker_with_a_busy_line(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        await fill_evidence(pilot, {"attendees": "24", "concerns-read": "yes"})
        app.screen.query_one("#stepper-pane").focus()
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, SignOffModal)
        app.record_lock.acquire()  # another writer is busy: the sign-off must wait in its thread
        try:
            await sign_in_modal_no_wait(pilot, [AD, A])
            dialog = app.screen
            assert isinstance(dialog, SignOffModal)
            assert "Checking PINs and signing" in busy_text(dialog)
            assert dialog.query_one("#sign").disabled
            await pilot.press("escape")  # no cancel while the signature may be being written
            await pilot.pause()
            assert app.screen is dialog
            # The interface is live meanwhile: keys reach widgets, timers run.
            dialog.query_one("#note").focus()
            await pilot.press("o", "k")
            await pilot.pause()
            assert dialog.query_one("#note").value == "ok"  # type: ignore[attr-defined]
            assert app.repo is not None and "R0001" in app.repo.state.runs
            assert not app.repo.state.runs["R0001"].signoffs
        finally:
            app.record_lock.release()
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen)
        assert len(app.repo.state.runs["R0001"].signoffs) == 1


async def sign_in_modal_no_wait(pilot: Any, people: list[str]) -> None:
    """Choose the signers and type their PINs, press Sign, and do not wait for the worker."""
    from textual.widgets import Input
    from tuikit import PINS, choose

    from safetyapp.tui.widgets.signer import SignerField

    for field, name in zip(pilot.app.screen.query(SignerField), people, strict=True):
        if field.person != name:  # the expected signer comes pre-selected
            field.chooser.value = None
            await choose(pilot, field.chooser, [p.name for p in field.people].index(name) + 1)
        field.query_one(".pin", Input).focus()
        await pilot.press(*PINS[name])
    pilot.app.screen.query_one("#sign").press()
    await pilot.pause()


async def test_the_pdf_report_runs_in_a_worker_and_the_screen_stays_live(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        for key, people, evidence in OPENING:
            await walk_step(pilot, key, people, evidence)
        await pilot.press("escape", "a")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        # The report is written by a child process (a second or more to start and fold): the
        # screen is still busy when the next keys arrive.
        await pilot.press("p")
        await pilot.pause()
        assert "Writing the day's PDF report" in busy_text(screen)
        await pilot.press("f")  # the screen answers keys while the report is being written
        await pilot.pause()
        assert screen.query_one("#only-flagged", Checkbox).value
        await pilot.press("p")  # a second report while one is running: refused, not queued
        await pilot.pause()
        await settle(pilot)
        assert busy_text(screen) == ""
        assert any("report" in m for m in messages(app)), messages(app)
    reports = list((tmp_path / "exports").glob("safety-report-*.pdf"))
    assert len(reports) == 1, messages(app)


async def test_an_export_reports_its_outcome_from_the_worker(tmp_path: Path) -> None:
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        await settle(pilot)
        assert any("events exported to" in m for m in messages(app)), messages(app)
    assert len(list((tmp_path / "exports").glob("audit-*.csv"))) == 1


async def test_a_failing_job_reaches_the_handler_and_clears_the_busy_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        screen.action_export("xml")  # its child raises (settle would raise the worker's error)
        for _ in range(1500):
            await pilot.pause(0.02)
            if not screen.busy:
                break
        said = [m for m in messages(app) if m.startswith("Not done:")]
        assert said and "Exporting" in said[0] and "ValueError: unknown export format" in said[0]
        assert busy_text(app.screen) == ""
        assert app.is_running  # the app goes on: a failed export is not a crash
        await pilot.press("j")  # and the next try is accepted (not refused as still busy)
        await settle(pilot)
        assert any("events exported to" in m for m in messages(app)), messages(app)
    assert list((tmp_path / "state").rglob("error-*.log"))
    assert not list((tmp_path / "exports").glob("*.xml"))


async def test_a_failing_sign_off_says_so_in_the_dialog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    clock = Clock()
    app = new_app(make_store(tmp_path / "record.jsonl", clock), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        await fill_evidence(pilot, {"attendees": "24", "concerns-read": "yes"})
        app.screen.query_one("#stepper-pane").focus()
        await pilot.press("p")
        await pilot.pause()
        from safetyapp.domain import engine

        def broken(*args: object, **kwargs: object) -> object:  # a bug in the engine
            raise RuntimeError("engine bug")

        monkeypatch.setattr(engine, "sign", broken)
        await sign_in_modal(pilot, [AD, A])
        dialog = app.screen
        assert isinstance(dialog, SignOffModal)  # still open: nothing was signed
        refusal = str(dialog.query_one("#refusal", Static).render())
        assert (
            "Checking PINs and signing failed" in refusal and "RuntimeError: engine bug" in refusal
        )
        assert busy_text(dialog) == "" and not dialog.query_one("#sign").disabled
