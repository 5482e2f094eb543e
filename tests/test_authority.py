"""Issue 12: who may change who signs, independence, and secrets kept off the record.

Every rule both ways (allowed with the right authority, refused without), through the CLI in a
subprocess on a real store; stores are built in-process (cheap PINs) where that saves time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from report_support import write_store
from support import (
    AD,
    ARMORER,
    CHECKLISTS,
    SUPERVISOR,
    World,
    cred,
    open_day,
    setup_world,
    sign,
    start,
)
from test_cli import Cli

from safetyapp.domain import engine
from safetyapp.domain import events as ev
from safetyapp.store.credentials import credentials_path, read_credentials
from safetyapp.store.journal import Journal
from safetyapp.store.repository import Repository

SUP, ARM, ADN = SUPERVISOR[0], ARMORER[0], AD[0]
PIN = {SUP: SUPERVISOR[2], ARM: ARMORER[2], ADN: AD[2]}
DANA = ("Dana Dual", ["armorer", "supervisor"], "7777")  # crewed in two roles


def lines(*pins: str) -> str:
    return "".join(f"{p}\n" for p in pins)


def records(cli: Cli) -> list[dict[str, Any]]:
    return Journal.open(cli.db).records()


def last_refusal(cli: Cli) -> dict[str, Any]:
    return next(r for r in reversed(records(cli)) if r["kind"] == ev.REFUSED)


@pytest.fixture()
def cli(tmp_path: Path) -> Cli:
    """The standard crew (supervisor Pat Okafor), firearms and a lot; no day opened."""
    c = Cli(tmp_path)
    write_store(setup_world(), c.db)
    return c


# -- 1. authority from the first moment ----------------------------------------------------------


def test_init_creates_the_production_with_its_supervisor_and_the_pin_beside_the_record(
    tmp_path: Path,
) -> None:
    c = Cli(tmp_path)
    no_supervisor = c("init", "--production", "P", stdin=lines("1234", "1234"), code=2)
    assert "--supervisor" in no_supervisor.stderr and not c.db.exists()
    out = c("init", "--production", "P", "--supervisor", "Pat Okafor", stdin=lines("9137", "9137"))
    assert "safety supervisor: Pat Okafor" in out.stdout
    first = records(c)
    assert [r["kind"] for r in first] == [ev.PRODUCTION_CREATED, ev.CREW_ADDED] + [
        ev.CHECKLIST_ADOPTED
    ] * 5  # the bundled checklists, adopted by the first supervisor
    assert first[0]["data"]["format"] == ev.RECORD_FORMAT == 4
    assert first[1]["data"]["roles"] == ["supervisor"] and first[1]["by"] == "Pat Okafor"
    (stored,) = read_credentials(c.db).values()
    assert stored["id"] == first[1]["data"]["credential"]
    assert stored["salt"] not in c.db.read_text() and stored["hash"] not in c.db.read_text()
    assert credentials_path(c.db).stat().st_mode & 0o777 == 0o600
    # The supervisor signs with that PIN at once; a wrong one is refused.
    add = ["crew", "add", "Alex Reyes", "--role", "armorer", "--by", "Pat Okafor"]
    assert "wrong PIN" in c(*add, stdin=lines("0000", "1111", "1111"), code=1).stderr
    c(*add, stdin=lines("9137", "1111", "1111"))
    again = c("init", "--production", "Q", "--supervisor", "X", stdin=lines("1", "1"), code=1)
    assert "already exists" in again.stderr  # refused before a PIN is asked for


def test_crew_add_needs_a_supervisor_and_is_recorded_with_by(cli: Cli) -> None:
    add = ["crew", "add", "Quinn Pike", "--role", "actor"]
    cli(*add, stdin=lines("8642", "8642"), code=2)  # no --by: a usage error
    refused = cli(*add, "--by", ARM, stdin=lines(PIN[ARM], "8642", "8642"), code=1)
    assert "not crewed as Safety supervisor" in refused.stderr
    assert last_refusal(cli)["data"]["code"] == "not-authorised"  # the attempt is on the record
    cli(*add, "--by", SUP, stdin=lines(PIN[SUP], "8642", "8642"))
    added = records(cli)[-1]
    assert added["kind"] == ev.CREW_ADDED and added["by"] == SUP
    assert set(added["data"]) == {"name", "roles", "credential"}  # no hash, no salt
    cli("hold", "raise", "--by", "Quinn Pike", "--reason", "r", stdin=lines("8642"))


def test_attack_replay_the_armorer_adds_himself_as_ad(cli: Cli) -> None:
    """The issue's attack without the Cyrillic letter: the armorer tries to become a second
    'person' (or gain the AD role) on his own authority. Every route is refused and recorded."""
    before = len(records(cli))
    attempts = [
        (["crew", "add", "Alex Reyes II", "--role", "ad", "--by", ARM], [PIN[ARM], "1112", "1112"]),
        (["crew", "role", ARM, "--grant", "ad", "--by", ARM], [PIN[ARM]]),
        (["crew", "add", "Alex Reyes II", "--role", "supervisor", "--by", ARM],
         [PIN[ARM], "1112", "1112"]),
    ]  # fmt: skip
    for args, pins in attempts:
        out = cli(*args, stdin=lines(*pins), code=1)
        assert "refused" in out.stderr, args
    after = records(cli)[before:]
    assert [r["kind"] for r in after] == [ev.REFUSED] * 3
    assert {r["by"] for r in after} == {ARM}
    flagged = json.loads(cli("audit", "--flagged", "--json").stdout)
    assert sum(1 for r in flagged if r["kind"] == ev.REFUSED and r["by"] == ARM) == 3
    crew = {m["name"]: m["roles"] for m in json.loads(cli("crew", "list", "--json").stdout)}
    assert crew[ARM] == ["armorer"] and "Alex Reyes II" not in crew


def test_roles_are_granted_and_revoked_by_a_supervisor_never_by_oneself(cli: Cli) -> None:
    grant = ["crew", "role", ARM, "--grant", "ad"]
    cli(*grant, "--by", ADN, stdin=lines(PIN[ADN]), code=1)
    own = cli("crew", "role", SUP, "--grant", "armorer", "--by", SUP, stdin=lines(PIN[SUP]),
              code=1)  # fmt: skip
    assert "nobody grants their own roles" in own.stderr
    cli(*grant, "--by", SUP, stdin=lines(PIN[SUP]))
    granted = records(cli)[-1]
    assert granted["kind"] == ev.CREW_ROLE_GRANTED and granted["by"] == SUP
    assert granted["data"] == {"name": ARM, "role": "ad"}
    revoke = ["crew", "role", ARM, "--revoke", "ad"]
    cli(*revoke, "--by", ARM, stdin=lines(PIN[ARM]), code=1)
    cli(*revoke, "--by", SUP, stdin=lines(PIN[SUP]))
    last = cli("crew", "role", ARM, "--revoke", "armorer", "--by", SUP, stdin=lines(PIN[SUP]),
               code=1)  # fmt: skip
    assert "only role" in last.stderr
    cli("crew", "role", ARM, "--grant", "ad", "--revoke", "ad", "--by", SUP, code=2)


def test_deactivation_by_a_supervisor_and_the_deactivated_sign_nothing(cli: Cli) -> None:
    cli("crew", "deactivate", ADN, "--by", ARM, stdin=lines(PIN[ARM]), code=1)
    cli("crew", "deactivate", SUP, "--by", SUP, stdin=lines(PIN[SUP]), code=1)
    cli("crew", "deactivate", ADN, "--by", SUP, stdin=lines(PIN[SUP]))
    gone = cli("hold", "raise", "--by", ADN, "--reason", "r", stdin=lines(PIN[ADN]))
    assert "UNVERIFIED" in gone.stderr and "deactivated" in gone.stderr  # a stop, never refused
    assert "(deactivated)" in cli("crew", "list").stdout


def test_pins_own_with_the_current_one_others_only_by_a_supervisor_which_ends_a_lockout(
    cli: Cli,
) -> None:
    cli("crew", "pin", ADN, stdin=lines("9999", "2468", "2468"), code=1)  # wrong current PIN
    cli("crew", "pin", ADN, stdin=lines(PIN[ADN], "2468", "2468"))  # own, current PIN
    cli("crew", "pin", ADN, "--by", ARM, stdin=lines(PIN[ARM], "1357", "1357"), code=1)
    for _ in range(5):  # lock Jordan out (each hold is still raised, unverified)
        wrong = cli("hold", "raise", "--by", ADN, "--reason", "r", stdin=lines("0000"))
        assert "UNVERIFIED" in wrong.stderr and "wrong PIN" in wrong.stderr
    locked = cli("hold", "raise", "--by", ADN, "--reason", "r", stdin=lines("2468"))
    assert "UNVERIFIED" in locked.stderr and "locked out" in locked.stderr
    cli("crew", "pin", ADN, "--by", SUP, stdin=lines(PIN[SUP], "1357", "1357"))
    reset = records(cli)[-1]
    assert reset["kind"] == ev.CREW_PIN_SET and reset["by"] == SUP and reset["result"] == "reset"
    assert "lockout ended" in reset["note"] and "pin" not in reset["data"]
    over = cli("hold", "raise", "--by", ADN, "--reason", "r", stdin=lines("1357"))  # lockout over
    assert "UNVERIFIED" not in over.stderr
    flagged = json.loads(cli("audit", "--flagged", "--json").stdout)
    sets = [r for r in flagged if r["kind"] == ev.CREW_PIN_SET]
    assert [(r["by"], r["result"]) for r in sets] == [(ADN, "changed"), (SUP, "reset")]


def test_firearms_and_lots_are_added_by_an_armorer(cli: Cli) -> None:
    firearm = ["firearm", "add", "SIG-3", "--description", "Pistol", "--kind", "rubber"]
    lot = ["ammo", "add", "D-9", "--type", "dummy", "--count", "12", "--source", "Prop house"]
    for args in (firearm, lot):
        cli(*args, code=2)  # no --by
        refused = cli(*args, "--by", ADN, stdin=lines(PIN[ADN]), code=1)
        assert "not crewed as Armorer" in refused.stderr
        cli(*args, "--by", ARM, stdin=lines(PIN[ARM]))
        assert records(cli)[-1]["by"] == ARM
    flagged = {r["kind"] for r in json.loads(cli("audit", "--flagged", "--json").stdout)}
    assert {ev.FIREARM_ADDED, ev.AMMO_ADDED, ev.CREW_ADDED} <= flagged


def test_the_days_report_lists_crew_and_inventory_changes(tmp_path: Path) -> None:
    world = setup_world()
    open_day(world)
    assert world.do(engine.set_pin, ADN, cred(SUPERVISOR), _cheap("8080")).ok
    c = Cli(tmp_path)
    write_store(world, c.db)
    c("report", "--out", str(tmp_path / "day.md"))
    text = (tmp_path / "day.md").read_text()
    section = text.split("## Crew and inventory changes", 1)[1].split("\n## ", 1)[0]
    assert "PIN set" in section and f"PIN of {ADN} set by {SUP}" in section
    assert "firearm added" in section and "lot declared" in section and "crew added" in section
    assert section.count(SUP) >= 6  # the crew added, each signed by the supervisor


# -- 2. independence --------------------------------------------------------------------------


def _dual_world() -> World:
    """Dana is crewed as armorer and as safety supervisor; she works the opening as armorer
    and declares other duties: a flag about her."""
    world = setup_world([SUPERVISOR, DANA, ARMORER, AD, ("Casey Morgan", ["actor"], "3333")])
    run = start(world, "opening")
    assert sign(
        world, run, "meeting-held", AD, DANA, evidence={"attendees": "9", "concerns-read": "yes"}
    ).ok
    flagged = sign(world, run, "no-other-duties", DANA, evidence={"other-duties": "yes"})
    assert flagged.ok and world.state.open_flags()
    return world


def test_nobody_acknowledges_a_flag_about_themselves(tmp_path: Path) -> None:
    c = Cli(tmp_path)
    world = _dual_world()
    write_store(world, c.db)
    (flag,) = world.state.open_flags()
    ack = ["flag", "ack", flag.id, "--note", "cleared"]
    own = c(*ack, "--by", DANA[0], stdin=lines(DANA[2]), code=1)
    assert "about Dana Dual's own sign-off" in own.stderr
    assert last_refusal(c)["data"]["code"] == "independence"
    c(*ack, "--by", SUP, stdin=lines(PIN[SUP]))


def test_a_person_in_two_roles_acts_in_one_per_run_resolving_a_hold_too(tmp_path: Path) -> None:
    """'Two armorers resolved a hold together': Dana (armorer and supervisor) worked this run
    as armorer, so she cannot be its supervisor resolver; the supervisor and she can."""
    c = Cli(tmp_path)
    world = _dual_world()
    run = next(iter(world.state.runs))
    assert world.do(engine.raise_hold, cred(AD), "unsafe", run=run).ok
    write_store(world, c.db)
    resolve = ["hold", "resolve", "H0001", "--action", "checked", "--by", DANA[0], "--by", ARM]
    two_armorers = c(*resolve, stdin=lines(DANA[2], PIN[ARM]), code=1)
    assert "Dana Dual acts as Armorer in run" in two_armorers.stderr
    c("hold", "resolve", "H0001", "--action", "checked", "--by", SUP, "--by", DANA[0],
      stdin=lines(PIN[SUP], DANA[2]))  # fmt: skip
    resolved = records(c)[-1]["data"]["resolvers"]
    assert resolved == [{"name": SUP, "role": "supervisor"}, {"name": DANA[0], "role": "armorer"}]


def test_a_hold_about_someone_is_resolved_by_two_others(tmp_path: Path) -> None:
    c = Cli(tmp_path)
    world = setup_world([SUPERVISOR, DANA, ARMORER, AD])
    write_store(world, c.db)
    c("hold", "raise", "--by", ADN, "--reason", "the armorer smelled of drink", "--about", ARM,
      stdin=lines(PIN[ADN]))  # fmt: skip
    resolve = ["hold", "resolve", "H0001", "--action", "replaced for the day"]
    about = c(*resolve, "--by", SUP, "--by", ARM, stdin=lines(PIN[SUP], PIN[ARM]), code=1)
    assert "about Alex Reyes" in about.stderr
    c(*resolve, "--by", SUP, "--by", DANA[0], stdin=lines(PIN[SUP], DANA[2]))


# -- 4. secrets and the record's format --------------------------------------------------------


def _store_with(tmp_path: Path, first: dict[str, Any]) -> Cli:
    c = Cli(tmp_path)
    Journal.create(c.db, [first])
    return c


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"name": "Old"}, "no format"),
        ({"name": "Before qualifications", "format": 3}, "format 3"),
        ({"name": "New", "format": 5}, "format 5"),
    ],
)
def test_a_record_of_another_format_is_refused_clearly(
    tmp_path: Path, data: dict[str, Any], said: str
) -> None:
    from datetime import UTC, datetime

    c = _store_with(tmp_path, ev.event(ev.PRODUCTION_CREATED, datetime(2026, 1, 1, tzinfo=UTC),
                                       **data))  # fmt: skip
    before = c.db.read_bytes()
    out = c("crew", "list", code=1)
    assert said in out.stderr and "this version reads format 4" in out.stderr, out.stderr
    assert "safetyapp init" in out.stderr and c.db.read_bytes() == before


def test_credentials_file_is_written_atomically_0600_and_keeps_only_current_pins(cli: Cli) -> None:
    path = credentials_path(cli.db)
    os.chmod(path, 0o644)  # even if someone loosened it, the next write is 0600 again
    old = {r.pin_id for r in [_member(cli, ADN)]}
    cli("crew", "pin", ADN, "--by", SUP, stdin=lines(PIN[SUP], "2468", "2468"))
    assert path.stat().st_mode & 0o777 == 0o600
    # The replaced record stays one write longer (a crash before the event leaves the record
    # naming it, still valid); the next write drops it.
    assert old <= set(read_credentials(cli.db))
    cli("crew", "add", "Quinn Pike", "--role", "actor", "--by", SUP,
        stdin=lines(PIN[SUP], "8642", "8642"))  # fmt: skip
    current = {m.pin_id for m in Repository.open(cli.db, CHECKLISTS).state.crew.values()}
    assert set(read_credentials(cli.db)) == current and not old & current
    assert [p.name for p in cli.db.parent.iterdir() if ".credentials." in p.name] == []
    broken = cli.db.parent / "other.jsonl"
    broken.write_bytes(cli.db.read_bytes())
    credentials_path(broken).write_text("{not json")
    out = cli("--db", str(broken), "hold", "raise", "--by", ADN, "--reason", "r",
              stdin=lines("2468"), code=1)  # fmt: skip
    assert "credentials file" in out.stderr and "cannot be read" in out.stderr


def _member(cli: Cli, name: str) -> Any:
    return Repository.open(cli.db, CHECKLISTS).state.crew[name]


def _cheap(pin: str) -> dict[str, Any]:
    from support import cheap_pin

    return cheap_pin(pin)
