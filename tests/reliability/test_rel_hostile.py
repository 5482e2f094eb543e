"""6. Hostile text: stored exactly, shown literally, neutralised in CSV; checklist YAML fuzzed."""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rel_support import AD, ARMORER, SUPERVISOR, build_store, pins_for, run_cli, start_opening
from support import PINS

from safetyapp.checklists import bundled_dir, load_file
from safetyapp.cli import literal
from safetyapp.domain import names as naming
from safetyapp.domain.checklist import Checklist, ChecklistError, parse_checklist
from safetyapp.store.journal import Journal

# Text a terminal, Rich/Textual or a spreadsheet would act on. No leading/trailing whitespace:
# names, serials and lots are stripped by design; notes and reasons are kept exactly.
HOSTILE = {
    "rich-markup": "[bold red]ALL CLEAR[/bold red] [link=https://evil.example]click[/link]",
    "textual-markup": "[@click=app.quit]quit[/] $accent [reverse]x[/]",
    "ansi": "\x1b[31mRED\x1b[0m\x1b[2J\x1b]0;pwned\x07\x1b[8mhidden",
    "controls": "a\x00b\x07c\x08d\x7fe\x9bf",
    "cr-lf-spoof": "ok\r   7 2026-01-01T00:00:00 signed           PASS     Fake Person\nnext",
    "rtl-override": "SERIAL-\u202e1234-LIVE\u202c-\u2066x\u2069",
    "emoji": "🔫💥👩🏽‍🚒 ok",
    "formula-eq": '=HYPERLINK("http://evil","x")',
    "formula-plus": "+1+cmd|' /C calc'!A0",
    "formula-minus": "-2+3",
    "formula-at": "@SUM(A1:A9)",
    "huge": ("long-" + "é🔫x" * 3400)[:10_000],
}
DANGEROUS = {chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]} | {
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
}  # fmt: skip


def _shown_literally(text: str, output: str) -> None:
    assert literal(text) in output, (text[:60], output[:300])
    lines = output.split("\n")
    assert not DANGEROUS.intersection("".join(lines)), "a control character reached the terminal"


def test_hostile_text_is_stored_exactly_and_shown_literally(
    tmp_path: Path, figures: Counter[str]
) -> None:
    db = tmp_path / "record.jsonl"
    run = start_opening(build_store(db))
    names: dict[str, str] = {}  # key -> the crew name used (issue 12: no invisible characters)
    for key, text in HOSTILE.items():
        name = f"{text} {key}"
        sup = f"{PINS[SUPERVISOR]}\n4321\n4321\n"
        added = run_cli(db, "crew", "add", "--role", "actor", "--by", SUPERVISOR, "--", name,
                        stdin=sup)  # fmt: skip
        if naming.new_name_problem(naming.normalise(name), []) is None:
            assert added.code == 0, added.stderr
        else:  # refused, saying which character (or the length), and shown literally
            assert added.code == 1 and ("U+" in added.stderr or "at most" in added.stderr)
            assert not DANGEROUS.intersection(added.stderr)
            name = f"Actor {key}"
            again = run_cli(db, "crew", "add", "--role", "actor", "--by", SUPERVISOR, name,
                            stdin=sup)  # fmt: skip
            assert again.code == 0, again.stderr
        names[key] = name
        serial = f"{key}-{text}"
        assert (
            run_cli(
                db,
                "firearm",
                "add",
                serial,
                "--description",
                text,
                "--kind",
                "rubber",
                "--by",
                ARMORER,
                stdin=f"{PINS[ARMORER]}\n",
            ).code
            == 0
        )
        assert run_cli(db, "ammo", "add", f"L-{key}", "--type", "dummy", "--count", "1",
                       "--source", text, "--by", ARMORER,
                       stdin=f"{PINS[ARMORER]}\n").code == 0  # fmt: skip
        assert run_cli(db, "hold", "raise", "--by", name, "--reason", text, "--run", run,
                       stdin="4321\n").code == 0  # fmt: skip
        figures["hostile: strings stored and shown"] += 1

    # Stored exactly: the record holds the very strings given.
    records = Journal.open(db).records()
    stored = {
        (r["kind"], json.dumps(r["data"].get("name") or r["data"].get("serial") or r["note"]))
        for r in records
    }
    for key, text in HOSTILE.items():
        assert ("crew-added", json.dumps(names[key])) in stored
        assert ("firearm-added", json.dumps(f"{key}-{text}")) in stored
        assert ("hold-raised", json.dumps(text)) in stored
    sources = {r["data"]["source"] for r in records if r["kind"] == "ammo-added"}
    assert set(HOSTILE.values()) <= sources

    # Shown literally by every listing (nothing interpreted, nothing cut short).
    crew = run_cli(db, "crew", "list").stdout
    firearms = run_cli(db, "firearm", "list").stdout
    ammo = run_cli(db, "ammo", "list").stdout
    holds = run_cli(db, "hold", "list").stdout
    audit = run_cli(db, "audit").stdout
    status = run_cli(db, "run", "status", run).stdout
    for key, text in HOSTILE.items():
        _shown_literally(names[key], crew)
        _shown_literally(f"{key}-{text}", firearms)
        _shown_literally(text, firearms)
        _shown_literally(text, ammo)
        _shown_literally(text, holds)
        _shown_literally(text, audit)
        _shown_literally(text, status)
    # Each listing has exactly one line per item: no text can fake or hide a line.
    assert len(crew.splitlines()) == 6 + len(HOSTILE)
    assert len(holds.splitlines()) == len(HOSTILE)
    assert len(audit.splitlines()) == len(records)

    # --json carries the exact strings.
    rows = json.loads(run_cli(db, "crew", "list", "--json").stdout)
    assert set(names.values()) <= {r["name"] for r in rows}
    # Refusal messages that quote user text are literal too.
    out = run_cli(db, "hold", "raise", "--by", HOSTILE["ansi"], "--reason", "x", stdin="1\n")
    assert out.code == 0 and "UNVERIFIED" in out.stderr  # never refused; the name not crewed
    # A name not on the crew is recorded with its control characters spelled out (issue 14).
    from safetyapp.domain.names import neutralise

    assert neutralise(HOSTILE["ansi"]) in out.stderr
    assert not DANGEROUS.intersection(out.stderr), "a control character reached the terminal"


def test_csv_export_neutralises_formulas_and_keeps_text(tmp_path: Path) -> None:
    db = tmp_path / "record.jsonl"
    run = start_opening(build_store(db))
    for text in HOSTILE.values():
        assert run_cli(db, "hold", "raise", "--by", AD, "--reason", text, "--run", run,
                       stdin=pins_for([AD])).code == 0  # fmt: skip
    sign = run_cli(db, "run", "sign", run, "meeting-held", "--by", "=cmd", "--by", ARMORER,
                   stdin="1\n1\n")  # fmt: skip
    assert sign.code == 1  # unknown person, refused and recorded with by = "=cmd"
    out = run_cli(db, "audit", "--csv")
    assert out.code == 0
    rows = list(csv.reader(io.StringIO(out.stdout, newline="")))
    header, body = rows[0], rows[1:]
    assert len(body) == len(Journal.open(db).records())
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    notes = {row[header.index("note")] for row in body}
    for text in HOSTILE.values():
        expected = "'" + text if text.startswith(("=", "+", "-", "@")) else text
        assert expected in notes, text[:40]
    assert "'=cmd" in {row[header.index("by")] for row in body}


# -- checklist YAML fuzz ------------------------------------------------------------------------

BUNDLED = (bundled_dir() / "opening.yaml").read_text(encoding="utf-8")
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
    st.dates(), st.datetimes(), st.sampled_from(["armorer", "ad", "firearm.chambers", "x" * 70]),
)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=6,
)


def _check(text: str, figures: Counter[str]) -> None:
    figures["hostile: checklist YAML inputs fuzzed (hypothesis)"] += 1
    try:
        result = parse_checklist(text, "fuzz.yaml")
    except ChecklistError as exc:
        message = str(exc)
        assert message and all(line.startswith("fuzz.yaml: ") for line in message.split("\n"))
        return
    assert isinstance(result, Checklist)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        out += [p for k, v in obj.items() for p in _paths(v, (*prefix, k))]
    elif isinstance(obj, list):
        out += [p for i, v in enumerate(obj) for p in _paths(v, (*prefix, i))]
    return out


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(text=st.text())
def test_fuzz_any_text(text: str, figures: Counter[str]) -> None:
    _check(text, figures)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzz_structural_mutations_of_a_real_checklist(
    data: st.DataObject, figures: Counter[str]
) -> None:
    doc = yaml.safe_load(BUNDLED)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        value = data.draw(VALUES)
        if not path:
            doc = value
            continue
        node = doc
        for part in path[:-1]:
            node = node[part]
        if data.draw(st.booleans()) or not isinstance(node, dict):
            node[path[-1]] = value
        else:
            del node[path[-1]]
    _check(yaml.safe_dump(doc, allow_unicode=True), figures)


@SETTINGS
@given(data=st.data())
def test_fuzz_text_mutations_of_a_real_checklist(
    data: st.DataObject, figures: Counter[str]
) -> None:
    text = BUNDLED
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 40)))
        insert = data.draw(
            st.text(max_size=12)
            | st.sampled_from(
                [
                    "\n",
                    ": ",
                    "- ",
                    "[",
                    "{",
                    "&a ",
                    "*a",
                    "!!binary",
                    "2019-99-99",
                    "\t",
                    "? ",
                    "|",
                    "'",
                    '"',
                    "%YAML 9.9\n",
                    "---\n",
                ]
            )
        )
        text = text[:i] + insert + text[j:]
    _check(text, figures)


def test_fuzz_known_nasty_yaml(figures: Counter[str]) -> None:
    nasty = [
        "id: x\ntitle: 2019-99-99\n", "2019-02-30", "[" * 1200, "{a: " * 1200,
        "? 2001-13-01\n: 1", "!!python/object/apply:os.system ['true']",
        "a: &a [x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "id: x\ntitle: t\nversion: 1\nscope: opening\nlayers: [*c,*c,*c,*c,*c,*c,*c,*c]\n",
        "id: x\ntitle: t\nversion: 1\nscope: opening\ndescription: " + "[" * 900 + "]" * 900,
        "\x00", "\ufeff", "id: \udcff", "version: 1e400", "<<: *nope",
    ]  # fmt: skip
    for text in nasty:
        _check(text, figures)


def test_checklist_file_with_random_bytes(tmp_path: Path, figures: Counter[str]) -> None:
    rng = random.Random(5)
    for n in range(50):
        path = tmp_path / f"c{n}.yaml"
        path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))))
        figures["hostile: checklist YAML inputs fuzzed (hypothesis)"] += 1
        try:
            load_file(path)
        except ChecklistError as exc:
            assert str(path) in str(exc)
        out = run_cli(tmp_path / "none.jsonl", "checklists", "validate", str(path))
        assert out.code == 1 and str(path) in out.stderr
