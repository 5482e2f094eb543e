"""The CLI end to end, through a real subprocess on a real store file: a full day, then refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from support import LICENCE_EXPIRES, TRAINED_ON

from safetyapp.domain.roles import FIREARMS_ROLES

PINS = {
    "Alex Reyes": "1111",
    "Jordan Lee": "2222",
    "Casey Morgan": "3333",
    "Riley Chen": "4444",
    "Pat Okafor": "5555",
}
SUPERVISOR, ARMORER = "Pat Okafor", "Alex Reyes"
ROLES = {
    "Alex Reyes": "armorer",
    "Jordan Lee": "ad",
    "Casey Morgan": "actor",
    "Riley Chen": "actor",
    "Pat Okafor": "supervisor",
}


class Cli:
    def __init__(self, tmp: Path) -> None:
        self.db = tmp / "record.jsonl"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SAFETYAPP")}
        self.env["XDG_STATE_HOME"] = str(tmp / "state")
        self.env["XDG_DATA_HOME"] = str(tmp / "data")

    def __call__(
        self, *args: str, stdin: str = "", code: int | None = 0
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "safetyapp", "--db", str(self.db), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
        )
        if code is not None:
            assert proc.returncode == code, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    def setup(self, production: str) -> None:
        """A production the way the product makes one: created with its first safety supervisor,
        who adds the crew; the armorer adds firearms and lots (see `armorer`)."""
        self("init", "--production", production, "--supervisor", SUPERVISOR,
             stdin=f"{PINS[SUPERVISOR]}\n{PINS[SUPERVISOR]}\n")  # fmt: skip
        for name, role in ROLES.items():
            if name != SUPERVISOR:
                pin = PINS[name]
                self("crew", "add", name, "--role", role, "--by", SUPERVISOR,
                     stdin=f"{PINS[SUPERVISOR]}\n{pin}\n{pin}\n")  # fmt: skip
        self.qualify()

    def qualify(self) -> None:
        """The qualifications a walk needs, entered by the supervisor with `crew licence` and
        `crew train` (as tests/support.py's `qualify` does in-process)."""
        boss = ("--by", SUPERVISOR)
        pin = f"{PINS[SUPERVISOR]}\n"
        for name, role in ROLES.items():
            if role == "armorer":
                self("crew", "licence", name, "--number", "AL-1", "--issuer", "Test board",
                     "--expires", LICENCE_EXPIRES, *boss, stdin=pin)  # fmt: skip
            if role in FIREARMS_ROLES:
                self("crew", "train", name, "--date", TRAINED_ON, "--provider", "Test course",
                     *boss, stdin=pin)  # fmt: skip

    def gate(self) -> str:
        """The pre-production gate through the CLI (`run start prep`), signed by the
        supervisor, the armorer witnessing (as tests/support.py's `gate` does in-process)."""
        run = str(json.loads(self("run", "start", "prep", "--json").stdout)["id"])
        self.sign(run, "risk-assessment", [SUPERVISOR], reference="RA-2026-01 rev 2",
                  on_file="yes")  # fmt: skip
        self.sign(run, "armorer-hired", [SUPERVISOR, ARMORER], armorer_only="yes")
        self.sign(run, "licences-in-date", [SUPERVISOR], licences_in_date="yes")
        self.sign(run, "training-complete", [SUPERVISOR], training_complete="yes")
        return run

    def armorer(self, *args: str, code: int | None = 0) -> subprocess.CompletedProcess[str]:
        """A command signed by the armorer (`--by` and the PIN on stdin)."""
        return self(*args, "--by", ARMORER, stdin=f"{PINS[ARMORER]}\n", code=code)

    def sign(
        self, run: str, step: str, by: Sequence[str], code: int | None = 0, **evidence: str
    ) -> subprocess.CompletedProcess[str]:
        args = ["run", "sign", run, step]
        for name in by:
            args += ["--by", name]
        for key, value in evidence.items():
            args += ["--evidence", f"{key.replace('_', '-')}={value}"]
        return self(*args, stdin="".join(PINS[n] + "\n" for n in by), code=code)


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """A store with a production, crew, two firearms and a dummy lot, and the day opened."""
    cli = Cli(tmp_path_factory.mktemp("cli"))
    cli.setup("Dusk Rider")
    cli.armorer("firearm", "add", "COLT-1", "--description", "Revolver", "--kind", "blank-firing",
                "--chambers", "6")  # fmt: skip
    cli.armorer("firearm", "add", "RUB-2", "--description", "Rubber pistol", "--kind", "rubber")
    cli.armorer("ammo", "add", "D-1", "--type", "dummy", "--count", "36", "--source", "Prop house")
    cli.gate()
    run = json.loads(cli("run", "start", "opening", "--json").stdout)["id"]
    armorer, ad = "Alex Reyes", "Jordan Lee"
    cli.sign(run, "meeting-held", [ad, armorer], attendees="24", concerns_read="yes")
    cli.sign(run, "no-other-duties", [armorer], other_duties="no")
    cli.sign(run, "lots-listed", [armorer, ad], lots="D-1=36", unlabelled="0")
    cli.sign(run, "live-rounds-zero", [armorer, ad], live_rounds="0", unidentified_rounds="0")
    cli.sign(run, "dummies-inert", [armorer, ad], dummies_checked="36", failed_inert_check="0")
    cli.sign(run, "checkout", [armorer], firearms_out="COLT-1,RUB-2")
    return cli


def walk_handoff(cli: Cli, serial: str, actor: str, chambers: str) -> str:
    armorer, ad = "Alex Reyes", "Jordan Lee"
    run = json.loads(
        cli("run", "start", "handoff", "--firearm", serial, "--performer", actor, "--scene", "12A",
            "--json").stdout
    )["id"]  # fmt: skip
    dummies = "6" if chambers != "0" else "0"  # a rubber pistol holds no rounds
    cli.sign(run, "rounds-loaded", [armorer, ad], dummies=dummies, blanks="0", live_rounds="0")
    cli.sign(run, "inspect", [armorer, ad, actor], serial_in_hand=serial, bore_clear="yes",
             chambers_seen=chambers, loads_as_listed="yes")  # fmt: skip
    called = "dummies x6" if dummies == "6" else "cold"
    cli.sign(run, "ad-confirms", [ad, armorer], chambers_seen=chambers, state_called=called)
    cli.sign(run, "announced", [ad], line_of_fire_clear="yes", hot_announced="no",
             safe_distance="none", shields="yes")  # fmt: skip
    cli.sign(run, "hand-over", [armorer, actor])
    cli.sign(run, "performer-check", [actor], witnessed_show_clear="yes")
    cli.sign(run, "returned", [armorer, actor], rounds_expended="0", reinspected_clear="yes")
    return run


def test_full_day_by_distinct_crew(day: Cli) -> None:
    first = walk_handoff(day, "COLT-1", "Casey Morgan", "6")
    second = walk_handoff(day, "RUB-2", "Riley Chen", "0")
    status = json.loads(day("run", "status", first, "--json").stdout)
    assert status["state"] == "complete" and status["checklist"] == "handoff"
    assert {s["state"] for s in status["steps"]} == {"passed"}
    step = status["steps"][1]
    assert set(step) >= {"id", "layer", "role", "witnesses", "evidence", "state"}
    assert step["witnesses"] == ["ad", "actor"]
    assert json.loads(day("run", "status", second, "--json").stdout)["state"] == "complete"
    wrap = json.loads(day("run", "start", "wrap", "--json").stdout)["id"]
    day.sign(wrap, "locked-up", ["Alex Reyes", "Jordan Lee"], firearms_locked="COLT-1,RUB-2",
             missing="0")  # fmt: skip
    day.sign(wrap, "counts-reconciled", ["Alex Reyes", "Jordan Lee"], counts="D-1=36")
    day.sign(wrap, "incidents-reviewed", ["Pat Okafor"], open_concerns="0")
    events = json.loads(day("audit", "--json").stdout)
    kinds = [e["kind"] for e in events]
    assert kinds.count("day-opened") == 1 and kinds[-1] == "day-wrapped"
    fields = {
        "seq",
        "time",
        "kind",
        "by",
        "role",
        "run",
        "step",
        "result",
        "note",
        "hash",
        "prev_hash",
    }
    assert all(fields <= set(e) for e in events)
    assert all("pin" not in (e.get("data") or {}) for e in events)
    signers = {e["by"] for e in events if e["kind"] == "signed"}
    assert signers == set(PINS)
    verify = day("verify")
    assert verify.stdout.startswith("chain OK:")
    # After wrap, no handoff starts: the day is closed.
    late = day("run", "start", "handoff", "--firearm", "COLT-1", "--performer", "Casey Morgan",
               code=1)  # fmt: skip
    assert "no open day" in late.stderr


@pytest.fixture(scope="module")
def crewed_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """A store with crew and a firearm, built once through the CLI; each test gets a copy (of
    the store and of its credentials file)."""
    cli = Cli(tmp_path_factory.mktemp("template"))
    cli.setup("P")
    cli.armorer("firearm", "add", "COLT-1", "--description", "Revolver", "--kind", "blank-firing",
                "--chambers", "6")  # fmt: skip
    cli.gate()
    return cli.db.read_bytes(), Path(f"{cli.db}.credentials").read_bytes()


@pytest.fixture()
def fresh(tmp_path: Path, crewed_store: tuple[bytes, bytes]) -> Cli:
    cli = Cli(tmp_path)
    cli.db.write_bytes(crewed_store[0])
    credentials = Path(f"{cli.db}.credentials")
    credentials.write_bytes(crewed_store[1])
    credentials.chmod(0o600)
    return cli


def test_refusals_exit_1_with_a_reason_and_are_recorded(fresh: Cli) -> None:
    run = json.loads(fresh("run", "start", "opening", "--json").stdout)["id"]
    out_of_order = fresh.sign(run, "checkout", ["Alex Reyes"], code=1, firearms_out="COLT-1")
    assert "out of order" in out_of_order.stderr
    wrong_role = fresh.sign(run, "meeting-held", ["Casey Morgan", "Alex Reyes"], code=1,
                            attendees="3", concerns_read="yes")  # fmt: skip
    assert "not crewed as 1st AD" in wrong_role.stderr
    same = fresh.sign(run, "meeting-held", ["Jordan Lee", "Jordan Lee"], code=1,
                      attendees="3", concerns_read="yes")  # fmt: skip
    assert "same person" in same.stderr
    bad_pin = fresh("run", "sign", run, "meeting-held", "--by", "Jordan Lee", "--by",
                    "Alex Reyes", stdin="973155550042\n1111\n", code=1)  # fmt: skip
    assert "wrong PIN" in bad_pin.stderr
    refused = json.loads(fresh("audit", "--json", "--flagged").stdout)
    assert [e["data"]["code"] for e in refused if e["kind"] == "refused"] == [
        "out-of-order", "wrong-role", "same-person", "wrong-pin",
    ]  # fmt: skip
    assert "973155550042" not in fresh.db.read_text()


def test_handoff_before_opening_is_refused(fresh: Cli) -> None:
    out = fresh("run", "start", "handoff", "--firearm", "COLT-1", "--performer", "Casey Morgan",
                code=1)  # fmt: skip
    assert "complete the opening checklist" in out.stderr


def test_failed_step_holds_and_two_people_resolve(fresh: Cli) -> None:
    run = json.loads(fresh("run", "start", "opening", "--json").stdout)["id"]
    fresh.sign(run, "meeting-held", ["Jordan Lee", "Alex Reyes"], attendees="3",
               concerns_read="yes")  # fmt: skip
    fresh.sign(run, "no-other-duties", ["Alex Reyes"], other_duties="no")
    failed = fresh.sign(run, "lots-listed", ["Alex Reyes", "Jordan Lee"], code=1, lots="none",
                        unlabelled="3")  # fmt: skip
    assert "HOLD H0001" in failed.stderr
    holds = json.loads(fresh("hold", "list", "--json").stdout)
    assert holds[0]["state"] == "open" and holds[0]["run"] == run
    blocked = fresh.sign(run, "live-rounds-zero", ["Alex Reyes", "Jordan Lee"], code=1,
                         live_rounds="0", unidentified_rounds="0")  # fmt: skip
    assert "HOLD" in blocked.stderr
    alone = fresh("hold", "resolve", "H0001", "--by", "Pat Okafor", "--by", "Pat Okafor",
                  "--action", "x", stdin="5555\n5555\n", code=1)  # fmt: skip
    assert "two different people" in alone.stderr
    fresh("hold", "resolve", "H0001", "--by", "Pat Okafor", "--by", "Alex Reyes", "--action",
          "Loose rounds removed from set and bagged", stdin="5555\n1111\n")  # fmt: skip
    status = json.loads(fresh("run", "status", run, "--json").stdout)
    assert status["state"] == "open"
    assert status["steps"][2]["state"] == "open"  # the failed layer reopened from its first step


def test_live_ammunition_is_refused_and_holds_the_day(fresh: Cli) -> None:
    out = fresh.armorer("ammo", "add", "L-1", "--type", "live", "--count", "5", code=1)
    assert "live" in out.stderr
    holds = json.loads(fresh("hold", "list", "--json").stdout)
    assert holds[0]["cause"] == "live-ammunition" and holds[0]["run"] is None
    assert json.loads(fresh("ammo", "list", "--json").stdout) == []


def test_raise_hold_by_anyone(fresh: Cli) -> None:
    out = fresh("hold", "raise", "--by", "Riley Chen", "--reason", "Set feels unsafe",
                stdin="4444\n")  # fmt: skip
    assert "HOLD H0001" in out.stdout
    started = fresh("run", "start", "opening", code=1)
    assert "on HOLD" in started.stderr


def test_lists_in_json(fresh: Cli) -> None:
    crew = json.loads(fresh("crew", "list", "--json").stdout)
    alex = next(row for row in crew if row["name"] == "Alex Reyes")
    assert (alex["roles"], alex["active"], alex["missing"]) == (["armorer"], True, [])
    assert [x["expires"] for x in alex["licences"]] == [LICENCE_EXPIRES]
    assert [t["date"] for t in alex["training"]] == [TRAINED_ON]
    lists = json.loads(fresh("checklists", "list", "--json").stdout)
    assert {c["id"] for c in lists} >= {"opening", "handoff", "wrap"}
    assert set(lists[0]) == {
        "id", "title", "scope", "version", "digest", "status", "adopted_by", "adopted_at",
        "source",
    }  # fmt: skip
    firearms = json.loads(fresh("firearm", "list", "--json").stdout)
    assert firearms[0]["serial"] == "COLT-1"


def test_usage_errors_exit_2(fresh: Cli) -> None:
    fresh("crew", "add", "X", "--role", "producer", "--by", SUPERVISOR, code=2)
    fresh("run", "sign", "R0001", code=2)
    fresh("audit", "--since", "yesterday", code=2)
    missing_pins = fresh("run", "sign", "R0001", "meeting-held", "--by", "A", "--by", "B",
                         stdin="1\n", code=2)  # fmt: skip
    assert "expected 2 PIN line(s)" in missing_pins.stderr


def test_pin_rules_on_crew_add(fresh: Cli) -> None:
    add = ["crew", "add", "New", "--role", "actor", "--by", SUPERVISOR]
    short = fresh(*add, stdin="5555\n12\n12\n", code=2)
    assert "4 to 12 digits" in short.stderr
    mismatch = fresh(*add, stdin="5555\n1234\n4321\n", code=2)
    assert "do not match" in mismatch.stderr


def test_verify_names_the_first_bad_event_after_a_one_byte_change(fresh: Cli) -> None:
    raw = fresh.db.read_bytes()
    lines = raw.split(b"\n")
    # production, its supervisor, the 5 bundled checklists adopted, the armorer, then Jordan
    assert b"Jordan Lee" in lines[8]
    lines[8] = lines[8].replace(b"Jordan Lee", b"Jordon Lee", 1)
    fresh.db.write_bytes(b"\n".join(lines))
    out = fresh("verify", code=1)
    assert "BROKEN" in out.stderr and "event 9" in out.stderr


def test_missing_store_is_explained(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    out = cli("crew", "list", code=1)
    assert "no store at" in out.stderr and "safetyapp init" in out.stderr


def test_checklists_validate_reports_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: X\nversion: 1\nscope: handoff\nlayers: []\n")
    cli = Cli(tmp_path)
    out = cli("checklists", "validate", str(bad), code=1)
    assert f"{bad}: line 5, layers: List should have at least 1 item" in out.stderr
    assert not cli.db.exists()  # validate never touches the store
    ok = cli("checklists", "validate")
    assert "handoff.yaml: ok" in ok.stdout


def test_qualifications_from_the_cli_are_checked_and_listed(fresh: Cli) -> None:
    bad = fresh("crew", "licence", ARMORER, "--number", "AL-7", "--issuer", "Board",
                "--expires", "31/12/2030", "--by", SUPERVISOR, stdin="5555\n", code=1)  # fmt: skip
    assert "the expiry date must be a date as YYYY-MM-DD" in bad.stderr
    own = fresh("crew", "train", "Casey Morgan", "--date", "2026-01-02", "--provider", "X",
                "--by", ARMORER, stdin="1111\n", code=1)  # fmt: skip
    assert "only the Safety supervisor enters training records" in own.stderr
    fresh("crew", "add", "Dana Voss", "--role", "actor", "--by", SUPERVISOR,
          stdin="5555\n7272\n7272\n")  # fmt: skip
    listed = fresh("crew", "list").stdout
    assert "Dana Voss\tPerformer" in listed or "Dana Voss\tactor" in listed
    assert "MISSING: Dana Voss has no firearms-safety training on record" in listed


def test_json_listings_find_a_float_anywhere_so_json_writes_its_text() -> None:
    from collections import OrderedDict

    from safetyapp.cli import _has_float

    assert _has_float([{"a": [1, {"b": (2, 2.5)}]}])
    assert _has_float(OrderedDict(x=[0.1]))  # a dict of another type
    assert not _has_float([{"a": [1, {"b": (2, "2.5", None, True)}]}])
