"""Only adopted checklists run (issue 13, item 2): the engine's rules, the fold, field checks."""

from __future__ import annotations

from typing import Any

import pytest
from support import (
    AD,
    ARMORER,
    CHECKLISTS,
    SUPERVISOR,
    World,
    adopt,
    cred,
    open_day,
    setup_world,
)

from safetyapp.domain import engine
from safetyapp.domain.checklist import Checklist, validate_checklist
from safetyapp.domain.snapshot import from_view, to_view
from safetyapp.domain.state import fold
from safetyapp.domain.validate import field_problem


def edited(checklist_id: str, **changes: Any) -> Checklist:
    """A bundled checklist with fields changed (an edited file), validated as a file is."""
    data = CHECKLISTS[checklist_id].text()
    data.update(changes)
    return validate_checklist(data)


def weakened_handoff() -> Checklist:
    """The attack of the issue: the handoff with every witness removed."""
    data = CHECKLISTS["handoff"].text()
    for layer in data["layers"]:
        for step in layer["steps"]:
            step["witnesses"] = []
    return validate_checklist(data)


def refusal(world: World) -> dict[str, Any]:
    return world.last("refused")


def test_a_new_production_adopts_the_bundled_versions_by_its_first_supervisor() -> None:
    world = setup_world()
    adopted = [e for e in world.log if e["kind"] == "checklist-adopted"]
    assert [e["data"]["checklist_id"] for e in adopted] == sorted(CHECKLISTS)
    for event in adopted:
        assert event["by"] == SUPERVISOR[0] and event["data"]["founding"] is True
        assert event["data"]["approvers"] == [{"name": SUPERVISOR[0], "role": "supervisor"}]
        checklist = CHECKLISTS[event["data"]["checklist_id"]]
        assert event["data"]["digest"] == checklist.digest()
        assert event["data"]["checklist"] == checklist.text()  # full text
    assert set(world.state.adopted) == {c.digest() for c in CHECKLISTS.values()}
    assert world.log[2]["kind"] == "checklist-adopted"  # right after the founding supervisor


def test_a_run_of_an_unadopted_version_is_refused_on_the_record_saying_how_to_adopt() -> None:
    world = setup_world()
    weak = weakened_handoff()
    decision = world.do(engine.start_run, weak, firearm="COLT-1", performer="Casey Morgan")
    assert not decision.ok and refusal(world)["data"]["code"] == "not-adopted"
    assert "not adopted" in (decision.refused or "")
    assert "safetyapp checklists adopt FILE --by SUPERVISOR --by ARMORER" in (
        decision.refused or ""
    )
    assert engine.short_digest(weak.digest()) in (decision.refused or "")
    assert [r for r in world.state.runs if not r.startswith("G")] == []  # only the gate


def test_an_edited_opening_runs_once_a_supervisor_and_an_armorer_adopt_it() -> None:
    world = setup_world()
    mine = edited("opening", version=7, title="Our own opening")
    assert not world.do(engine.start_run, mine).ok
    decision = adopt(world, mine)
    event = decision.events[0]
    assert event["kind"] == "checklist-adopted" and event["data"]["digest"] == mine.digest()
    assert event["data"]["approvers"] == [
        {"name": SUPERVISOR[0], "role": "supervisor"},
        {"name": ARMORER[0], "role": "armorer"},
    ]
    started = world.do(engine.start_run, mine)
    assert started.ok and started.events[0]["data"]["digest"] == mine.digest()
    assert world.state.runs[str(started.run_id)].checklist.title == "Our own opening"


def test_the_version_adopted_last_is_the_one_a_new_run_walks() -> None:
    world = setup_world()
    bundled = CHECKLISTS["opening"]
    newer = edited("opening", version=9)
    adopt(world, newer)
    assert engine.checklist_to_start(world.state, CHECKLISTS, "opening") == newer
    # Both stay adopted: the older version's runs still fold and may still be started by name.
    assert bundled.digest() in world.state.adopted and newer.digest() in world.state.adopted
    adopt(world, bundled)  # adopting the older again makes it current again
    assert engine.checklist_to_start(world.state, CHECKLISTS, "opening") == bundled
    again = world.do(
        engine.adopt_checklist, cred(SUPERVISOR), cred(ARMORER), bundled
    )  # already current: nothing to adopt
    assert not again.ok and refusal(world)["data"]["code"] == "already-adopted"


def test_an_installed_file_that_is_not_adopted_is_what_start_offers_so_it_is_refused() -> None:
    world = setup_world()
    installed = {**CHECKLISTS, "handoff": weakened_handoff()}
    chosen = engine.checklist_to_start(world.state, installed, "handoff")
    assert chosen == installed["handoff"]
    open_day(world)
    decision = world.do(engine.start_run, chosen, firearm="COLT-1", performer="Casey Morgan")
    assert not decision.ok and refusal(world)["data"]["code"] == "not-adopted"
    # A production's own checklist, adopted but not installed, is found in the record.
    own = validate_checklist({**CHECKLISTS["wrap"].text(), "id": "own"})
    adopt(world, own)
    assert engine.checklist_to_start(world.state, CHECKLISTS, "own") == own
    assert engine.checklist_to_start(world.state, CHECKLISTS, "nothing") is None


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ((SUPERVISOR, SUPERVISOR), "same-person"),
        ((ARMORER, SUPERVISOR), "wrong-role"),  # the order: supervisor, then armorer
        ((SUPERVISOR, AD), "wrong-role"),
    ],
)
def test_adoption_needs_a_supervisor_and_an_armorer_two_people(
    who: tuple[Any, Any], code: str
) -> None:
    world = setup_world()
    mine = edited("opening", version=12)
    decision = world.do(engine.adopt_checklist, cred(who[0]), cred(who[1]), mine)
    assert not decision.ok and refusal(world)["data"]["code"] == code
    assert mine.digest() not in world.state.adopted


def test_adoption_with_a_wrong_pin_is_refused() -> None:
    from safetyapp.domain.engine import Credential

    world = setup_world()
    wrong = Credential(ARMORER[0], "0000")
    decision = world.do(engine.adopt_checklist, cred(SUPERVISOR), wrong, edited("opening"))
    assert not decision.ok and refusal(world)["data"]["code"] == "wrong-pin"


def test_adoption_checks_the_checklist_as_a_file_is_checked() -> None:
    world = setup_world()
    data = CHECKLISTS["opening"].text()
    data["layers"][0]["steps"][0]["distinct_from"] = ["no-such-step"]
    broken = validate_checklist(data)  # the fields parse; the cross-checks do not pass
    decision = world.do(engine.adopt_checklist, cred(SUPERVISOR), cred(ARMORER), broken)
    assert not decision.ok and refusal(world)["data"]["code"] == "invalid"
    assert "no step 'no-such-step'" in (decision.refused or "")


def test_a_forged_adoption_whose_text_is_not_its_digest_cannot_be_folded() -> None:
    world = setup_world()
    log = [dict(e) for e in world.log]
    index = next(i for i, e in enumerate(log) if e["kind"] == "checklist-adopted")
    data = dict(log[index]["data"])
    data["checklist"] = weakened_handoff().text()
    log[index] = {**log[index], "data": data}
    with pytest.raises(ValueError, match="does not match its digest"):
        fold(log)


def test_adoption_events_have_their_fields_checked() -> None:
    world = setup_world()
    event = next(e for e in world.log if e["kind"] == "checklist-adopted")
    assert field_problem(event) is None
    bad_digest = {**event, "data": {**event["data"], "digest": "abc"}}
    assert field_problem(bad_digest) == (
        "data.digest",
        "expected a SHA-256 digest (64 hex characters), found 'abc'",
    )
    no_approvers = {**event, "data": {**event["data"], "approvers": []}}
    assert field_problem(no_approvers) is not None
    assert field_problem(no_approvers)[0] == "data.approvers"  # type: ignore[index]
    no_text = {**event, "data": {k: v for k, v in event["data"].items() if k != "checklist"}}
    assert field_problem(no_text) == ("data.checklist", "missing")
    started = {
        "kind": "run-started", "time": event["time"], "by": None, "role": None, "run": "R0001",
        "step": None, "result": None, "note": "", "data": {"checklist_id": "opening"},
    }  # fmt: skip
    assert field_problem(started) == ("data.digest", "missing")


def test_the_start_up_view_keeps_the_adoptions() -> None:
    world = setup_world()
    adopt(world, edited("opening", version=4))
    back = from_view(to_view(world.state))
    assert back.adoptions == world.state.adoptions
    assert back.current_checklists == world.state.current_checklists
    assert back.current_adoption("opening") == world.state.current_adoption("opening")


def test_a_day_walks_on_the_bundled_versions_adopted_at_creation() -> None:
    world = setup_world()
    run = open_day(world)
    assert world.state.runs[run].completed_at is not None
