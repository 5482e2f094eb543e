"""Realistic stores for the benchmark: a production's days, walked through the real engine.

Each day: the opening checklist (safety meeting, lots, live-round check, checkout), then handoffs
of the two firearms to the performers (all seven steps, with witnesses and evidence), a refusal
now and then (the AD trying to sign the armorer's step), a held and resolved step once a day,
and the wrap. Events are produced by the pure engine on an in-memory state with a moving clock
(half a minute per action, a new day at 07:00), then written with ``Journal.create`` in one go,
so every line is exactly what the app would have written.

PINs are hashed with a tiny scrypt cost (n=16) so generating 100,000 events takes seconds; the
production cost is measured separately.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from safetyapp.checklists import load_bundled
from safetyapp.domain import engine
from safetyapp.domain.auth import hash_pin
from safetyapp.domain.engine import Credential, Decision
from safetyapp.domain.roles import FIREARMS_ROLES
from safetyapp.domain.state import State
from safetyapp.store.chain import GENESIS, seal_line
from safetyapp.store.credentials import write_credentials
from safetyapp.store.head import head_path, write_head
from safetyapp.store.journal import Journal

# 6: issue 15 evidence (serial in hand, state called, blanks); 7: record format 4
# (qualifications on file, the pre-production gate)
GENERATOR_VERSION = "7"
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
CHECKLISTS = load_bundled()
CHEAP_N = 16

ARMORER = ("Alex Reyes", ["armorer"], "1111")
AD = ("Jordan Lee", ["ad"], "2222")
ACTOR = ("Casey Morgan", ["actor"], "3333")
ACTOR2 = ("Riley Chen", ["actor"], "4444")
SUPERVISOR = ("Pat Okafor", ["supervisor"], "5555")
CREW = [ARMORER, AD, ACTOR, ACTOR2, SUPERVISOR]
PINS = {name: pin for name, _, pin in CREW}

Person = tuple[str, list[str], str]
Step = tuple[str, Person, tuple[Person, ...], dict[str, str]]

OPENING: list[Step] = [
    ("meeting-held", AD, (ARMORER,), {"attendees": "24", "concerns-read": "yes"}),
    ("no-other-duties", ARMORER, (), {"other-duties": "no"}),
    ("lots-listed", ARMORER, (AD,), {"lots": "D-1=36", "unlabelled": "0"}),
    ("live-rounds-zero", ARMORER, (AD,), {"live-rounds": "0", "unidentified-rounds": "0"}),
    ("dummies-inert", ARMORER, (AD,), {"dummies-checked": "36", "failed-inert-check": "0"}),
    ("checkout", ARMORER, (), {"firearms-out": "COLT-1, GLOCK-2"}),
]
GATE: list[Step] = [
    ("risk-assessment", SUPERVISOR, (), {"reference": "RA-1 rev 1", "on-file": "yes"}),
    ("armorer-hired", SUPERVISOR, (ARMORER,), {"armorer-only": "yes"}),
    ("licences-in-date", SUPERVISOR, (), {"licences-in-date": "yes"}),
    ("training-complete", SUPERVISOR, (), {"training-complete": "yes"}),
]
WRAP: list[Step] = [
    ("locked-up", ARMORER, (AD,), {"firearms-locked": "COLT-1, GLOCK-2", "missing": "0"}),
    ("counts-reconciled", ARMORER, (AD,), {"counts": "D-1=36"}),
    ("incidents-reviewed", SUPERVISOR, (), {"open-concerns": "0"}),
]


_SERIAL_BY_CHAMBERS = {6: "COLT-1", 15: "GLOCK-2"}


def handoff_steps(actor: Person, chambers: int, serial: str | None = None) -> list[Step]:
    serial = serial or _SERIAL_BY_CHAMBERS[chambers]
    return [
        ("rounds-loaded", ARMORER, (AD,), {"dummies": "6", "blanks": "0", "live-rounds": "0"}),
        ("inspect", ARMORER, (AD, actor), {"serial-in-hand": serial, "bore-clear": "yes", "chambers-seen": str(chambers), "loads-as-listed": "yes"}),
        ("ad-confirms", AD, (ARMORER,), {"chambers-seen": str(chambers), "state-called": "dummies x6"}),
        ("announced", AD, (), {"line-of-fire-clear": "yes", "hot-announced": "no", "safe-distance": "none", "shields": "yes"}),
        ("hand-over", ARMORER, (actor,), {}),
        ("performer-check", actor, (), {"witnessed-show-clear": "yes"}),
        ("returned", ARMORER, (actor,), {"rounds-expended": "0", "reinspected-clear": "yes"}),
    ]  # fmt: skip


def cheap_pin(name: str, pin: str) -> dict[str, Any]:
    salt = hashlib.sha256(name.encode()).digest()[:16]
    return hash_pin(pin, salt, n=CHEAP_N)


def cred(person: Person) -> Credential:
    return Credential(person[0], PINS[person[0]])


class Producer:
    """The engine on an in-memory state; collects the payloads it decides (or, with a
    ``sink``, hands them on in batches and keeps only the count: a million events)."""

    def __init__(self, sink: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
        self.state = State()
        self.now = START
        self.payloads: list[dict[str, Any]] = []
        self.count = 0
        self.sink = sink

    def do(self, action: Callable[..., Decision], *args: Any, **kwargs: Any) -> Decision:
        decision = action(self.state, *args, now=self.now, **kwargs)
        if decision.events:
            self.state.credentials.update(decision.credentials)
        for payload in decision.events:
            self.payloads.append(payload)
            self.count += 1
            self.state.apply({**payload, "seq": self.count})
        if self.sink is not None and len(self.payloads) >= 20_000:
            self.flush()
        self.now += timedelta(seconds=30)
        return decision

    def flush(self) -> None:
        if self.sink is not None and self.payloads:
            self.sink(self.payloads)
            self.payloads = []

    def ok(self, action: Callable[..., Decision], *args: Any, **kwargs: Any) -> Decision:
        decision = self.do(action, *args, **kwargs)
        if not decision.ok:
            raise RuntimeError(f"generator: {action.__name__} refused: {decision.refused}")
        return decision

    def start(self, checklist: str, **context: Any) -> str:
        return str(self.ok(engine.start_run, CHECKLISTS[checklist], **context).run_id)

    def sign(self, run: str, step: Step) -> Decision:
        sid, by, witnesses, evidence = step
        return self.do(
            engine.sign, run, sid, cred(by), witnesses=[cred(w) for w in witnesses],
            evidence=evidence,
        )  # fmt: skip

    def walk(self, run: str, steps: list[Step]) -> None:
        for step in steps:
            decision = self.sign(run, step)
            if not decision.ok or decision.events[0]["result"] != "pass":
                raise RuntimeError(f"generator: step {step[0]} did not pass: {decision}")


def setup(p: Producer) -> None:
    """Created with its safety supervisor (who adopts the bundled checklists), who adds the
    crew; the armorer adds the inventory."""
    p.ok(
        engine.create_production, "Dusk Rider", SUPERVISOR[0], cheap_pin(*SUPERVISOR[::2]),
        adopt=CHECKLISTS.values(),
    )  # fmt: skip
    for name, roles, pin in CREW:
        if name != SUPERVISOR[0]:
            p.ok(engine.add_crew, cred(SUPERVISOR), name, roles, cheap_pin(name, pin))
    for name, roles, _ in CREW:  # qualifications on file, entered by the supervisor
        if "armorer" in roles:
            p.ok(engine.record_licence, cred(SUPERVISOR), name, "AL-1", "State board", "2030-12-31")
        if any(role in FIREARMS_ROLES for role in roles):
            p.ok(engine.record_training, cred(SUPERVISOR), name, "2026-01-15", "Safety course")
    p.ok(engine.add_firearm, cred(ARMORER), "COLT-1", "Revolver", "blank-firing", 6)
    p.ok(engine.add_firearm, cred(ARMORER), "GLOCK-2", "Pistol", "blank-firing", 15)
    p.ok(engine.add_ammo, cred(ARMORER), "D-1", "dummy", 36, "Prop house")
    gate = p.start("prep")  # the pre-production gate, before any opening
    p.walk(gate, GATE)


def crew_credentials() -> dict[str, dict[str, Any]]:
    """The credentials file's records for the generated crew (deterministic, cheap)."""
    records = [cheap_pin(name, pin) for name, _, pin in CREW]
    return {r["id"]: r for r in records}


def write_store(path: Path, payloads: list[dict[str, Any]]) -> None:
    """A generated store and its credentials file beside it."""
    write_credentials(path, crew_credentials())
    Journal.create(path, payloads)


def open_day(p: Producer, number: int) -> None:
    p.now = START + timedelta(days=number - 1)
    run = p.start("opening")
    p.walk(run, OPENING[:2])
    if number % 3 == 0:  # a failed step, its hold, and the two-signature resolution
        failed = p.sign(run, ("lots-listed", ARMORER, (AD,), {"lots": "D-1=36", "unlabelled": "1"}))
        hold = failed.hold_id
        p.ok(engine.resolve_hold, hold, [cred(SUPERVISOR), cred(ARMORER)],
             "Unlabelled box removed from set and quarantined; lots recounted")  # fmt: skip
    p.walk(run, OPENING[2:])


def handoff(p: Producer, k: int) -> None:
    serial, actor, chambers = ("COLT-1", ACTOR, 6) if k % 2 == 0 else ("GLOCK-2", ACTOR2, 15)
    run = p.start(
        "handoff", firearm=serial, performer=actor[0], scene=f"{12 + k // 8}{'ABCDEFGH'[k % 8]}"
    )
    steps = handoff_steps(actor, chambers)
    if k % 15 == 7:  # a refusal: the AD tries to sign the armorer's step
        p.do(engine.sign, run, "rounds-loaded", cred(AD), witnesses=[cred(ARMORER)],
             evidence=steps[0][3])  # fmt: skip
    p.walk(run, steps)


def wrap(p: Producer) -> None:
    run = p.start("wrap")
    p.walk(run, WRAP)


@dataclass(frozen=True)
class Spec:
    """``events`` in total, ``per_day`` a day; the last day is left open (a handoff can start)
    unless ``wrapped``."""

    events: int
    per_day: int = 1700
    wrapped: bool = False


def produce(
    spec: Spec, sink: Callable[[list[dict[str, Any]]], None] | None = None
) -> list[dict[str, Any]]:
    """The payloads of ``spec``'s production (all of them; or, with ``sink``, handed to it in
    batches as they are decided, and only the last few returned)."""
    p = Producer(sink)
    setup(p)
    day = 0
    while True:
        day += 1
        day_start = p.count
        open_day(p, day)
        k = 0
        last_day = p.count + spec.per_day >= spec.events
        budget = (spec.events if last_day else day_start + spec.per_day) - 12
        while p.count < budget:
            handoff(p, k)
            k += 1
        if last_day:
            if spec.wrapped:
                wrap(p)
            p.flush()
            return p.payloads
        wrap(p)


class _StreamWriter:
    """Seal and write payloads to a new file batch by batch (what Journal.create writes,
    line for line, without holding a million records)."""

    def __init__(self, path: Path) -> None:
        self.f = open(path, "xb")  # noqa: SIM115
        self.seq = 0
        self.prev = GENESIS

    def __call__(self, payloads: list[dict[str, Any]]) -> None:
        lines = []
        for payload in payloads:
            self.seq += 1
            rec, line = seal_line(payload, self.seq, self.prev)
            self.prev = rec["hash"]
            lines.append(line)
        data = ("\n".join(lines) + "\n").encode("utf-8")
        self.f.write(data)

    def close(self) -> None:
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()


def store(spec: Spec, cache: Path) -> Path:
    """A store for ``spec`` in ``cache`` (built once, reused while the generator is unchanged)."""
    name = f"store-{spec.events}-{spec.per_day}-{'w' if spec.wrapped else 'o'}-v{GENERATOR_VERSION}.jsonl"
    path = cache / name
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cache / f".{name}.{os.getpid()}"
        if tmp.exists():
            tmp.unlink()
        write_credentials(path, crew_credentials())
        if spec.events <= 200_000:
            Journal.create(tmp, produce(spec))
        else:  # a million events: streamed to the file as they are decided
            writer = _StreamWriter(tmp)
            try:
                produce(spec, writer)
            finally:
                writer.close()
        os.replace(tmp, path)
        head_path(tmp).unlink(missing_ok=True)
    if not head_path(path).exists():
        acknowledge(path)
    return path


def acknowledge(path: Path) -> None:
    """The head file beside a cached store, as the app leaves it after its last append (the store
    is built at a temporary name, so the head the journal wrote there is not this one's)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        f.seek(max(0, size - (1 << 20)))
        tail = f.read()
    last = tail[tail.rfind(b"\n", 0, len(tail) - 1) + 1 :]
    record = json.loads(last)
    write_head(path, int(record["seq"]), str(record["hash"]), size, len(last))


def checkpoint(src: Path) -> None:
    """The checkpoint beside a cached store, as the app leaves it (made once: the record is
    folded in full, streamed, by the same fold the app uses)."""
    from safetyapp.domain.snapshot import from_checkpoint
    from safetyapp.store.prefix import prefix_digest
    from safetyapp.store.repository import checkpoint_from_record
    from safetyapp.store.snapshot import read_saved

    saved = read_saved(src)
    if saved is not None and saved.sealed:
        try:
            restored, _ = from_checkpoint(saved.view)
            list(restored.runs.values())  # every row read (they are checked when read)
            # (its digest too: one made with another hash would never be started from)
            if saved.prefix_blake3 == prefix_digest(src, saved.mark.offset):
                return
        except Exception:  # one an older version of this code wrote: made again
            pass
    if not checkpoint_from_record(src):
        raise RuntimeError(f"generator: no checkpoint could be written for {src}")


def copy_store(src: Path, dst: Path, *, checkpoint: bool = False) -> Path:
    shutil.copyfile(src, dst)
    suffixes = [".credentials", ".head", *([".snapshot", ".checkpoint-key"] if checkpoint else [])]
    for suffix in suffixes:
        shutil.copyfile(f"{src}{suffix}", f"{dst}{suffix}")
        os.chmod(f"{dst}{suffix}", 0o600)
    return dst
