"""Crew roles, in the domain's own words."""

from typing import Literal, get_args

# `advisor`: the safety advisor SB 132 names, never the same person as the safety supervisor.
# `crew`: anyone on set with no firearms role (camera, grip, stunts): they raise holds and
# concerns, report near misses, and appear on attendance and training lists; they sign no step.
Role = Literal["armorer", "ad", "actor", "supervisor", "advisor", "crew"]
ROLES: tuple[str, ...] = get_args(Role)

ROLE_TITLES: dict[str, str] = {
    "armorer": "Armorer",
    "ad": "1st AD",
    "actor": "Performer",
    "supervisor": "Safety supervisor",
    "advisor": "Safety advisor",
    "crew": "Crew",
}

# Roles never held by one person together: the safety advisor advises the supervisor.
EXCLUSIVE_ROLES: tuple[tuple[str, str], ...] = (("supervisor", "advisor"),)

# Who reviews a misfire, an unintended discharge or a live round before work resumes: the
# safety supervisor, the armorer and the 1st AD (UK practice: the 1st AD is consulted).
REVIEW_ROLES: tuple[str, ...] = ("supervisor", "armorer", "ad")

# Roles whose holders handle or are near firearms: on the training list the gate checks.
FIREARMS_ROLES: tuple[str, ...] = ("armorer", "ad", "actor")


def exclusive_problem(roles: list[str]) -> str | None:
    """Why these roles cannot be one person's, or None."""
    for a, b in EXCLUSIVE_ROLES:
        if a in roles and b in roles:
            return (
                f"the {ROLE_TITLES[b]} is never the same person as the {ROLE_TITLES[a]}:"
                " crew another person"
            )
    return None
