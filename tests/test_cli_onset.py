"""Issue 14 from the command line (real subprocesses, a real store): take back, void, a hold
never refused, "did you mean" for typos, audit filters by prefix, `run status` evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_cli import Cli

ARMORER, AD, ACTOR, SUPERVISOR = "Alex Reyes", "Jordan Lee", "Casey Morgan", "Pat Okafor"


def as_json(proc: Any) -> Any:
    return json.loads(proc.stdout)


def _day(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli.setup("P")
    cli.armorer("firearm", "add", "COLT-1", "--description", "Revolver", "--kind", "blank-firing",
                "--chambers", "6")  # fmt: skip
    cli.armorer("ammo", "add", "D-1", "--type", "dummy", "--count", "36", "--source", "Props")
    cli.gate()
    run = as_json(cli("run", "start", "opening", "--json"))["id"]
    cli.sign(run, "meeting-held", [AD, ARMORER], attendees="9", concerns_read="yes")
    cli.sign(run, "no-other-duties", [ARMORER], other_duties="no")
    cli.sign(run, "lots-listed", [ARMORER, AD], lots="D-1=36", unlabelled="0")
    cli.sign(run, "live-rounds-zero", [ARMORER, AD], live_rounds="0", unidentified_rounds="0")
    cli.sign(run, "dummies-inert", [ARMORER, AD], dummies_checked="36", failed_inert_check="0")
    cli.sign(run, "checkout", [ARMORER], firearms_out="COLT-1")
    return cli


def test_misfire_take_back_void_unverified_hold_and_wrap_from_the_cli(tmp_path: Path) -> None:
    cli = _day(tmp_path)
    hand = as_json(cli("run", "start", "handoff", "--firearm", "COLT-1", "--performer", ACTOR,
                       "--json"))["id"]  # fmt: skip
    cli.sign(hand, "rounds-loaded", [ARMORER, AD], dummies="6", blanks="0", live_rounds="0")
    cli.sign(hand, "inspect", [ARMORER, AD, ACTOR], serial_in_hand="COLT-1", bore_clear="yes",
             chambers_seen="6", loads_as_listed="yes")  # fmt: skip
    cli.sign(hand, "ad-confirms", [AD, ARMORER], chambers_seen="6", state_called="dummies x6")
    cli.sign(hand, "announced", [AD], line_of_fire_clear="yes", hot_announced="no",
             safe_distance="none", shields="yes")  # fmt: skip
    cli.sign(hand, "hand-over", [ARMORER, ACTOR])
    cli.sign(hand, "performer-check", [ACTOR], witnessed_show_clear="yes")

    # `run status` names the open step's evidence, key and type, as `--evidence` wants it.
    status = cli("run", "status", hand).stdout
    assert "--evidence rounds-expended=...  (lot-counts:" in status
    assert "--evidence reinspected-clear=...  (bool: choose yes or no)" in status
    typo = cli("run", "status", "R0022", code=1)
    assert "did you mean 'R0002'?" in typo.stderr
    step_typo = cli.sign(hand, "retruned", [ARMORER, ACTOR], code=1)
    assert "did you mean 'returned'?" in step_typo.stderr

    # A misfire mid-take: the day is on hold, the firearm is taken back at once.
    cli("incident", "report", "--by", ACTOR, "--kind", "misfire", "--note", "click, no bang",
        "--firearm", "COLT-1", stdin="3333\n")  # fmt: skip
    back = cli("custody", "take-back", "COLT-1", "--by", ARMORER, "--reason", "misfire",
               stdin="1111\n")  # fmt: skip
    assert "now with the armorer Alex Reyes" in back.stdout
    (colt,) = as_json(cli("firearm", "list", "--json"))
    assert colt["custody"]["holder"] == "armorer"

    # The run is voided by the armorer and a supervisor (not by the AD).
    refused = cli("run", "void", hand, "--by", ARMORER, "--by", AD, "--reason", "x",
                  stdin="1111\n2222\n", code=1)  # fmt: skip
    assert "not one of each" in refused.stderr
    cli("run", "void", hand, "--by", ARMORER, "--by", SUPERVISOR, "--reason", "misfire: scene cut",
        stdin="1111\n5555\n")  # fmt: skip
    assert as_json(cli("run", "status", hand, "--json"))["state"] == "void"

    # A stop-work hold from the performer, locked out after five wrong PINs: raised, unverified.
    for _ in range(5):
        cli("custody", "break", "--by", ACTOR, "--reason", "x", stdin="0000\n", code=1)
    held = cli("hold", "raise", "--by", ACTOR, "--reason", "rig loose", stdin="3333\n")
    assert "UNVERIFIED" in held.stderr and "locked out" in held.stderr
    grip = cli("hold", "raise", "--by", "Dana Grip", "--reason", "ladder", "--no-pin")
    assert "not on the crew list" in grip.stderr
    holds = as_json(cli("hold", "list", "--open", "--json"))
    assert [(h["raised_by"], h["verified"]) for h in holds] == [
        (ACTOR, True),  # the misfire's hold, by the reporter's PIN
        (ACTOR, False),
        ("Dana Grip", False),
    ]
    cli("incident", "review", "I0001", "--by", SUPERVISOR, "--by", ARMORER, "--by", AD,
        "--action", "dud", stdin="5555\n1111\n2222\n")  # fmt: skip
    for hold in holds[1:]:
        cli("hold", "resolve", hold["id"], "--by", SUPERVISOR, "--by", ARMORER, "--action", "ok",
            stdin="5555\n1111\n")  # fmt: skip

    # Wrap: the voided run blocks nothing.
    wrap = as_json(cli("run", "start", "wrap", "--json"))["id"]
    cli.sign(wrap, "locked-up", [ARMORER, AD], firearms_locked="COLT-1", missing="0")

    # The audit by prefix, and a filter that matches nothing says so.
    voids = as_json(cli("audit", "--kind", "RUN-V", "--json"))
    assert [e["kind"] for e in voids] == ["run-voided"]
    by_pat = as_json(cli("audit", "--by", "pat", "--kind", "run-", "--json"))
    assert [e["kind"] for e in by_pat] == ["run-voided"]  # Pat signed the void second
    assert as_json(cli("audit", "--firearm", "colt", "--kind", "custody-t", "--json"))
    nobody = cli("audit", "--by", "Zed", "--json")
    assert as_json(nobody) == [] and "no person matches 'Zed'" in nobody.stderr
    wrong_kind = cli("audit", "--kind", "hold-rised")
    assert "no kind matches 'hold-rised'; did you mean 'hold-raised'?" in wrong_kind.stderr

    # The day's report lists the void and the unverified holds.
    out = tmp_path / "day.md"
    cli("report", "--out", str(out), "--format", "md")
    text = out.read_text()
    assert "VOIDED" in text and "misfire: scene cut" in text
    assert "UNVERIFIED: not on the crew list" in text and "TAKEN BACK" in text


def test_the_cli_takes_the_called_state_short_form(tmp_path: Path) -> None:
    """Scripts keep a short form: `state-called=d6` is the call `dummies x6`."""
    cli = _day(tmp_path)
    hand = as_json(cli("run", "start", "handoff", "--firearm", "COLT-1", "--performer", ACTOR,
                       "--json"))["id"]  # fmt: skip
    cli.sign(hand, "rounds-loaded", [ARMORER, AD], dummies="6", blanks="0", live_rounds="0")
    cli.sign(hand, "inspect", [ARMORER, AD, ACTOR], serial_in_hand="COLT-1", bore_clear="yes",
             chambers_seen="6", loads_as_listed="yes")  # fmt: skip
    cli.sign(hand, "ad-confirms", [AD, ARMORER], chambers_seen="6", state_called="d6")
    status = as_json(cli("run", "status", hand, "--json"))
    assert [s["state"] for s in status["steps"] if s["id"] == "ad-confirms"] == ["passed"]
