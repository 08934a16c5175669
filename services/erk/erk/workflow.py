"""The life of an activity, as data: its states, the actions on it, who takes each and from where.

An employee logs an activity (`submitted`); the supervisor (or the acting official, or the
supervisor's supervisor after the deadline) approves or rejects it; the employee may edit, delete
or link it while it is not approved, and correcting a rejected one resubmits it. An approved
activity is final: it counts towards the month's minutes and nobody changes it any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from erk import errors
from erk.schemas import ActivityStatus, Decision

Actor = Literal["owner", "verifier", "system"]

SUBMITTED = ActivityStatus.submitted
APPROVED = ActivityStatus.approved
REJECTED = ActivityStatus.rejected

PENDING = SUBMITTED  # waits in a verifier's queue
COUNTED = APPROVED  # counts towards the month's minutes


@dataclass(frozen=True)
class Action:
    name: str
    actor: Actor
    from_states: frozenset[ActivityStatus]
    to_state: ActivityStatus | None  # None: the activity is gone (deleted) or keeps its state
    event: str  # the audit event's action

    def allows(self, state: str) -> bool:
        return ActivityStatus(state) in self.from_states


_OPEN = frozenset({SUBMITTED, REJECTED})

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("submit", "owner", frozenset(), SUBMITTED, "activity.submitted"),
        Action("update", "owner", frozenset({SUBMITTED}), SUBMITTED, "activity.updated"),
        Action("resubmit", "owner", frozenset({REJECTED}), SUBMITTED, "activity.resubmitted"),
        Action("delete", "owner", _OPEN, None, "activity.deleted"),
        Action("link", "owner", _OPEN, None, "activity.linked"),
        Action("attach_evidence", "owner", _OPEN, None, "activity.evidence_attached"),
        Action("approve", "verifier", frozenset({SUBMITTED}), APPROVED, "activity.approved"),
        Action("reject", "verifier", frozenset({SUBMITTED}), REJECTED, "activity.rejected"),
        Action("escalate", "system", frozenset({SUBMITTED}), None, "activity.escalated"),
    )
}

DECISION_ACTION = {Decision.approved: ACTIONS["approve"], Decision.rejected: ACTIONS["reject"]}

# What a person reads on the pages.
LABELS_ID: dict[str, str] = {
    SUBMITTED: "Menunggu",
    APPROVED: "Disetujui",
    REJECTED: "Ditolak",
}


def owner_action(state: str) -> Action:
    """The action an employee's correction is: an update while pending, a resubmission after a
    rejection."""
    return ACTIONS["resubmit"] if state == REJECTED else ACTIONS["update"]


def ensure_owner_may(action: str, state: str) -> None:
    """Refuse an employee's change to an activity that is no longer theirs to change."""
    if not ACTIONS[action].allows(state):
        raise errors.ActivityLockedError("This activity is already approved")


def ensure_verifiable(activity_id: int, state: str) -> None:
    if not ACTIONS["approve"].allows(state):
        raise errors.ActivityNotPendingError(f"Activity {activity_id} is already {state}")
