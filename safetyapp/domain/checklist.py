"""Checklist models and parsing from YAML text (pure: no file IO).

A checklist is ordered layers of ordered steps. Each step names the role that signs it, the
roles that must witness it, what the signature attests, and the evidence to capture.

The models are frozen standard dataclasses whose field rules pydantic applies when a checklist
is read from a file or from the record (:func:`validate_checklist`). Both pydantic and YAML are
imported only then: a command or a screen that works on a checkpoint's state (the board, a
sign-off) never pays for them (~0.1 s of a start-up), and a checklist's text already validated
is rebuilt as it is (:meth:`Checklist.from_text`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from safetyapp.domain.evidence import EVIDENCE_TYPES, EvidenceKind, EvidenceType, kind_of
from safetyapp.domain.incidents import IncidentKind
from safetyapp.domain.roles import ROLES, Role

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema


@dataclass(frozen=True)
class Rules:
    """Constraints on one field, applied by pydantic when it validates a checklist (the keys of
    pydantic-core's schema for the field's type: ``pattern``, ``min_length``, ``gt``, ...)."""

    constraints: tuple[tuple[str, Any], ...]  # hashable: typing hashes Annotated metadata

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema: Any = dict(handler(source))
        schema.update(dict(self.constraints))
        return schema  # type: ignore[no-any-return]


def rules(**constraints: Any) -> Rules:
    return Rules(tuple(constraints.items()))


Slug = Annotated[str, rules(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
Text = Annotated[str, rules(strip_whitespace=True, min_length=1)]
# `meeting`: a safety meeting during an open day (the fresh one after a misfire or discharge).
Scope = Literal["prep", "opening", "meeting", "handoff", "wrap"]
# Evidence types (what each reads, expects and shows) are in `safetyapp.domain.evidence`.
CustodyAction = Literal["checkout", "to-performer", "to-armorer", "lock-up"]
# What pydantic is told of every model: no field it does not know.
_STRICT: dict[str, Any] = {"extra": "forbid"}


@dataclass(frozen=True, kw_only=True)
class Evidence:
    __pydantic_config__: ClassVar[dict[str, Any]] = _STRICT
    key: Slug
    label: Text
    type: EvidenceType
    expect: bool | int | str | None = None
    # What a value that contradicts `expect` does: fail the step (and hold), or pass it and
    # raise a flag a safety supervisor must acknowledge before any handoff.
    on_mismatch: Literal["fail", "flag"] = "fail"
    # A value that contradicts `expect` also records an incident of this kind (a kind that
    # holds, e.g. a live round, holds the whole day until its review is signed).
    incident: IncidentKind | None = None
    # The least value a count may have (e.g. a meeting has at least one person at it).
    min: Annotated[int, rules(ge=0)] | None = None
    # This count is rounds of that type loaded into the run's firearm: the rounds loaded in a
    # step are at most the firearm's chambers (or magazine capacity), and the state the armorer
    # calls must match them.
    loaded: Literal["dummy", "blank", "live"] | None = None
    # A failure of this evidence reopens the run from this (earlier) layer once its hold is
    # resolved, not only from the step's own layer (a bore obstruction cleared: the rounds
    # were unloaded, so the ammunition layer is done again).
    reopens: Slug | None = None

    @cached_property
    def kind(self) -> EvidenceKind:
        """What this evidence's type means: parsing, `expect`, display (see evidence.py)."""
        return kind_of(self.type)


@dataclass(frozen=True, kw_only=True)
class Step:
    __pydantic_config__: ClassVar[dict[str, Any]] = _STRICT
    id: Slug
    title: Text
    role: Role
    attests: Text  # what the signature means, in plain words
    prompt: str = ""
    witnesses: list[Role] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    na_allowed: bool = False
    valid_minutes: Annotated[int, rules(gt=0)] | None = None
    distinct_from: list[Slug] = field(default_factory=list)
    custody: CustodyAction | None = None
    # Passing this step reads out (acknowledges) every open incident of these kinds.
    acknowledges: list[IncidentKind] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Layer:
    __pydantic_config__: ClassVar[dict[str, Any]] = _STRICT
    id: Slug
    title: Text
    catches: Text  # which failure this layer is there to catch
    # The layer verifies ammunition: a custody break of the ammunition (out of the armorer's
    # sight, even with every firearm locked) makes it stale.
    ammunition: bool = False
    steps: Annotated[list[Step], rules(min_length=1)]


def _two_resolvers() -> list[Role]:
    return ["supervisor", "armorer"]


@dataclass(frozen=True, kw_only=True)
class Checklist:
    __pydantic_config__: ClassVar[dict[str, Any]] = _STRICT
    id: Slug
    title: Text
    version: Annotated[int, rules(gt=0)]
    scope: Scope
    description: str = ""
    hold_resolvers: Annotated[list[Role], rules(min_length=2)] = field(
        default_factory=_two_resolvers
    )
    layers: Annotated[list[Layer], rules(min_length=1)]

    @classmethod
    def from_text(cls, data: dict[str, Any]) -> Checklist:
        """A checklist built from its recorded text as it is, without validating it: for text
        that was validated when it was adopted (a checkpoint's, which the check against the
        record covers). Raises (KeyError, TypeError) on text of another shape."""
        checklist: Checklist = _built(cls, data)
        return checklist

    # Built once per (frozen) checklist: folding a long record looks steps up by id per event.
    @cached_property
    def _ordered(self) -> tuple[tuple[Layer, Step], ...]:
        return tuple((layer, step) for layer in self.layers for step in layer.steps)

    @cached_property
    def _by_id(self) -> dict[str, tuple[Layer, Step]]:
        return {step.id: (layer, step) for layer, step in self._ordered}

    def steps(self) -> list[tuple[Layer, Step]]:
        return list(self._ordered)

    def step(self, step_id: str) -> Step | None:
        found = self._by_id.get(step_id)
        return found[1] if found is not None else None

    def layer_of(self, step_id: str) -> Layer | None:
        found = self._by_id.get(step_id)
        return found[0] if found is not None else None

    def digest(self) -> str:
        """SHA-256 of the checklist's content: names exactly which version a run walked."""
        return self._digest

    @cached_property
    def _digest(self) -> str:  # a frozen model: computed once (replay starts many runs)
        return digest_of(self.text())

    def text(self) -> dict[str, Any]:
        """The checklist's content as plain JSON data (what the record holds)."""
        return asdict(self)


_NESTED: dict[str, type[Any]] = {"layers": Layer, "steps": Step, "evidence": Evidence}


def _built(cls: type[Any], data: dict[str, Any]) -> Any:
    if not isinstance(data, dict):
        raise TypeError(f"a {cls.__name__} is a mapping, not {type(data).__name__}")
    names = {f.name for f in fields(cls)}
    if not names.issuperset(data):
        raise TypeError(f"unknown fields for a {cls.__name__}: {sorted(set(data) - names)}")
    values = {
        key: [_built(_NESTED[key], item) for item in value] if key in _NESTED else value
        for key, value in data.items()
    }
    return cls(**values)


_ADAPTER: Any = None


def validate_checklist(data: Any) -> Checklist:
    """A checklist from plain data, every field rule applied (pydantic's ValidationError on
    any that does not hold). The cross-field rules are :func:`cross_check`'s."""
    global _ADAPTER
    if _ADAPTER is None:
        from pydantic import TypeAdapter  # imported here: see the module's docstring

        _ADAPTER = TypeAdapter(Checklist)
    checklist: Checklist = _ADAPTER.validate_python(data)
    return checklist


def digest_of(data: Any) -> str:
    """The digest of a checklist's recorded text (see :meth:`Checklist.digest`)."""
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    line: int | None = None  # the line of the file the field path leads to, when known

    def __str__(self) -> str:
        where = f"line {self.line}, {self.path}" if self.line is not None else self.path
        return f"{where}: {self.message}" if where else self.message


class ChecklistError(Exception):
    """A checklist that cannot be used; names the source, each field path and what to do."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {p}" for p in problems]
        super().__init__("\n".join(lines))


def parse_checklist(text: str, source: str) -> Checklist:
    """Parse and validate one checklist from YAML text; raise ChecklistError on any problem."""
    import yaml

    try:
        data = yaml.load(text, Loader=_loader())
    except yaml.YAMLError as exc:
        raise ChecklistError(source, [_yaml_problem(exc)]) from None
    except (ValueError, RecursionError) as exc:  # a date like 2019-99-99; nesting too deep
        msg = f"YAML cannot be read ({exc}); check dates are real (YYYY-MM-DD) and nesting is sane"
        raise ChecklistError(source, [Problem("", msg)]) from None
    try:
        return _validate(data, source)
    except RecursionError:
        raise ChecklistError(source, [Problem("", "the YAML is nested too deeply")]) from None
    except ChecklistError as exc:
        raise ChecklistError(source, _with_lines(text, exc.problems)) from None


def _loader() -> Any:
    """libyaml's safe loader where PyYAML was built with it (~7x faster); the pure-Python one
    otherwise. Both build plain data only."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def _with_lines(text: str, problems: list[Problem]) -> list[Problem]:
    """Each problem with the line of the file its field path leads to (the nearest node that
    exists: a missing field is placed at the mapping that lacks it)."""
    import yaml

    try:
        root = yaml.compose(text, Loader=_loader())
    except (yaml.YAMLError, ValueError, RecursionError):
        return problems
    return [
        Problem(p.path, p.message, _line_of(root, p.path)) if p.path and p.line is None else p
        for p in problems
    ]


def _line_of(node: Any, path: str) -> int | None:
    import yaml

    if node is None:
        return None
    for index, key in _PATH_PART.findall(path):
        child = None
        if index and isinstance(node, yaml.SequenceNode) and int(index) < len(node.value):
            child = node.value[int(index)]
        elif key and isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if child is not None and not isinstance(child, yaml.MappingNode | yaml.SequenceNode):
                found = next(k for k, v in node.value if v is child)
                return int(found.start_mark.line) + 1
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1


def _validate(data: Any, source: str) -> Checklist:
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        msg = f"the file is {kind}; a checklist is a mapping with id, title, version, scope, layers"
        raise ChecklistError(source, [Problem("", msg)])
    from pydantic import ValidationError

    try:
        checklist = validate_checklist(data)
    except ValidationError as exc:
        raise ChecklistError(source, [_pydantic_problem(e, data) for e in exc.errors()]) from None
    problems = cross_check(checklist)
    if problems:
        raise ChecklistError(source, problems)
    return checklist


def cross_check(checklist: Checklist) -> list[Problem]:
    """Rules across fields that pydantic cannot see one field at a time."""
    problems: list[Problem] = []
    seen_layers: set[str] = set()
    seen_steps: dict[str, str] = {}
    for li, layer in enumerate(checklist.layers):
        if layer.id in seen_layers:
            problems.append(Problem(f"layers[{li}].id", f"duplicate layer id '{layer.id}'"))
        seen_layers.add(layer.id)
        for si, step in enumerate(layer.steps):
            at = f"layers[{li}].steps[{si}]"
            if step.id in seen_steps:
                msg = f"duplicate step id '{step.id}' (also at {seen_steps[step.id]}); ids must be unique"
                problems.append(Problem(f"{at}.id", msg))
            seen_steps.setdefault(step.id, at)
            problems.extend(_step_problems(step, at))
    all_ids = {s.id for _, s in checklist.steps()}
    for li, layer in enumerate(checklist.layers):
        for si, step in enumerate(layer.steps):
            for ei, spec in enumerate(step.evidence):
                earlier = [lay.id for lay in checklist.layers[: li + 1]]
                if spec.reopens is not None and spec.reopens not in earlier:
                    msg = (
                        f"no layer '{spec.reopens}' at or before this step; use one of:"
                        f" {', '.join(earlier)}"
                    )
                    where = f"layers[{li}].steps[{si}].evidence[{ei}].reopens"
                    problems.append(Problem(where, msg))
            for ri, ref in enumerate(step.distinct_from):
                at = f"layers[{li}].steps[{si}].distinct_from[{ri}]"
                if ref == step.id:
                    problems.append(Problem(at, "a step cannot be distinct from itself"))
                elif ref not in all_ids:
                    msg = f"no step '{ref}' in this checklist; use one of: {', '.join(sorted(all_ids))}"
                    problems.append(Problem(at, msg))
    if len(set(checklist.hold_resolvers)) < 2:
        msg = "a hold is resolved by two different people: name two different roles"
        problems.append(Problem("hold_resolvers", msg))
    return problems


def _step_problems(step: Step, at: str) -> list[Problem]:
    problems: list[Problem] = []
    keys: set[str] = set()
    for ei, ev in enumerate(step.evidence):
        if ev.key in keys:
            problems.append(
                Problem(f"{at}.evidence[{ei}].key", f"duplicate evidence key '{ev.key}'")
            )
        keys.add(ev.key)
        if ev.expect is not None and not ev.kind.expect_fits(ev.expect):
            msg = f"expect {ev.expect!r} does not fit type {ev.type}"
            problems.append(Problem(f"{at}.evidence[{ei}].expect", msg))
        if (ev.min is not None or ev.loaded is not None) and not ev.kind.is_count:
            msg = "min and loaded are for counts (a whole-number type)"
            problems.append(Problem(f"{at}.evidence[{ei}]", msg))
    if step.custody in ("checkout", "lock-up") and not any(
        e.kind.names_firearms for e in step.evidence
    ):
        types = " or ".join(
            f"`type: {k.name}`" for k in EVIDENCE_TYPES.values() if k.names_firearms
        )
        msg = f"custody '{step.custody}' needs a {types} evidence naming the firearms"
        problems.append(Problem(f"{at}.custody", msg))
    if step.role in step.witnesses:
        msg = f"'{step.role}' signs this step, so cannot also be a witness role (a witness is never the signer)"
        problems.append(Problem(f"{at}.witnesses", msg))
    return problems


def _yaml_problem(exc: Any) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    what = " ".join(str(getattr(exc, "problem", None) or exc).split())  # one line
    return Problem(where, f"YAML syntax error: {what}; fix the indentation or quoting there")


def _loc_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        name = part if isinstance(part, int) or part.isprintable() else repr(part)  # one line
        out += f"[{name}]" if isinstance(part, int) else (f".{name}" if out else str(name))
    return out


def _pydantic_problem(err: Any, data: dict[str, Any]) -> Problem:
    loc = tuple(p for p in err["loc"] if not str(p).startswith("function-"))
    path = _loc_path(loc)
    kind = err["type"]
    got = err.get("input")
    if kind == "missing":
        return Problem(path, f"required field is missing; add `{loc[-1]}:`")
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return Problem(path, "unknown field; check its spelling against the checklist format")
    if kind == "literal_error" and _is_role_loc(loc):
        role = f"'{got}'" if isinstance(got, str) and got.isprintable() else repr(got)  # one line
        return Problem(path, f"{role} is not a role; use one of: {', '.join(ROLES)}")
    if kind == "string_pattern_mismatch":
        shown_id = f"'{got}'" if isinstance(got, str) and got.isprintable() else repr(got)
        msg = f"{shown_id} is not a valid id; use lower-case letters, digits and '-' only"
        return Problem(path, msg)
    shown = repr(got)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return Problem(path, f"{err['msg']} (got {shown})")


def _is_role_loc(loc: tuple[int | str, ...]) -> bool:
    names = [p for p in loc if isinstance(p, str)]
    return bool(names) and names[-1] in ("role", "witnesses", "hold_resolvers")
