"""The start-up snapshot: its view of the state, the file beside the store, the quick open, and
the check of every snapshot against a full fold of the record."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from blake3 import blake3
from report_support import payloads, three_days, walked_day, write_store
from snapshot_support import body_of, forge, reseal_unkeyed
from support import AD, ARMORER, CHECKLISTS, World, cred, open_day

from safetyapp.domain import engine
from safetyapp.domain.snapshot import (
    CheckpointRowError,
    from_view,
    to_checkpoint,
    to_view,
    view_runs,
)
from safetyapp.store import prefix
from safetyapp.store.journal import Journal, Mark, StoreCorrupt, StoreError
from safetyapp.store.prefix import start_prefix_digest
from safetyapp.store.repository import Repository, StoreUnreadable
from safetyapp.store.snapshot import (
    comparable,
    key_path,
    prefix_digest,
    read_saved,
    read_snapshot,
    snapshot_path,
    write_snapshot,
)
from safetyapp.tui.screens.board import _runs_to_show


@pytest.fixture
def world() -> World:
    return three_days()


@pytest.fixture
def store(tmp_path: Path, world: World) -> Path:
    return write_store(world, tmp_path / "record.jsonl")


# -- the view (pure) ------------------------------------------------------------------------------


def test_view_round_trips_and_keeps_what_the_board_shows(world: World) -> None:
    full = world.state
    view = to_view(full)
    assert json.loads(json.dumps(view)) == view  # plain JSON data
    preview = from_view(view)
    assert to_view(preview) == view
    assert len(preview.runs) < len(full.runs)  # yesterday's finished runs are left out
    assert [r.id for r in _runs_to_show(preview)] == [r.id for r in _runs_to_show(full)]
    assert [h.id for h in preview.open_holds()] == [h.id for h in full.open_holds()]
    assert preview.day == full.day and preview.production == full.production
    for serial in full.firearms:
        assert preview.custody(serial) == full.custody(serial)
        assert preview.last_custody_mark(serial) == full.last_custody_mark(serial)
        mine, theirs = preview.last_verified(serial), full.last_verified(serial)
        assert (mine and (mine[0].id, mine[1])) == (theirs and (theirs[0].id, theirs[1]))
    open_run = next(iter(full.open_runs()))
    same = preview.runs[open_run.id]
    assert same.next_step() == open_run.next_step()
    assert same.signoffs == open_run.signoffs and same.history == open_run.history
    for name, member in full.crew.items():  # roles and failures kept; PIN hashes never
        mine = preview.crew[name]
        assert (mine.roles, mine.failures, mine.locked_until) == (
            member.roles, member.failures, member.locked_until
        )  # fmt: skip
        assert member.pin_id and mine.pin_id == member.pin_id  # names it; holds no hash
    assert "salt" not in json.dumps(view) and "scrypt" not in json.dumps(view)


def test_view_keeps_runs_behind_verifications_and_open_holds(world: World) -> None:
    kept = {r.id for r in view_runs(world.state)}
    for run, _ in world.state.verified_index.values():
        assert run.id in kept
    last_day = world.state.days[-1].number
    assert kept >= {r.id for r in world.state.runs.values() if r.day == last_day}


def test_a_view_equal_in_python_but_not_as_written_is_a_mismatch(store: Path) -> None:
    # 3 == 3.0 == True in Python: the full fold's view is compared with the saved one as text.
    saved(store)
    body = body_of(store)
    body["view"]["refusals"] = float(body["view"]["refusals"])
    forge(store, body)
    quick = Repository.open_quick(store, CHECKLISTS)
    assert quick.loading
    quick.ensure_loaded()
    assert quick.snapshot_mismatch and quick.alarm is not None


def test_an_unsealed_snapshot_is_never_started_from(store: Path) -> None:
    saved(store)
    path = snapshot_path(store)
    head, _, data = path.read_bytes().partition(b"\n")
    fmt, seal, offset, length = head.split(b" ")
    path.write_bytes(b" ".join([fmt, seal[:-4] + b"0000", offset, length]) + b"\n" + data)
    saved_now = read_saved(store)
    assert saved_now is not None and not saved_now.sealed
    assert not Repository.open_quick(store, CHECKLISTS).loading  # folded in full
    key_path(store).unlink()  # no key (a copied store): the same
    assert not Repository.open(store, CHECKLISTS).stubs


# -- the file ------------------------------------------------------------------------------------


def test_a_first_line_whose_offset_is_not_the_marks_is_not_a_snapshot(store: Path) -> None:
    repo = Repository.open(store, CHECKLISTS)
    assert repo.save_snapshot()
    path = snapshot_path(store)
    first, _, body = path.read_bytes().partition(b"\n")
    fmt, seal, offset, length = first.split(b" ")
    assert int(offset) == repo.journal.mark().offset
    path.write_bytes(b" ".join([fmt, seal, str(int(offset) - 1).encode(), length]) + b"\n" + body)
    assert read_saved(store) is None  # the body and its seal untouched: the line alone
    path.write_bytes(first + b"\n" + body)
    assert read_saved(store) is not None


@pytest.mark.parametrize("fork", [True, False], ids=["child process", "thread"])
def test_the_head_start_digest_is_of_the_same_file_or_not_used(
    store: Path, fork: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prefix, "_may_fork", lambda: fork)
    repo = Repository.open(store, CHECKLISTS)
    assert repo.save_snapshot()
    saved = read_saved(store)
    assert saved is not None and saved.prefix_blake3 is not None
    offset = saved.mark.offset
    key = (os.path.abspath(store), offset)
    start_prefix_digest(store)
    early = prefix._early[key]
    assert (early.child is not None, early.thread is not None) == (fork, not fork)
    assert prefix_digest(store, offset) == saved.prefix_blake3  # the head start, taken
    assert key not in prefix._early
    # Another file put in the store's place after the head start began (the same length, one
    # byte changed): its own bytes are hashed, never the digest of the file it replaced.
    start_prefix_digest(store)
    data = bytearray(store.read_bytes())
    data[10] ^= 0x01
    other = store.with_name("other.jsonl")
    other.write_bytes(bytes(data))
    os.replace(other, store)
    found = prefix_digest(store, offset)
    assert found == blake3(bytes(data[:offset])).hexdigest() != saved.prefix_blake3
    # The same file, a byte rewritten in place once the head start has read it: hashed again.
    start_prefix_digest(store)
    prefix._early[key].wait()
    with open(store, "r+b") as f:
        f.write(bytes([data[0] ^ 0x01]))
    data[0] ^= 0x01
    assert prefix_digest(store, offset) == blake3(bytes(data[:offset])).hexdigest()
    start_prefix_digest(store.with_name("no-such-store.jsonl"))  # no snapshot: nothing to do


def test_a_head_start_in_a_child_process_is_reaped_and_a_silent_one_is_hashed_again(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prefix, "_may_fork", lambda: True)
    assert Repository.open(store, CHECKLISTS).save_snapshot()
    saved = read_saved(store)
    assert saved is not None and saved.prefix_blake3 is not None
    key = (os.path.abspath(store), saved.mark.offset)
    start_prefix_digest(store)
    child = prefix._early[key].child
    assert child is not None
    pid = child[0]
    assert prefix_digest(store, saved.mark.offset) == saved.prefix_blake3
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped by the take: no zombie left behind
    # A child that says nothing (it failed, or was killed): the open hashes the bytes itself.
    parent, digest = os.getpid(), prefix._digest

    def failing_in_the_child(path: Path, offset: int) -> tuple[str | None, Any]:
        return (None, None) if os.getpid() != parent else digest(path, offset)

    monkeypatch.setattr(prefix, "_digest", failing_in_the_child)
    start_prefix_digest(store)
    early = prefix._early[key]
    assert early.child is not None and early.wait() == (None, None)
    assert prefix_digest(store, saved.mark.offset) == saved.prefix_blake3


def test_snapshot_file_round_trip_and_every_kind_of_bad_file_is_ignored(store: Path) -> None:
    repo = Repository.open(store, CHECKLISTS)
    assert repo.save_snapshot()
    mark, view = read_snapshot(store) or (None, None)
    assert mark == repo.journal.mark() and comparable(view) == comparable(to_checkpoint(repo.state))
    path = snapshot_path(store)
    good = path.read_bytes()
    for bad in (b"", b"{", b"[]", good.replace(b"safetyapp-snapshot/4", b"safetyapp-snapshot/3"),
                good.replace(b'"seq":', b'"seq":"x","was":', 1)):  # fmt: skip
        path.write_bytes(bad)
        assert read_snapshot(store) is None
    path.unlink()
    assert read_snapshot(store) is None


def test_a_snapshot_that_cannot_be_written_changes_nothing(store: Path) -> None:
    repo = Repository.open(store, CHECKLISTS)
    snapshot_path(store).mkdir()  # something in the way (as a read-only folder would be)
    data = store.read_bytes()
    assert not repo.save_snapshot()
    assert store.read_bytes() == data
    assert sorted(p.name for p in store.parent.iterdir()) == [
        "record.jsonl",
        "record.jsonl.credentials",
        "record.jsonl.head",
        "record.jsonl.snapshot",
    ]


def test_write_refuses_a_view_of_another_event(store: Path) -> None:
    repo = Repository.open(store, CHECKLISTS)
    with pytest.raises(ValueError, match="tied to event"):
        write_snapshot(store, Mark(3, "0" * 64, 10, 5), to_view(repo.state))


# -- opening at a mark ----------------------------------------------------------------------------


def test_open_at_reads_only_after_the_mark_then_the_rest(store: Path) -> None:
    whole = Journal.open(store)
    cut = whole.records()[len(whole.records()) // 2]
    data = store.read_bytes()
    lines = data.splitlines(keepends=True)
    offset = sum(len(x) for x in lines[: cut["seq"]])
    mark = Mark(cut["seq"], cut["hash"], offset, len(lines[cut["seq"] - 1]))
    part = Journal.open_at(store, mark)
    assert part is not None and part.partial
    assert part.last_seq == whole.last_seq and part.head_hash == whole.head_hash
    assert part.since(cut["seq"]) == whole.records()[cut["seq"] :]
    with pytest.raises(ValueError):
        part.since(cut["seq"] - 1)
    assert part.records() == whole.records() and not part.partial  # the rest, on demand
    assert store.read_bytes() == data


@pytest.mark.parametrize("change", ["offset", "length", "hash", "seq", "cut", "other-store"])
def test_open_at_a_mark_the_file_does_not_hold_gives_none(
    store: Path, tmp_path: Path, change: str
) -> None:
    journal = Journal.open(store)
    mark = journal.mark()
    target = store
    if change == "offset":
        mark = Mark(mark.seq, mark.hash, mark.offset - 1, mark.length)
    elif change == "length":
        mark = Mark(mark.seq, mark.hash, mark.offset, mark.length - 1)
    elif change == "hash":
        mark = Mark(mark.seq, "f" * 64, mark.offset, mark.length)
    elif change == "seq":
        mark = Mark(mark.seq - 1, mark.hash, mark.offset, mark.length)
    elif change == "cut":
        data = store.read_bytes()
        store.write_bytes(data[: data.rfind(b"\n", 0, len(data) - 1) + 1])
    else:
        target = write_store(walked_day(), tmp_path / "other.jsonl")
    assert Journal.open_at(target, mark) is None


def test_reading_the_rest_notices_a_file_replaced_underneath(store: Path) -> None:
    journal = Journal.open(store)
    mark = journal.records()[10]
    lines = store.read_bytes().splitlines(keepends=True)
    offset = sum(len(x) for x in lines[:11])
    part = Journal.open_at(store, Mark(11, mark["hash"], offset, len(lines[10])))
    assert part is not None
    copy = store.with_name("copy.jsonl")
    copy.write_bytes(store.read_bytes())
    os.replace(copy, store)
    with pytest.raises(StoreCorrupt, match="replaced"):
        part.read_prefix()


# -- the quick open --------------------------------------------------------------------------------


def saved(store: Path) -> Repository:
    repo = Repository.open(store, CHECKLISTS)
    assert repo.save_snapshot()
    return repo


def test_quick_open_starts_from_the_checkpoint_then_checks_it(store: Path) -> None:
    full = Repository.open_full(store, CHECKLISTS)
    assert full.save_snapshot()
    quick = Repository.open_quick(store, CHECKLISTS)
    assert quick.loading and quick.journal.partial  # only the events after it were read
    assert to_checkpoint(quick.state) == to_checkpoint(full.state)
    assert quick.state.runs.keys() == full.state.runs.keys()  # every run, in order
    assert quick.stubs and all(quick.state.runs[r].completed_at for r in quick.stubs)
    history = {r.id: r.history for r in quick.full_state.runs.values()}
    assert history == {r.id: r.history for r in full.state.runs.values()}
    quick.load_rest()  # (the app runs this in a thread, or in a child process)
    assert quick.loading  # taken over only on the owner's thread
    quick.ensure_loaded()
    assert not quick.loading and not quick.snapshot_mismatch and quick.alarm is None
    assert quick.journal.records() == full.journal.records()


def test_quick_open_folds_what_other_processes_appended_after_the_snapshot(store: Path) -> None:
    saved(store)
    other = Repository.open(store, CHECKLISTS)
    assert other.do(engine.raise_hold, cred(ARMORER), "Second hold from the CLI").ok
    quick = Repository.open_quick(store, CHECKLISTS)
    assert quick.loading
    assert [h.reason for h in quick.view.open_holds()][-1] == "Second hold from the CLI"
    assert quick.state.last_seq == other.state.last_seq
    assert to_view(quick.state) == to_view(other.state)


def test_decisions_on_the_checkpoint_are_the_full_folds(store: Path, tmp_path: Path) -> None:
    saved(store)
    twin = tmp_path / "twin" / "record.jsonl"
    twin.parent.mkdir()
    for suffix in ("", ".credentials", ".head"):
        twin.with_name(twin.name + suffix).write_bytes(
            store.with_name(store.name + suffix).read_bytes()
        )
    now = datetime.now(UTC)
    quick = Repository.open_quick(store, CHECKLISTS, clock=lambda: now)
    full = Repository.open_full(twin, CHECKLISTS, clock=lambda: now)
    assert quick.loading and quick.stubs and not full.stubs
    for action, args in (
        (engine.raise_hold, (cred(AD), "Crew member hurt")),
        (engine.start_run, (CHECKLISTS["wrap"],)),
        (engine.sign, ("R0001", "meeting-held", cred(AD))),  # a finished run of day one
    ):
        mine, theirs = quick.do(action, *args), full.do(action, *args)
        assert mine.events and mine.events == theirs.events
    assert quick.journal.records() == full.journal.records()  # the very same lines
    # The new hold's number counts every hold in the record, the finished days' included.
    assert quick.state.holds.keys() == full.state.holds.keys()
    assert to_checkpoint(quick.state) == to_checkpoint(full.state)


def hide_the_open_hold(body: dict[str, Any]) -> None:
    for hold in body["view"]["holds"]:
        hold["resolved_at"], hold["resolution"] = "2026-03-04T09:00:00.000000Z", "forged"


def test_a_forged_snapshot_without_the_key_is_ignored(store: Path) -> None:
    saved(store)
    body = body_of(store)
    hide_the_open_hold(body)
    reseal_unkeyed(store, body)
    for repo in (Repository.open(store, CHECKLISTS), Repository.open_quick(store, CHECKLISTS)):
        assert not repo.loading and not repo.stubs and repo.state.open_holds()


def test_a_forged_snapshot_with_the_key_raises_the_alarm_and_stops_writes(store: Path) -> None:
    saved(store)
    body = body_of(store)
    hide_the_open_hold(body)
    forge(store, body)  # someone who read the key file
    data = store.read_bytes()
    quick = Repository.open_quick(store, CHECKLISTS)
    assert quick.loading and not quick.view.open_holds()  # believed until checked...
    quick.load_rest()
    quick.ensure_loaded()  # ...the full fold says otherwise
    assert quick.snapshot_mismatch and quick.alarm and "does not match the record" in quick.alarm
    with pytest.raises(StoreError, match="ALARM"):
        quick.do(engine.raise_hold, cred(AD), "after the alarm")
    assert not quick.save_snapshot()
    assert store.read_bytes() == data
    assert not snapshot_path(store).exists()  # set aside: the next start folds it all
    assert list(store.parent.glob("record.jsonl.snapshot.rejected-*"))
    assert Repository.open_quick(store, CHECKLISTS).state.open_holds()


def test_the_check_in_a_child_process_finds_the_same(store: Path) -> None:
    saved(store)
    quick = Repository.open_quick(store, CHECKLISTS)
    quick.check_in_child()
    quick.ensure_loaded()
    assert quick.alarm is None
    body = body_of(store)
    hide_the_open_hold(body)
    forge(store, body)
    quick = Repository.open_quick(store, CHECKLISTS)
    quick.check_in_child()
    quick.ensure_loaded()
    assert quick.alarm is not None


def test_an_unusable_snapshot_means_a_full_open(store: Path) -> None:
    saved(store)
    snapshot_path(store).write_text('{"format": "safetyapp-snapshot/1"}')
    assert not Repository.open_quick(store, CHECKLISTS).loading
    snapshot_path(store).unlink()
    assert not Repository.open_quick(store, CHECKLISTS).loading


def test_a_damaged_earlier_part_is_found_by_the_prefix_digest(store: Path) -> None:
    saved(store)
    data = store.read_bytes()
    # Same length, so the snapshot's mark still lines up: the damage is in the part not parsed.
    damaged = data.replace(b'"seq":5,', b'"seq":6,', 1)
    store.write_bytes(damaged)
    for how in (Repository.open, Repository.open_quick):
        with pytest.raises(StoreCorrupt, match="line 5"):  # digest differs: folded in full
            how(store, CHECKLISTS)
    assert store.read_bytes() == damaged


def test_a_torn_tail_means_a_full_open_which_sets_it_aside(store: Path) -> None:
    saved(store)
    data = store.read_bytes()
    with store.open("ab") as f:
        f.write(b'{"kind":"signed","seq":')  # a crash in the middle of an append
    quick = Repository.open_quick(store, CHECKLISTS)
    assert not quick.loading  # the whole file was checked before anything was changed
    assert any("unfinished write" in w for w in quick.warnings)
    assert store.read_bytes() == data
    assert [p.name for p in store.parent.glob("record.jsonl.torn-*")]


def test_a_damaged_store_with_a_torn_tail_is_left_exactly_as_it_is(store: Path) -> None:
    saved(store)
    damaged = store.read_bytes().replace(b'"seq":5,', b'"seq":6,', 1) + b'{"kind":"si'
    store.write_bytes(damaged)
    with pytest.raises(StoreCorrupt, match="line 5"):
        Repository.open_quick(store, CHECKLISTS)
    assert store.read_bytes() == damaged
    assert not list(store.parent.glob("record.jsonl.torn-*"))


@pytest.mark.parametrize(
    "change",
    [
        "float-seq",
        "bool-seq",
        "deep",
        "deep-in-view",
        "not-a-dict",
        "string-hash",
        "bad-view",
        "fifo",
    ],
)
def test_every_malformed_snapshot_is_ignored(store: Path, change: str) -> None:
    saved(store)
    path = snapshot_path(store)
    body = body_of(store)
    if change == "float-seq":
        body["mark"]["seq"] = float(body["mark"]["seq"])
        body["view"]["last_seq"] = float(body["view"]["last_seq"])
    elif change == "bool-seq":
        body["view"]["last_seq"] = True
    elif change == "not-a-dict":
        body["view"] = []
    elif change == "string-hash":
        body["mark"]["hash"] = 5
    elif change == "bad-view":
        body["view"]["runs"] = [{"id": "R9"}]
    elif change == "deep-in-view":
        body["view"]["zz"] = "DEEP"
    text = json.dumps(body)
    if change == "deep":
        text = '{"format":' + "[" * 100_000 + "]" * 100_000 + "}"
    if change == "deep-in-view":  # parses, but too deep to encode again
        text = text.replace('"DEEP"', "[" * 5_000 + "]" * 5_000)
    path.unlink()
    if change == "fifo":
        os.mkfifo(path)  # a plain read would wait forever
    else:
        forge(store, text)  # sealed: ignored for what it holds, not for its seal
    assert read_snapshot(store) is None or change in ("bad-view", "deep-in-view")
    repo = Repository.open_quick(store, CHECKLISTS)
    assert not repo.loading  # folded in full instead
    assert to_view(repo.state) == to_view(Repository.open(store, CHECKLISTS).state)


def test_a_run_started_after_the_snapshot_may_name_any_recorded_checklist(tmp_path: Path) -> None:
    world = walked_day()
    open_day(world)  # the snapshot is taken mid-day, before today's wrap is started
    store = write_store(world, tmp_path / "record.jsonl")
    saved(store)
    assert Repository.open(store, CHECKLISTS).do(engine.start_run, CHECKLISTS["wrap"]).ok
    quick = Repository.open_quick(store, CHECKLISTS)
    assert quick.loading  # the wrap checklist came from the snapshot, not a full open
    assert quick.view.runs[max(quick.view.runs)].checklist.id == "wrap"


def test_an_edited_checklist_text_is_refused_when_folded(tmp_path: Path) -> None:
    world = walked_day()
    records = payloads(world)
    first = next(r for r in records if r["kind"] == "checklist-adopted"
                 and r["data"]["checklist_id"] == "handoff")  # fmt: skip
    for layer in first["data"]["checklist"]["layers"]:
        for step in layer["steps"]:
            step["witnesses"] = []  # one edit that every later handoff would walk
    store = tmp_path / "record.jsonl"
    Journal.create(store, records)
    # Replay catches it first: the engine records the digest of the text it is given.
    with pytest.raises(
        StoreUnreadable,
        match=r"does not match its digest|event 3 .kind .checklist-adopted.* breaks rule",
    ):
        Repository.open(store, CHECKLISTS)


def _cli(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFETYAPP")}
    return subprocess.run(
        [sys.executable, "-m", "safetyapp", "--db", str(store), *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_verify_checks_the_checkpoint_and_sets_a_forged_one_aside(store: Path) -> None:
    saved(store)
    assert _cli(store, "verify").returncode == 0
    body = body_of(store)
    hide_the_open_hold(body)
    forge(store, body)
    out = _cli(store, "verify")
    assert out.returncode == 1 and "start-up snapshot" in out.stderr, out.stderr
    assert not snapshot_path(store).exists()
    assert _cli(store, "verify").returncode == 0  # the record itself verifies


def test_commands_show_finished_runs_in_full_from_the_record(store: Path) -> None:
    full = saved(store)
    quick = Repository.open(store, CHECKLISTS)
    assert "R0001" in quick.stubs  # held without its sign-offs...
    out = _cli(store, "run", "status", "R0001", "--json")
    assert out.returncode == 0, out.stderr
    steps = json.loads(out.stdout)["steps"]
    signed = [s for s in steps if s.get("signed_by")]
    assert signed and len(signed) == len(full.state.runs["R0001"].signoffs)  # ...shown in full


def test_stopping_the_check_kills_its_child_and_takes_nothing(store: Path) -> None:
    """The app closing: the background check's child is killed at once (quitting never waits
    for a whole-record replay), and nothing is taken from it: the state stays 'loading', so no
    checkpoint is written from it."""
    import signal

    saved(store)
    quick = Repository.open_quick(store, CHECKLISTS)
    check = quick._check
    assert check is not None
    worker = threading.Thread(target=quick.check_in_child)
    worker.start()
    deadline = time.monotonic() + 30
    while check._child is None and time.monotonic() < deadline:
        time.sleep(0.001)
    quick.stop_check()
    worker.join(30)
    assert not worker.is_alive() and check._child is not None
    assert check._child.returncode == -signal.SIGKILL  # killed, not finished
    quick.ensure_loaded()  # nothing to take, no error
    assert quick.loading and quick.alarm is None and not check.done
    quick.check_in_child()  # a stopped check never starts again
    assert check._child.returncode == -signal.SIGKILL and quick.loading


def test_hashing_off_the_main_thread_puts_the_switch_interval_back(store: Path) -> None:
    before = sys.getswitchinterval()
    seen: list[float] = []
    size = store.stat().st_size
    hashes = [threading.Thread(target=lambda: seen.append(len(prefix_digest(store, size) or "")))
              for _ in range(3)]  # fmt: skip
    for thread in hashes:
        thread.start()
    for thread in hashes:
        thread.join()
    assert seen == [64, 64, 64]
    assert sys.getswitchinterval() == before


# -- the checkpoint's finished runs, made only when read -----------------------------------------


def test_a_checkpoints_finished_runs_are_made_only_when_read(world: World) -> None:
    from safetyapp.domain.snapshot import StubbedRuns, from_checkpoint
    from safetyapp.domain.state import Run

    view = to_checkpoint(world.state)
    state, stubs = from_checkpoint(view)
    runs = state.runs
    assert isinstance(runs, StubbedRuns) and stubs
    unmade = {k for k, v in dict.items(runs) if type(v) is not Run}
    assert unmade == stubs  # nothing made yet: ids, order and length need no run
    assert list(runs) == list(world.state.runs) and len(runs) == len(world.state.runs)
    assert [r.id for r in _runs_to_show(state)] == [r.id for r in _runs_to_show(world.state)]
    made = stubs - {k for k, v in dict.items(runs) if type(v) is not Run}
    assert len(made) <= 1  # the board reads back to yesterday's last run, no further
    first = sorted(stubs)[0]
    run = runs[first]
    assert isinstance(run, Run) and runs[first] is run and runs.get(first) is run  # once
    full = world.state.runs[first]
    assert (run.checklist.id, run.day, run.completed_at, run.roles_by_person) == (
        full.checklist.id, full.day, full.completed_at, full.roles_by_person
    )  # fmt: skip
    # Every way of reading them reads runs, never a row.
    for copied in ({**runs}, dict(runs), runs.copy(), dict(runs.items())):
        assert all(type(v) is Run for v in copied.values())
    assert all(type(v) is Run for v in reversed(runs.values()))
    assert [r.id for r in runs.values()] == list(world.state.runs)
    assert to_checkpoint(state) == view


def test_a_checkpoint_row_that_could_not_be_made_into_its_run_is_refused_at_once(
    world: World,
) -> None:
    from safetyapp.domain.snapshot import from_checkpoint

    view = to_checkpoint(world.state)
    assert view["closed_runs"]["runs"]
    for change in (
        lambda row: row.__setitem__(1, 99),  # no such checklist
        lambda row: row.__setitem__(1, -1),  # (a negative index would name the last)
        lambda row: row.__setitem__(7, [0]),  # a person without a role
        lambda row: row.__setitem__(7, [0, 999]),  # no such name
        lambda row: row.__setitem__(8, None),  # not finished
        lambda row: row.pop(),  # eight fields
    ):
        bad = json.loads(json.dumps(view))
        change(bad["closed_runs"]["runs"][0])
        with pytest.raises(ValueError):
            from_checkpoint(bad)
    twice = json.loads(json.dumps(view))
    twice["run_order"][-1] = twice["run_order"][0]  # one run named twice, one not at all
    with pytest.raises((ValueError, KeyError)):
        from_checkpoint(twice)


# -- the rows section: parsed row by row, when read ----------------------------------------------


def _stub_rows(repo: Repository) -> tuple[list[str], Any]:
    runs = repo.state.runs
    assert repo.stubs and isinstance(runs, dict)
    return sorted(repo.stubs), runs


def test_a_checkpoints_rows_are_parsed_only_when_their_run_is_read(store: Path) -> None:
    full = saved(store).state
    body = body_of(store)
    rows = body["view"]["closed_runs"]["runs"]
    assert len(rows) >= 2
    # A row no fold would write, sealed with the key: nothing reads it at the open...
    rows[0][1] = 99  # names no checklist
    forge(store, body)
    repo = Repository.open(store, CHECKLISTS)
    stubs, runs = _stub_rows(repo)
    assert set(stubs) == {row[0] for row in rows}
    assert [r.id for r in _runs_to_show(repo.state)] == [r.id for r in _runs_to_show(full)]
    later = runs[rows[-1][0]]  # ...another row is read, and is its run...
    assert (later.checklist.id, later.day, later.completed_at, later.roles_by_person) == (
        (f := full.runs[later.id]).checklist.id, f.day, f.completed_at, f.roles_by_person
    )  # fmt: skip
    with pytest.raises(CheckpointRowError, match="names no checklist"):
        runs[rows[0][0]]  # ...and the bad one is refused when read, never made
    assert read_saved(store) is None  # and set aside: the next open reads the record in full
    with pytest.raises(CheckpointRowError, match="names no checklist"):
        list(runs.values())  # (all of them at once: the same)
    assert not Repository.open(store, CHECKLISTS).stubs


def test_a_bad_row_read_by_a_command_is_a_clear_refusal_then_the_record_decides(
    store: Path,
) -> None:
    saved(store)
    body = body_of(store)
    body["view"]["closed_runs"]["runs"][-1][1] = 99  # the row the listing reads back to
    forge(store, body)
    first = _cli(store, "run", "list")
    assert first.returncode == 1 and "unexpected error" not in first.stderr
    assert "checkpoint beside the store holds a run this version cannot read" in first.stderr
    assert "names no checklist" in first.stderr and read_saved(store) is None
    again = _cli(store, "run", "list")
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("damage", [b"x", b",", b"\n"])
def test_a_rows_section_with_bytes_after_its_end_is_no_checkpoint(
    store: Path, damage: bytes
) -> None:
    saved(store)
    first, _, data = snapshot_path(store).read_bytes().partition(b"\n")
    data += damage
    key = bytes.fromhex(key_path(store).read_text().strip())
    fmt, _, offset, length = first.split(b" ")
    seal = hmac.new(key, data, hashlib.sha256).hexdigest().encode()
    snapshot_path(store).write_bytes(b" ".join([fmt, seal, offset, length]) + b"\n" + data)
    assert read_saved(store) is not None and read_saved(store).sealed  # type: ignore[union-attr]
    assert not Repository.open(store, CHECKLISTS).stubs  # refused at the open: a full fold


def test_a_rows_section_that_does_not_hold_its_runs_is_no_checkpoint(store: Path) -> None:
    saved(store)
    body = body_of(store)
    body["view"]["closed_runs"]["runs"].pop()  # one run of the order without its row
    forge(store, body)
    repo = Repository.open(store, CHECKLISTS)
    assert not repo.stubs  # folded in full: the count is checked at the open
    assert repo.state.runs == Repository.open_full(store, CHECKLISTS).state.runs


def test_a_row_found_from_the_sections_end_is_the_row_the_whole_section_gives(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import safetyapp.domain.snapshot as snapshot_view

    full = saved(store).state
    ids, _ = _stub_rows(Repository.open(store, CHECKLISTS))
    backwards = Repository.open(store, CHECKLISTS).state.runs  # every row from the end
    from_end = {run_id: backwards[run_id] for run_id in reversed(ids)}
    monkeypatch.setattr(snapshot_view, "_FROM_END", 0)  # every row from the split section
    split = Repository.open(store, CHECKLISTS).state.runs
    for run_id in ids:
        mine, theirs, whole = from_end[run_id], split[run_id], full.runs[run_id]
        assert mine == theirs
        assert (mine.checklist.id, mine.day, mine.completed_at, mine.roles_by_person) == (
            whole.checklist.id, whole.day, whole.completed_at, whole.roles_by_person
        )  # fmt: skip


def test_a_voided_run_of_an_earlier_day_is_kept_whole_and_the_checkpoint_started_from(
    tmp_path: Path,
) -> None:
    """Found in review: a voided run's row had no completion, so every row read from the file
    failed once a later day opened (run list, the board, a sign-off on the wrap's counts)."""
    from support import ACTOR, SUPERVISOR, WRAP, start, walk

    world = walked_day()  # day 1
    open_day(world)  # day 2
    voided = start(world, "handoff", firearm="COLT-1", performer=ACTOR[0], scene="9")
    assert world.do(engine.void_run, voided, [cred(ARMORER), cred(SUPERVISOR)], "plan changed").ok
    walk(world, start(world, "wrap"), WRAP)
    open_day(world)  # day 3: day 2's voided run is an earlier day's closed run
    store = write_store(world, tmp_path / "record.jsonl")
    assert Repository.open(store, CHECKLISTS).save_snapshot()
    repo = Repository.open(store, CHECKLISTS)
    assert repo.stubs and voided not in repo.stubs  # from the checkpoint, the void kept whole
    full = Repository.open_full(store, CHECKLISTS).state
    assert [r.id for r in repo.state.current_runs()] == [r.id for r in full.current_runs()]
    assert repo.state.runs[voided].void_reason == full.runs[voided].void_reason == "plan changed"
    assert [r.id for r in repo.state.runs.values()] == list(full.runs)
    assert repo.state.ammo_reconciliation() == full.ammo_reconciliation()


def test_a_run_read_from_its_row_while_another_thread_makes_them_all_is_still_made(
    store: Path,
) -> None:
    """The interface may take a finished run's row place just before a worker building the
    checkpoint makes every run (StubbedRuns.make_all): that row is still found, not taken
    for an unreadable checkpoint (which would set it aside and stop the app)."""
    from safetyapp.domain.snapshot import StubbedRuns
    from safetyapp.domain.state import Run

    assert Repository.open(store, CHECKLISTS).save_snapshot()
    repo = Repository.open(store, CHECKLISTS)  # from the checkpoint file: rows unparsed
    runs = repo.state.runs
    assert isinstance(runs, StubbedRuns) and repo.stubs
    run_id = sorted(repo.stubs)[0]
    place = dict.__getitem__(runs, run_id)
    assert type(place) is int  # what the other thread read, before...
    runs.make_all()  # ...this thread made every run
    run = runs._run(run_id, place)
    assert isinstance(run, Run) and run.id == run_id
