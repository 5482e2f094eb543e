"""7. PINs and roles: secrets stay secret, lockout holds, nobody signs for someone else."""

from __future__ import annotations

import io
import json
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rel_support import (
    ACTOR,
    AD,
    ARMORER,
    SUPERVISOR,
    FrozenClock,
    build_store,
    pins_for,
    run_cli,
    start_opening,
)
from support import CHECKLISTS, OPENING, PINS, cheap_pin, qualify, walk

import safetyapp.cli
from safetyapp.domain import auth, engine
from safetyapp.domain.engine import Credential
from safetyapp.store.credentials import credentials_path, read_credentials
from safetyapp.store.journal import Journal
from safetyapp.store.repository import Repository

SECRET = "739182645012"  # 12 digits: will not turn up by chance in hex or timestamps
WRONG = "864209753186"
NEW = "551177330099"
QUINN = "Quinn Pike"


def test_pins_and_hashes_never_leave_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "record.jsonl"
    run = start_opening(build_store(db))
    outputs: list[str] = []

    def cli(*args: str, stdin: str = "") -> None:
        out = run_cli(db, *args, stdin=stdin)
        outputs.extend([out.stdout, out.stderr])

    sup = PINS[SUPERVISOR]
    cli(
        "crew",
        "add",
        QUINN,
        "--role",
        "ad",
        "--by",
        SUPERVISOR,
        stdin=f"{sup}\n{SECRET}\n{SECRET}\n",
    )
    seen = dict(read_credentials(db))  # every PIN record, before the reset below prunes one
    sign = ["run", "sign", run, "meeting-held", "--by", QUINN, "--by", ARMORER,
            "--evidence", "attendees=3", "--evidence", "concerns-read=yes"]  # fmt: skip
    for _ in range(5):  # wrong PINs, up to a lockout
        cli(*sign, stdin=f"{WRONG}\n{PINS[ARMORER]}\n")
    cli(*sign, stdin=f"{SECRET}\n{PINS[ARMORER]}\n")  # refused: locked out
    cli("crew", "pin", QUINN, "--by", SUPERVISOR, stdin=f"{PINS[SUPERVISOR]}\n{NEW}\n{NEW}\n")
    cli("crew", "pin", QUINN, stdin=f"{SECRET}\n{SECRET}\n{SECRET}\n")  # old PIN no longer valid
    short = run_cli(
        db, "crew", "add", "Short Pin", "--role", "actor", "--by", SUPERVISOR,
        stdin=f"{sup}\n987\n987\n",
    )  # fmt: skip
    assert short.code == 2 and "987" not in short.stdout + short.stderr  # PIN too short
    for args in (["audit"], ["audit", "--json"], ["audit", "--csv"], ["audit", "--flagged"],
                 ["crew", "list", "--json"], ["run", "status", run, "--json"],
                 ["hold", "list", "--json"], ["verify", "--json"],
                 ["export", "--out", str(tmp_path / "bundle")],
                 ["report", "--out", str(tmp_path / "day.pdf")]):  # fmt: skip
        cli(*args)
    assert (tmp_path / "bundle" / "manifest.json").exists()
    assert Repository.open(db, CHECKLISTS).save_snapshot()
    # An unexpected error while a PIN is in hand: the log and the message hold no PIN.
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{NEW}\n"))

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("injected")

    monkeypatch.setattr(safetyapp.cli, "_outcome", boom)
    with pytest.raises(SystemExit):
        safetyapp.cli.main(["--db", str(db), "hold", "raise", "--by", QUINN, "--reason", "r"])
    crash = capsys.readouterr()
    outputs.extend([crash.out, crash.err])
    assert "unexpected error" in crash.err
    logs = list((tmp_path / "state").rglob("*.log"))
    assert logs, "the crash wrote no log"

    records = Journal.open(db).records()
    kinds = Counter(r["kind"] for r in records)
    assert kinds["lockout"] == 1 and kinds["crew-pin-set"] == 1
    assert all("pin" not in (r.get("data") or {}) for r in records)
    seen.update(read_credentials(db))
    secrets = [h["hash"] for h in seen.values()] + [h["salt"] for h in seen.values()]
    assert len(secrets) >= 16  # the crew's, Quinn's first and the one a supervisor set
    assert credentials_path(db).stat().st_mode & 0o777 == 0o600
    everything = {f"output {i}": text for i, text in enumerate(outputs)}
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != credentials_path(db):
            everything[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    assert str(db) in everything
    assert str(tmp_path / "bundle" / "manifest.json") in everything
    assert any(p.endswith(".snapshot") for p in everything), "no snapshot was written"
    for where, text in everything.items():
        for pin in (SECRET, WRONG, NEW):
            assert pin not in text, f"PIN found in {where}"
        for secret in secrets:  # the store itself included: PINs live only beside it
            assert secret not in text, f"PIN hash or salt found in {where}"


def test_pin_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    real = auth.hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    stored = cheap_pin("2468")
    assert auth.check_pin("2468", stored) is True
    assert auth.check_pin("2469", stored) is False
    assert len(calls) == 2, "check_pin must decide with hmac.compare_digest"
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: False)
    assert auth.check_pin("2468", stored) is False, "the decision must come from compare_digest"


def test_five_wrong_pins_lock_for_five_minutes_and_the_lockout_is_recorded(
    tmp_path: Path,
) -> None:
    clock = FrozenClock(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    db = tmp_path / "record.jsonl"
    build_store(db, clock)
    repo = Repository.open(db, CHECKLISTS, clock)

    # The probe: a custody break, which takes the person's PIN (a hold is never refused, so it
    # is no probe: a wrong PIN there raises it unverified, and still counts here).
    def probe(pin: str) -> engine.Decision:
        return repo.do(engine.record_custody_break, Credential(AD, pin), "check")

    def attempt(pin: str) -> engine.Decision:
        clock.now += timedelta(seconds=10)
        return probe(pin)

    # Four wrong, one right, four wrong: not five IN A ROW, no lockout.
    for pin in ["0000"] * 4 + [PINS[AD]] + ["0000"] * 4:
        attempt(pin)
    assert not any(r["kind"] == "lockout" for r in repo.journal.records())
    decision = attempt("0000")  # the fifth in a row
    assert not decision.ok and [e["kind"] for e in decision.events] == ["refused", "lockout"]
    locked_at = clock.now
    for offset in (timedelta(seconds=1), timedelta(minutes=4, seconds=59)):
        clock.now = locked_at + offset
        refused = probe(PINS[AD])
        assert not refused.ok and "locked out" in str(refused.refused)
        assert refused.events[0]["data"]["code"] == "locked"  # the attempt is on the record
    clock.now = locked_at + timedelta(minutes=5, seconds=1)
    assert probe(PINS[AD]).ok
    # Same through the CLI (real clock): five wrong, then the right PIN is refused; a hold is
    # still raised each time (never refused), unverified, and says why.
    cli_db = tmp_path / "cli.jsonl"
    build_store(cli_db)
    for _ in range(5):
        out = run_cli(cli_db, "hold", "raise", "--by", ACTOR, "--reason", "r", stdin="0000\n")
        assert out.code == 0 and f"wrong PIN for {ACTOR}" in out.stderr, out
        assert "UNVERIFIED" in out.stderr
    out = run_cli(cli_db, "hold", "raise", "--by", ACTOR, "--reason", "r", stdin=pins_for([ACTOR]))
    assert out.code == 0 and "locked out after 5 wrong PINs" in out.stderr, out
    assert "UNVERIFIED" in out.stderr
    flagged = json.loads(run_cli(cli_db, "audit", "--flagged", "--json").stdout)
    assert [e["by"] for e in flagged if e["kind"] == "lockout"] == [ACTOR]


def test_nobody_signs_for_someone_else(tmp_path: Path, figures: Counter[str]) -> None:
    """Every command that acts for a person, given someone else's PIN (or an empty line),
    is refused and changes nothing but adding the refusal to the record."""
    db = tmp_path / "record.jsonl"
    repo = build_store(db)
    run = start_opening(repo)
    hold = repo.do(engine.raise_hold, Credential(AD, PINS[AD]), "h", run=run)
    hold_id = hold.events[0]["data"]["hold"]
    sign = ["run", "sign", run, "meeting-held", "--by", AD, "--by", ARMORER,
            "--evidence", "attendees=3", "--evidence", "concerns-read=yes"]  # fmt: skip
    resolve = ["hold", "resolve", hold_id, "--by", SUPERVISOR, "--by", ARMORER, "--action", "a"]
    cases = [
        (sign, f"{PINS[ARMORER]}\n{PINS[ARMORER]}\n", AD),  # signer with the witness's PIN
        (sign, f"{PINS[AD]}\n{PINS[AD]}\n", ARMORER),  # witness with the signer's PIN
        (sign, f"\n{PINS[ARMORER]}\n", AD),  # an empty PIN line
        (resolve, f"{PINS[ARMORER]}\n{PINS[ARMORER]}\n", SUPERVISOR),
        (resolve, f"{PINS[SUPERVISOR]}\n{PINS[SUPERVISOR]}\n", ARMORER),
        (["crew", "pin", AD], f"{PINS[ARMORER]}\n1234\n1234\n", AD),
        (["crew", "pin", AD, "--by", SUPERVISOR], f"{PINS[AD]}\n1234\n1234\n", SUPERVISOR),
    ]
    for args, stdin, victim in cases:
        before = len(Journal.open(db).records())
        out = run_cli(db, *args, stdin=stdin)
        assert out.code == 1, (args, out)
        assert f"wrong PIN for {victim}" in out.stderr, (args, out.stderr)
        after = Journal.open(db).records()
        assert [r["kind"] for r in after[before:]] == ["refused"], args
        figures["pins: impersonation attempts refused"] += 1
    # A hold raised with another's PIN: raised (never refused) but UNVERIFIED, and the wrong
    # PIN is on the record as the refused attempt it is.
    before = len(Journal.open(db).records())
    out = run_cli(db, "hold", "raise", "--by", AD, "--reason", "r", stdin=f"{PINS[ACTOR]}\n")
    assert out.code == 0 and f"wrong PIN for {AD}" in out.stderr and "UNVERIFIED" in out.stderr
    after = Journal.open(db).records()
    assert [r["kind"] for r in after[before:]] == ["refused", "hold-raised"]
    assert after[-1]["data"]["verified"] is False
    assert not Repository.open(db, CHECKLISTS).state.runs[run].signoffs
    # Even the right person's PIN does not let one crew member act for a different person.
    out = run_cli(db, "crew", "pin", AD, "--by", ARMORER, stdin=f"{PINS[ARMORER]}\n1234\n1234\n")
    assert out.code == 1 and "only Jordan Lee or a safety supervisor" in out.stderr


def test_same_person_twice_and_separation_cannot_be_bypassed(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    repo = build_store(db)
    dana = "Dana Dual"
    assert repo.do(
        engine.add_crew,
        Credential(SUPERVISOR, PINS[SUPERVISOR]),
        dana,
        ["armorer", "ad"],
        cheap_pin("7777"),
    ).ok
    PINS.setdefault(dana, "7777")
    qualify(repo.do, Credential(SUPERVISOR, PINS[SUPERVISOR]), [(dana, ["armorer", "ad"], "")])
    run = start_opening(repo)
    # The same --by twice: signer as own witness; one person as both resolvers.
    out = run_cli(db, "run", "sign", run, "meeting-held", "--by", dana, "--by", dana,
                  "--evidence", "attendees=3", "--evidence", "concerns-read=yes",
                  stdin="7777\n7777\n")  # fmt: skip
    assert out.code == 1 and "the same person appears twice" in out.stderr, out.stderr
    hold = repo.do(engine.raise_hold, Credential(AD, PINS[AD]), "h", run=run)
    hold_id = hold.events[0]["data"]["hold"]
    out = run_cli(db, "hold", "resolve", hold_id, "--by", SUPERVISOR, "--by", SUPERVISOR,
                  "--action", "a", stdin=pins_for([SUPERVISOR, SUPERVISOR]))  # fmt: skip
    assert out.code == 1 and "two different people" in out.stderr
    assert run_cli(db, "hold", "resolve", hold_id, "--by", SUPERVISOR, "--by", ARMORER,
                   "--action", "a", stdin=pins_for([SUPERVISOR, ARMORER])).code == 0  # fmt: skip
    walk(repo, run, OPENING)  # type: ignore[arg-type]  # Repository.do is World.do's shape
    # A handoff where Dana inspects as armorer: Dana cannot then confirm as the AD.
    handoff = repo.do(engine.start_run, CHECKLISTS["handoff"], firearm="COLT-1", performer=ACTOR)
    hrun = handoff.events[0]["run"]
    for step, by, witnesses, evidence in [
        ("rounds-loaded", dana, [AD], {"dummies": "6", "blanks": "0", "live-rounds": "0"}),
        ("inspect", dana, [AD, ACTOR],
         {"serial-in-hand": "COLT-1", "bore-clear": "yes", "chambers-seen": "6",
          "loads-as-listed": "yes"}),
    ]:  # fmt: skip
        d = repo.do(engine.sign, hrun, step, Credential(by, PINS[by]),
                    witnesses=[Credential(w, PINS[w]) for w in witnesses], evidence=evidence)  # fmt: skip
        assert d.ok, d.refused
    out = run_cli(db, "run", "sign", hrun, "ad-confirms", "--by", dana, "--by", ARMORER,
                  "--evidence", "chambers-seen=6", "--evidence", "state-called=dummies x6",
                  stdin=pins_for([dana, ARMORER]))  # fmt: skip
    assert out.code == 1 and "Dana Dual already acted as" in out.stderr, out.stderr
    # Whitespace or case variants are the same person (lookups forgive them, issue 12), never a
    # second one: with the real name beside them, the same person twice.
    for alias in (" Jordan Lee", "jordan lee", "Jordan  Lee"):
        out = run_cli(db, "run", "sign", hrun, "ad-confirms", "--by", alias, "--by", AD,
                      "--evidence", "chambers-seen=6", "--evidence", "state-called=dummies x6",
                      stdin=pins_for([AD, AD]))  # fmt: skip
        assert out.code == 1 and "the same person appears twice" in out.stderr, (alias, out.stderr)
    # Dana, the armorer of this run, may witness the AD's confirmation as the armorer.
    out = run_cli(db, "run", "sign", hrun, "ad-confirms", "--by", AD, "--by", dana,
                  "--evidence", "chambers-seen=6", "--evidence", "state-called=dummies x6",
                  stdin=pins_for([AD, dana]))  # fmt: skip
    assert out.code == 0, out.stderr
