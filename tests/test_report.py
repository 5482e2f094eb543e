"""The daily safety report: what it holds (read back from the PDF with pypdf), how it paginates,
and that its head hash works as a checkpoint against the record."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader
from report_support import HOLD_ACTION, walked_day, write_store
from support import (
    ACTOR,
    ACTOR2,
    ARMORER,
    CHECKLISTS,
    PINS,
    SUPERVISOR,
    WRAP,
    cheap_pin,
    cred,
    handoff_steps,
    open_day,
    setup_world,
    start,
    walk,
)
from test_cli import Cli

from safetyapp.audit.report import (
    Report,
    ReportError,
    build_report,
    day_records,
    find_day,
    md_escape,
    render_markdown,
    render_pdf,
)
from safetyapp.domain import engine
from safetyapp.store.repository import Repository

NOW = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)


def make_report(repo: Repository, spec: str | None = None, tz: timezone = UTC) -> Report:
    day = find_day(repo.state, spec)
    records = day_records(repo.state, repo.journal.records(), day)
    return build_report(
        repo.state, records, repo.journal.verify(), day=day, generated_at=NOW, tz=tz
    )


def pdf_pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture()
def walked(tmp_path: Path) -> Repository:
    path = write_store(walked_day(), tmp_path / "record.jsonl")
    return Repository.open(path, CHECKLISTS)


def test_pdf_names_every_signer_hold_refusal_and_the_head_hash(
    walked: Repository, tmp_path: Path
) -> None:
    report = make_report(walked)
    out = tmp_path / "day.pdf"
    pages = render_pdf(report, out)
    texts = pdf_pages(out)
    assert len(texts) == pages >= 2
    text = flat("\n".join(texts))
    records = walked.journal.records()
    signers = set()
    for r in records:
        if r["kind"] == "signed":
            signers.add(r["by"])
            signers.update(w["name"] for w in r["data"]["witnesses"])
        if r["kind"] == "hold-resolved":
            signers.update(w["name"] for w in r["data"]["resolvers"])
    assert signers == {"Alex Reyes", "Jordan Lee", "Casey Morgan", "Riley Chen", "Pat Okafor"}
    for name in signers:
        assert name in text
    # The failed layer, its hold with cause and the corrective action.
    assert "H0001" in text and "step-failed" in text
    assert "evidence contradicts a pass" in text
    assert flat(HOLD_ACTION) in text
    assert "FAIL" in text and "RESOLVED H0001" in text
    # The refusal, with its reason.
    assert "Jordan Lee is not crewed as Armorer" in text and "wrong-role" in text
    # Meeting, ammunition counts, custody, times.
    assert "People at the meeting: 24" in text
    assert "dummies-checked=36" in text
    assert "locked up" in text
    assert "Wrap 07:" in text  # the wrap time, not "NOT WRAPPED"
    # The head hash and the verify result at the foot of every page.
    head = walked.journal.head_hash
    assert head == records[-1]["hash"]
    for i, page in enumerate(texts, 1):
        assert head in page and "verify PASSED" in page
        assert f"Page {i} of {pages}" in page


def test_markdown_says_the_same_and_escapes_user_text(walked: Repository) -> None:
    report = make_report(walked)
    md = render_markdown(report)
    for name in ("Alex Reyes", "Jordan Lee", "Casey Morgan", "Riley Chen", "Pat Okafor"):
        assert name in md
    assert "H0001" in md and report.head_hash in md and "verify PASSED" in md
    assert "not crewed as Armorer" in md
    # A table row keeps its column count whatever the cell text holds.
    assert md_escape("a|b\nc *d* # e") == "a\\|b<br>c \\*d\\* # e"
    assert md_escape("# heading") == "\\# heading"
    assert md_escape("- item") == "\\- item"
    assert md_escape("<script>") == "\\<script\\>"


def test_report_flags_an_unwrapped_day_and_an_open_hold(tmp_path: Path) -> None:
    world = setup_world()
    open_day(world)
    assert world.do(engine.raise_hold, cred(ACTOR2), "Camera crew walked off: set unsafe").ok
    repo = Repository.open(write_store(world, tmp_path / "r.jsonl"), CHECKLISTS)
    md = render_markdown(make_report(repo))
    assert "NOT WRAPPED at time of printing" in md
    assert "OPEN: not resolved" in md
    assert "Stop-work hold H0001 by Riley Chen: Camera crew walked off: set unsafe" in md
    assert "with the armorer Alex Reyes" in md  # checked out at opening, never locked up


def test_user_text_outside_the_font_is_shown_as_question_marks(tmp_path: Path) -> None:
    world = setup_world()
    run = open_day(world)
    assert run
    reason = "Zoë's note: 火 🔫 =SUM(A1) *bold* <b>x</b>\tend"
    assert world.do(engine.raise_hold, cred(ACTOR), reason).ok
    repo = Repository.open(write_store(world, tmp_path / "r.jsonl"), CHECKLISTS)
    out = tmp_path / "r.pdf"
    render_pdf(make_report(repo), out)
    text = flat("\n".join(pdf_pages(out)))
    assert "Zoë's note: ? ? =SUM(A1) *bold* <b>x</b> end" in text


def test_times_are_given_in_the_zone_asked_for(walked: Repository) -> None:
    report = make_report(walked, tz=timezone(timedelta(hours=-5), "EST"))
    summary = dict(report.summary)
    assert summary["Opening started"] == "02:10:00"
    assert "EST (UTC-05:00)" in summary["Times"]


def test_choosing_a_day(tmp_path: Path) -> None:
    world = walked_day()
    world.tick(24 * 60)
    walked_day(world)
    repo = Repository.open(write_store(world, tmp_path / "r.jsonl"), CHECKLISTS)
    assert find_day(repo.state, None).number == 2
    assert find_day(repo.state, "1").number == 1
    assert find_day(repo.state, "2026-03-03").number == 2
    with pytest.raises(ReportError, match=r"no day 7; the record holds days 1 \(2026-03-02\)"):
        find_day(repo.state, "7")
    with pytest.raises(ReportError, match="give a day number or a date"):
        find_day(repo.state, "yesterday")
    first = day_records(repo.state, repo.journal.records(), repo.state.days[0])
    second = day_records(repo.state, repo.journal.records(), repo.state.days[1])
    assert first[0]["kind"] == "run-started" and first[-1]["kind"] == "day-wrapped"
    assert first[-1]["seq"] < second[0]["seq"]
    # Day 2's report does not carry day 1's hold.
    assert "H0001" not in render_markdown(make_report(repo, "2"))
    assert "H0002" in render_markdown(make_report(repo, "2"))


def test_no_day_yet_is_explained(tmp_path: Path) -> None:
    repo = Repository.open(write_store(setup_world(), tmp_path / "r.jsonl"), CHECKLISTS)
    with pytest.raises(ReportError, match="no shooting day in this record yet"):
        find_day(repo.state, None)


def test_a_day_of_2000_events_paginates_with_headings_on_every_page(tmp_path: Path) -> None:
    world = setup_world()
    open_day(world)
    pairs = [("COLT-1", ACTOR, 6), ("GLOCK-2", ACTOR2, 15)]
    i = 0
    while len(world.log) < 2020:
        serial, actor, chambers = pairs[i % 2]
        run = start(world, "handoff", firearm=serial, performer=actor[0], scene=f"S{i}")
        walk(world, run, handoff_steps(actor, chambers=chambers))
        i += 1
    walk(world, start(world, "wrap"), WRAP)
    repo = Repository.open(write_store(world, tmp_path / "big.jsonl"), CHECKLISTS)
    report = make_report(repo)
    assert report.last_seq - report.first_seq + 1 >= 2000
    began = time.perf_counter()
    pages = render_pdf(report, tmp_path / "big.pdf")
    took = time.perf_counter() - began
    print(f"\n2,000-event day: {pages} pages in {took:.2f} s")  # the figure, not an assert
    texts = pdf_pages(tmp_path / "big.pdf")
    assert len(texts) == pages > 40
    # Run tables continue across pages with their headings repeated at the top.
    run_pages = [i for i, t in enumerate(texts) if "Witnesses" in t]  # a run table's heading
    assert len(run_pages) > 40 and run_pages == list(range(run_pages[0], run_pages[-1] + 1))
    # So does the custody register, after them.
    register = [i for i, t in enumerate(texts) if "Holder From To Duration" in t]
    assert register and register[0] >= run_pages[-1]
    assert register == list(range(register[0], register[-1] + 1))
    assert all(repo.journal.head_hash in t for t in texts)
    assert "Review and signatures" in texts[-1]


# -- checkpoints through the command line -----------------------------------------------------


def test_a_report_checkpoint_verifies_after_more_events_and_fails_after_a_tail_cut(
    tmp_path: Path,
) -> None:
    cli = Cli(tmp_path)
    write_store(walked_day(), cli.db)
    out = tmp_path / "day.pdf"
    made = cli("report", "--out", str(out))
    assert "wrote the report of day 1" in made.stdout
    text = "\n".join(pdf_pages(out))
    found = re.search(r"Head hash ([0-9a-f]{64}) \(event (\d+)\)", text)
    assert found is not None
    checkpoint, seq = found.group(1), int(found.group(2))
    assert checkpoint in made.stdout
    # More events after printing: the checkpoint still holds.
    repo = Repository.open(cli.db, CHECKLISTS)
    assert repo.do(engine.raise_hold, cred(ACTOR), "Loose round found under the cart").ok
    assert repo.journal.last_seq > seq
    ok = cli("verify", "--against", checkpoint)
    assert f"checkpoint found at event {seq}" in ok.stdout
    # Cut the tail back past the checkpoint: the chain left is intact, but the paper disagrees.
    lines = cli.db.read_bytes().splitlines(keepends=True)
    cli.db.write_bytes(b"".join(lines[: seq - 1]))
    assert "the record was cut" in cli("verify", code=1).stderr  # the head file beside it
    Path(f"{cli.db}.head").unlink()  # without it (or for a copy elsewhere), the paper decides
    # The cut ends inside the day's last decision: replay alone notices it.
    assert "would also have recorded a day-wrapped" in cli("verify", code=1).stderr
    cut = cli("verify", "--against", checkpoint, code=1)
    assert "would also have recorded" in cut.stderr


def test_report_command_markdown_and_refusals(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    write_store(setup_world(), cli.db)
    none = cli("report", "--out", str(tmp_path / "x.pdf"), code=1)
    assert "no shooting day in this record yet" in none.stderr
    assert not (tmp_path / "x.pdf").exists()
    cli.db.unlink()
    write_store(walked_day(), cli.db)
    cli("report", "--out", str(tmp_path / "x.md"))
    md = (tmp_path / "x.md").read_text(encoding="utf-8")
    assert md.startswith("# Daily firearms safety report — Test Production — Day 1")
    bad = cli("report", "--day", "9", "--out", str(tmp_path / "y.pdf"), code=1)
    assert "no day 9" in bad.stderr
    cli("report", "--out", str(tmp_path / "missing" / "y.pdf"), code=2)


def test_the_report_lists_qualifications_and_the_gates_status(tmp_path: Path) -> None:
    world = setup_world()
    open_day(world)
    late = ("Dana Voss", ["actor"], "7272")  # cast after the gate, never trained
    PINS.setdefault(late[0], late[2])
    assert world.do(engine.add_crew, cred(SUPERVISOR), late[0], late[1], cheap_pin(late[2])).ok
    repo = Repository.open(write_store(world, tmp_path / "r.jsonl"), CHECKLISTS)
    md = render_markdown(make_report(repo))
    section = md.split("Qualifications and the pre-production gate", 1)[1].split("\n## ", 1)[0]
    assert (
        "Pre-production gate, as the record stands when this report is made: COMPLETE (G0001"
        in section
    )
    assert "Alex Reyes" in section and "expires 2030-12-31" in section
    assert "Dana Voss has no firearms-safety training on record" in section
    # A new kind of firearm: the gate is due again, and the report says why.
    assert world.do(engine.add_firearm, cred(ARMORER), "RUB-3", "Rubber", "rubber", None).ok
    repo = Repository.open(write_store(world, tmp_path / "r2.jsonl"), CHECKLISTS)
    md = render_markdown(make_report(repo))
    assert "report is made: NOT COMPLETE: the plan changed since gate G0001" in md
