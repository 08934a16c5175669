"""The workflow engine: validated definitions, checked transitions, timed stages."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from shared.problems import AppError, ConflictError, ForbiddenError, UnprocessableError
from shared.workflow import (
    ActionForbiddenError,
    InvalidTransitionError,
    MissingFieldsError,
    StageSpan,
    UnknownActionError,
    WorkflowDef,
    WorkflowError,
    due_at,
    stage_spans,
    transition,
    workflow_from_toml_dict,
    workflow_to_dict,
)

PERMIT_TOML = """
name = "izin"
initial_state = "diajukan"

[states.diajukan]
label = "Diajukan"
holder = "clerk"
sla_working_days = 2

[states.verifikasi]
label = "Verifikasi teknis"
holder = "verifier"
sla_working_days = 5

[states.perbaikan]
label = "Menunggu perbaikan pemohon"
holder = "applicant"

[states.terbit]
label = "Izin terbit"
final = true

[states.ditolak]
label = "Ditolak"
final = true

[actions.terima]
label = "Terima berkas"
from_states = ["diajukan"]
to_state = "verifikasi"
roles = ["clerk"]

[actions.kembalikan]
label = "Kembalikan untuk perbaikan"
from_states = ["diajukan", "verifikasi"]
to_state = "perbaikan"
roles = ["clerk", "verifier"]
required_fields = ["note"]

[actions.ajukan_ulang]
label = "Ajukan ulang"
from_states = ["perbaikan"]
to_state = "diajukan"
roles = ["applicant"]

[actions.setujui]
label = "Setujui"
from_states = ["verifikasi"]
to_state = "terbit"
roles = ["head"]
required_fields = ["decree_number"]

[actions.tolak]
label = "Tolak"
from_states = ["diajukan", "verifikasi"]
to_state = "ditolak"
roles = ["head"]
required_fields = ["reason"]
"""


@pytest.fixture
def workflow() -> WorkflowDef:
    return workflow_from_toml_dict(tomllib.loads(PERMIT_TOML))


def _definition(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "mini",
        "initial_state": "open",
        "states": [
            {"name": "open", "label": "Terbuka", "holder": "clerk", "sla_working_days": 3},
            {"name": "done", "label": "Selesai", "final": True},
        ],
        "actions": [
            {
                "name": "close",
                "label": "Tutup",
                "from_states": ["open"],
                "to_state": "done",
                "roles": ["clerk"],
            }
        ],
    }
    data.update(changes)
    return data


class WeekdayCalendar:
    """Monday to Friday are working days, counted like `shared.calendar.WorkingCalendar`."""

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(UTC).date()

    def elapsed_working_days(self, start: datetime, end: datetime) -> int:
        day, last = self.local_date(start), self.local_date(end)
        count = 0
        while day < last:
            count += day.weekday() < 5
            day += timedelta(days=1)
        return count

    def add_working_days(self, start: date, n: int) -> date:
        while n > 0:
            start += timedelta(days=1)
            n -= start.weekday() < 5
        return start


def at(day: int, hour: int = 9) -> datetime:
    """A time in March 2026, which starts on a Sunday."""
    return datetime(2026, 3, day, hour, tzinfo=UTC)


class TestDefinition:
    def test_toml_with_tables_keyed_by_name_loads(self, workflow: WorkflowDef) -> None:
        assert workflow.initial_state == "diajukan"
        assert workflow.state("verifikasi").holder == "verifier"
        assert workflow.state("perbaikan").sla_working_days is None
        assert workflow.state("terbit").final
        assert workflow.action("tolak").required_fields == ["reason"]

    def test_lists_of_tables_load_too(self) -> None:
        assert WorkflowDef.model_validate(_definition()).action("close").to_state == "done"

    def test_keyed_table_with_a_different_name_is_rejected(self) -> None:
        data = tomllib.loads(PERMIT_TOML)
        data["states"]["diajukan"]["name"] = "masuk"
        with pytest.raises(ValidationError, match="different name 'masuk'"):
            workflow_from_toml_dict(data)

    def test_round_trip_through_plain_data(self, workflow: WorkflowDef) -> None:
        data = workflow_to_dict(workflow)
        assert workflow_from_toml_dict(data) == workflow

    def test_plain_data_has_no_nulls_because_toml_has_none(self, workflow: WorkflowDef) -> None:
        def values(node: Any) -> list[Any]:
            if isinstance(node, dict):
                return [v for value in node.values() for v in values(value)]
            if isinstance(node, list):
                return [v for item in node for v in values(item)]
            return [node]

        assert None not in values(workflow_to_dict(workflow))

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"initial_state": "nowhere"}, "initial_state 'nowhere' is not a defined state"),
            ({"initial_state": "done"}, "initial_state 'done' cannot be final"),
            (
                {
                    "actions": [
                        {
                            "name": "close",
                            "label": "Tutup",
                            "from_states": ["open"],
                            "to_state": "archived",
                            "roles": ["clerk"],
                        }
                    ]
                },
                "leads to unknown state 'archived'",
            ),
            (
                {
                    "actions": [
                        {
                            "name": "close",
                            "label": "Tutup",
                            "from_states": ["open", "limbo"],
                            "to_state": "done",
                            "roles": ["clerk"],
                        }
                    ]
                },
                "starts from unknown state 'limbo'",
            ),
            (
                {
                    "states": [
                        {"name": "open", "label": "Terbuka"},
                        {"name": "open", "label": "Lagi"},
                        {"name": "done", "label": "Selesai", "final": True},
                    ]
                },
                "state 'open' is defined more than once",
            ),
            (
                {
                    "actions": [
                        {
                            "name": "close",
                            "label": "Tutup",
                            "from_states": ["open"],
                            "to_state": "done",
                            "roles": ["clerk"],
                        },
                        {
                            "name": "close",
                            "label": "Tutup lagi",
                            "from_states": ["open"],
                            "to_state": "done",
                            "roles": ["head"],
                        },
                    ]
                },
                "action 'close' is defined more than once",
            ),
            (
                {
                    "actions": [
                        {
                            "name": "close",
                            "label": "Tutup",
                            "from_states": ["open"],
                            "to_state": "done",
                            "roles": ["clerk"],
                        },
                        {
                            "name": "reopen",
                            "label": "Buka lagi",
                            "from_states": ["done"],
                            "to_state": "open",
                            "roles": ["clerk"],
                        },
                    ]
                },
                "action 'reopen' leaves final state 'done'",
            ),
            (
                {
                    "states": [
                        {"name": "open", "label": "Terbuka"},
                        {"name": "stuck", "label": "Macet"},
                        {"name": "done", "label": "Selesai", "final": True},
                    ]
                },
                "state 'stuck' is not final but no action leaves it",
            ),
        ],
    )
    def test_inconsistent_definition_is_rejected(
        self, changes: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(ValidationError, match=message):
            WorkflowDef.model_validate(_definition(**changes))

    @pytest.mark.parametrize(
        "state",
        [
            {"name": "done", "label": "Selesai", "final": True, "sla_working_days": 1},
            {"name": "done", "label": "Selesai", "final": True, "sla_working_days": -1},
            {"name": "done", "label": "Selesai", "final": True, "colour": "green"},
            {"name": "Done Now", "label": "Selesai", "final": True},
            {"name": "done", "label": "  ", "final": True},
        ],
    )
    def test_bad_state_values_are_rejected(self, state: dict[str, Any]) -> None:
        states = [{"name": "open", "label": "Terbuka"}, state]
        with pytest.raises(ValidationError):
            WorkflowDef.model_validate(_definition(states=states))

    def test_action_without_roles_is_rejected(self) -> None:
        action = {"name": "close", "label": "Tutup", "from_states": ["open"], "to_state": "done"}
        with pytest.raises(ValidationError, match="roles"):
            WorkflowDef.model_validate(_definition(actions=[{**action, "roles": []}]))

    def test_lookups(self, workflow: WorkflowDef) -> None:
        assert workflow.state("diajukan").label == "Diajukan"
        with pytest.raises(KeyError):
            workflow.state("hilang")
        with pytest.raises(UnknownActionError):
            workflow.action("hilang")

    def test_available_actions_follow_state_and_roles(self, workflow: WorkflowDef) -> None:
        names = [a.name for a in workflow.available_actions("diajukan", {"clerk"})]
        assert names == ["terima", "kembalikan"]
        head = [a.name for a in workflow.available_actions("verifikasi", ["head", "verifier"])]
        assert head == ["kembalikan", "setujui", "tolak"]
        assert workflow.available_actions("terbit", {"head", "clerk"}) == []
        assert workflow.available_actions("unknown-state", {"clerk"}) == []


class TestTransition:
    def test_allowed_action_returns_its_definition(self, workflow: WorkflowDef) -> None:
        action = transition(
            workflow,
            current_state="verifikasi",
            action="setujui",
            roles={"head"},
            payload={"decree_number": "503/12/2026"},
        )
        assert action.to_state == "terbit"

    def test_unknown_action_is_unprocessable(self, workflow: WorkflowDef) -> None:
        with pytest.raises(UnknownActionError) as caught:
            transition(
                workflow, current_state="diajukan", action="terbang", roles={"clerk"}, payload={}
            )
        error = caught.value
        assert isinstance(error, UnprocessableError)
        assert isinstance(error, WorkflowError)
        assert (error.status, error.slug) == (422, "unknown-action")

    def test_action_from_wrong_state_conflicts_and_lists_allowed_actions(
        self, workflow: WorkflowDef
    ) -> None:
        with pytest.raises(InvalidTransitionError) as caught:
            transition(
                workflow,
                current_state="diajukan",
                action="setujui",
                roles={"clerk"},
                payload={"decree_number": "1"},
            )
        error = caught.value
        assert isinstance(error, ConflictError)
        assert (error.status, error.slug) == (409, "invalid-transition")
        assert error.detail is not None
        assert "'diajukan'" in error.detail
        assert "'setujui'" in error.detail
        assert error.allowed_actions == ["terima", "kembalikan"]
        assert error.extensions["allowed_actions"] == ["terima", "kembalikan"]

    def test_final_state_allows_nothing(self, workflow: WorkflowDef) -> None:
        with pytest.raises(InvalidTransitionError) as caught:
            transition(workflow, current_state="terbit", action="tolak", roles={"head"}, payload={})
        assert caught.value.allowed_actions == []

    def test_wrong_state_is_reported_before_wrong_role(self, workflow: WorkflowDef) -> None:
        with pytest.raises(InvalidTransitionError):
            transition(
                workflow, current_state="perbaikan", action="terima", roles=set(), payload={}
            )

    def test_caller_without_an_allowed_role_is_forbidden(self, workflow: WorkflowDef) -> None:
        with pytest.raises(ActionForbiddenError) as caught:
            transition(
                workflow,
                current_state="verifikasi",
                action="setujui",
                roles={"clerk", "verifier"},
                payload={"decree_number": "1"},
            )
        error = caught.value
        assert isinstance(error, ForbiddenError)
        assert (error.status, error.slug) == (403, "action-forbidden")
        assert error.required_roles == ["head"]

    @pytest.mark.parametrize(
        "payload",
        [{}, {"reason": None}, {"reason": ""}, {"reason": "   "}, {"reason": []}, {"note": "x"}],
    )
    def test_missing_or_empty_required_field_is_unprocessable(
        self, workflow: WorkflowDef, payload: dict[str, Any]
    ) -> None:
        with pytest.raises(MissingFieldsError) as caught:
            transition(
                workflow,
                current_state="verifikasi",
                action="tolak",
                roles={"head"},
                payload=payload,
            )
        error = caught.value
        assert isinstance(error, AppError)
        assert (error.status, error.slug) == (422, "missing-fields")
        assert error.fields == ["reason"]
        assert error.extensions["errors"] == [
            {"loc": ["body", "reason"], "msg": "Field required", "type": "missing"}
        ]

    def test_falsy_but_present_values_count_as_given(self, workflow: WorkflowDef) -> None:
        action = transition(
            workflow,
            current_state="verifikasi",
            action="setujui",
            roles=["head"],
            payload={"decree_number": 0},
        )
        assert action.name == "setujui"


class TestStageTiming:
    def test_closed_and_open_stages_are_timed_against_their_sla(
        self, workflow: WorkflowDef
    ) -> None:
        history = [
            ("diajukan", at(2)),  # Monday
            ("verifikasi", at(5, 15)),  # Thursday: 3 working days later, SLA 2
            ("perbaikan", at(9)),  # Monday: 2 working days (Fri, Mon)
            ("diajukan", at(16)),  # the applicant took a week; no SLA
            ("verifikasi", at(17)),
        ]
        spans = stage_spans(workflow, history, now=at(27, 16), calendar=WeekdayCalendar())

        assert [(s.state, s.working_days, s.overdue) for s in spans] == [
            ("diajukan", 3, True),
            ("verifikasi", 2, False),
            ("perbaikan", 5, False),
            ("diajukan", 1, False),
            ("verifikasi", 8, True),  # Tue 17th to Fri 27th, measured to now
        ]
        assert spans[0] == StageSpan(
            state="diajukan",
            entered_at=at(2),
            left_at=at(5, 15),
            working_days=3,
            sla_working_days=2,
            overdue=True,
            holder="clerk",
            label="Diajukan",
        )
        assert spans[-1].left_at is None
        assert spans[-1].holder == "verifier"

    def test_stage_exactly_at_its_sla_is_not_overdue(self, workflow: WorkflowDef) -> None:
        spans = stage_spans(
            workflow, [("diajukan", at(2))], now=at(4, 23), calendar=WeekdayCalendar()
        )
        assert (spans[0].working_days, spans[0].overdue) == (2, False)

    def test_final_state_stops_the_clock(self, workflow: WorkflowDef) -> None:
        history = [("diajukan", at(2)), ("ditolak", at(3))]
        spans = stage_spans(workflow, history, now=at(31), calendar=WeekdayCalendar())
        assert (spans[1].working_days, spans[1].overdue, spans[1].holder) == (0, False, None)

    def test_state_removed_from_the_workflow_is_reported_without_sla(
        self, workflow: WorkflowDef
    ) -> None:
        spans = stage_spans(
            workflow, [("survei_lapangan", at(2))], now=at(31), calendar=WeekdayCalendar()
        )
        assert spans[0].working_days == 21
        assert (spans[0].sla_working_days, spans[0].overdue, spans[0].label) == (None, False, None)

    def test_now_slightly_before_entry_counts_zero(self, workflow: WorkflowDef) -> None:
        spans = stage_spans(workflow, [("diajukan", at(3))], now=at(2), calendar=WeekdayCalendar())
        assert spans[0].working_days == 0

    def test_history_out_of_order_is_rejected(self, workflow: WorkflowDef) -> None:
        with pytest.raises(ValueError, match="chronological"):
            stage_spans(
                workflow,
                [("diajukan", at(5)), ("verifikasi", at(2))],
                now=at(9),
                calendar=WeekdayCalendar(),
            )

    def test_empty_history_has_no_spans(self, workflow: WorkflowDef) -> None:
        assert stage_spans(workflow, [], now=at(9), calendar=WeekdayCalendar()) == []

    def test_due_date_skips_the_weekend(self, workflow: WorkflowDef) -> None:
        # Entered on Thursday with an SLA of 2 working days: Thursday and Friday are used,
        # Monday is still on time.
        assert due_at(workflow, "diajukan", at(5), WeekdayCalendar()) == date(2026, 3, 9)
        # Entered on Saturday: Monday and Tuesday are used, Wednesday is still on time.
        assert due_at(workflow, "diajukan", at(7), WeekdayCalendar()) == date(2026, 3, 11)

    def test_due_date_agrees_with_overdue(self, workflow: WorkflowDef) -> None:
        calendar = WeekdayCalendar()
        due = due_at(workflow, "verifikasi", at(5), calendar)
        assert due is not None
        last_on_time = datetime(due.year, due.month, due.day, 23, tzinfo=UTC)
        next_day = last_on_time + timedelta(days=1)
        history = [("verifikasi", at(5))]
        assert not stage_spans(workflow, history, now=last_on_time, calendar=calendar)[0].overdue
        assert stage_spans(workflow, history, now=next_day, calendar=calendar)[0].overdue

    def test_no_due_date_without_sla(self, workflow: WorkflowDef) -> None:
        assert due_at(workflow, "perbaikan", at(5), WeekdayCalendar()) is None
        assert due_at(workflow, "terbit", at(5), WeekdayCalendar()) is None
        assert due_at(workflow, "hilang", at(5), WeekdayCalendar()) is None

    @pytest.mark.parametrize("timezone", ["Asia/Jakarta", "Asia/Jayapura"])
    @pytest.mark.parametrize("sla", [0, 1, 3])
    def test_due_date_and_overdue_agree_on_the_real_calendar(self, timezone: str, sla: int) -> None:
        from zoneinfo import ZoneInfo

        from shared.calendar import WorkingCalendar

        calendar = WorkingCalendar(timezone)
        zone = ZoneInfo(timezone)
        workflow = WorkflowDef.model_validate(
            _definition(
                states=[
                    {"name": "open", "label": "Terbuka", "sla_working_days": sla},
                    {"name": "done", "label": "Selesai", "final": True},
                ]
            )
        )
        # Six weeks around Idul Fitri 2026, with its national holidays and cuti bersama.
        for offset in range(45):
            local_day = date(2026, 3, 1) + timedelta(days=offset)
            for hour in (0, 23):
                entered = datetime.combine(local_day, datetime.min.time(), zone).replace(hour=hour)
                due = due_at(workflow, "open", entered, calendar)
                assert due is not None
                assert due >= local_day
                last_moment = datetime.combine(due, datetime.max.time(), zone)
                first_late = datetime.combine(due + timedelta(days=1), datetime.min.time(), zone)
                for moment, late in ((last_moment, False), (first_late, True)):
                    (span,) = stage_spans(
                        workflow, [("open", entered.astimezone(UTC))], now=moment, calendar=calendar
                    )
                    assert span.overdue is late, (local_day, hour, due, moment)
