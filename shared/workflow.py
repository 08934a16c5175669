"""A small workflow engine whose workflows are data.

A workflow is a set of states (each with a citizen-facing label, the desk that holds the file and an
SLA in working days) and actions (which roles may move a file from which states to which state, and
which payload fields they must fill in). Services ship a default `WorkflowDef` that follows national
rules; a regency may replace it in its TOML configuration, so everything here is validated data,
not code.

This module only decides: `transition` says whether an action is allowed and which one it is, and
`stage_spans`/`due_at` compute how long each stage took against its SLA. The one database helper,
`record_transition`, writes a step's history row and its audit event into the service's own
tables, in the caller's transaction (it never commits).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import AuditEventMixin, record_event
from shared.auth import Principal
from shared.problems import AppError, ConflictError, ForbiddenError, UnprocessableError

__all__ = [
    "ActionDef",
    "ActionForbiddenError",
    "InvalidTransitionError",
    "MissingFieldsError",
    "StageSpan",
    "StateDef",
    "UnknownActionError",
    "WorkflowDef",
    "WorkflowError",
    "WorkingDayCalendar",
    "due_at",
    "record_transition",
    "stage_spans",
    "transition",
    "workflow_from_toml_dict",
    "workflow_to_dict",
]

# State and action names end up in database columns, URLs and audit events, so they are kept to a
# plain slug alphabet; labels carry the Bahasa Indonesia wording.
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Role = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


class WorkflowError(AppError):
    """Base of the errors `transition` raises; each carries what an RFC 9457 problem needs.

    `status`, `title` and `type` (the slug, also readable as `slug`) come from the `AppError`
    family, `detail` is the human-readable sentence and `extensions` the machine-readable facts.
    """

    title = "Workflow error"
    type = "workflow-error"

    @property
    def slug(self) -> str:
        return self.type


class UnknownActionError(WorkflowError, UnprocessableError):
    """The action name is not part of the workflow (422)."""

    title = "Unknown action"
    type = "unknown-action"

    def __init__(self, action: str, *, workflow: str) -> None:
        super().__init__(
            f"Workflow '{workflow}' has no action '{action}'.", action=action, workflow=workflow
        )
        self.action = action


class InvalidTransitionError(WorkflowError, ConflictError):
    """The action exists but cannot be taken from the file's current state (409)."""

    title = "Action not allowed in this state"
    type = "invalid-transition"

    def __init__(self, *, state: str, action: str, allowed_actions: Sequence[str]) -> None:
        allowed = ", ".join(allowed_actions) if allowed_actions else "none"
        super().__init__(
            f"Action '{action}' cannot be taken while the file is in state '{state}'. "
            f"Actions open to you in this state: {allowed}.",
            state=state,
            action=action,
            allowed_actions=list(allowed_actions),
        )
        self.state = state
        self.action = action
        self.allowed_actions = list(allowed_actions)


class ActionForbiddenError(WorkflowError, ForbiddenError):
    """None of the caller's roles may take the action (403)."""

    title = "Action not permitted for your role"
    type = "action-forbidden"

    def __init__(self, *, action: str, required_roles: Sequence[str]) -> None:
        super().__init__(
            f"Action '{action}' requires one of the roles: {', '.join(required_roles)}.",
            action=action,
            required_roles=list(required_roles),
        )
        self.action = action
        self.required_roles = list(required_roles)


class MissingFieldsError(WorkflowError, UnprocessableError):
    """The action requires payload fields that are absent or empty (422).

    The `errors` extension has the same `[{loc, msg, type}]` shape as request validation errors, so
    a form can mark the fields the same way.
    """

    title = "Required fields missing"
    type = "missing-fields"

    def __init__(self, *, action: str, fields: Sequence[str]) -> None:
        super().__init__(
            f"Action '{action}' requires: {', '.join(fields)}.",
            action=action,
            fields=list(fields),
            errors=[
                {"loc": ["body", field], "msg": "Field required", "type": "missing"}
                for field in fields
            ],
        )
        self.action = action
        self.fields = list(fields)


# --------------------------------------------------------------------------------------------------
# Definitions
# --------------------------------------------------------------------------------------------------


class StateDef(BaseModel):
    """A state a file can be in."""

    # extra="forbid": a misspelt key in a regency's TOML must stop start-up, not be ignored.
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Name
    label: Label
    holder: Role | None = None
    sla_working_days: int | None = Field(default=None, ge=0)
    final: bool = False

    @model_validator(mode="after")
    def _final_states_have_no_clock(self) -> StateDef:
        if self.final and self.sla_working_days is not None:
            raise ValueError(f"final state '{self.name}' cannot have an SLA")
        return self


class ActionDef(BaseModel):
    """An action that moves a file from one of `from_states` to `to_state`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Name
    label: Label
    from_states: list[Name] = Field(min_length=1)
    to_state: Name
    roles: list[Role] = Field(min_length=1)
    required_fields: list[Annotated[str, StringConstraints(min_length=1)]] = []


class WorkflowDef(BaseModel):
    """A complete workflow, checked for internal consistency when it is built.

    Accepts `states` and `actions` either as lists of tables (each with a `name`) or, which reads
    better in TOML, as tables keyed by name (`[states.submitted]`, `[actions.approve]`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Name
    initial_state: Name
    states: list[StateDef] = Field(min_length=1)
    actions: list[ActionDef]

    @model_validator(mode="before")
    @classmethod
    def _accept_tables_keyed_by_name(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        for key in ("states", "actions"):
            items = data.get(key)
            if isinstance(items, Mapping):
                data[key] = [_with_name(name, item) for name, item in items.items()]
        return data

    @model_validator(mode="after")
    def _check_consistency(self) -> WorkflowDef:
        problems: list[str] = []
        state_names = [s.name for s in self.states]
        action_names = [a.name for a in self.actions]
        problems += [f"state '{n}' is defined more than once" for n in _duplicates(state_names)]
        problems += [f"action '{n}' is defined more than once" for n in _duplicates(action_names)]

        known = set(state_names)
        final = {s.name for s in self.states if s.final}
        if self.initial_state not in known:
            problems.append(f"initial_state '{self.initial_state}' is not a defined state")
        elif self.initial_state in final:
            problems.append(f"initial_state '{self.initial_state}' cannot be final")

        leaving: set[str] = set()
        for action in self.actions:
            for state in action.from_states:
                if state not in known:
                    problems.append(f"action '{action.name}' starts from unknown state '{state}'")
                elif state in final:
                    problems.append(f"action '{action.name}' leaves final state '{state}'")
                leaving.add(state)
            if action.to_state not in known:
                problems.append(
                    f"action '{action.name}' leads to unknown state '{action.to_state}'"
                )

        # A non-final state nobody can leave would trap every file that reaches it.
        problems += [
            f"state '{s.name}' is not final but no action leaves it"
            for s in self.states
            if not s.final and s.name not in leaving
        ]
        if problems:
            raise ValueError(f"workflow '{self.name}': " + "; ".join(problems))
        return self

    # Lookups are linear scans: a workflow has a dozen states, and scans cannot go stale the way a
    # cached index would after `model_copy(update=...)`.

    def state(self, name: str) -> StateDef:
        """The state called `name`; `KeyError` if the workflow has none (e.g. it was replaced)."""
        for state in self.states:
            if state.name == name:
                return state
        raise KeyError(f"workflow '{self.name}' has no state '{name}'")

    def action(self, name: str) -> ActionDef:
        """The action called `name`; `UnknownActionError` (a 422 problem) if there is none."""
        for action in self.actions:
            if action.name == name:
                return action
        raise UnknownActionError(name, workflow=self.name)

    def available_actions(self, state: str, roles: Collection[str]) -> list[ActionDef]:
        """Actions a caller holding `roles` may take from `state`, in definition order."""
        return [
            action
            for action in self.actions
            if state in action.from_states and not set(action.roles).isdisjoint(roles)
        ]


def _with_name(name: object, item: Any) -> Any:
    if not isinstance(item, Mapping):
        return item  # let field validation report the wrong type
    if "name" in item and item["name"] != name:
        raise ValueError(f"table '{name}' declares a different name '{item['name']}'")
    return {**item, "name": name}


def _duplicates(names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    dupes: list[str] = []
    for name in names:
        if name in seen and name not in dupes:
            dupes.append(name)
        seen.add(name)
    return dupes


def workflow_from_toml_dict(data: Mapping[str, Any]) -> WorkflowDef:
    """Build a workflow from a parsed TOML table; pydantic's `ValidationError` names a bad field."""
    return WorkflowDef.model_validate(data)


def workflow_to_dict(workflow: WorkflowDef) -> dict[str, Any]:
    """The workflow as plain data that `workflow_from_toml_dict` reads back.

    `None` values are left out because TOML has no null: an absent `holder` or `sla_working_days`
    reads back as `None`.
    """
    return workflow.model_dump(mode="json", exclude_none=True)


# --------------------------------------------------------------------------------------------------
# Transitions
# --------------------------------------------------------------------------------------------------


def transition(
    workflow: WorkflowDef,
    *,
    current_state: str,
    action: str,
    roles: Collection[str],
    payload: Mapping[str, Any],
) -> ActionDef:
    """Check that a caller with `roles` may take `action` on a file in `current_state`.

    Returns the action (its `to_state` is the new state). The checks run from the most general to
    the most specific, so the error names the first thing wrong: unknown action (422), wrong state
    (409), no allowed role (403), missing or empty required payload fields (422).
    """
    definition = workflow.action(action)
    if current_state not in definition.from_states:
        raise InvalidTransitionError(
            state=current_state,
            action=action,
            allowed_actions=[a.name for a in workflow.available_actions(current_state, roles)],
        )
    if set(definition.roles).isdisjoint(roles):
        raise ActionForbiddenError(action=action, required_roles=definition.roles)
    missing = [field for field in definition.required_fields if _is_empty(payload.get(field))]
    if missing:
        raise MissingFieldsError(action=action, fields=missing)
    return definition


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        # A note of only spaces is no note.
        return not value.strip()
    if isinstance(value, Collection):
        return len(value) == 0
    return False


# --------------------------------------------------------------------------------------------------
# Stage timing
# --------------------------------------------------------------------------------------------------


class WorkingDayCalendar(Protocol):
    """What stage timing needs from a working-day calendar (`shared.calendar.WorkingCalendar`).

    `elapsed_working_days` counts the working days in the half-open range of local dates
    `[local_date(start), local_date(end))`: the day a file arrives counts if it is a working day,
    the current day does not. `add_working_days(d, n)` is the n-th working day after `d`.
    """

    def elapsed_working_days(self, start: datetime, end: datetime, /) -> int: ...

    def local_date(self, moment: datetime, /) -> date: ...

    def add_working_days(self, start: date, n: int, /) -> date: ...


@dataclass(frozen=True, slots=True)
class StageSpan:
    """One stay of a file in one state, measured in working days against the state's SLA.

    `left_at` is `None` for the stage the file is in now; its `working_days` are counted to `now`.
    `label` is the state's label, `None` if the workflow no longer knows the state.
    """

    state: str
    entered_at: datetime
    left_at: datetime | None
    working_days: int
    sla_working_days: int | None
    overdue: bool
    holder: str | None
    label: str | None = None


def stage_spans(
    workflow: WorkflowDef,
    history: Sequence[tuple[str, datetime]],
    *,
    now: datetime,
    calendar: WorkingDayCalendar,
) -> list[StageSpan]:
    """How long the file stayed in each state, given `history` as ordered `(state, entered_at)`.

    A final state stops the clock: it counts zero working days and is never overdue. A state the
    workflow no longer defines (the regency replaced it while files were open) is reported without
    holder or SLA rather than failing, so old files stay readable.
    """
    known = {s.name: s for s in workflow.states}
    spans: list[StageSpan] = []
    for index, (state_name, entered_at) in enumerate(history):
        left_at = history[index + 1][1] if index + 1 < len(history) else None
        if left_at is not None and left_at < entered_at:
            raise ValueError(
                f"history is not in chronological order at position {index + 1} ({state_name})"
            )
        state = known.get(state_name)
        if state is not None and state.final:
            working_days = 0
        else:
            end = left_at if left_at is not None else now
            # Clock skew between replicas can put `now` a moment before the last entry.
            working_days = max(0, calendar.elapsed_working_days(entered_at, end))
        sla = state.sla_working_days if state is not None else None
        spans.append(
            StageSpan(
                state=state_name,
                entered_at=entered_at,
                left_at=left_at,
                working_days=working_days,
                sla_working_days=sla,
                overdue=sla is not None and working_days > sla,
                holder=state.holder if state is not None else None,
                label=state.label if state is not None else None,
            )
        )
    return spans


def due_at(
    workflow: WorkflowDef, state: str, entered_at: datetime, calendar: WorkingDayCalendar
) -> date | None:
    """The last local date on which a file that entered `state` at `entered_at` is on time.

    It agrees with `StageSpan.overdue`: on this date the stage has used at most its SLA, and from
    the next day on it is overdue. With the calendar's counting (the arrival day counts when it is
    a working day) that is the (SLA + 1)-th working day on or after the arrival date. `None` when
    the state has no SLA or the workflow no longer defines it.
    """
    definition = next((s for s in workflow.states if s.name == state), None)
    if definition is None or definition.sla_working_days is None:
        return None
    day_before = calendar.local_date(entered_at) - timedelta(days=1)
    return calendar.add_working_days(day_before, definition.sla_working_days + 1)


# --------------------------------------------------------------------------------------------------
# Recording a step
# --------------------------------------------------------------------------------------------------


async def record_transition(
    session: AsyncSession,
    history: Any,
    audit_model: type[AuditEventMixin],
    *,
    entity_type: str,
    entity_id: int,
    action: str,
    from_state: str | None,
    to_state: str,
    actor: Principal | None,
    occurred_at: datetime,
    note: str | None = None,
    details: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    entity_column: str | None = None,
    role: str | None = None,
    before: dict[str, Any] | None = None,
    row: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """One step of a file, in the caller's transaction: its history row and its audit event
    `<entity_type>.<action>`, one INSERT each.

    The history row is, by default, the entity's id in `entity_column` (`<entity_type>_id` unless
    given) and `action`, `from_state`, `to_state`, `actor`, `actor_role`, `note`, `details`,
    `occurred_at`; a service whose history table says more (or names its columns otherwise) passes
    `row`, which builds its row from those default columns. The audit event's before is the old
    state (or `before`), its after the new state and `after`. `role` is the role the actor acted
    in (default: their primary role). A step without an actor (a deadline, a task) is the
    system's."""
    name = actor.username if actor is not None else "system"
    acting_role = role or (actor.primary_role if actor is not None else "system")
    columns: dict[str, Any] = {
        entity_column or f"{entity_type}_id": entity_id,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "actor": name,
        "actor_role": acting_role,
        "note": note,
        "details": details,
        "occurred_at": occurred_at,
    }
    await session.execute(insert(history).values(row(columns) if row else columns))
    await record_event(
        session,
        audit_model,
        actor=actor,
        role=role,
        action=f"{entity_type}.{action}",
        entity_type=entity_type,
        entity_id=entity_id,
        before=before if before is not None else {"status": from_state} if from_state else None,
        after={"status": to_state, **(after or {})},
        occurred_at=occurred_at,
    )
