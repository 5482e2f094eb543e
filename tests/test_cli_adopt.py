"""`safetyapp checklists adopt` and `checklists list` end to end, in subprocesses on real store
files: only adopted checklist versions run (issue 13, item 2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_cli import ARMORER, PINS, SUPERVISOR, Cli

from safetyapp.checklists import bundled_dir

AD = "Jordan Lee"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with its crew (init adopted the bundled checklists), made once."""
    tmp = tmp_path_factory.mktemp("base")
    base = Cli(tmp)
    base.setup("Adopt Test")
    base.gate()
    return tmp


@pytest.fixture
def cli(base: Path, tmp_path: Path) -> Cli:
    """A copy of the base store (the record and the files beside it) for one test."""
    for path in base.iterdir():
        if path.is_file():
            shutil.copy2(path, tmp_path / path.name)
    return Cli(tmp_path)


def installed_copy(tmp: Path) -> Path:
    """A folder of installed checklists: copies of the bundled ones, to edit."""
    folder = tmp / "installed"
    folder.mkdir()
    for path in bundled_dir().glob("*.yaml"):
        shutil.copy2(path, folder / path.name)
    return folder


def adopt(cli: Cli, path: Path, *by: str, code: int = 0) -> tuple[str, str]:
    args = ["checklists", "adopt", str(path)]
    for name in by:
        args += ["--by", name]
    proc = cli(*args, stdin="".join(PINS[n] + "\n" for n in by), code=code)
    return proc.stdout, proc.stderr


def lines(cli: Cli) -> int:
    return len(cli.db.read_text(encoding="utf-8").splitlines())


def listing(cli: Cli) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(cli("checklists", "list", "--json").stdout)
    return rows


def test_init_adopts_the_bundled_checklists_and_list_shows_them(cli: Cli) -> None:
    rows = listing(cli)
    assert sorted(str(r["id"]) for r in rows) == ["handoff", "meeting", "opening", "prep", "wrap"]
    for row in rows:
        assert row["status"] == "current"
        assert row["adopted_by"] == [{"name": SUPERVISOR, "role": "supervisor"}]
        assert len(str(row["digest"])) == 64 and row["adopted_at"]
    text = cli("checklists", "list").stdout
    assert f"current, adopted by {SUPERVISOR} at " in text
    handoff = next(r for r in rows if r["id"] == "handoff")
    assert str(handoff["digest"])[:12] in text


def test_a_productions_own_checklist_is_adopted_by_a_supervisor_and_an_armorer(
    cli: Cli, tmp_path: Path
) -> None:
    own = tmp_path / "stunt-opening.yaml"
    text = (bundled_dir() / "opening.yaml").read_text(encoding="utf-8")
    own.write_text(text.replace("id: opening", "id: stunt-opening", 1), encoding="utf-8")
    out, _ = adopt(cli, own, SUPERVISOR, ARMORER)
    assert "adopted stunt-opening" in out and f"by {SUPERVISOR} and {ARMORER}" in out
    assert "receipt " in out
    row = next(r for r in listing(cli) if r["id"] == "stunt-opening")
    assert row["status"] == "current" and row["source"] == "stunt-opening.yaml"
    assert row["adopted_by"] == [
        {"name": SUPERVISOR, "role": "supervisor"},
        {"name": ARMORER, "role": "armorer"},
    ]
    started = cli("run", "start", "stunt-opening", "--json")
    assert json.loads(started.stdout)["id"]


def test_the_same_person_twice_is_refused_and_nothing_adopted(cli: Cli, tmp_path: Path) -> None:
    own = tmp_path / "opening.yaml"
    own.write_text(
        (bundled_dir() / "opening.yaml")
        .read_text(encoding="utf-8")
        .replace("version: ", "version: 4", 1),
        encoding="utf-8",
    )
    _, err = adopt(cli, own, SUPERVISOR, SUPERVISOR, code=1)
    assert "two different people" in err
    assert all(r["status"] == "current" for r in listing(cli))  # no new version


def test_a_wrong_role_is_refused(cli: Cli, tmp_path: Path) -> None:
    own = tmp_path / "opening.yaml"
    text = (bundled_dir() / "opening.yaml").read_text(encoding="utf-8")
    own.write_text(text.replace("title: ", "title: Edited ", 1), encoding="utf-8")
    _, err = adopt(cli, own, ARMORER, SUPERVISOR, code=1)
    assert f"{ARMORER} is not crewed as Safety supervisor" in err
    _, err = adopt(cli, own, SUPERVISOR, AD, code=1)
    assert f"{AD} is not crewed as Armorer" in err
    _, err = adopt(cli, own, SUPERVISOR, code=2)
    assert "give --by twice" in err


def test_a_bad_file_is_named_by_file_line_and_field_and_nothing_is_written(
    cli: Cli, tmp_path: Path
) -> None:
    bad = tmp_path / "ours.yaml"
    text = (bundled_dir() / "opening.yaml").read_text(encoding="utf-8")
    lines_of = text.splitlines()
    at = next(i for i, line in enumerate(lines_of) if line.strip().startswith("role: "))
    lines_of[at] = lines_of[at].replace("role: ", "role: armourer #", 1)
    bad.write_text("\n".join(lines_of) + "\n", encoding="utf-8")
    before = lines(cli)
    _, err = adopt(cli, bad, SUPERVISOR, ARMORER, code=1)
    assert str(bad) in err and f"line {at + 1}," in err
    assert ".role: 'armourer' is not a role" in err and "not adopted" in err
    assert lines(cli) == before  # no PIN asked, no event written


def test_an_edited_installed_file_is_refused_until_it_is_adopted(cli: Cli, tmp_path: Path) -> None:
    folder = installed_copy(tmp_path)
    opening = folder / "opening.yaml"
    text = opening.read_text(encoding="utf-8")
    opening.write_text(text.replace("title: ", "title: Edited ", 1), encoding="utf-8")
    cli.env["SAFETYAPP_CHECKLISTS"] = str(folder)
    row = next(r for r in listing(cli) if r["status"] == "not adopted")
    assert row["id"] == "opening"
    listed = cli("checklists", "list")
    assert "NOT ADOPTED" in listed.stdout and "checklists adopt FILE" in listed.stderr
    refused = cli("run", "start", "opening", code=1)
    assert "is not adopted into this record" in refused.stderr
    assert "safetyapp checklists adopt FILE --by SUPERVISOR --by ARMORER" in refused.stderr
    assert str(folder) in refused.stderr
    records = [json.loads(line) for line in cli.db.read_text(encoding="utf-8").splitlines()]
    assert records[-1]["kind"] == "refused" and records[-1]["data"]["code"] == "not-adopted"
    adopt(cli, opening, SUPERVISOR, ARMORER)
    started = json.loads(cli("run", "start", "opening", "--json").stdout)["id"]
    status = json.loads(cli("run", "status", started, "--json").stdout)
    assert status["checklist"] == "opening" and status["title"].startswith("Edited ")


def test_an_invalid_installed_file_is_a_clear_refusal(cli: Cli, tmp_path: Path) -> None:
    folder = installed_copy(tmp_path)
    (folder / "wrap.yaml").write_text("id: wrap\ntitle: W\nversion: 1\nscope: wrap\nlayers: []\n")
    cli.env["SAFETYAPP_CHECKLISTS"] = str(folder)
    before = lines(cli)
    err = cli("run", "start", "opening", code=1).stderr
    assert "an installed checklist cannot be used" in err and "unexpected" not in err
    assert f"{folder / 'wrap.yaml'}: line 5, layers:" in err and "SAFETYAPP_CHECKLISTS" in err
    assert lines(cli) == before


def imported(proc_stderr: str) -> set[str]:
    """The top-level modules a `python -X importtime` process imported (from its stderr)."""
    names = set()
    for line in proc_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_a_listing_or_a_sign_off_from_the_checkpoint_never_reads_the_installed_checklists(
    cli: Cli, tmp_path: Path
) -> None:
    # Only a run's start needs the installed files (an edited one is refused until adopted):
    # a listing and a sign-off started from the checkpoint never read or validate them, so
    # they pay neither the YAML reader nor the validator (pydantic), and a folder that cannot
    # be read stops only a run's start, with its clear refusal.
    from safetyapp.checklists import load_bundled
    from safetyapp.store.repository import Repository

    run = json.loads(cli("run", "start", "opening", "--json").stdout)["id"]
    assert Repository.open(cli.db, load_bundled()).save_snapshot()
    folder = installed_copy(tmp_path)
    (folder / "wrap.yaml").write_text("id: wrap\ntitle: W\nversion: 1\nscope: wrap\nlayers: []\n")
    cli.env["SAFETYAPP_CHECKLISTS"] = str(folder)
    cli.env["PYTHONPROFILEIMPORTTIME"] = "1"  # each import on stderr
    listed = cli("run", "list", "--json")
    assert run in listed.stdout and "cannot be used" not in listed.stderr
    signed = cli.sign(run, "meeting-held", [AD, ARMORER], attendees="24", concerns_read="yes")
    assert "cannot be used" not in signed.stderr
    for proc in (listed, signed):
        assert "import time:" in proc.stderr and not {"pydantic", "yaml"} & imported(proc.stderr)
    del cli.env["PYTHONPROFILEIMPORTTIME"]
    status = json.loads(cli("run", "status", run, "--json").stdout)
    assert status["steps"][0]["id"] == "meeting-held" and status["steps"][0]["state"] == "passed"
    before = lines(cli)
    err = cli("run", "start", "handoff", code=1).stderr
    assert "an installed checklist cannot be used" in err and "SAFETYAPP_CHECKLISTS" in err
    assert lines(cli) == before
