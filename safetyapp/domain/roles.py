"""Crew roles, in the domain's own words."""

from typing import Literal, get_args

Role = Literal["armorer", "ad", "actor", "supervisor"]
ROLES: tuple[str, ...] = get_args(Role)

ROLE_TITLES: dict[str, str] = {
    "armorer": "Armorer",
    "ad": "1st AD",
    "actor": "Performer",
    "supervisor": "Safety supervisor",
}
