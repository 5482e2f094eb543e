"""Child process for the stall figures: the real SafetyApp under Pilot on a big store, with a
heartbeat timer noting the largest gap between its ticks (how long the interface's event loop
was kept from running) while starting up, walking a handoff (every sign-off through the sign
dialog), writing the day's PDF and exporting CSV and JSON. Prints one JSON line.

``python -m bench.tui_stall STORE``. Every wait checks for the way the step could have been
refused (the walk's error line, the dialog's refusal line, a "No report"/"failed" notice) and
stops at once with that reason: it never waits out its timeout on a refusal.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

TRACE = float(os.environ.get("BENCH_STALL_TRACE", "0"))  # seconds; 0: off
BEAT = 0.005  # seconds between heartbeats
TIMEOUT = 300.0  # seconds for any one wait (a full PDF at 100,000 events takes a few)


class Refused(RuntimeError):
    """A step the bench needs was refused or failed: the reason, not a hang."""


class Heart:
    """The largest gap between two heartbeats since the last `reset`, in ms."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.worst = 0.0
        self.phase = "start-up"

    def beat(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def watch(self, out: str) -> None:
        """Where a stall is spent (BENCH_STALL_TRACE=seconds): a thread samples the
        interface thread's stack whenever the heartbeat is that late."""
        import threading
        import traceback

        main = threading.get_ident()

        def sample() -> None:
            with open(out, "w") as f:
                while True:
                    time.sleep(0.01)
                    late = time.perf_counter() - self.last
                    if late > TRACE:
                        for ident, frame in sys._current_frames().items():
                            if ident == threading.get_ident():
                                continue
                            stack = "".join(traceback.format_stack(frame, limit=25))
                            who = "main" if ident == main else "other"
                            f.write(f"--- late {late * 1000:.0f} ms {who} {self.phase}\n{stack}")
                        f.flush()

        threading.Thread(target=sample, daemon=True).start()

    def reset(self) -> None:
        self.last, self.worst = time.perf_counter(), 0.0

    def worst_ms(self) -> float:
        self.beat()
        return self.worst * 1000


class Clock:
    """Ten seconds per read, after the record's last event (steps stay within time limits)."""

    def __init__(self, after: str) -> None:
        self.now = datetime.fromisoformat(after.replace("Z", "+00:00")) + timedelta(minutes=1)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=10)
        return self.now


async def wait_for(
    what: str, done: Callable[[], bool], refused: Callable[[], str | None], pause: Any
) -> None:
    """Until `done()`; `refused()` returning a reason stops the bench with it."""
    t0 = time.perf_counter()
    while not done():
        reason = refused()
        if reason:
            raise Refused(f"{what}: {reason}")
        if time.perf_counter() - t0 > TIMEOUT:
            raise Refused(f"{what}: not done after {TIMEOUT:.0f} s")
        await pause(0.01)


def last_line(path: Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 65536))
        tail = f.read().splitlines()
    record: dict[str, Any] = json.loads(tail[-1])
    return record


async def run(store: Path) -> dict[str, Any]:
    from textual.widgets import Input, Static

    from bench import generate as gen
    from safetyapp.domain import engine
    from safetyapp.tui.app import SafetyApp
    from safetyapp.tui.dialogs.signoff import SignOffModal
    from safetyapp.tui.screens.audit import AuditScreen
    from safetyapp.tui.screens.walk import WalkScreen
    from safetyapp.tui.widgets.entry import PickList, YesNo
    from safetyapp.tui.widgets.signer import SignerField

    result: dict[str, Any] = {}
    heart = Heart()
    app = SafetyApp(store, clock=Clock(last_line(store)["time"]), poll_seconds=3600)

    def text(widget: Static) -> str:
        return str(widget.render()) if widget.display else ""

    def notices(before: set[int]) -> list[str]:
        """Notifications shown since `before` (ids: old ones expire and leave the list)."""
        return [n.message for n in list(app._notifications) if id(n) not in before]

    async with app.run_test(headless=True, size=(160, 48)) as pilot:

        async def pause(seconds: float) -> None:
            await asyncio.sleep(seconds)

        async def heartbeat() -> None:  # a task on the app's own event loop
            while True:
                await asyncio.sleep(BEAT)
                heart.beat()

        beating = asyncio.create_task(heartbeat())
        if TRACE:
            heart.watch(os.environ.get("BENCH_STALL_TRACE_FILE", "stall-trace.txt"))
        heart.reset()
        # -- start-up: the board from the snapshot, the rest of the record read in a thread.
        await wait_for("start-up", lambda: app.repo is not None and not app.repo.loading,
                       lambda: app.store_failure, pause)  # fmt: skip
        await pause(0.5)  # the fold taken over, the board redrawn, the memory settled
        result["startup_ms"] = heart.worst_ms()
        sys.stderr.write(f"start-up: {result['startup_ms']:.1f} ms\n")
        repo = app.repo
        assert repo is not None
        result["events"] = repo.view.last_seq
        # -- the reference: the same heartbeat on the idle board (this machine's noise floor).
        heart.reset()
        heart.phase = "idle"
        await pause(2.0)
        result["idle_ms"] = heart.worst_ms()
        sys.stderr.write(f"idle board: {result['idle_ms']:.1f} ms\n")

        # -- signing: one whole handoff, every step through the sign dialog.
        heart.reset()
        heart.phase = "sign"
        decision = app.act(engine.start_run, repo.checklist("handoff"), firearm="COLT-1",
                           performer=gen.ACTOR[0], scene="stall bench")  # fmt: skip
        if not decision.ok:
            raise Refused(f"starting a handoff: {decision.refused}")
        run_id = str(decision.run_id)
        await app.push_screen(WalkScreen(run_id))
        await pilot.pause()
        for step_id, by, witnesses, evidence in gen.handoff_steps(gen.ACTOR, 6):
            walk = app.screen
            assert isinstance(walk, WalkScreen), walk
            step = walk.run.next_step()
            if step is None or step.id != step_id:
                raise Refused(f"the walk is at {step and step.id}, not {step_id}")
            for key, value in evidence.items():
                widget = walk.evidence_widgets[key]
                if isinstance(widget, PickList):  # picked by number: here, by serial
                    widget.picked = [v for v in value.split(",") if v not in ("", "none")]
                elif isinstance(widget, YesNo | Input):
                    widget.value = value
            walk.action_sign("pass")
            await pilot.pause()
            error = walk.query_one("#walk-error", Static)
            await wait_for(f"opening the sign dialog for {step_id}",
                           lambda: isinstance(app.screen, SignOffModal),
                           lambda e=error: text(e), pause)  # fmt: skip
            dialog = app.screen
            assert isinstance(dialog, SignOffModal)
            for field, person in zip(dialog.query(SignerField), (by, *witnesses), strict=True):
                field.chooser.value = person[0]
                field.query_one(".pin", Input).value = gen.PINS[person[0]]
            dialog.sign()
            refusal = dialog.query_one("#refusal", Static)
            await wait_for(f"signing {step_id}", lambda d=dialog: app.screen is not d,
                           lambda r=refusal: text(r), pause)  # fmt: skip
            await pilot.pause()
        if repo.state.runs[run_id].completed_at is None:
            raise Refused(f"the handoff {run_id} did not complete")
        result["sign_ms"] = heart.worst_ms()
        sys.stderr.write(f"signing: {result['sign_ms']:.1f} ms\n")
        result["signoffs"] = len(repo.state.runs[run_id].signoffs)

        # -- the audit screen (opening it is its own figure), then the PDF and the exports.
        heart.phase = "audit"
        audit = AuditScreen()
        await app.push_screen(audit)
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pause(1.0)  # its index is built after the first frame: not part of these figures
        for key, label, fmt in (("pdf_ms", "the PDF report", "pdf"),
                                ("csv_ms", "the CSV export", "csv"),
                                ("json_ms", "the JSON export", "json")):  # fmt: skip
            seen = {id(n) for n in app._notifications}
            heart.reset()
            heart.phase = fmt
            if fmt == "pdf":
                audit.action_print_report()
            else:
                audit.action_export(fmt)
            await wait_for(
                label, lambda s=seen: not audit.busy and len(notices(s)) > 0,
                lambda s=seen: next((m for m in notices(s)
                                     if m.startswith(("No report", "Export failed", "Not done"))),
                                    None),
                pause,
            )  # fmt: skip
            await pause(0.2)
            result[key] = heart.worst_ms()
            sys.stderr.write(f"{label}: {notices(seen)[0]} ({result[key]:.1f} ms)\n")
        await app.workers.wait_for_complete()
        beating.cancel()
    return result


def main() -> None:
    try:
        data = asyncio.run(run(Path(sys.argv[1])))
    except Refused as exc:
        sys.stderr.write(f"stall bench stopped: {exc}\n")
        raise SystemExit(2) from exc
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
