"""Issue 15 through the CLI, as an armorer would try it: each gap refused or recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import Cli

ARM, AD, ACT, ACT2, SUP = "Alex Reyes", "Jordan Lee", "Casey Morgan", "Riley Chen", "Pat Okafor"


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """Two revolvers, a dummy lot and a blank lot, the day opened."""
    cli = Cli(tmp_path_factory.mktemp("practice"))
    cli.setup("Dusk Rider")
    for serial in ("SAA-1", "SAA-2"):
        cli.armorer("firearm", "add", serial, "--description", "Revolver", "--kind",
                    "blank-firing", "--chambers", "6")  # fmt: skip
    cli.armorer("ammo", "add", "D-1", "--type", "dummy", "--count", "12", "--source", "Prop house")
    cli.armorer("ammo", "add", "B-1", "--type", "blank", "--count", "24", "--source", "Supplier")
    cli.gate()
    run = json.loads(cli("run", "start", "opening", "--json").stdout)["id"]
    cli.sign(run, "meeting-held", [AD, ARM], attendees="12", concerns_read="yes")
    cli.sign(run, "no-other-duties", [ARM], other_duties="no")
    cli.sign(run, "lots-listed", [ARM, AD], lots="D-1=12,B-1=24", unlabelled="0")
    cli.sign(run, "live-rounds-zero", [ARM, AD], live_rounds="0", unidentified_rounds="0")
    cli.sign(run, "dummies-inert", [ARM, AD], dummies_checked="12", failed_inert_check="0")
    cli.sign(run, "checkout", [ARM], firearms_out="SAA-1,SAA-2")
    return cli


def _handoff(cli: Cli, serial: str, actor: str) -> str:
    out = cli("run", "start", "handoff", "--firearm", serial, "--performer", actor, "--json")
    return str(json.loads(out.stdout)["id"])


def test_ammo_add_without_a_source_is_refused(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.setup("P")
    refused = cli.armorer("ammo", "add", "D-9", "--type", "dummy", "--count", "6", code=1)
    assert "needs its source" in refused.stderr


def test_a_firearm_without_chambers_is_refused_for_blank_firing(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.setup("P")
    refused = cli.armorer("firearm", "add", "SAA-9", "--description", "Revolver", "--kind",
                          "blank-firing", code=1)  # fmt: skip
    assert "--chambers" in refused.stderr


def test_nine_dummies_in_a_six_chamber_revolver_fail(day: Cli) -> None:
    run = _handoff(day, "SAA-1", ACT)
    nine = day.sign(run, "rounds-loaded", [ARM, AD], code=1, dummies="9", blanks="0",
                    live_rounds="0")  # fmt: skip
    assert "9 rounds loaded but SAA-1 holds 6" in nine.stderr and "HOLD" in nine.stderr


def test_a_repeated_evidence_key_is_refused(day: Cli) -> None:
    run = _handoff(day, "SAA-2", ACT2)
    day.sign(run, "rounds-loaded", [ARM, AD], dummies="0", blanks="6", live_rounds="0")
    twice = day("run", "sign", run, "inspect", "--by", ARM, "--by", AD, "--by", ACT2,
                "--evidence", "serial-in-hand=SAA-2", "--evidence", "bore-clear=yes",
                "--evidence", "chambers-seen=3", "--evidence", "chambers-seen=6",
                "--evidence", "loads-as-listed=yes", stdin="1111\n2222\n4444\n", code=1)  # fmt: skip
    assert "'chambers-seen' given twice" in twice.stderr
    day.sign(run, "inspect", [ARM, AD, ACT2], serial_in_hand="SAA-2", bore_clear="yes",
             chambers_seen="6", loads_as_listed="yes")  # fmt: skip
    cold = day.sign(run, "ad-confirms", [AD, ARM], code=1, chambers_seen="6", state_called="cold")
    assert "called cold" in cold.stderr and "blanks x6" in cold.stderr


def test_a_live_round_at_one_handoff_holds_the_other_firearm_too(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.setup("P")
    for serial in ("SAA-1", "SAA-2"):
        cli.armorer("firearm", "add", serial, "--description", "Revolver", "--kind",
                    "blank-firing", "--chambers", "6")  # fmt: skip
    cli.armorer("ammo", "add", "D-1", "--type", "dummy", "--count", "12", "--source", "Prop house")
    cli.gate()
    run = json.loads(cli("run", "start", "opening", "--json").stdout)["id"]
    cli.sign(run, "meeting-held", [AD, ARM], attendees="12", concerns_read="yes")
    cli.sign(run, "no-other-duties", [ARM], other_duties="no")
    left_out = cli.sign(run, "lots-listed", [ARM, AD], code=1, lots="none", unlabelled="0")
    assert "lot D-1 not counted" in left_out.stderr
    holds = json.loads(cli("hold", "list", "--open", "--json").stdout)
    cli("hold", "resolve", holds[0]["id"], "--by", SUP, "--by", ARM, "--action", "Recounted",
        stdin="5555\n1111\n")  # fmt: skip
    cli.sign(run, "lots-listed", [ARM, AD], lots="D-1=12", unlabelled="0")
    cli.sign(run, "live-rounds-zero", [ARM, AD], live_rounds="0", unidentified_rounds="0")
    cli.sign(run, "dummies-inert", [ARM, AD], dummies_checked="12", failed_inert_check="0")
    cli.sign(run, "checkout", [ARM], firearms_out="SAA-1,SAA-2")
    first = _handoff(cli, "SAA-1", ACT)
    found = cli.sign(first, "rounds-loaded", [ARM, AD], code=1, dummies="5", blanks="0",
                     live_rounds="1")  # fmt: skip
    assert "Live or unidentified round found" in found.stderr
    other = cli("run", "start", "handoff", "--firearm", "SAA-2", "--performer", ACT2, code=1)
    assert "HOLD" in other.stderr


def test_init_records_the_time_zone_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    bad = cli("init", "--production", "P", "--supervisor", SUP, "--timezone", "Mars/Base",
              stdin="5555\n5555\n", code=2)  # fmt: skip
    assert "unknown time zone" in bad.stderr
    made = cli("init", "--production", "P", "--supervisor", SUP, "--timezone",
               "America/Los_Angeles", stdin="5555\n5555\n")  # fmt: skip
    assert "time zone America/Los_Angeles" in made.stdout
    first = json.loads(cli.db.read_text().splitlines()[0])
    assert first["data"]["timezone"] == "America/Los_Angeles"


def test_a_custody_break_with_every_firearm_locked_is_recorded(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.setup("P")
    out = cli("custody", "break", "--by", ACT2, "--reason", "ammunition cart left open",
              stdin="4444\n")  # fmt: skip
    assert "ammunition" in out.stdout
