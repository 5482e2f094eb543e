"""Checklists as data: the bundled ones are valid; bad ones are refused with file, path and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from safetyapp.checklists import bundled_dir, load_bundled, load_dir, load_file
from safetyapp.domain.checklist import ChecklistError, parse_checklist

GOOD = """
id: mini
title: Mini
version: 1
scope: handoff
layers:
  - id: one
    title: One
    catches: something
    steps:
      - id: a
        title: A
        role: armorer
        attests: I did A
        evidence:
          - {key: live-rounds, label: Live rounds, type: int, expect: 0}
      - id: b
        title: B
        role: ad
        attests: I did B
        distinct_from: [a]
"""


def problems(text: str) -> str:
    with pytest.raises(ChecklistError) as info:
        parse_checklist(text, "bad.yaml")
    return str(info.value)


def test_bundled_checklists_cover_every_scope_and_say_what_each_layer_catches() -> None:
    found = load_bundled()
    assert {c.scope for c in found.values()} >= {"opening", "handoff", "wrap"}
    for checklist in found.values():
        for layer in checklist.layers:
            assert layer.catches.strip()
            for step in layer.steps:
                assert step.attests.strip()


def test_handoff_checklist_follows_the_domain_order() -> None:
    handoff = load_bundled()["handoff"]
    assert [layer.id for layer in handoff.layers] == [
        "setup-ammunition", "armorer-inspection", "show-safe", "handoff", "return",
    ]  # fmt: skip
    confirm = handoff.step("ad-confirms")
    assert confirm is not None and confirm.role == "ad" and "inspect" in confirm.distinct_from


def test_good_checklist_parses() -> None:
    checklist = parse_checklist(GOOD, "good.yaml")
    assert checklist.step("b") is not None


def test_yaml_syntax_error_names_file_and_line() -> None:
    msg = problems("id: x\n  title: [unclosed\n")
    assert msg.startswith("bad.yaml: line ") and "YAML syntax error" in msg


def test_unknown_role_names_the_field_path_and_the_choices() -> None:
    msg = problems(GOOD.replace("role: ad", "role: armourer"))
    assert "bad.yaml: line " in msg and "layers[0].steps[1].role: 'armourer' is not a role" in msg
    assert "armorer, ad, actor, supervisor" in msg


def test_duplicate_step_id() -> None:
    msg = problems(GOOD.replace("id: b", "id: a"))
    assert "layers[0].steps[1].id: duplicate step id 'a'" in msg


def test_missing_field_says_what_to_add() -> None:
    msg = problems(GOOD.replace("        attests: I did B\n", ""))
    assert "layers[0].steps[1].attests: required field is missing; add `attests:`" in msg


def test_bad_reference() -> None:
    msg = problems(GOOD.replace("distinct_from: [a]", "distinct_from: [zz]"))
    assert "layers[0].steps[1].distinct_from[0]: no step 'zz'" in msg


def test_unknown_field_is_refused() -> None:
    msg = problems(GOOD.replace("title: A\n", "title: A\n        rol: ad\n"))
    assert "layers[0].steps[0].rol: unknown field" in msg


def test_expect_must_fit_the_type() -> None:
    msg = problems(GOOD.replace("expect: 0", "expect: yes"))
    assert "evidence[0].expect" in msg


def test_not_a_mapping() -> None:
    assert "the file is empty" in problems("")
    assert "a list" in problems("- a\n- b\n")


def test_witness_cannot_be_the_signing_role() -> None:
    msg = problems(GOOD.replace("role: ad\n", "role: ad\n        witnesses: [ad]\n"))
    assert "a witness is never the signer" in msg


def test_duplicate_checklist_ids_in_a_folder(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    with pytest.raises(ChecklistError, match="duplicate checklist id 'mini'"):
        load_dir(tmp_path)


def test_unreadable_file_is_a_checklist_error(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ChecklistError, match="cannot read"):
        load_file(path)


def test_bundled_dir_has_the_yaml_files() -> None:
    assert {p.name for p in bundled_dir().glob("*.yaml")} >= {
        "opening.yaml", "handoff.yaml", "wrap.yaml",
    }  # fmt: skip


def test_a_role_with_a_control_character_is_named_on_one_line() -> None:
    """Found by the hostile fuzz (test_rel_hostile): a witness role of a newline alone was shown
    raw, splitting the error over two lines that do not name the file."""
    import yaml

    data = yaml.safe_load((bundled_dir() / "handoff.yaml").read_text())
    data["layers"][0]["steps"][0]["witnesses"] = ["\n"]
    with pytest.raises(ChecklistError) as caught:
        parse_checklist(yaml.safe_dump(data), "fuzz.yaml")
    message = str(caught.value)
    assert "'\\n' is not a role" in message
    assert all(line.startswith("fuzz.yaml: ") for line in message.split("\n"))


def test_an_id_with_a_control_character_is_named_on_one_line() -> None:
    """The same for a step id (found in review): a newline in it split the error."""
    import yaml

    data = yaml.safe_load((bundled_dir() / "handoff.yaml").read_text())
    data["layers"][0]["steps"][0]["id"] = "a\nb"
    with pytest.raises(ChecklistError) as caught:
        parse_checklist(yaml.safe_dump(data), "fuzz.yaml")
    message = str(caught.value)
    assert "'a\\nb' is not a valid id" in message
    assert all(line.startswith("fuzz.yaml: ") for line in message.split("\n"))
