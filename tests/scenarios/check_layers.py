"""Remove one layer at a time (from a checklist or the engine) and check its scenario fails.

Run by hand from a clean checkout: `python tests/scenarios/check_layers.py [WORD...]` (only
the mutations whose description or test names a WORD, when given). It edits the
source files in place one at a time and restores each before the next (so do not run it on
uncommitted work). Not collected by pytest. Exit 0 when every removal is caught.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = "safetyapp/domain/engine"
COMMON = f"{ENGINE}/common.py"
RUNS = f"{ENGINE}/runs.py"
JUDGING = f"{ENGINE}/judging.py"
EVIDENCE = "safetyapp/domain/evidence.py"
HOLDS = f"{ENGINE}/holds.py"
SETUP = f"{ENGINE}/setup.py"
QUALS = "safetyapp/domain/qualifications.py"
MUTATIONS = [
    # (test, file, old, new, what is removed)
    (
        "test_bulletin_adopted_on_paper_but_never_practised",
        RUNS,
        '    if scope in ("handoff", "wrap", "meeting") and state.day is None:',
        "    if False:",
        "engine: no handoff without an opened day",
    ),
    (
        "test_ammunition_from_several_sources_loose_dummies_and_live_rounds",
        "checklists/opening.yaml",
        "          - {key: unidentified-rounds, label: Unidentified rounds found, type: int, expect: 0,\n             incident: live-round}",
        "          - {key: unidentified-rounds, label: Unidentified rounds found, type: int}",
        "checklist: opening unidentified-rounds expect 0",
    ),
    (
        "test_ammunition_from_several_sources_loose_dummies_and_live_rounds",
        EVIDENCE,
        "            if lot not in lots:",
        "            if False:",
        "evidence: lot counts only for declared lots",
    ),
    (
        "test_a_live_round_was_in_the_revolver",
        "checklists/handoff.yaml",
        "          - {key: live-rounds, label: Live rounds, type: int, expect: 0, loaded: live,\n             incident: live-round}",
        "          - {key: live-rounds, label: Live rounds, type: int, loaded: live}",
        "checklist: handoff live-rounds expect 0",
    ),
    (
        "test_ammunition_left_on_an_open_cart_over_lunch_and_no_recheck_after",
        RUNS,
        "        if mark is not None and done.seq < mark.seq:",
        "        if False:",
        "engine: custody-based staleness",
    ),
    (
        "test_called_cold_after_the_ad_saw_only_some_chambers",
        "checklists/handoff.yaml",
        "          - {key: chambers-seen, label: Chambers the AD saw, type: int, expect: firearm.chambers}",
        "          - {key: chambers-seen, label: Chambers the AD saw, type: int}",
        "checklist: AD chambers-seen expect",
    ),
    (
        "test_called_cold_after_the_ad_saw_only_some_chambers",
        RUNS,
        "    if nxt is None or nxt.id != step.id:",
        "    if False:",
        "engine: order",
    ),
    (
        "test_the_ad_not_the_armorer_handed_the_gun_over",
        RUNS,
        "    if step.role not in member.roles:",
        "    if False:",
        "engine: role",
    ),
    (
        "test_the_ad_not_the_armorer_handed_the_gun_over",
        RUNS,
        "        _check_with_armorer(state, firearm)\n",
        "\n",
        "engine: handoff start needs armorer custody",
    ),
    (
        "test_the_ad_not_the_armorer_handed_the_gun_over",
        "checklists/handoff.yaml",
        "        custody: to-performer\n",
        "",
        "checklist: hand-over custody",
    ),
    (
        "test_the_armorer_was_stretched_across_two_jobs",
        "checklists/opening.yaml",
        "type: bool, expect: false,\n             on_mismatch: flag}",
        "type: bool}",
        "checklist: other-duties flag",
    ),
    (
        "test_the_armorer_was_stretched_across_two_jobs",
        RUNS,
        "        _check_no_open_flag(state)\n        for run in",
        "        for run in",
        "engine: open flag blocks handoff start",
    ),
    (
        "test_the_same_person_checked_and_vouched",
        RUNS,
        "        if before is not None and before != role:",
        "        if False:",
        "engine: one role per person per run",
    ),
    (
        "test_the_same_person_checked_and_vouched",
        RUNS,
        "        if before is not None and before != role:",
        "        if False:",
        "engine: roles-per-run + checklist distinct_from",
        [("checklists/handoff.yaml", "        distinct_from: [inspect, rounds-loaded]\n", "")],
    ),
    (
        "test_the_performer_relied_on_others_word",
        "checklists/handoff.yaml",
        "          - {key: witnessed-show-clear, label: I witnessed the show-clear, type: bool, expect: true}",
        "          - {key: witnessed-show-clear, label: I witnessed the show-clear, type: bool}",
        "checklist: performer check expect",
    ),
    (
        "test_the_performer_relied_on_others_word",
        RUNS,
        '            if role == "actor" and name != run.performer:',
        "            if False:",
        "engine: the named performer signs",
    ),
    (
        "test_earlier_misfires_and_discharges_not_acted_on",
        "safetyapp/domain/incidents.py",
        '    "unintended-discharge",\n    "misfire",\n    "injury",\n    "safety-concern",\n',
        '    "injury",\n    "safety-concern",\n',
        "engine: discharges/misfires hold the day",
    ),
    (
        "test_a_safety_concern_said_super_unsafe_and_the_camera_crew_walked_off",
        "safetyapp/domain/incidents.py",
        '    "injury",\n    "safety-concern",\n    "missing",\n    "live-round",\n)',
        '    "injury",\n    "missing",\n    "live-round",\n)',
        "engine: safety concern holds",
    ),
    (
        "test_a_safety_concern_said_super_unsafe_and_the_camera_crew_walked_off",
        "checklists/opening.yaml",
        "        acknowledges: [near-miss, safety-concern, misfire, unintended-discharge, injury, missing,\n                       live-round]\n",
        "",
        "checklist: meeting reads out incidents",
    ),
    (
        "test_safety_meetings_were_not_held_daily",
        "checklists/opening.yaml",
        "          - {key: concerns-read, label: Open near misses and concerns read out, type: bool, expect: true}",
        "          - {key: concerns-read, label: Open near misses and concerns read out, type: bool}",
        "checklist: meeting evidence",
    ),
    (
        "test_safety_meetings_were_not_held_daily",
        RUNS,
        '    if scope in ("handoff", "wrap", "meeting") and state.day is None:',
        "    if False:",
        "engine: day opening prerequisite",
    ),
    (
        "test_the_armorer_was_away_on_props_work_when_the_rehearsal_began",
        COMMON,
        "    if not check_pin(cred.pin, stored):",
        "    if False:",
        "engine: PIN in person",
    ),
    (
        "test_the_armorer_was_away_on_props_work_when_the_rehearsal_began",
        COMMON,
        "        if armorer is not None and custody.name != armorer:",
        "        if False:",
        "engine: only the holding armorer hands over",
    ),
    (
        "test_not_applicable_needs_its_reason_on_the_record",
        JUDGING,
        "        if not na_reason.strip():",
        "        if False:",
        "engine: n/a needs a reason",
    ),
    (
        "test_schedule_and_budget_pressure_no_override_without_a_reason",
        HOLDS,
        "        if not action.strip():",
        "        if False:",
        "engine: resolution needs an action",
    ),
    (
        "test_the_firearm_was_pointed_toward_the_camera_crew_during_a_rehearsal",
        "checklists/handoff.yaml",
        "          - {key: line-of-fire-clear, label: Nobody in the line of fire, type: bool, expect: true}",
        "          - {key: line-of-fire-clear, label: Nobody in the line of fire, type: bool}",
        "checklist: line of fire",
    ),
    (
        "test_full_day_two_firearms_three_performers",
        "checklists/wrap.yaml",
        "        custody: lock-up\n",
        "",
        "checklist: wrap lock-up custody",
    ),
    # Issue 15 (the practice, round 2): each rule removed, its scenario fails.
    (
        "test_a_live_round_found_at_a_handoff_holds_every_firearm_for_the_day",
        JUDGING,
        "            if spec.incident in HOLDING_KINDS:",
        "            if False:",
        "engine: a live round holds the day",
    ),
    (
        "test_a_declared_lot_left_out_of_the_ammunition_check_fails",
        EVIDENCE,
        "            if lot not in got and want > 0:",
        "            if False:",
        "evidence: every declared lot counted",
    ),
    (
        "test_a_count_that_differs_from_the_declared_count_fails_and_holds",
        EVIDENCE,
        "            elif lot in got and got[lot] != want:",
        "            elif False:",
        "evidence: counted as on hand",
    ),
    (
        "test_every_dummy_out_is_checked_inert",
        "checklists/opening.yaml",
        "type: int,\n             expect: ammo.dummies}",
        "type: int}",
        "checklist: every dummy checked",
    ),
    (
        "test_a_lot_needs_its_source",
        f"{ENGINE}/setup.py",
        "        if not source.strip():",
        "        if False:",
        "engine: a lot needs a source",
    ),
    (
        "test_a_lot_added_mid_day_joins_the_days_reconciliation",
        "safetyapp/domain/state.py",
        "            if declared.lot not in morning and declared.added_at >= opening.started_at:",
        "            if False:",
        "fold: mid-day lots in the tally",
    ),
    (
        "test_more_rounds_loaded_than_the_firearm_has_chambers_fails",
        JUDGING,
        "    if total <= capacity:",
        "    if True:",
        "engine: loads within capacity",
    ),
    (
        "test_more_rounds_expended_than_loaded_fails",
        EVIDENCE,
        "            if n > loaded.get(kind, 0)",
        "            if False",
        "evidence: expended <= loaded",
    ),
    (
        "test_a_blank_firing_firearm_needs_its_chambers",
        f"{ENGINE}/setup.py",
        "        if chambers is None and kind in KINDS_WITH_CHAMBERS:",
        "        if False:",
        "engine: chambers required",
    ),
    (
        "test_cold_called_with_six_blanks_loaded_fails",
        EVIDENCE,
        "        if want is None or dict(value or {}) == want:",
        "        if True:",
        "evidence: state called matches the loads",
    ),
    (
        "test_blanks_need_the_safe_distance_or_a_risk_assessed_reason",
        EVIDENCE,
        '        if value["feet"] < need and not value.get("reason"):',
        "        if False:",
        "evidence: safe distance for blanks",
    ),
    (
        "test_a_swapped_firearm_fails_the_inspection",
        EVIDENCE,
        "            if list(value or []) == want:",
        "            if True:",
        "evidence: serial in hand",
    ),
    (
        "test_a_repeated_evidence_key_is_refused_by_the_engine",
        JUDGING,
        "        if key in out:",
        "        if False:",
        "engine: a key given twice",
    ),
    (
        "test_no_handoff_on_a_later_local_day_without_its_safety_meeting",
        RUNS,
        "    if opened != today:",
        "    if False:",
        "engine: a meeting per local day",
    ),
    (
        "test_after_a_misfire_review_firearms_resume_only_after_a_fresh_meeting",
        RUNS,
        "        if incident.kind in MEETING_AFTER_KINDS and reviewed > last:",
        "        if False:",
        "engine: fresh meeting after a misfire",
    ),
    (
        "test_ammunition_out_of_sight_makes_the_ammunition_layer_stale",
        RUNS,
        "        if layer.ammunition and ammo_mark is not None and done.seq < ammo_mark.seq:",
        "        if False:",
        "engine: ammunition break stales its layer",
    ),
    (
        "test_after_a_bore_obstruction_is_cleared_the_ammunition_layer_reopens",
        "checklists/handoff.yaml",
        ",\n             reopens: setup-ammunition}",
        "}",
        "checklist: bore obstruction reopens ammunition",
    ),
    (
        "test_an_armorer_without_a_licence_in_date_cannot_sign_armorer_steps",
        RUNS,
        "    if armorer_step and (why := licence_problem(member, day)):",
        "    if False:",
        "quals: armorer steps need a licence",
    ),
    (
        "test_an_armorer_without_a_licence_in_date_cannot_sign_armorer_steps",
        QUALS,
        "        if date.fromisoformat(licence.expires) >= day:",
        "        if True:",
        "quals: an expired licence is not in date",
    ),
    (
        "test_an_armorer_without_a_licence_in_date_cannot_sign_armorer_steps",
        SETUP,
        '    supervisor = _supervisor(state, by, now, f"enters {what}")',
        "    supervisor = _authenticate(state, by, now).name",
        "quals: only a safety supervisor enters qualifications",
    ),
    (
        "test_taking_the_gun_back_is_never_blocked_by_a_lapsed_licence",
        RUNS,
        '    armorer_step = step.role == "armorer" and step.custody != "to-armorer"',
        '    armorer_step = step.role == "armorer"',
        "quals: the return step is exempt",
    ),
    (
        "test_a_performer_without_recorded_training_cannot_receive_a_firearm",
        RUNS,
        "    if receives and performer is not None and (why := training_problem(performer, day)):",
        "    if False:",
        "quals: a performer needs training to receive",
    ),
    (
        "test_the_safety_advisor_is_never_the_supervisor",
        "safetyapp/domain/roles.py",
        "        if a in roles and b in roles:",
        "        if False:",
        "roles: advisor never the supervisor",
    ),
    (
        "test_a_misfire_review_needs_the_supervisor_the_armorer_and_the_first_ad",
        HOLDS,
        "    if incident is not None and incident.kind in MEETING_AFTER_KINDS:",
        "    if False:",
        "roles: misfire review includes the 1st AD",
    ),
    (
        "test_no_opening_before_the_pre_production_gate_is_complete",
        RUNS,
        "        if not gate.complete:",
        "        if False:",
        "gate: no opening before the gate",
    ),
    (
        "test_a_gate_signed_yes_while_the_record_lacks_a_licence_or_training_fails_naming_them",
        EVIDENCE,
        "            if value is True and lacking:",
        "            if False:",
        "gate: licences and training checked against the record",
    ),
    (
        "test_the_gate_is_redone_when_the_plan_changes",
        "safetyapp/domain/state.py",
        "            if kind not in done.kinds",
        "            if False",
        "gate: redone for a new kind of firearm",
    ),
    (
        "test_the_gate_is_redone_when_the_plan_changes",
        "safetyapp/domain/state.py",
        "if name not in done.armorers",
        "if False",
        "gate: redone for a new armorer",
    ),
]

ok = True
wanted = sys.argv[1:]
for test, rel, old, new, what, *more in MUTATIONS:
    if wanted and not any(w in what or w in test for w in wanted):
        continue
    edits = [(rel, old, new), *(more[0] if more else [])]
    originals = {}
    for rel2, old2, new2 in edits:
        path = ROOT / rel2
        originals.setdefault(path, path.read_text())
        text = path.read_text()
        assert text.count(old2) >= 1, (what, old2)
        path.write_text(text.replace(old2, new2, 1))
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-x",
                "-p",
                "no:cacheprovider",
                "tests/scenarios",
                "-k",
                test,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    finally:
        for path, original in originals.items():
            path.write_text(original)
    caught = proc.returncode != 0 and "failed" in proc.stdout.splitlines()[-1]
    ok &= caught
    print(
        f"{'CAUGHT' if caught else 'MISSED'}  {what:<50} -> {test}  [{proc.stdout.splitlines()[-1]}]"
    )
sys.exit(0 if ok else 1)
