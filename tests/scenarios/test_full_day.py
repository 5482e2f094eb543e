"""The happy path: a full day with two firearms and three performers, on a real store."""

from __future__ import annotations

from pathlib import Path

from scenario_support import handoff, open_day, store_world
from support import ACTOR, ACTOR2, ACTOR3, AD, ARMORER, SUPERVISOR, start, walk

from safetyapp.views import firearm_view


def steps(actor: tuple[str, list[str], str], chambers: int, loads: dict[str, str],
          expended: str) -> list[tuple[str, object, tuple[object, ...], dict[str, str]]]:  # fmt: skip
    serial = "COLT-1" if chambers == 6 else "GLOCK-2"
    blanks = int(loads["blanks"])
    called = f"blanks x{blanks}" if blanks else f"dummies x{loads['dummies']}"
    hot = (
        {"hot-announced": "yes", "safe-distance": "20"}
        if blanks
        else {"hot-announced": "no", "safe-distance": "none"}
    )
    return [
        ("rounds-loaded", ARMORER, (AD,), {**loads, "live-rounds": "0"}),
        ("inspect", ARMORER, (AD, actor), {"serial-in-hand": serial, "bore-clear": "yes", "chambers-seen": str(chambers), "loads-as-listed": "yes"}),
        ("ad-confirms", AD, (ARMORER,), {"chambers-seen": str(chambers), "state-called": called}),
        ("announced", AD, (), {"line-of-fire-clear": "yes", **hot, "shields": "yes"}),
        ("hand-over", ARMORER, (actor,), {}),
        ("performer-check", actor, (), {"witnessed-show-clear": "yes"}),
        ("returned", ARMORER, (actor,), {"rounds-expended": expended, "reinspected-clear": "yes"}),
    ]  # fmt: skip


def test_full_day_two_firearms_three_performers(tmp_path: Path) -> None:
    world = store_world(tmp_path)
    opening = open_day(world)
    assert world.state.custody("COLT-1").holder == "armorer"
    assert world.state.custody("GLOCK-2").name == ARMORER[0]

    dummies = {"dummies": "6", "blanks": "0"}
    first = handoff(world, "COLT-1", ACTOR, scene="12A")
    walk(world, first, steps(ACTOR, 6, dummies, "0"))
    second = handoff(world, "GLOCK-2", ACTOR2, scene="12B")
    walk(world, second, steps(ACTOR2, 15, {"dummies": "0", "blanks": "5"}, "B-1=5"))
    third = handoff(world, "COLT-1", ACTOR3, scene="14")
    mid = steps(ACTOR3, 6, {"dummies": "0", "blanks": "6"}, "B-1=6")
    walk(world, third, mid[:5])
    assert world.state.custody("COLT-1").holder == "performer"
    assert world.state.custody("COLT-1").name == ACTOR3[0]
    walk(world, third, mid[5:])
    assert world.state.ammo_reconciliation() == {"D-1": (36, 0, 36), "B-1": (24, 11, 13)}

    view = firearm_view(world.state, world.state.firearms["COLT-1"], world.now)
    assert view["custody"]["holder"] == "armorer"
    assert view["last_verified"]["run"] == third and view["last_verified"]["fresh"] is False
    # ^ custody changed (handed over and back) since that verification: not valid any more.

    wrap = start(world, "wrap")
    walk(world, wrap, [
        ("locked-up", ARMORER, (AD,), {"firearms-locked": "COLT-1, GLOCK-2", "missing": "0"}),
        ("counts-reconciled", ARMORER, (AD,), {"counts": "D-1=36, B-1=13"}),
        ("incidents-reviewed", SUPERVISOR, (), {"open-concerns": "0"}),
    ])  # fmt: skip
    state = world.state
    assert state.day is None and state.days[0].opening_run == opening
    assert {state.custody(s).holder for s in state.firearms} == {"locked"}
    assert state.open_holds() == [] and state.refusals == 0 and state.flags == {}
    assert all(state.runs[r].completed_at for r in (first, second, third, wrap))
    moves = [
        (e["data"]["serial"], e["data"]["holder"], e["data"]["name"])
        for e in world.audit(kind="custody-changed")
    ]
    assert moves == [
        ("COLT-1", "armorer", ARMORER[0]), ("GLOCK-2", "armorer", ARMORER[0]),
        ("COLT-1", "performer", ACTOR[0]), ("COLT-1", "armorer", ARMORER[0]),
        ("GLOCK-2", "performer", ACTOR2[0]), ("GLOCK-2", "armorer", ARMORER[0]),
        ("COLT-1", "performer", ACTOR3[0]), ("COLT-1", "armorer", ARMORER[0]),
        ("COLT-1", "locked", None), ("GLOCK-2", "locked", None),
    ]  # fmt: skip
    assert world.repo.journal.verify().ok
