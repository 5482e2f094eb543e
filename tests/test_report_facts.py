"""The report states the facts (issue 13, item 8): the custody register, stop-work holds,
receipts, mirror status and adopted checklists. Each figure is derived here from the fold (the
State) on its own terms and compared with the PDF's text (read back with pypdf)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from report_support import write_store
from support import (
    ACTOR,
    ACTOR2,
    AD,
    ARMORER,
    CHECKLISTS,
    SUPERVISOR,
    WRAP,
    World,
    adopt,
    cred,
    handoff_steps,
    open_day,
    setup_world,
    start,
    walk,
)

from safetyapp.audit.report import (
    MirrorFacts,
    build_report,
    day_records,
    find_day,
    mirror_facts,
    render_pdf,
    write_day_report,
)
from safetyapp.domain import engine
from safetyapp.domain.checklist import validate_checklist
from safetyapp.domain.events import parse_time
from safetyapp.store.chain import receipt
from safetyapp.store.mirror import mirror_to, read_config
from safetyapp.store.repository import Repository

NOW = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
LUNCH = "Lunch: company moves to the diner"
BREAK = "Ammunition cart left open by the stage door"
STOP = "Smoke machine pointed at the line of fire"
RESOLVED = "Smoke machine moved; line of fire cleared and re-checked"


def a_full_day() -> World:
    """Opening (checkout), a handoff, the lunch lock-up and the checkout after it, a recorded
    custody break, a stop-work hold about the AD resolved by two others, a production's own
    wrap adopted during the day, and the wrap (lock-up)."""
    world = setup_world()
    open_day(world)
    world.tick(5)
    first = start(world, "handoff", firearm="COLT-1", performer=ACTOR[0], scene="12A")
    walk(world, first, handoff_steps(ACTOR))
    world.tick(30)
    both = ["COLT-1", "GLOCK-2"]
    assert world.do(engine.move_firearms, cred(ARMORER), both, "locked", LUNCH).ok
    world.tick(62)
    assert world.do(engine.move_firearms, cred(ARMORER), both, "armorer", "after lunch").ok
    world.tick(3)
    assert world.do(engine.record_custody_break, cred(AD), BREAK, serials=["GLOCK-2"]).ok
    world.tick(2)
    held = world.do(engine.raise_hold, cred(ACTOR2), STOP, about=AD[0])
    assert held.ok
    world.tick(4)
    resolved = world.do(
        engine.resolve_hold, held.hold_id, [cred(SUPERVISOR), cred(ARMORER)], RESOLVED
    )
    assert resolved.ok, resolved.refused
    second = start(world, "handoff", firearm="GLOCK-2", performer=ACTOR2[0], scene="14")
    walk(world, second, handoff_steps(ACTOR2, chambers=15))
    data = CHECKLISTS["wrap"].text()
    adopt(world, validate_checklist({**data, "version": 5, "title": "Our wrap"}))
    world.tick(20)
    walk(world, start(world, "wrap"), WRAP)
    return world


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Repository, str]:
    tmp = tmp_path_factory.mktemp("facts")
    repo = Repository.open(write_store(a_full_day(), tmp / "record.jsonl"), CHECKLISTS)
    return repo, pdf_text(repo, tmp / "day.pdf")


def pdf_text(repo: Repository, out: Path, mirror: MirrorFacts | None = None) -> str:
    day = find_day(repo.state, None)
    records = day_records(repo.state, repo.journal.records(), day)
    report = build_report(
        repo.state, records, repo.journal.verify(), day=day, generated_at=NOW, mirror=mirror
    )
    render_pdf(report, out)
    return flat(" ".join(p.extract_text() for p in PdfReader(out).pages))


def flat(text: str) -> str:
    return " ".join(text.split())


def hms(stamp: str) -> str:
    return stamp[11:19]  # the report's clock in UTC, on the day itself


def minutes(since: str, until: str) -> str:
    total = int((parse_time(until) - parse_time(since)).total_seconds()) // 60
    hours, mins = divmod(total, 60)
    if hours:
        return f"{hours} h {mins:02d} min"
    return f"{mins} min" if mins else "under 1 min"


def test_the_custody_register_lists_every_holding_of_every_firearm(
    day: tuple[Repository, str],
) -> None:
    repo, text = day
    state = repo.state
    assert "Custody register" in text
    reasons: dict[str, list[str]] = {}
    for serial, register in state.custody_register.items():
        for spell in register:
            reasons.setdefault(serial, []).append(spell.reason)
            until = hms(spell.until) if spell.until else "-"
            span = minutes(spell.since, spell.until) if spell.until else "continuing"
            row = f"{serial} {spell.describe()} {hms(spell.since)} {until} {span}"
            assert row in text, row
            why = spell.reason + (f" (run {spell.run})" if spell.run else "")
            assert why in text and spell.note in text
    # The day's moves, in order, named by what they were.
    assert reasons["COLT-1"] == [
        "added to the inventory", "checkout", "hand-over", "return", "lock-up for a break",
        "checkout", "lock-up",
    ]  # fmt: skip
    assert reasons["GLOCK-2"] == [
        "added to the inventory", "checkout", "lock-up for a break", "checkout",
        "custody break", "hand-over", "return", "lock-up",
    ]  # fmt: skip
    lunch = state.custody_register["COLT-1"][4]
    assert lunch.note == LUNCH and minutes(lunch.since, lunch.until or "") == "1 h 02 min"
    assert f"{LUNCH} " in text and "1 h 02 min" in text


def test_stop_work_holds_say_who_raised_them_about_whom_and_who_resolved_them(
    day: tuple[Repository, str],
) -> None:
    repo, text = day
    (hold,) = [h for h in repo.state.holds.values() if h.cause == "raised"]
    assert hold.raised_by == ACTOR2[0] and hold.subject == AD[0]
    assert hold.raised_hash is not None
    row = (
        f"{hold.id} {receipt(hold.raised_hash)} stop-work {hms(hold.raised_at)} by {hold.raised_by}"
    )
    assert row in text
    assert f"{hold.subject}; the whole day" in text
    resolvers = "; ".join(f"{p['name']} (" for p in hold.resolvers)
    assert [p["name"] for p in hold.resolvers] == [SUPERVISOR[0], ARMORER[0]]
    assert f"{hms(hold.resolved_at or '')} by {resolvers.split(';')[0]}" in text
    assert hold.resolution == RESOLVED and RESOLVED in text and STOP in text


def test_every_sign_off_shows_its_receipt(day: tuple[Repository, str]) -> None:
    repo, text = day
    state = repo.state
    runs = [r for r in state.runs.values() if r.day == state.days[-1].number]
    signoffs = [s for r in runs for s in r.history]
    assert len(signoffs) > 20
    for signoff in signoffs:
        assert signoff.receipt is not None
        assert receipt(signoff.receipt) in text, signoff.step
    # A receipt is the event's own hash: the one `verify --against` finds.
    hashes = {r["seq"]: r["hash"] for r in repo.journal.records()}
    assert all(hashes[s.seq] == s.receipt for s in signoffs)


def test_the_adopted_checklists_are_listed_with_digest_who_and_when(
    day: tuple[Repository, str],
) -> None:
    repo, text = day
    state = repo.state
    assert "Adopted checklists" in text
    assert len(state.adoptions) == 6  # the 5 bundled, and the day's own
    for adoption in state.adoptions:
        assert adoption.digest[:32] in text.replace(" ", "")  # a long digest wraps in its cell
        assert f"{adoption.checklist_id}: {adoption.title}" in text
        who = "; ".join(f"{p['name']}" for p in adoption.approvers)
        assert who.split(";")[0] in text
    own = state.adoptions[-1]
    assert own.title == "Our wrap" and [p["name"] for p in own.approvers] == [
        SUPERVISOR[0],
        ARMORER[0],
    ]
    assert state.current_checklists["wrap"] == own.digest
    assert f"{hms(own.time)} current, adopted today" in text
    assert "superseded" in text  # the bundled wrap, adopted at creation


def test_the_report_names_no_mirror_when_none_is_configured(day: tuple[Repository, str]) -> None:
    _, text = day
    assert "No mirror is configured: the record has no second copy off this laptop" in text


def test_the_mirror_status_says_how_far_behind_and_when_it_synced(tmp_path: Path) -> None:
    (tmp_path / "laptop").mkdir()
    store = write_store(a_full_day(), tmp_path / "laptop" / "record.jsonl")
    usb = tmp_path / "usb"
    usb.mkdir()
    mirror_to(store, usb)
    repo = Repository.open(store, CHECKLISTS)
    world_more = repo.do(engine.raise_hold, cred(ACTOR), "Checking the mirror is behind")
    assert world_more.ok
    config = read_config(store)
    assert config is not None and config.synced_at is not None
    facts = mirror_facts(store)
    assert facts == MirrorFacts(str(usb), config.events, config.synced_at)
    behind = repo.state.last_seq - config.events
    assert behind == 1
    text = pdf_text(repo, tmp_path / "day.pdf", facts)
    assert f"Mirror: {usb}" in text
    assert (
        f"Holds {config.events} of the record's {repo.state.last_seq} events:"
        f" {behind} event behind the record." in text
    )
    synced = config.synced_at
    on = "" if synced[:10] == repo.state.runs["R0001"].started_at[:10] else f"{synced[:10]} "
    assert f"Last synced: {on}{hms(synced)}." in text  # the clock names another day's date
    # write_day_report, used by the CLI and the TUI, hands the report the same facts.
    written = write_day_report(repo, tmp_path / "day.md", fmt="md", now=NOW)
    assert any(s.title == "Mirror" and f"Mirror: {usb}" in s.lines for s in written.report.sections)


def test_user_text_in_the_new_sections_is_shown_literally(tmp_path: Path) -> None:
    world = setup_world()
    open_day(world)
    odd = "Lunch <b>[bold]</b> *not markup* `x`"
    assert world.do(engine.move_firearms, cred(ARMORER), ["COLT-1"], "locked", odd).ok
    repo = Repository.open(write_store(world, tmp_path / "record.jsonl"), CHECKLISTS)
    text = pdf_text(repo, tmp_path / "day.pdf")
    assert odd in text
