"""Issue 15, "Local time": every time a person reads is the production's local time with its
zone, days are local dates, and the record (and the machine-readable outputs) keep UTC.

Productions far from UTC (Los Angeles, Sydney), on a day that crosses UTC midnight, read
through the CLI in subprocesses from real store files; the machine's own zone (TZ) is set
to something else to show it plays no part. Also: the production's safe distance set at init.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from report_support import walked_day, write_store
from scenario_support import handoff, open_day, populate, sign_step
from support import (
    ARMORER,
    CHECKLISTS,
    CREW,
    PINS,
    SUPERVISOR,
    World,
    cheap_pin,
    cred,
    seed,
)
from test_cli import Cli

from safetyapp.domain import clock, engine
from safetyapp.domain import events as ev
from safetyapp.store.repository import Repository

LA = "America/Los_Angeles"
SYDNEY = "Australia/Sydney"


def zoned_world(zone: str, start: datetime) -> World:
    """The report tests' world (crew, COLT-1, GLOCK-2, lot D-1) in a production of `zone`."""
    world = World()
    world.now = start
    made = world.do(engine.create_production, "Test Production", SUPERVISOR[0],
                    cheap_pin(SUPERVISOR[2]), adopt=CHECKLISTS.values(), timezone=zone)  # fmt: skip
    assert made.ok
    _, arm = seed(world.do, CREW, created=True)
    assert world.do(engine.add_firearm, arm, "COLT-1", "Revolver", "blank-firing", 6).ok
    assert world.do(engine.add_firearm, arm, "GLOCK-2", "Pistol", "blank-firing", 15).ok
    assert world.do(engine.add_ammo, arm, "D-1", "dummy", 36, "Prop house").ok
    return world


def cli_on(world: World, tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    write_store(world, cli.db)
    cli.env["TZ"] = "EST5"  # the machine's zone: never the one shown
    return cli


def world_made(text: str) -> str:
    """The UTC time the report says it was made (in brackets after the local one)."""
    return text.rsplit("(", 1)[1].split(")", 1)[0]


@pytest.fixture
def la_night(tmp_path: Path) -> tuple[Cli, World]:
    """A Los Angeles day from 15:45 PST on 2 March that runs past midnight UTC (16:00 PST)."""
    world = walked_day(zoned_world(LA, datetime(2026, 3, 2, 23, 45, tzinfo=UTC)))
    first, last = world.log[0]["time"], world.log[-1]["time"]
    assert first.startswith("2026-03-02T23:") and last.startswith("2026-03-03T00:"), (first, last)
    return cli_on(world, tmp_path), world


def test_the_clock_format() -> None:
    winter = "2026-12-02T22:05:12.000000Z"
    assert clock.shown(winter, LA) == "2026-12-02 14:05 PST"
    assert clock.shown(winter, LA, date=False) == "14:05 PST"
    assert clock.shown(winter, LA, seconds=True) == "2026-12-02 14:05:12 PST"
    assert clock.shown(winter, SYDNEY) == "2026-12-03 09:05 AEDT"  # the next local day
    assert clock.shown(winter, "UTC") == "2026-12-02 22:05 UTC"
    assert clock.shown(winter, "Asia/Kathmandu") == "2026-12-03 03:50 +0545"  # no abbreviation
    assert clock.shown(None, LA) == ""
    assert clock.local_date(winter, SYDNEY).isoformat() == "2026-12-03"


def test_audit_rows_show_local_time_and_dates_filter_by_the_local_day(
    la_night: tuple[Cli, World],
) -> None:
    cli, world = la_night
    lines = cli("audit").stdout.splitlines()
    assert len(lines) == len(world.log)
    assert " 2026-03-02 15:45:00 PST production-created" in lines[0]
    # The last event is after midnight UTC, still 2 March in Los Angeles.
    assert " 2026-03-02 16:" in lines[-1] and " PST " in lines[-1], lines[-1]
    assert not any("2026-03-03" in line for line in lines)
    # --since/--until dates are the production's local dates: the whole day, nothing more.
    day = json.loads(
        cli("audit", "--json", "--since", "2026-03-02", "--until", "2026-03-02").stdout
    )
    assert len(day) == len(world.log)
    assert json.loads(cli("audit", "--json", "--since", "2026-03-03").stdout) == []


def test_machine_readable_outputs_keep_utc_with_local_beside(la_night: tuple[Cli, World]) -> None:
    cli, world = la_night
    last = world.log[-1]["time"]
    event = json.loads(cli("audit", "--json").stdout)[-1]
    assert event["time"] == last and last.startswith("2026-03-03T00:")
    assert event["time_local"].startswith("2026-03-02T16:") and event["time_local"].endswith(
        "-08:00"
    )
    row = list(csv.DictReader(io.StringIO(cli("audit", "--csv").stdout, newline="")))[-1]
    assert row["time_utc"] == last
    assert row["time_local"] == event["time_local"]
    status = json.loads(cli("run", "status", "R0001", "--json").stdout)
    signed = [s["time"] for s in status["steps"] if s["time"]]
    assert signed and all(t.endswith("Z") for t in signed)


def test_run_status_and_checklists_show_local_times(la_night: tuple[Cli, World]) -> None:
    cli, _world = la_night
    text = cli("run", "status", "R0001").stdout
    assert "2026-03-02 15:" in text and " PST" in text and "T23:" not in text, text
    listed = cli("checklists", "list").stdout
    assert "adopted by Pat Okafor at 2026-03-02 15:45 PST" in listed, listed


def test_the_report_is_of_the_local_day_in_local_time(
    la_night: tuple[Cli, World], tmp_path: Path
) -> None:
    cli, world = la_night
    out = tmp_path / "day.md"
    said = cli("report", "--day", "2026-03-02", "--out", str(out)).stdout
    assert "(2026-03-02)" in said
    text = out.read_text(encoding="utf-8")
    assert "PST (UTC-08:00)" in text
    wrapped = ev.parse_time(world.state.days[0].wrapped_at or "")
    local = wrapped.astimezone(clock.zone(LA))
    assert local.date().isoformat() == "2026-03-02" and wrapped.date().isoformat() == "2026-03-03"
    # The wrap, after midnight UTC, is a time of the same (local) day: no other date in front.
    assert f"- **Wrap**: {local:%H:%M:%S}\n" in text, text[:600]
    assert "2026-03-03" not in text.replace(f"({world_made(text)})", "")


def test_a_sydney_day_is_its_local_date(tmp_path: Path) -> None:
    # 20:00 UTC on 2 March is 07:00 on 3 March in Sydney (AEDT, UTC+11).
    world = walked_day(zoned_world(SYDNEY, datetime(2026, 3, 2, 20, 0, tzinfo=UTC)))
    cli = cli_on(world, tmp_path)
    out = tmp_path / "day.md"
    said = cli("report", "--day", "2026-03-03", "--out", str(out)).stdout
    assert "day 1 (2026-03-03)" in said
    assert "- **Day**: 1, 2026-03-03\n" in out.read_text(encoding="utf-8")
    lines = cli("audit").stdout.splitlines()
    assert " 2026-03-03 07:00:00 AEDT production-created" in lines[0], lines[0]
    bundle = tmp_path / "bundle"
    cli("export", "--out", str(bundle))
    assert [p.name for p in (bundle / "reports").glob("*.md")] == ["day-001-2026-03-03.md"]
    exported = json.loads((bundle / "events.json").read_text(encoding="utf-8"))
    assert exported[0]["time"] == "2026-03-02T20:00:00.000000Z"
    assert exported[0]["time_local"] == "2026-03-03T07:00:00+11:00"


def test_refusals_name_local_times() -> None:
    world = zoned_world(LA, datetime(2026, 12, 2, 22, 0, tzinfo=UTC))  # 14:00 PST
    again = world.do(engine.adopt_checklist, cred(SUPERVISOR), cred(ARMORER), CHECKLISTS["handoff"])
    assert not again.ok and "since 2026-12-02 14:00 PST" in (again.refused or ""), again.refused


# -- the production's safe distance ----------------------------------------------------------


def test_the_safe_distance_is_set_at_init_on_the_record(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    pin = PINS[SUPERVISOR[0]]
    said = cli("init", "--production", "P", "--supervisor", SUPERVISOR[0], "--timezone", LA,
               "--safe-distance-ft", "30", stdin=f"{pin}\n{pin}\n").stdout  # fmt: skip
    assert "safe distance from blank fire 30 ft" in said
    created = json.loads(cli("audit", "--json", "--kind", "production-created").stdout)[0]
    assert created["data"]["blank_distance_ft"] == 30
    assert Repository.open(cli.db, CHECKLISTS).state.blank_distance_ft == 30
    cli("verify")  # the record replays with it


@pytest.mark.parametrize("feet", ["0", "-5", "5000"])
def test_a_safe_distance_out_of_range_is_refused_before_anything_is_made(
    tmp_path: Path, feet: str
) -> None:
    cli = Cli(tmp_path)
    pin = PINS[SUPERVISOR[0]]
    bad = cli("init", "--production", "P", "--supervisor", SUPERVISOR[0],
              "--safe-distance-ft", feet, stdin=f"{pin}\n{pin}\n", code=2)  # fmt: skip
    assert "safe distance from blank fire must be a whole number of feet from 1 to 1000" in (
        bad.stderr
    )
    assert not cli.db.exists()


def test_the_handoff_checks_the_productions_own_distance() -> None:
    world = World()
    made = world.do(engine.create_production, "P", SUPERVISOR[0], cheap_pin(SUPERVISOR[2]),
                    adopt=CHECKLISTS.values(), blank_distance_ft=30)  # fmt: skip
    assert made.ok and world.state.blank_distance_ft == 30
    world.created = True  # type: ignore[attr-defined]
    populate(world)
    open_day(world)
    run = handoff(world)
    assert sign_step(world, run, "rounds-loaded", evidence={"dummies": "0", "blanks": "6"}).ok
    assert sign_step(world, run, "inspect").ok
    assert sign_step(world, run, "ad-confirms", evidence={"state-called": "blanks x6"}).ok
    near = sign_step(world, run, "announced",
                     evidence={"hot-announced": "yes", "safe-distance": "25"})  # fmt: skip
    assert near.events[0]["result"] == "fail" and "30 ft" in near.events[0]["note"]


def test_a_lockout_says_until_when_in_local_time() -> None:
    world = zoned_world(LA, datetime(2026, 12, 2, 22, 0, tzinfo=UTC))  # 14:00 PST
    wrong = engine.Credential(ARMORER[0], "0000")
    for _ in range(5):
        assert not world.do(engine.add_ammo, wrong, "D-9", "dummy", 6, "Prop house").ok
    locked = world.do(engine.add_ammo, cred(ARMORER), "D-9", "dummy", 6, "Prop house")
    assert not locked.ok and "locked out" in (locked.refused or ""), locked.refused
    assert " until 14:" in (locked.refused or "") and (locked.refused or "").endswith(" PST")
