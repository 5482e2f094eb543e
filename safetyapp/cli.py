"""Command line: the same repository and engine calls the TUI makes, scriptable.

Exit codes: 0 success, 1 refused or a check failed, 2 usage error. Never a traceback: any
unexpected error is one line on stderr plus the path of a log file with the details.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NoReturn

import click
import orjson

from safetyapp import __version__
from safetyapp.checklists import Installed, load_bundled, load_file, unusable
from safetyapp.domain import clock, engine, qualifications
from safetyapp.domain import events as ev
from safetyapp.domain import names as naming
from safetyapp.domain.auth import hash_pin, pin_problem
from safetyapp.domain.checklist import Checklist, ChecklistError
from safetyapp.domain.engine import Credential, Decision
from safetyapp.domain.evidence import DEFAULT_BLANK_DISTANCE_FT
from safetyapp.domain.incidents import INCIDENT_KINDS
from safetyapp.domain.roles import ROLES
from safetyapp.domain.snapshot import CheckpointRowError
from safetyapp.domain.state import CrewMember
from safetyapp.gcpause import hold_full_collections, release_full_collections
from safetyapp.paths import log_dir, resolve_store
from safetyapp.store.chain import receipt
from safetyapp.store.journal import Journal, StoreCorrupt, StoreError, StoreMissing
from safetyapp.store.repository import Repository
from safetyapp.views import firearm_view, flag_view, hold_view, incident_view, run_view

EXIT_REFUSED = 1
EXIT_USAGE = 2


# Characters a terminal would act on rather than show: C0/C1 controls (ESC starts ANSI
# sequences, CR/LF could fake a line) and bidirectional overrides (which reorder what is shown).
# User text is echoed with these spelled out, so a name or note is always shown literally.
_SHOWN_AS = {"\n": "\\n", "\r": "\\r"}
_LITERAL = str.maketrans(
    {
        code: _SHOWN_AS.get(chr(code), f"\\u{code:04x}")
        for code in [
            *range(0x00, 0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0), 0x061C, 0x200E,
            0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029,
        ]
    }
)  # fmt: skip


def literal(text: str) -> str:
    """``text`` with every control or direction-override character spelled out (tab kept)."""
    return text.translate(_LITERAL)


def _say(text: str, *, err: bool = False) -> None:
    """Echo one line that contains user text, shown literally."""
    click.echo(literal(text), err=err)


class Refused(click.ClickException):
    """An action the rules refused, or a check that failed: exit 1, one line on stderr."""

    exit_code = EXIT_REFUSED

    def show(self, file: Any = None) -> None:
        _say(f"safetyapp: {self.message}", err=True)


# -- helpers ----------------------------------------------------------------------------------


def _store_path(ctx: click.Context) -> Path:
    path: Path = ctx.obj["db"]
    return path


def _new_store_path(ctx: click.Context) -> Path:
    """Where a new store goes; the default data folder is created, a --db folder never is."""
    path = _store_path(ctx)
    if ctx.obj["default"]:
        path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _installed() -> dict[str, Checklist]:
    """The installed checklists, read now; an invalid file among them is a clear refusal."""
    try:
        return load_bundled()
    except ChecklistError as exc:
        raise Refused(unusable(exc)) from None


def _open(ctx: click.Context) -> Repository:
    """The store, opened once per command (name lookups and the action share it)."""
    cached: Repository | None = ctx.obj.get("repo")
    if cached is not None:
        return cached
    path = _store_path(ctx)
    try:
        # Read only if the command starts a run: a read or a sign-off never needs them.
        repo = Repository.open(path, Installed(on_error=lambda exc: Refused(unusable(exc))))
    except StoreMissing:
        raise Refused(
            f"no store at {path}; create one with"
            " `safetyapp init --production NAME --supervisor NAME`"
            " or try `safetyapp demo`"
        ) from None
    except StoreError as exc:
        raise Refused(str(exc)) from None
    for warning in repo.journal.warnings:
        _say(f"safetyapp: warning: {warning}", err=True)
    repo.read_only = ctx.obj.get("read_only", False)
    repo.keep_checkpoint()  # a long record: the next command starts from it (a cache)
    ctx.obj["repo"] = repo
    return repo


def _person(name: str) -> str:
    """The crew member a typed name means, forgiving case, width and spacing. A name that means
    nobody is passed on as typed (the engine refuses it, on the record), with a "did you mean"
    kept for the message."""
    ctx = click.get_current_context()
    crew = _open(ctx).state.crew
    found = naming.find(name, crew)
    if found is not None:
        return found
    guess = naming.did_you_mean(name, crew)
    if guess is not None:
        ctx.obj.setdefault("hints", []).append(f"'{name}': did you mean '{guess}'?")
    return name


def _outcome(decision: Decision) -> None:
    if not decision.ok:
        ctx = click.get_current_context(silent=True)
        hints = ctx.obj.get("hints", []) if ctx is not None and ctx.obj else []
        raise Refused(" ".join([f"refused: {decision.refused}", *hints]))


def _do(repo: Repository, action: Callable[..., Decision], *args: Any, **kw: Any) -> Decision:
    """`repo.do`, with a store that cannot be written (disk full, read-only...) a refusal."""
    try:
        decision = repo.do(action, *args, **kw)
    except StoreError as exc:
        raise Refused(str(exc)) from None
    if decision.events:
        _await_mirror(repo)
    return decision


MIRROR_WAIT_SECONDS = 5.0


def _await_mirror(repo: Repository) -> None:
    """A configured mirror is synced after the append (in the background); give it a few
    seconds before the process ends, and warn - never fail - when it could not be."""
    if not repo.mirror.configured():
        return
    status = repo.mirror.wait(MIRROR_WAIT_SECONDS)
    if status is None or (status.state == "ok" and status.events >= repo.journal.last_seq):
        return
    if status.state == "ok":
        detail = f"still syncing after {MIRROR_WAIT_SECONDS:g} s"
    elif status.state == "unreachable":
        detail = f"unreachable: {status.directory}"
    else:
        detail = status.message
    _say(f"safetyapp: warning: recorded, but not mirrored: {detail}", err=True)


def _act(ctx: click.Context, action: Callable[..., Decision], *args: Any, **kw: Any) -> Decision:
    decision = _do(_open(ctx), action, *args, **kw)
    _outcome(decision)
    return decision


def _act_signed(
    ctx: click.Context, by: str, action: Callable[..., Decision], *args: Any
) -> Decision:
    """An action signed by `by`: the store is opened (and a broken one refused) before their
    PIN is read from stdin or a prompt."""
    repo = _open(ctx)
    (cred,) = _credentials([by])
    decision = _do(repo, action, cred, *args)
    _outcome(decision)
    return decision


def _emit_json(value: Any) -> None:
    # orjson writes the same text as json.dumps(indent=2, ensure_ascii=False) for what
    # commands emit (str, int, bool, None, lists, str-keyed dicts), ~20x faster (the C
    # encoder of json is off with an indent): a listing of 100,000 events' runs. Anything
    # else (a float, a huge int) goes through json itself.
    try:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode("utf-8")
        if _has_float(value):
            raise TypeError("floats: json's own text")
    except TypeError:
        text = json.dumps(value, indent=2, ensure_ascii=False)
    click.echo(text)


def _has_float(value: Any) -> bool:
    """Any float anywhere in `value` (a loop, not recursion: a listing has ~60,000 values)."""
    stack = [value]
    plain = (str, int, bool, type(None))
    while stack:
        item = stack.pop()
        if type(item) in plain:
            continue
        if isinstance(item, float):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def _list(rows: list[dict[str, Any]], as_json: bool, line: Callable[[dict[str, Any]], str]) -> None:
    """A listing: JSON for scripts, else one literal line per row."""
    if as_json:
        _emit_json(rows)
        return
    for row in rows:
        _say(line(row))


def _read_secret_lines(
    labels: Sequence[str], *, confirm: bool = False, allow_empty: bool = False
) -> list[str]:
    """PINs: prompted without echo on a terminal, else one line per person from stdin.
    `allow_empty`: Enter alone (or no line at all) gives an empty PIN."""
    if sys.stdin.isatty():
        out = []
        for label in labels:
            out.append(
                click.prompt(
                    label,
                    hide_input=True,
                    confirmation_prompt=confirm,
                    err=True,
                    default="" if allow_empty else None,
                    show_default=False,
                )
            )
        return out
    if allow_empty:
        return [sys.stdin.readline().rstrip("\r\n") for _ in labels]
    wanted = len(labels) * (2 if confirm else 1)
    lines = [sys.stdin.readline() for _ in range(wanted)]
    if any(not line for line in lines):
        raise click.UsageError(
            f"expected {wanted} PIN line(s) on standard input ({', '.join(labels)})"
        )
    pins = [line.rstrip("\r\n") for line in lines]
    if confirm:
        pairs = list(zip(pins[::2], pins[1::2], strict=True))
        if any(a != b for a, b in pairs):
            raise click.UsageError("the two PIN entries do not match")
        pins = [a for a, _ in pairs]
    return pins


def _credentials(names: Sequence[str]) -> list[Credential]:
    names = [_person(n) for n in names]
    pins = _read_secret_lines([f"PIN for {n}" for n in names])
    return [Credential(n, p) for n, p in zip(names, pins, strict=True)]


def _new_pin(name: str) -> dict[str, Any]:
    (pin,) = _read_secret_lines([f"New PIN for {name}"], confirm=True)
    problem = pin_problem(pin)
    if problem:
        raise click.UsageError(problem)
    return hash_pin(pin, os.urandom(16))


# -- root -------------------------------------------------------------------------------------


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    help="Store file (default: $SAFETYAPP_DB, else the user data dir).",
)
@click.option(
    "--read-only", is_flag=True, help="Open the app as a view: the board and the audit only."
)
@click.version_option(__version__, prog_name="safetyapp")
@click.pass_context
def cli(ctx: click.Context, db: str | None, read_only: bool) -> None:
    """Layered firearm safety checks for film sets. With no command, opens the app."""
    path, is_default = resolve_store(db)
    ctx.obj = {"db": path, "default": is_default, "read_only": read_only}
    if ctx.invoked_subcommand is None:
        from safetyapp.tui.app import run_tui

        run_tui(path, create_dirs=is_default and not read_only, read_only=read_only)


@cli.command()
@click.pass_context
def locate(ctx: click.Context) -> None:
    """Print where the store and the error logs live."""
    click.echo(f"store: {_store_path(ctx)}")
    click.echo(f"logs:  {log_dir()}")


def _computer_zone() -> str:
    """This computer's IANA time zone name: $TZ, /etc/timezone, or where /etc/localtime
    points; UTC when none names one."""
    found = os.environ.get("TZ", "").lstrip(":")
    if not found:
        try:
            found = Path("/etc/timezone").read_text(encoding="utf-8").strip()
        except OSError:
            found = ""
    if not found:
        try:
            target = os.path.realpath("/etc/localtime")
            found = target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""
        except OSError:
            found = ""
    return found if found and engine.zone_ok(found) else "UTC"


@cli.command()
@click.option("--production", required=True, help="The production's name.")
@click.option("--supervisor", required=True, help="The first safety supervisor's name.")
@click.option(
    "--timezone",
    default=None,
    help="The production's time zone, e.g. America/Los_Angeles (default: this computer's).",
)
@click.option(
    "--safe-distance-ft",
    "safe_distance",
    type=int,
    default=None,
    help="The safe distance from blank fire in feet, from the production's risk assessment"
    " (default: 20).",
)
@click.pass_context
def init(
    ctx: click.Context,
    production: str,
    supervisor: str,
    timezone: str | None,
    safe_distance: int | None,
) -> None:
    """Create a new store for one production, with its first safety supervisor (their PIN
    twice: prompted, or two lines on stdin). From then on the supervisor signs crew changes.
    The time zone makes its shooting days local calendar dates, and every time shown is its
    local time (the record keeps UTC). The safe distance is what the handoff's announcement
    must keep when blanks are loaded."""
    zone = timezone or _computer_zone()
    if not engine.zone_ok(zone):
        raise click.UsageError(
            f"unknown time zone {zone!r}: use an IANA name such as Europe/London or UTC"
        )
    wrong = engine.blank_distance_problem(safe_distance)
    if wrong:
        raise click.UsageError(wrong)
    path = _new_store_path(ctx)
    if os.path.lexists(path):
        raise Refused(
            f"cannot create a store at {path}: something already exists there and was not"
            " changed; open it instead, or choose another name"
        )
    pin = _new_pin(supervisor.strip() or supervisor)
    try:
        Repository.create(
            path,
            production,
            supervisor,
            pin,
            _installed(),
            timezone=zone,
            blank_distance_ft=safe_distance,
        )
    except (StoreError, ValueError) as exc:
        raise Refused(str(exc)) from None
    distance = safe_distance or DEFAULT_BLANK_DISTANCE_FT
    _say(
        f"created store for '{production.strip()}' at {path} (time zone {zone}; safe distance"
        f" from blank fire {distance} ft)"
    )
    _say(f"safety supervisor: {supervisor.strip()} (signs every crew change from now on)")


@cli.command()
@click.option("--no-tui", is_flag=True, help="Only seed the demo production; do not open the app.")
@click.pass_context
def demo(ctx: click.Context, no_tui: bool) -> None:
    """Seed a demo production (crew with demo PINs, firearms, ammunition) and open the app."""
    from safetyapp.demo import DEMO_CREW, seed_demo

    path = _new_store_path(ctx)
    try:
        seeded = seed_demo(path)
    except StoreError as exc:
        raise Refused(str(exc)) from None
    if seeded:
        click.echo(f"demo production seeded at {path}", err=True)
        for name, roles, pin in DEMO_CREW:
            click.echo(f"  {name:<16} {', '.join(roles):<20} PIN {pin}", err=True)
    if not no_tui:
        from safetyapp.tui.app import run_tui

        run_tui(path, create_dirs=False)


# -- crew -------------------------------------------------------------------------------------


@cli.group()
def crew() -> None:
    """Crew members, their roles and PINs."""


@crew.command("add")
@click.argument("name")
@click.option(
    "--role", "roles", multiple=True, required=True, type=click.Choice(ROLES), help="Repeatable."
)
@click.option("--by", "by", required=True, help="The safety supervisor who authorises.")
@click.pass_context
def crew_add(ctx: click.Context, name: str, roles: tuple[str, ...], by: str) -> None:
    """Add a crew member, signed by a safety supervisor (stdin: the supervisor's PIN, then the
    new member's PIN twice)."""
    repo = _open(ctx)
    name = naming.normalise(name)
    problem = naming.new_name_problem(name, repo.state.crew)  # before anyone types a PIN
    if problem:
        raise Refused(f"refused: {problem}")
    (cred,) = _credentials([by])
    pin = _new_pin(name)
    _outcome(_do(repo, engine.add_crew, cred, name, list(roles), pin))
    _say(f"added {name} ({', '.join(roles)}), signed by {by}")


@crew.command("role")
@click.argument("name")
@click.option("--grant", type=click.Choice(ROLES), default=None, help="A role to give.")
@click.option("--revoke", type=click.Choice(ROLES), default=None, help="A role to take away.")
@click.option("--by", "by", required=True, help="The safety supervisor who authorises.")
@click.pass_context
def crew_role(
    ctx: click.Context, name: str, grant: str | None, revoke: str | None, by: str
) -> None:
    """Grant or revoke one role of another crew member (stdin: the supervisor's PIN)."""
    if (grant is None) == (revoke is None):
        raise click.UsageError("give exactly one of --grant ROLE or --revoke ROLE")
    if grant is not None:
        _act_signed(ctx, by, engine.grant_role, name, grant)
        _say(f"{name} now also crewed as {grant}, signed by {by}")
    else:
        assert revoke is not None
        _act_signed(ctx, by, engine.revoke_role, name, revoke)
        _say(f"{name} no longer crewed as {revoke}, signed by {by}")


@crew.command("deactivate")
@click.argument("name")
@click.option("--by", "by", required=True, help="The safety supervisor who authorises.")
@click.pass_context
def crew_deactivate(ctx: click.Context, name: str, by: str) -> None:
    """Deactivate a crew member: they sign nothing more (stdin: the supervisor's PIN)."""
    _act_signed(ctx, by, engine.deactivate, name)
    _say(f"{name} deactivated, signed by {by}")


@crew.command("pin")
@click.argument("name")
@click.option(
    "--by", "by", default=None, help="A safety supervisor setting it (default: NAME themselves)."
)
@click.pass_context
def crew_pin(ctx: click.Context, name: str, by: str | None) -> None:
    """Change your own PIN (stdin: your current PIN, then the new one twice), or, as a safety
    supervisor with --by, set someone else's (your PIN, then theirs twice); that also ends a
    lockout."""
    name = _person(name)
    authoriser = by or name
    (cred,) = _credentials([authoriser])
    pin = _new_pin(name)
    _act(ctx, engine.set_pin, name, cred, pin)
    _say(f"PIN set for {name}" + (f" by {authoriser}" if authoriser != name else ""))


@crew.command("train")
@click.argument("name")
@click.option("--date", "day", required=True, help="The training's date, YYYY-MM-DD.")
@click.option("--provider", required=True, help="Who gave the firearms-safety training.")
@click.option("--by", "by", required=True, help="The safety supervisor who enters it.")
@click.pass_context
def crew_train(ctx: click.Context, name: str, day: str, provider: str, by: str) -> None:
    """Record a crew member's firearms-safety training, entered by a safety supervisor (stdin:
    their PIN). A performer without it never receives a firearm."""
    _act_signed(ctx, by, engine.record_training, _person(name), day, provider)
    _say(f"training of {name.strip()} on {day.strip()} ({provider.strip()}) recorded by {by}")


@crew.command("licence")
@click.argument("name")
@click.option("--number", required=True, help="The licence or permit number.")
@click.option("--issuer", required=True, help="Who issued it.")
@click.option("--expires", required=True, help="Its expiry date, YYYY-MM-DD.")
@click.option("--by", "by", required=True, help="The safety supervisor who enters it.")
@click.pass_context
def crew_licence(
    ctx: click.Context, name: str, number: str, issuer: str, expires: str, by: str
) -> None:
    """Record an armorer's licence or permit, entered by a safety supervisor (stdin: their
    PIN). Armorer steps are signed only with one in date."""
    _act_signed(ctx, by, engine.record_licence, _person(name), number, issuer, expires)
    _say(f"licence {number.strip()} of {name.strip()} (expires {expires.strip()}) recorded by {by}")


def _qualification_text(member: CrewMember) -> str:
    parts = [f"trained {t.date} ({t.provider})" for t in member.training[-1:]]
    parts += [f"licence {x.number} ({x.issuer}) expires {x.expires}" for x in member.licences[-1:]]
    return "; ".join(parts) or "no qualifications on file"


@crew.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def crew_list(ctx: click.Context, as_json: bool) -> None:
    """List the crew, with their qualifications on file and what their roles still lack."""
    repo = _open(ctx)
    state = repo.state
    today = engine.local_date(state, repo.clock())
    rows = [
        {
            "name": m.name,
            "roles": m.roles,
            "active": m.active,
            "training": [asdict(t) for t in m.training],
            "licences": [asdict(x) for x in m.licences],
            "qualifications": _qualification_text(m),
            "missing": qualifications.missing(state, m.name, today),
        }
        for m in state.crew.values()
    ]
    _list(
        rows,
        as_json,
        lambda row: (
            f"{row['name']}\t{', '.join(row['roles'])}\t{row['qualifications']}"
            + "".join(f"\tMISSING: {why}" for why in row["missing"])
            + ("" if row["active"] else "\t(deactivated)")
        ),
    )


# -- inventory --------------------------------------------------------------------------------


@cli.group()
def firearm() -> None:
    """The firearms inventory."""


@firearm.command("add")
@click.argument("serial")
@click.option("--description", required=True)
@click.option("--kind", required=True, type=click.Choice(engine.FIREARM_KINDS))
@click.option(
    "--chambers", type=click.IntRange(min=1), default=None, help="Chambers/rounds it holds."
)
@click.option("--by", "by", required=True, help="The armorer. PIN on stdin.")
@click.pass_context
def firearm_add(
    ctx: click.Context, serial: str, description: str, kind: str, chambers: int | None, by: str
) -> None:
    """Add a firearm by serial number, signed by an armorer."""
    _act_signed(ctx, by, engine.add_firearm, serial, description, kind, chambers)
    _say(f"added firearm {serial.strip()}, signed by {by}")


@firearm.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def firearm_list(ctx: click.Context, as_json: bool) -> None:
    """List the firearms with who holds each and the age of its last verification."""
    repo = _open(ctx)
    now = repo.clock()
    rows = [firearm_view(repo.state, f, now) for f in repo.state.firearms.values()]
    if as_json:
        _emit_json(rows)
        return
    for row in rows:
        verified = row["last_verified"]
        age = "never verified"
        if verified is not None:
            fresh = "valid" if verified["fresh"] else "STALE"
            age = f"verified {verified['age_minutes']} min ago ({fresh})"
        _say(f"{row['serial']}\t{row['kind']}\t{row['custody']['text']}\t{age}")


def _move(
    ctx: click.Context,
    serials: tuple[str, ...],
    name: str,
    to: Literal["locked", "armorer"],
    reason: str,
) -> None:
    (cred,) = _credentials([name])
    decision = _act(ctx, engine.move_firearms, cred, list(serials), to, reason)
    for event in decision.events:
        data = event["data"]
        _say(f"{data['serial']}: {data['previous']} -> {data['holder']}")


@firearm.command("checkout")
@click.argument("serials", nargs=-1, required=True)
@click.option("--by", "name", required=True, help="The armorer. PIN on stdin.")
@click.option("--reason", required=True, help="Why (after lunch, found in the truck, ...).")
@click.pass_context
def firearm_checkout(ctx: click.Context, serials: tuple[str, ...], name: str, reason: str) -> None:
    """The armorer takes firearms out of storage mid-day, or takes back an unaccounted one."""
    _move(ctx, serials, name, "armorer", reason)


@firearm.command("lock")
@click.argument("serials", nargs=-1, required=True)
@click.option("--by", "name", required=True, help="The armorer. PIN on stdin.")
@click.option("--reason", required=True, help="Why (lunch, company move, ...).")
@click.pass_context
def firearm_lock(ctx: click.Context, serials: tuple[str, ...], name: str, reason: str) -> None:
    """The armorer locks firearms away (a break); their verifications go stale."""
    _move(ctx, serials, name, "locked", reason)


@cli.group()
def custody() -> None:
    """Custody breaks: a firearm or its ammunition out of the armorer's sight."""


@custody.command("break")
@click.option("--by", "name", required=True, help="Anyone on the crew. PIN on stdin.")
@click.option("--reason", required=True, help="What happened.")
@click.option("--firearm", "serials", multiple=True, help="Repeatable; default: every one out.")
@click.pass_context
def custody_break(ctx: click.Context, name: str, reason: str, serials: tuple[str, ...]) -> None:
    """Record a break in custody: every earlier verification of those firearms is stale."""
    (cred,) = _credentials([name])
    decision = _act(ctx, engine.record_custody_break, cred, reason, serials=list(serials) or None)
    data = decision.events[0]["data"]
    affected = [*data["serials"], *(["the ammunition"] if data.get("ammunition") else [])]
    _say(
        f"custody break recorded for {', '.join(affected)}: handoffs restart from the"
        " ammunition check"
    )


@custody.command("take-back")
@click.argument("serial")
@click.option("--by", "name", required=True, help="The armorer. PIN on stdin.")
@click.option("--reason", required=True, help="Why (after the take, misfire, stop-work, ...).")
@click.pass_context
def custody_take_back(ctx: click.Context, serial: str, name: str, reason: str) -> None:
    """Take a firearm back into the armorer's custody at once, hold or not."""
    repo = _open(ctx)
    before = repo.state.custody(serial).describe()
    _act_signed(ctx, name, engine.take_back, serial, reason)
    _say(f"custody: {serial} was {before}, now {repo.state.custody(serial).describe()}")
    click.echo(_receipt_line(repo))


@cli.group()
def ammo() -> None:
    """Ammunition lots."""


@ammo.command("add")
@click.argument("lot")
@click.option("--type", "ammo_type", required=True, type=click.Choice(["dummy", "blank", "live"]))
@click.option("--count", required=True, type=click.IntRange(min=0))
@click.option("--source", default="", help="Where the lot came from.")
@click.option("--by", "by", required=True, help="The armorer. PIN on stdin.")
@click.pass_context
def ammo_add(
    ctx: click.Context, lot: str, ammo_type: str, count: int, source: str, by: str
) -> None:
    """Declare an ammunition lot, signed by an armorer. Live ammunition is refused and raises a
    hold."""
    _act_signed(ctx, by, engine.add_ammo, lot, ammo_type, count, source)
    _say(f"declared lot {lot.strip()}: {count} {ammo_type}, signed by {by}")


@ammo.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def ammo_list(ctx: click.Context, as_json: bool) -> None:
    """List the ammunition lots."""
    state = _open(ctx).state
    recon = state.ammo_reconciliation()
    rows: list[dict[str, Any]] = []
    for a in state.lots.values():
        row: dict[str, Any] = {"lot": a.lot, "type": a.type, "count": a.count, "source": a.source}
        if a.lot in recon:  # today's tally, while a day is open
            row["morning"], row["expended"], row["expected"] = recon[a.lot]
        rows.append(row)
    _list(
        rows, as_json, lambda row: f"{row['lot']}\t{row['type']}\t{row['count']}\t{row['source']}"
    )


# -- checklists -------------------------------------------------------------------------------


@cli.group()
def checklists() -> None:
    """The checklists."""


@checklists.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def checklists_list(ctx: click.Context, as_json: bool) -> None:
    """List the checklist versions adopted into the store (id, title, version, digest, who
    adopted it, when; the one a new run walks marked current), and installed files that are not
    adopted. Without a store, the installed files only."""
    installed = _installed()
    state = _open(ctx).state if _store_path(ctx).exists() else None
    rows: list[dict[str, Any]] = []
    for a in state.adoptions if state is not None else []:
        assert state is not None
        current = state.current_checklists.get(a.checklist_id) == a.digest
        rows.append({
            "id": a.checklist_id, "title": a.title, "version": a.version,
            "scope": state.checklists[a.digest].scope, "digest": a.digest,
            "status": "current" if current else "superseded",
            "adopted_by": [dict(p) for p in a.approvers], "adopted_at": a.time,
            "source": a.source,
        })  # fmt: skip
    for c in installed.values():
        if state is None or c.digest() not in state.adopted:
            rows.append({
                "id": c.id, "title": c.title, "version": c.version, "scope": c.scope,
                "digest": c.digest(),
                "status": "no store" if state is None else "not adopted",
                "adopted_by": [], "adopted_at": None, "source": "installed file",
            })  # fmt: skip
    if as_json:
        _emit_json(rows)
        return
    for row in rows:
        if row["adopted_at"]:
            who = " and ".join(p["name"] for p in row["adopted_by"])
            assert state is not None
            when = clock.shown(row["adopted_at"], state.timezone)
            status = f"{row['status']}, adopted by {who} at {when}"
        else:
            status = f"{row['status'].upper()} ({row['source']})"
        _say(
            f"{row['id']}\tv{row['version']}\t{engine.short_digest(row['digest'])}"
            f"\t{row['title']}\t{status}"
        )
    if any(row["status"] == "not adopted" for row in rows):
        _say(f"an installed file NOT ADOPTED cannot run: {engine.ADOPT_HINT}", err=True)


@checklists.command("adopt")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@click.option(
    "--by",
    "names",
    multiple=True,
    required=True,
    help="The safety supervisor, then the armorer (two people); PINs one stdin line each.",
)
@click.pass_context
def checklists_adopt(ctx: click.Context, path: str, names: tuple[str, ...]) -> None:
    """Adopt the checklist version in FILE into the record (its full text and digest), signed
    by a safety supervisor and an armorer: from then on new runs of its id walk it. FILE is
    validated exactly as the bundled checklists are."""
    if len(names) != 2:
        raise click.UsageError(
            "give --by twice: the safety supervisor, then the armorer (two different people)"
        )
    repo = _open(ctx)
    try:
        checklist = load_file(Path(path))
    except ChecklistError as exc:
        raise Refused(f"not adopted: {exc}") from None
    supervisor, armorer = _credentials(names)
    decision = _do(
        repo, engine.adopt_checklist, supervisor, armorer, checklist, source=Path(path).name
    )
    _outcome(decision)
    digest = checklist.digest()
    _say(
        f"adopted {checklist.id} v{checklist.version} ({checklist.title}), digest {digest},"
        f" by {supervisor.name} and {armorer.name}; new runs of '{checklist.id}' walk it"
    )
    click.echo(_receipt_line(repo))


@checklists.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False))
def checklists_validate(paths: tuple[str, ...]) -> None:
    """Check checklist files (default: the installed ones) without touching the store."""
    targets = [Path(p) for p in paths]
    if not targets:
        from safetyapp.checklists import installed_dir

        targets = sorted(installed_dir().glob("*.yaml"))
    bad = 0
    for path in targets:
        try:
            checklist = load_file(path)
        except ChecklistError as exc:
            bad += 1
            click.echo(str(exc), err=True)
            continue
        click.echo(f"{path}: ok ({checklist.id} v{checklist.version}, {checklist.scope})")
    if bad:
        raise Refused(f"{bad} of {len(targets)} checklist file(s) invalid")


# -- runs -------------------------------------------------------------------------------------


@cli.group()
def run() -> None:
    """Walk checklists: start a run, sign steps, see its status."""


@run.command("start")
@click.argument("checklist_id", metavar="CHECKLIST")
@click.option("--firearm", "firearm_serial", default=None)
@click.option("--performer", default=None)
@click.option("--scene", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def run_start(
    ctx: click.Context,
    checklist_id: str,
    firearm_serial: str | None,
    performer: str | None,
    scene: str | None,
    as_json: bool,
) -> None:
    """Start a run of CHECKLIST (opening, handoff, wrap)."""
    repo = _open(ctx)
    checklist = repo.checklist(checklist_id)
    if checklist is None:
        known = ", ".join(repo.known_checklists())
        raise click.UsageError(f"no checklist '{checklist_id}'; use one of: {known}")
    if performer is not None:
        performer = _person(performer)
    if checklist.digest() not in repo.state.adopted:
        from safetyapp.checklists import installed_dir

        ctx.obj.setdefault("hints", []).append(
            f"(the installed '{checklist.id}' is in {installed_dir()})"
        )
    decision = _do(
        repo, engine.start_run, checklist, firearm=firearm_serial, performer=performer, scene=scene
    )
    _outcome(decision)
    run_id = decision.run_id
    if as_json:
        _emit_json({"id": run_id})
    else:
        _say(f"started {run_id}: {checklist.title}")


@run.command("sign")
@click.argument("run_id", metavar="RUN")
@click.argument("step_id", metavar="STEP")
@click.option("--by", "names", multiple=True, required=True, help="Signer, then each witness.")
@click.option("--evidence", "evidence", multiple=True, help="KEY=VALUE, repeatable.")
@click.option("--fail", "failed", is_flag=True, help="Record the step as failed (raises a hold).")
@click.option("--na", "na_reason", default=None, help="Not applicable, with the reason.")
@click.option("--note", default="")
@click.pass_context
def run_sign(
    ctx: click.Context,
    run_id: str,
    step_id: str,
    names: tuple[str, ...],
    evidence: tuple[str, ...],
    failed: bool,
    na_reason: str | None,
    note: str,
) -> None:
    """Sign STEP of RUN. PINs: one stdin line per --by, in order."""
    if failed and na_reason is not None:
        raise click.UsageError("--fail and --na exclude each other")
    values: list[tuple[str, str]] = []  # as given: the engine refuses a key given twice
    for item in evidence:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--evidence takes KEY=VALUE, got {item!r}")
        values.append((key.strip(), value))
    repo = _open(ctx)
    creds = _credentials(names)
    result: engine.Result = "fail" if failed else ("na" if na_reason is not None else "pass")
    decision = _do(
        repo,
        engine.sign,
        run_id,
        step_id,
        creds[0],
        witnesses=creds[1:],
        result=result,
        evidence=values,
        note=note,
        na_reason=na_reason or "",
    )
    _outcome(decision)
    signed = decision.events[0]
    _say(f"{run_id} {step_id}: {signed['result'].upper()} by {signed['by']}")
    click.echo(_receipt_line(repo))
    for index, extra in enumerate(decision.events[1:], 1):
        if extra["kind"] == ev.HOLD_RAISED:
            hold = extra["data"]["hold"]
            _say(f"HOLD {hold}: {extra['note']} ({_receipt_line(repo, index)})", err=True)
        elif extra["kind"] == ev.RUN_COMPLETED:
            _say(f"{run_id} complete")
        elif extra["kind"] == ev.FLAG_RAISED:
            flag_id = extra["data"]["flag"]
            _say(f"FLAG {flag_id}: {extra['note']} (a safety supervisor acknowledges it"
                       f" with `safetyapp flag ack {flag_id}` before any handoff)", err=True)  # fmt: skip
        elif extra["kind"] == ev.INCIDENT_REPORTED:
            _say(f"incident {extra['data']['incident']} recorded: {extra['note']}", err=True)
        elif extra["kind"] == ev.CUSTODY_CHANGED:
            data = extra["data"]
            who = f" ({data['name']})" if data["name"] else ""
            _say(f"custody: {data['serial']} {data['previous']} -> {data['holder']}{who}")
    if signed["result"] == "fail":
        raise Refused(f"step failed: {run_id} is on HOLD until resolved")


@run.command("status")
@click.argument("run_id", metavar="RUN")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def run_status(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Show a run: each step's state, who signed, open holds."""
    repo = _open(ctx)
    # A finished run of an earlier day is held without its sign-offs: read them from the record.
    state = repo.full_state if run_id in repo.stubs else repo.state
    found = state.runs.get(run_id)
    if found is None:
        pool = [r.id for r in state.open_runs()] or list(state.runs)
        raise Refused(f"no run {run_id}; {naming.suggest(run_id, pool, 'runs')}")
    view = run_view(state, found, repo.clock())
    if as_json:
        _emit_json(view)
        return
    _say(f"{view['id']}  {view['title']}  [{view['state'].upper()}]")
    if view["stale"]:
        _say(f"  STALE: {view['stale']['reason']}")
    if view["void"]:
        _say(f"  VOID: {view['void']['reason']}")
    for step in view["steps"]:
        when = clock.shown(step["time"], state.timezone, seconds=True)
        who = f" — {step['signed_by']} {when}" if step.get("signed_by") else ""
        _say(f"  {step['state']:<7} {step['layer']}/{step['id']} ({step['role']}){who}")
        if step["state"] == "open":
            for item in step["evidence"]:
                _say(f"            --evidence {item['key']}=...  ({item['type']}: {item['hint']})")
    for hold in view["holds"]:
        _say(f"  HOLD {hold['id']}: {hold['reason']}")


@run.command("void")
@click.argument("run_id", metavar="RUN")
@click.option(
    "--by", "names", multiple=True, required=True, help="The armorer and a safety supervisor."
)
@click.option("--reason", required=True, help="Why the run will not be finished.")
@click.pass_context
def run_void(ctx: click.Context, run_id: str, names: tuple[str, ...], reason: str) -> None:
    """Void a started run (it then no longer blocks wrap). PINs: one stdin line per --by."""
    repo = _open(ctx)
    creds = _credentials(names)
    _act(ctx, engine.void_run, run_id, creds, reason)
    _say(f"{run_id} voided: {reason.strip()}")
    click.echo(_receipt_line(repo))
    found = repo.state.runs[run_id]
    if found.firearm is not None:
        custody = repo.state.custody(found.firearm)
        if custody.holder == "performer":
            _say(
                f"{found.firearm} is still {custody.describe()}: take it back with"
                f" `safetyapp custody take-back {found.firearm} --by ARMORER --reason TEXT`",
                err=True,
            )


@run.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--all", "every", is_flag=True, help="Every run of the production, in order.")
@click.option("--day", "day", type=click.IntRange(min=1), help="The runs of this shooting day.")
@click.pass_context
def run_list(ctx: click.Context, as_json: bool, every: bool, day: int | None) -> None:
    """List the runs a crew works with now: every open run, then the other runs of the open
    day (or of the last day, once wrapped). --day N: that day's runs; --all: every run."""
    if every and day is not None:
        raise click.UsageError("give --all or --day, not both")
    state = _open(ctx).state
    if every:
        runs = list(state.runs.values())
    elif day is not None:
        runs = state.runs_of_day(day)
    else:
        runs = state.current_runs()
    rows = [
        {
            "id": r.id,
            "checklist": r.checklist.id,
            "state": state.run_status(r),
            "firearm": r.firearm,
            "performer": r.performer,
            "day": r.day,
        }
        for r in runs
    ]
    _list(
        rows,
        as_json,
        lambda row: f"{row['id']}\t{row['checklist']}\t{row['state']}\t{row['firearm'] or ''}",
    )


# -- holds ------------------------------------------------------------------------------------


@cli.group()
def hold() -> None:
    """Holds: stop work, and resolve with a corrective action."""


@hold.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--open", "only_open", is_flag=True, help="Only open holds.")
@click.pass_context
def hold_list(ctx: click.Context, as_json: bool, only_open: bool) -> None:
    """List holds."""
    state = _open(ctx).state
    rows = [hold_view(h) for h in state.holds.values() if h.open or not only_open]
    _list(
        rows,
        as_json,
        lambda row: (
            f"{row['id']}\t{row['state'].upper()}\t{row['run'] or 'DAY'}\t{row['reason']}"
            f"\treceipt {row['receipt'] or '-'}"
        ),
    )


@hold.command("raise")
@click.option("--by", "name", required=True, help="Anyone on set, crewed or not.")
@click.option("--reason", required=True)
@click.option("--run", "run_id", default=None, help="Hold one run; without it, the whole day.")
@click.option(
    "--about", default=None, help="The crew member it is about (never one who resolves it)."
)
@click.option(
    "--no-pin",
    is_flag=True,
    help="Raise it without a PIN (locked out, forgotten): recorded as unverified.",
)
@click.pass_context
def hold_raise(
    ctx: click.Context,
    name: str,
    reason: str,
    run_id: str | None,
    about: str | None,
    no_pin: bool,
) -> None:
    """Stop work (anyone, any time; never refused). The PIN of a crew member on stdin (an empty
    line, --no-pin, a lockout or a name not on the crew: raised UNVERIFIED under the name given)."""
    repo = _open(ctx)
    crew = repo.state.crew
    found = naming.find(name, crew)
    by: Credential | str = name
    if found is not None and not no_pin:
        (pin,) = _read_secret_lines([f"PIN for {found} (Enter: none)"], allow_empty=True)
        by = Credential(found, pin)
    decision = _do(repo, engine.raise_hold, by, reason, run=run_id, about=about)
    _outcome(decision)
    index, raised = next(
        (i, e) for i, e in enumerate(decision.events) if e["kind"] == ev.HOLD_RAISED
    )
    _say(f"HOLD {raised['data']['hold']} raised: {raised['note']}")
    click.echo(_receipt_line(repo, index))
    if not raised["data"].get("verified", True):
        why = raised["data"].get("unverified") or "no PIN"
        guess = naming.did_you_mean(name, crew) if found is None else None
        hint = f"; did you mean '{guess}'?" if guess else ""
        _say(f"UNVERIFIED: raised by '{raised['by']}' as given ({why}){hint}", err=True)


@hold.command("resolve")
@click.argument("hold_id", metavar="HOLD")
@click.option("--by", "names", multiple=True, required=True, help="Two people, in the named roles.")
@click.option("--action", required=True, help="The corrective action taken.")
@click.pass_context
def hold_resolve(ctx: click.Context, hold_id: str, names: tuple[str, ...], action: str) -> None:
    """Resolve a hold: corrective action, signed by two different people. PINs on stdin."""
    creds = _credentials(names)
    _act(ctx, engine.resolve_hold, hold_id, creds, action)
    _say(f"{hold_id} resolved")


# -- incidents and flags ----------------------------------------------------------------------


@cli.group()
def incident() -> None:
    """Incidents: report, list, review."""


@incident.command("report")
@click.option("--by", "name", required=True, help="Anyone on the crew. PIN on stdin.")
@click.option("--kind", required=True, type=click.Choice(INCIDENT_KINDS))
@click.option("--note", required=True, help="What happened.")
@click.option("--firearm", "serial", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def incident_report(
    ctx: click.Context, name: str, kind: str, note: str, serial: str | None, as_json: bool
) -> None:
    """Report an incident. All but a near miss hold the whole day until reviewed."""
    (cred,) = _credentials([name])
    decision = _act(ctx, engine.report_incident, cred, kind, note, firearm=serial)
    incident_id, hold_id = decision.incident_id, decision.hold_id
    if as_json:
        _emit_json({"id": incident_id, "hold": hold_id})
        return
    click.echo(f"incident {incident_id} recorded ({kind})")
    if hold_id:
        _say(
            f"HOLD {hold_id}: the day is on hold until a safety supervisor and the armorer"
            f" sign `safetyapp incident review {incident_id}`",
            err=True,
        )
    else:
        click.echo("it will be read out at the next safety meeting")


@incident.command("list")
@click.option("--open", "only_open", is_flag=True, help="Only those not yet closed.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def incident_list(ctx: click.Context, only_open: bool, as_json: bool) -> None:
    """List incidents: on hold, to be read out at the next meeting, or closed."""
    state = _open(ctx).state
    rows = [incident_view(i) for i in state.incidents.values() if i.open or not only_open]
    if as_json:
        _emit_json(rows)
        return
    for row in rows:
        _say(
            f"{row['id']}\t{row['state'].upper()}\t{row['kind']}\t{row['firearm'] or '-'}"
            f"\t{row['note']}"
        )


@incident.command("review")
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--by", "names", multiple=True, required=True, help="The reviewers, one --by each.")
@click.option("--action", required=True, help="What was found and done.")
@click.pass_context
def incident_review(
    ctx: click.Context, incident_id: str, names: tuple[str, ...], action: str
) -> None:
    """Sign the review that lifts an incident's day hold. PINs on stdin."""
    creds = _credentials(names)
    _act(ctx, engine.review_incident, incident_id, creds, action)
    click.echo(f"{incident_id} reviewed; its hold is lifted")


@cli.group()
def flag() -> None:
    """Flags a safety supervisor must acknowledge before any handoff."""


@flag.command("list")
@click.option("--open", "only_open", is_flag=True, help="Only unacknowledged flags.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def flag_list(ctx: click.Context, only_open: bool, as_json: bool) -> None:
    """List flags."""
    state = _open(ctx).state
    rows = [flag_view(f) for f in state.flags.values() if f.open or not only_open]
    _list(rows, as_json, lambda row: f"{row['id']}\t{row['state'].upper()}\t{row['reason']}")


@flag.command("ack")
@click.argument("flag_id", metavar="FLAG")
@click.option("--by", "name", required=True, help="A safety supervisor. PIN on stdin.")
@click.option("--note", required=True, help="What was decided.")
@click.pass_context
def flag_ack(ctx: click.Context, flag_id: str, name: str, note: str) -> None:
    """Acknowledge a flag, saying what was decided."""
    (cred,) = _credentials([name])
    _act(ctx, engine.acknowledge_flag, flag_id, cred, note)
    click.echo(f"{flag_id} acknowledged")


# -- audit ------------------------------------------------------------------------------------


def _parse_when(value: str | None, *, end: bool, zone: str) -> datetime | None:
    """A --since/--until value: a date or a time without an offset is the production's local
    one (its days are local dates); an ISO time with an offset or Z is taken as given."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.UsageError(f"not a date: {value!r}; use YYYY-MM-DD or an ISO time") from None
    if len(value) == 10 and end:
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999999)
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.zone(zone))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True)
@click.option(
    "--since",
    default=None,
    help="YYYY-MM-DD or ISO time (the production's local time unless an offset is given).",
)
@click.option("--until", default=None)
@click.option("--by", "by", default=None, help="Only events naming this person (name prefix).")
@click.option("--firearm", "serial", default=None, help="Only this firearm (serial prefix).")
@click.option("--kind", default=None, help="Only events of this kind (prefix: 'hold').")
@click.option(
    "--flagged",
    is_flag=True,
    help="Only failures, refusals, holds, flags, incidents, breaks, crew and inventory changes.",
)
@click.pass_context
def audit(
    ctx: click.Context,
    as_json: bool,
    as_csv: bool,
    since: str | None,
    until: str | None,
    by: str | None,
    serial: str | None,
    kind: str | None,
    flagged: bool,
) -> None:
    """Read the record, filtered."""
    from safetyapp.audit.export import to_csv, with_local_time
    from safetyapp.audit.query import AuditFilter, expand, select, who_acted

    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    repo = _open(ctx)
    flt = AuditFilter(
        since=_parse_when(since, end=False, zone=repo.state.timezone),
        until=_parse_when(until, end=True, zone=repo.state.timezone),
        by=by,
        firearm=serial,
        kind=kind,
        flagged=flagged,
    )
    _say_unmatched(repo, flt, expand(repo, flt).unmatched(flt))
    rows = select(repo, flt)
    if as_json:
        _emit_json(with_local_time(rows, _zone(repo)))
    elif as_csv:
        # color=True: click would otherwise strip ANSI sequences from the data when piped.
        click.echo(to_csv(rows, _zone(repo)), nl=False, color=True)
    else:
        for row in rows:
            who = who_acted(row)
            where = " ".join(x for x in (row["run"], row["step"]) if x)
            result = (row["result"] or "").upper()
            _say(
                f"{row['seq']:>6} {clock.shown(row['time'], repo.state.timezone, seconds=True)}"
                f" {row['kind']:<16} {result:<8} {who} {where}"
                f" {row['note']}".rstrip()
            )


def _say_unmatched(repo: Repository, flt: Any, lines: list[str]) -> None:
    """A filter value that matches nothing, said on stderr with a "did you mean"."""
    pools = {
        "person": (flt.by, list(repo.state.crew), "crew"),
        "firearm": (flt.firearm, list(repo.state.firearms), "firearms"),
        "kind": (flt.kind, [str(k) for k in ev.KINDS], "event kinds"),
    }
    for line in lines:
        typed, pool, what = pools[line.split()[1]]
        _say(f"safetyapp: {line}; {naming.suggest(typed, pool, what)}", err=True)


def _event_line(record: Mapping[str, Any]) -> str:
    """One event, named for a person: seq, kind, time, hash."""
    return (
        f"seq {record.get('seq')}, {record.get('kind')}, {record.get('time') or 'no time'}, "
        f"hash {record.get('hash')}"
    )


def _receipt_line(repo: Repository, index: int = 0) -> str:
    """The receipt of the ``index``-th event the last action recorded."""
    sealed = repo.last_appended[index]
    return f"receipt {receipt(str(sealed['hash']))} (event {sealed['seq']})"


def _check_start_snapshot(path: Path) -> str | None:
    """The start-up snapshot (the app's and the CLI's checkpoint) against the fold of the
    record up to its event; what differs (it is then set aside), or None."""
    from safetyapp.store.repository import check_checkpoint
    from safetyapp.store.snapshot import read_saved, set_aside

    saved = read_saved(path)
    if saved is None or not saved.sealed or saved.prefix_blake3 is None:
        return None  # nothing anything starts from
    try:
        problem = check_checkpoint(path, saved)
    except StoreError as exc:
        problem = str(exc)
    if problem is None:
        return None
    aside = set_aside(path)
    return (
        f"the start-up snapshot beside {path} does not match the record ({problem}); the chain "
        f"itself verifies; the snapshot was {'moved to ' + str(aside) if aside else 'left'} and "
        "is not used again - someone or something changed the files beside the store: keep "
        "copies and tell the safety supervisor"
    )


def _open_for_verify(path: Path) -> tuple[Journal, StoreCorrupt | None]:
    """The journal to verify. A damaged file is read raw (never changed) so that verify can
    name the first bad event; the open error is returned alongside."""
    try:
        journal = Journal.open(path)
    except StoreMissing:
        raise Refused(f"no store at {path}; check the path (or --db / SAFETYAPP_DB)") from None
    except StoreCorrupt as exc:
        return Journal(path), exc
    except StoreError as exc:
        raise Refused(str(exc)) from None
    for warning in journal.warnings:
        _say(f"safetyapp: warning: {warning}", err=True)
    return journal, None


def _salvage(path: Path, target: Path, as_json: bool) -> None:
    from safetyapp.store.salvage import salvage

    try:
        result = salvage(path, target)
    except StoreMissing:
        raise Refused(f"no store at {path}; check the path (or --db / SAFETYAPP_DB)") from None
    except StoreError as exc:
        raise Refused(str(exc)) from None
    if as_json:
        _emit_json(
            {
                "source": str(result.source),
                "target": str(result.target),
                "kept": result.kept,
                "head_hash": result.head_hash,
                "first_bad_line": result.first_bad_line,
                "problem": result.problem,
                "lines_cut": result.lines_cut,
                "bytes_cut": result.bytes_cut,
            }
        )
    else:
        _say(result.summary())


@cli.command()
@click.option(
    "--to",
    "directory",
    required=True,
    type=click.Path(file_okay=False),
    help="The mirror folder (an existing folder on a USB stick or a share); remembered.",
)
@click.pass_context
def mirror(ctx: click.Context, directory: str) -> None:
    """Append the store's new events to its mirror in DIR, after checking it is a prefix."""
    from safetyapp.store.mirror import mirror_to

    path = _store_path(ctx)
    if not path.exists():
        raise Refused(f"no store at {path}; check the path (or --db / SAFETYAPP_DB)")
    try:
        result = mirror_to(path, Path(directory))
    except StoreError as exc:
        raise Refused(str(exc)) from None
    verb = "created" if result.created else "updated"
    if result.appended or result.created:
        _say(
            f"mirror {verb}: {result.mirror} now holds {result.events} events "
            f"({result.appended} new); mirroring after each decision"
        )
    else:
        _say(f"mirror up to date: {result.mirror} holds all {result.events} events")


@cli.command()
@click.option("--against", "checkpoint", default=None, help="A head hash printed earlier.")
@click.option(
    "--salvage",
    "salvage_to",
    default=None,
    type=click.Path(dir_okay=False),
    help="Copy the intact events (those before the first bad one) of a damaged store to this "
    "NEW file; the store itself is never changed.",
)
@click.option(
    "--against-mirror",
    "mirror_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="A mirror folder: check the store still extends the mirror there.",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify(
    ctx: click.Context,
    checkpoint: str | None,
    salvage_to: str | None,
    mirror_dir: str | None,
    as_json: bool,
) -> None:
    """Recompute the hash chain and replay every event's rules; exit 1 naming the first bad
    event."""
    from safetyapp.store.chain import MIN_PREFIX, contains_checkpoint, matching_events
    from safetyapp.store.repository import verify_replayed

    path = _store_path(ctx)
    if salvage_to is not None:
        if checkpoint is not None or mirror_dir is not None:
            raise click.UsageError("--salvage excludes --against and --against-mirror")
        _salvage(path, Path(salvage_to), as_json)
        return
    wanted = None
    if checkpoint is not None:
        # As shown on screen or paper: "19f8d039ab…" (a trailing ellipsis is not part of it).
        wanted = checkpoint.strip().rstrip("…. ").lower()
        if len(wanted) < MIN_PREFIX or any(c not in "0123456789abcdef" for c in wanted):
            raise click.UsageError(
                f"--against takes a head hash or receipt: {MIN_PREFIX} to 64 hex characters "
                f"(0-9, a-f), got {checkpoint!r}"
            )
    journal, damaged = _open_for_verify(path)
    # A structurally damaged file is only chain-checked (to name its first bad event).
    result = verify_replayed(journal) if damaged is None else journal.verify()
    found = None
    matched: dict[str, Any] | None = None
    if wanted is not None and result.ok and damaged is None:
        hits = matching_events(journal.records(), wanted)
        if len(hits) > 1:
            listed = "; ".join(_event_line(h) for h in hits[:5])
            raise Refused(
                f"{checkpoint} is ambiguous: {len(hits)} events start with it ({listed}); "
                "give more characters of the hash"
            )
        if hits:
            matched = dict(hits[0])
            found = contains_checkpoint(journal.records(), str(matched["hash"]))
    mirrored, mirror_problem = None, None
    if mirror_dir is not None and result.ok and damaged is None:
        from safetyapp.store.mirror import check_against_mirror

        try:
            mirrored = check_against_mirror(path, Path(mirror_dir))
        except StoreError as exc:
            mirror_problem = str(exc)
    snapshot_problem = None
    if result.ok and damaged is None:
        snapshot_problem = _check_start_snapshot(path)
    ok = result.ok and damaged is None and (checkpoint is None or found is not None)
    ok = ok and mirror_problem is None and snapshot_problem is None
    if as_json:
        _emit_json(
            {
                "ok": ok,
                "count": result.count,
                "head_hash": result.head_hash,
                "first_bad_seq": result.first_bad_seq,
                "problem": result.problem if damaged is None else damaged.problem,
                "checkpoint_seq": found,
                "checkpoint_hash": matched["hash"] if matched is not None else None,
                "checkpoint_kind": matched["kind"] if matched is not None else None,
                "checkpoint_time": matched.get("time") if matched is not None else None,
                **({"snapshot_problem": snapshot_problem} if snapshot_problem else {}),
                **(
                    {
                        "mirror_events": mirrored.events if mirrored else None,
                        "mirror_problem": mirror_problem,
                    }
                    if mirror_dir is not None
                    else {}
                ),
            }
        )
    salvage_hint = (
        f"; {path} was not changed - `safetyapp verify --salvage NEW_FILE` copies the events "
        "before the first bad one to a new file"
    )
    if not result.ok:
        raise Refused(f"chain BROKEN in {path}: {result.problem}{salvage_hint}")
    if damaged is not None:
        raise Refused(str(damaged))
    if snapshot_problem is not None:
        raise Refused(snapshot_problem)
    if checkpoint is not None and found is None:
        raise Refused(
            f"checkpoint {checkpoint} is NOT in this record (no event's hash starts with it): "
            "events were cut or rewritten since, or it was mistyped"
        )
    if mirror_problem is not None:
        raise Refused(f"the store does NOT extend its mirror: {mirror_problem}")
    if not as_json:
        click.echo(f"chain OK: {result.count} events, head {result.head_hash}")
        if found is not None and matched is not None:
            _say(f"checkpoint found at event {found}: {_event_line(matched)}")
        if mirrored is not None:
            _say(
                f"mirror OK: the store extends {mirrored.mirror} ({mirrored.events} events "
                f"covered, {mirrored.store_events - mirrored.events} not yet mirrored)"
            )


# -- reports, exports, browser view -----------------------------------------------------------


def _zone(repo: Repository) -> Any:
    """The production's time zone: reports and exports show its local times."""
    return clock.zone(repo.state.timezone)


@cli.command()
@click.option(
    "--day",
    "day_spec",
    default=None,
    help="Day number or date (YYYY-MM-DD, the production's local date); default latest.",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="File to write.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "md"]),
    default=None,
    help="Default: md if --out ends in .md, else pdf.",
)
@click.pass_context
def report(ctx: click.Context, day_spec: str | None, out: str, fmt: str | None) -> None:
    """Write the daily safety report of one day (PDF or Markdown)."""
    from safetyapp.audit.report import ReportError, write_day_report

    target = Path(out)
    fmt = fmt or ("md" if target.suffix.lower() == ".md" else "pdf")
    if not target.parent.is_dir():
        raise click.UsageError(f"the folder {target.parent} does not exist")
    repo = _open(ctx)
    try:
        written = write_day_report(
            repo, target, day_spec=day_spec, fmt=fmt, now=datetime.now(UTC), tz=_zone(repo)
        )
    except (ReportError, StoreError) as exc:
        raise Refused(str(exc)) from None
    except OSError as exc:
        raise Refused(f"could not write {target}: {exc.strerror or exc}") from None
    built, what, verified = written.report, written.what, written.verify
    click.echo(f"wrote the report of day {built.day} ({built.date}) to {target}: {what}")
    click.echo(f"checkpoint (head hash): {built.head_hash}")
    if not verified.ok:
        raise Refused(f"the chain did NOT verify, and the report says so: {verified.problem}")


@cli.command("export")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="A new folder.")
@click.pass_context
def export_bundle(ctx: click.Context, out: str) -> None:
    """Write an archive bundle: the store, JSON, CSV, every day's report, SHA-256 manifest."""
    from safetyapp.audit.export import write_bundle

    repo = _open(ctx)
    try:
        bundle = write_bundle(repo, Path(out), now=datetime.now(UTC), tz=_zone(repo))
    except (FileExistsError, FileNotFoundError) as exc:
        raise Refused(str(exc)) from None
    except OSError as exc:
        raise Refused(f"could not write the bundle at {out}: {exc.strerror or exc}") from None
    except StoreError as exc:
        raise Refused(str(exc)) from None
    click.echo(
        f"wrote {len(bundle.files) + 2} files to {bundle.path} ({bundle.days} daily report(s));"
        f" check them with `sha256sum -c SHA256SUMS` in that folder"
    )
    click.echo(f"checkpoint (head hash): {bundle.head_hash}")
    if not bundle.verified:
        raise Refused("the chain did NOT verify; the bundle records that in manifest.json")


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--read-only", is_flag=True, help="The board and the audit only: nothing can be written."
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, read_only: bool) -> None:
    """Serve the app to a web browser (needs the 'serve' extra: pip install 'safetyapp[serve]').

    It prints an address with a random access token: every request needs it, and a request
    from another web page (a foreign Origin) is refused."""
    import secrets
    import shlex

    try:
        from safetyapp.serve import GuardedServer
    except ImportError:
        raise Refused(
            "the browser view needs the optional textual-serve package:"
            " pip install 'safetyapp[serve]'"
        ) from None
    read_only = read_only or ctx.obj["read_only"]  # `safetyapp --read-only serve` too
    path = _store_path(ctx)
    argv = [sys.executable, "-m", "safetyapp"]
    if not ctx.obj["default"]:
        argv += ["--db", str(path)]
    if read_only:
        argv += ["--read-only"]
    title = "safetyapp"
    if path.exists():
        title = f"safetyapp — {_open(ctx).state.production}"
    server = GuardedServer(
        shlex.join(argv), host=host, port=port, title=title, token=secrets.token_urlsafe(32)
    )
    if _is_loopback(host):
        where = "this computer only (localhost)"
    else:
        where = (
            "EVERY MACHINE THAT CAN REACH THIS ONE; the access token in the address is required"
            " (always), but it and the PINs cross the network unencrypted"
        )
    mode = " read-only (the board and the audit)" if read_only else ""
    click.echo(
        f"safetyapp: serving the app{mode} for {path} at {server.public_url}, reachable from"
        f" {where}.\nOpen it with its access token (keep it private):\n    {server.url}",
        err=True,
    )
    release_full_collections()  # serving runs for hours: the collector as usual
    try:
        server.serve()
    except OSError as exc:  # the address is not this machine's, the port is taken...
        raise Refused(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


# -- entry point ------------------------------------------------------------------------------


def _crash(exc: BaseException) -> NoReturn:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    detail = "".join(traceback.format_exception(exc))
    where = "(could not write a log)"
    try:
        directory = log_dir()
        directory.mkdir(parents=True, exist_ok=True)
        log = directory / f"error-{stamp}-{os.getpid()}.log"
        log.write_text(detail, encoding="utf-8")
        where = str(log)
    except OSError:
        pass
    summary = " ".join(str(exc).split())[:300]
    _say(
        f"safetyapp: unexpected error: {type(exc).__name__}: {summary} (details: {where})", err=True
    )
    sys.exit(EXIT_REFUSED)


def main(argv: Sequence[str] | None = None) -> None:
    hold_full_collections()  # a short process: see safetyapp.gcpause
    try:
        cli.main(args=argv, prog_name="safetyapp", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("safetyapp: interrupted", err=True)
        sys.exit(130)
    except CheckpointRowError as exc:  # a sealed checkpoint with a row no fold writes
        _say(
            f"safetyapp: the checkpoint beside the store holds a run this version cannot read"
            f" ({' '.join(str(exc).split())[:200]}); it was set aside, so the next command reads"
            " the whole record: run this command again, and `safetyapp verify`",
            err=True,
        )
        sys.exit(EXIT_REFUSED)
    except Exception as exc:  # the one place that turns any surprise into a clear line
        _crash(exc)
