"""Custody, freshness, flags, incidents and wrap reconciliation from the command line, end to end
through a real subprocess on a real store file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_cli import Cli

ARMORER, AD, ACTOR, SUPERVISOR = "Alex Reyes", "Jordan Lee", "Casey Morgan", "Pat Okafor"


def as_json(proc: Any) -> Any:
    return json.loads(proc.stdout)


def test_custody_flags_incidents_and_wrap_from_the_cli(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.setup("P")
    cli.armorer("firearm", "add", "COLT-1", "--description", "Revolver", "--kind", "blank-firing",
                "--chambers", "6")  # fmt: skip
    cli.armorer("ammo", "add", "B-1", "--type", "blank", "--count", "24", "--source", "Supplier")
    (colt,) = as_json(cli("firearm", "list", "--json"))
    assert colt["custody"]["holder"] == "locked" and colt["last_verified"] is None

    # Opening: the armorer honestly declares other duties -> a flag, not a failed step.
    cli.gate()
    run = as_json(cli("run", "start", "opening", "--json"))["id"]
    cli.sign(run, "meeting-held", [AD, ARMORER], attendees="9", concerns_read="yes")
    flagged = cli.sign(run, "no-other-duties", [ARMORER], other_duties="yes")
    assert "FLAG F0001" in flagged.stderr
    cli.sign(run, "lots-listed", [ARMORER, AD], lots="B-1=24", unlabelled="0")
    cli.sign(run, "live-rounds-zero", [ARMORER, AD], live_rounds="0", unidentified_rounds="0")
    cli.sign(run, "dummies-inert", [ARMORER, AD], dummies_checked="0", failed_inert_check="0")
    out = cli.sign(run, "checkout", [ARMORER], firearms_out="COLT-1")
    assert "custody: COLT-1 locked -> armorer (Alex Reyes)" in out.stdout
    start = ("run", "start", "handoff", "--firearm", "COLT-1", "--performer", ACTOR, "--json")
    refused = cli(*start, code=1)
    assert "F0001" in refused.stderr and "acknowledgement" in refused.stderr
    not_sup = cli("flag", "ack", "F0001", "--by", AD, "--note", "ok", stdin="2222\n", code=1)
    assert "only a safety supervisor" in not_sup.stderr
    cli("flag", "ack", "F0001", "--by", SUPERVISOR, "--note", "Props assistant covers props",
        stdin="5555\n")  # fmt: skip
    assert as_json(cli("flag", "list", "--open", "--json")) == []

    # Verification, then a lunch break: the handoff is stale and says why.
    hand = as_json(cli(*start))["id"]
    cli.sign(hand, "rounds-loaded", [ARMORER, AD], dummies="0", blanks="6", live_rounds="0")
    cli.sign(hand, "inspect", [ARMORER, AD, ACTOR], serial_in_hand="COLT-1", bore_clear="yes", chambers_seen="6",
             loads_as_listed="yes")  # fmt: skip
    (colt,) = as_json(cli("firearm", "list", "--json"))
    assert colt["custody"]["name"] == ARMORER and colt["last_verified"]["step"] == "inspect"
    assert colt["last_verified"]["fresh"] is True and colt["last_verified"]["age_minutes"] >= 0
    cli("firearm", "lock", "COLT-1", "--by", ARMORER, "--reason", "lunch", stdin="1111\n")
    cli("firearm", "checkout", "COLT-1", "--by", ARMORER, "--reason", "after lunch",
        stdin="1111\n")  # fmt: skip
    stale = cli.sign(hand, "ad-confirms", [AD, ARMORER], code=1, chambers_seen="6",
                     state_called="blanks x6")  # fmt: skip
    assert "custody of COLT-1 changed" in stale.stderr and "(after lunch)" in stale.stderr
    (colt,) = as_json(cli("firearm", "list", "--json"))
    assert colt["last_verified"]["fresh"] is False
    cli("custody", "break", "--by", "Riley Chen", "--reason", "blanks on an open cart",
        stdin="4444\n")  # fmt: skip

    # Incidents: a near miss holds nothing; a discharge holds the day until reviewed.
    near = as_json(cli("incident", "report", "--by", "Riley Chen", "--kind", "near-miss",
                       "--note", "[bold]Muzzle[/] swept the dolly", "--json", stdin="4444\n"))  # fmt: skip
    assert near == {"id": "I0001", "hold": None}
    bang = cli("incident", "report", "--by", ACTOR, "--kind", "unintended-discharge",
               "--note", "Went off while holstering", "--firearm", "COLT-1", stdin="3333\n")  # fmt: skip
    assert "HOLD H0001" in bang.stderr
    listed = cli("incident", "list")
    assert "[bold]Muzzle[/] swept the dolly" in listed.stdout  # user text shown literally
    incidents = as_json(cli("incident", "list", "--open", "--json"))
    assert [(i["id"], i["state"]) for i in incidents] == [
        ("I0001", "to-read-out"),
        ("I0002", "on-hold"),
    ]
    blocked = cli.sign(hand, "rounds-loaded", [ARMORER, AD], code=1, dummies="0", blanks="6",
                       live_rounds="0")  # fmt: skip
    assert "HOLD" in blocked.stderr
    cli("incident", "review", "I0001", "--by", SUPERVISOR, "--by", ARMORER, "--action", "x",
        stdin="5555\n1111\n", code=1)  # fmt: skip
    cli("incident", "review", "I0002", "--by", SUPERVISOR, "--by", ARMORER, "--by", AD,
        "--action", "Holster snag; retrained", stdin="5555\n1111\n2222\n")  # fmt: skip
    assert as_json(cli("hold", "list", "--open", "--json")) == []

    # The handoff redone from the ammunition check, six blanks fired, then wrap reconciles.
    cli.sign(hand, "rounds-loaded", [ARMORER, AD], dummies="0", blanks="6", live_rounds="0")
    cli.sign(hand, "inspect", [ARMORER, AD, ACTOR], serial_in_hand="COLT-1", bore_clear="yes", chambers_seen="6",
             loads_as_listed="yes")  # fmt: skip
    cli.sign(hand, "ad-confirms", [AD, ARMORER], chambers_seen="6", state_called="blanks x6")
    cli.sign(hand, "announced", [AD], line_of_fire_clear="yes", hot_announced="yes",
             safe_distance="20", shields="yes")  # fmt: skip
    cli.sign(hand, "hand-over", [ARMORER, ACTOR])
    (colt,) = as_json(cli("firearm", "list", "--json"))
    assert (colt["custody"]["holder"], colt["custody"]["name"]) == ("performer", ACTOR)
    cli.sign(hand, "performer-check", [ACTOR], witnessed_show_clear="yes")
    cli.sign(hand, "returned", [ARMORER, ACTOR], rounds_expended="B-1=6", reinspected_clear="yes")
    lots = as_json(cli("ammo", "list", "--json"))
    assert (lots[0]["morning"], lots[0]["expended"], lots[0]["expected"]) == (24, 6, 18)
    wrap = as_json(cli("run", "start", "wrap", "--json"))["id"]
    cli.sign(wrap, "locked-up", [ARMORER, AD], firearms_locked="COLT-1", missing="0")
    short = cli.sign(wrap, "counts-reconciled", [ARMORER, AD], code=1, counts="B-1=17")
    assert "B-1 counted 17, expected 18 (morning 24 - expended 6)" in short.stderr
    assert "HOLD H0002" in short.stderr
    (colt,) = as_json(cli("firearm", "list", "--json"))
    assert colt["custody"]["holder"] == "locked"
