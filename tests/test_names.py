"""Crew names that cannot be confused (issue 12, item 3): the table of look-alikes, the engine's
refusal on crew creation, and the CLI's forgiving lookups."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from support import CREW, SUPERVISOR, World, cheap_pin, cred, seed, setup_world
from test_cli import Cli

from safetyapp.domain import engine
from safetyapp.domain import names as naming

# (new name, what the refusal must say) against the test crew (Jordan Lee, Sam Ortiz, ...).
CONFUSED = [
    ("Jordan L\u0435e", "U+0435 CYRILLIC SMALL LETTER IE"),  # Cyrillic е
    ("J\u03bfrdan Lee", "U+03BF GREEK SMALL LETTER OMICRON"),  # Greek omicron
    ("\uff2aordan \uff2cee", "U+FF2A FULLWIDTH LATIN CAPITAL LETTER J"),  # full-width letters
    ("Sam 0rtiz", "U+0030 DIGIT ZERO"),
    ("Jordan 1ee", "U+0031 DIGIT ONE"),
    ("jordan lee", "in other capitals, spacing"),
    ("JORDAN LEE", "in other capitals, spacing"),
    ("Jordan\u00a0Lee", "already a crew member named 'Jordan Lee'"),  # no-break space
    ("  Jordan   Lee ", "already a crew member named 'Jordan Lee'"),
]
INVISIBLE = [
    ("Jordan\u200b Lee", "U+200B ZERO WIDTH SPACE"),
    ("Jordan\u200dLee", "U+200D ZERO WIDTH JOINER"),
    ("Jordan Lee\u200c", "U+200C ZERO WIDTH NON-JOINER"),
    ("\ufeffJordan Lee", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("Jordan \u202eeeL", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("Jordan \u2066Lee\u2069", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("Jordan\tLee", "U+0009"),
    ("Jordan\u2028Lee", "U+2028 LINE SEPARATOR"),
    ("Jordan Le\u00ade", "U+00AD SOFT HYPHEN"),
    ("Jordan \u3164Lee", "U+3164 HANGUL FILLER"),
    ("Jordan Lee\ufe0f", "U+FE0F VARIATION SELECTOR-16"),
    ("Jorda\u0301\u0302\u0303\u0304n", "stacks more than 2 combining marks"),
    ("\u0301Jordan", "combining mark (U+0301 COMBINING ACUTE ACCENT) with no letter"),
]


@pytest.fixture
def world() -> World:
    return setup_world(CREW)


@pytest.mark.parametrize(("name", "message"), CONFUSED + INVISIBLE)
def test_a_look_alike_or_invisible_name_is_refused_saying_why(
    world: World, name: str, message: str
) -> None:
    before = len(world.log)
    decision = world.do(engine.add_crew, cred(SUPERVISOR), name, ["ad"], cheap_pin("7777"))
    assert not decision.ok
    assert message in (decision.refused or "")
    assert [e["kind"] for e in world.log[before:]] == ["refused"]  # the attempt, nothing else


@pytest.mark.parametrize(("name", "message"), CONFUSED)
def test_the_refusal_names_the_crew_member_it_collides_with(
    world: World, name: str, message: str
) -> None:
    decision = world.do(engine.add_crew, cred(SUPERVISOR), name, ["ad"], cheap_pin("7777"))
    expected = "'Sam Ortiz'" if "Sam" in name else "'Jordan Lee'"
    assert expected in (decision.refused or "")


def test_combining_marks_are_one_name_with_the_precomposed_letter(world: World) -> None:
    assert world.do(
        engine.add_crew, cred(SUPERVISOR), "Jos\u00e9 Ruiz", ["actor"], cheap_pin("7777")
    ).ok
    decomposed = "Jose\u0301 Ruiz"
    assert decomposed != "Jos\u00e9 Ruiz"
    refused = world.do(engine.add_crew, cred(SUPERVISOR), decomposed, ["actor"], cheap_pin("7777"))
    assert "already a crew member named 'José Ruiz'" in (refused.refused or "")
    # Stored as NFC, so every later comparison sees one form.
    assert world.do(
        engine.add_crew, cred(SUPERVISOR), "Ren\u0065\u0301e Dubois", ["ad"], cheap_pin("7777")
    ).ok
    assert "Ren\u00e9e Dubois" in world.state.crew
    assert all(unicodedata.is_normalized("NFC", n) for n in world.state.crew)


def test_different_names_and_the_demo_crew_still_join(world: World) -> None:
    for name in ["Jordan Leigh", "Jo Lee", "Ana Pérez", "Nguyễn Văn An", "Zoë O'Brien",
                 "Мария Иванова", "李小龍", "Ian Mac"]:  # fmt: skip
        decision = world.do(engine.add_crew, cred(SUPERVISOR), name, ["actor"], cheap_pin("7777"))
        assert decision.ok, (name, decision.refused)
    fresh = World()
    seed(fresh.do, CREW, "P")  # the demo crew, added by its founding supervisor
    assert set(fresh.state.crew) == {name for name, _, _ in CREW}


def test_skeletons_follow_tr39() -> None:
    assert naming.skeleton("Jordan L\u0435e") == naming.skeleton("Jordan Lee")
    assert naming.skeleton("\u0440\u0430\u0443\u0440\u0430l") == naming.skeleton("paypal")
    assert naming.skeleton("rn") == naming.skeleton("m")
    assert naming.skeleton("Jordan") != naming.skeleton("Jordon")


def test_lookups_forgive_case_width_and_spacing() -> None:
    crew = [name for name, _, _ in CREW]
    assert naming.find("jordan  LEE", crew) == "Jordan Lee"
    assert naming.find(" \uff2aordan Lee", crew) == "Jordan Lee"
    assert naming.find("Jordan L\u0435e", crew) is None  # a look-alike is not a spelling of it
    assert naming.find("Jordan Lea", crew) is None
    assert naming.did_you_mean("Jordan Lea", crew) == "Jordan Lee"
    assert naming.did_you_mean("Zzyzx", crew) is None


def test_cli_refuses_a_look_alike_and_forgives_spelling(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli("init", "--production", "P", "--supervisor", "Pat Okafor", stdin="5555\n5555\n")
    by = ("--by", "Pat Okafor")
    cli("crew", "add", "Jordan Lee", "--role", "ad", *by, stdin="5555\n2222\n2222\n")
    spoof = cli("crew", "add", "Jordan L\u0435e", "--role", "ad", *by, stdin="5555\n7777\n7777\n",
                code=1)  # fmt: skip
    assert "'Jordan Lеe' can be confused with 'Jordan Lee'" in spoof.stderr
    assert "U+0435 CYRILLIC SMALL LETTER IE" in spoof.stderr
    hidden = cli("crew", "add", "Jordan\u200b Lee", "--role", "ad", *by, stdin="5555\n7\n7\n",
                 code=1)  # fmt: skip
    assert "U+200B ZERO WIDTH SPACE" in hidden.stderr
    cli("hold", "raise", "--by", "jordan   LEE", "--reason", "smoke", stdin="2222\n")
    # A stop-work is never refused: a name not on the crew raises it UNVERIFIED, with a hint.
    typo = cli("hold", "raise", "--by", "Jordan Lea", "--reason", "x", stdin="2222\n")
    assert "UNVERIFIED" in typo.stderr and "not on the crew list" in typo.stderr
    assert "did you mean 'Jordan Lee'?" in typo.stderr
    events = json.loads(cli("audit", "--json", "--by", "JORDAN LEE").stdout)
    assert any(e["kind"] == "hold-raised" and e["by"] == "Jordan Lee" for e in events)
    crew = json.loads(cli("crew", "list", "--json").stdout)
    assert [m["name"] for m in crew] == ["Pat Okafor", "Jordan Lee"]
