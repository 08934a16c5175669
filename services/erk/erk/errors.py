"""e-RK's typed errors; each becomes an application/problem+json response."""

from __future__ import annotations

from shared.problems import ConflictError, ForbiddenError, NotFoundError, UnprocessableError


class UnitNotFoundError(NotFoundError):
    title = "Unit not found"
    type = "unit-not-found"


class EmployeeNotFoundError(NotFoundError):
    title = "Employee not found"
    type = "employee-not-found"


class ActivityNotFoundError(NotFoundError):
    title = "Activity not found"
    type = "activity-not-found"


class TargetNotFoundError(NotFoundError):
    title = "Target not found"
    type = "target-not-found"


class RecapNotFoundError(NotFoundError):
    title = "No recap for this employee and month"
    type = "recap-not-found"


class DuplicateUnitError(ConflictError):
    title = "Unit code already used"
    type = "duplicate-unit"


class DuplicateEmployeeError(ConflictError):
    title = "Employee already registered"
    type = "duplicate-employee"


class NotAnEmployeeError(ForbiddenError):
    title = "The account is not a registered employee"
    type = "not-an-employee"


class OutOfScopeError(ForbiddenError):
    title = "Outside your unit"
    type = "out-of-unit-scope"


class NotYourSubordinateError(ForbiddenError):
    title = "Not your own or a subordinate's data"
    type = "not-your-subordinate"


class ActivityDateInFutureError(UnprocessableError):
    title = "Activity date lies in the future"
    type = "activity-date-in-future"


class EntryCutoffPassedError(UnprocessableError):
    title = "The entry cut-off for that month has passed"
    type = "entry-cutoff-passed"


class DailyCapExceededError(UnprocessableError):
    title = "Daily minutes cap exceeded"
    type = "daily-cap-exceeded"


class AbsentOnDateError(UnprocessableError):
    title = "The employee was on leave or absent that day"
    type = "absent-on-date"


class PeriodClosedError(ConflictError):
    title = "The month is closed"
    type = "period-closed"


class PeriodNotOverError(ConflictError):
    title = "The month has not ended yet"
    type = "period-not-over"


class InvalidPeriodError(UnprocessableError):
    title = "Invalid period"
    type = "invalid-period"


class SelfVerificationError(ForbiddenError):
    title = "Employees cannot verify their own activities"
    type = "self-verification"


class NotVerifierError(ForbiddenError):
    title = "You may not verify this activity"
    type = "not-verifier"


class ActivityNotPendingError(ConflictError):
    title = "The activity is not waiting for verification"
    type = "activity-not-pending"


class ActivityLockedError(ConflictError):
    title = "An approved activity cannot be changed"
    type = "activity-locked"


class NotYourActivityError(ForbiddenError):
    title = "Only the employee who logged an activity may change it"
    type = "not-your-activity"


class RejectionNoteRequiredError(UnprocessableError):
    title = "A rejection needs a reason"
    type = "rejection-note-required"


class InvalidDelegationError(UnprocessableError):
    title = "Invalid delegation"
    type = "invalid-delegation"


class BatchRejectedError(UnprocessableError):
    """Some rows of a batch of activities broke a rule: nothing was logged; `rows` lists each
    refused row (counted from 1) with the rule's type and detail."""

    title = "Batch refused: nothing was logged"
    type = "batch-rejected"


class ImportRejectedError(UnprocessableError):
    """A CSV had bad rows: nothing was imported; `rows` lists each rejected row and why."""

    title = "Import rejected: nothing was imported"
    type = "import-rejected"


class PasswordChangeError(UnprocessableError):
    title = "The password was not changed"
    type = "password-not-changed"


class EvidenceMissingError(ConflictError):
    title = "The regency requires evidence before approval"
    type = "evidence-missing"


class EvidenceNotFoundError(NotFoundError):
    title = "No evidence"
    type = "evidence-not-found"


class PayInputForbiddenError(ForbiddenError):
    title = "Only HR sets pay inputs"
    type = "pay-input-forbidden"


class PayInputsMissingError(UnprocessableError):
    title = "HR registers an employee with the job class and TPP base"
    type = "pay-inputs-missing"


class OwnRecordError(ForbiddenError):
    title = "Nobody changes their own attendance or pay inputs"
    type = "own-record"


class AccountOutrankedError(ForbiddenError):
    title = "The account has as many rights as yours or more"
    type = "account-outranked"


class SelfDelegationError(ForbiddenError):
    title = "Nobody appoints themself as acting official"
    type = "self-delegation"


class NotDelegatorError(ForbiddenError):
    title = "Only the supervisor's superiors or HR appoint an acting official"
    type = "not-delegator"


class PeriodNotReadyError(ConflictError):
    """Pending activities or missing attendance: closing would leave them out."""

    title = "The month still has pending activities or missing attendance"
    type = "period-not-ready"


class NonWorkingDayError(UnprocessableError):
    title = "Not a working day"
    type = "non-working-day"


class LatenessOnLeaveError(UnprocessableError):
    title = "Lateness or leaving early can be recorded only on a day at work"
    type = "lateness-not-at-work"


class ActionPlanNotFoundError(NotFoundError):
    title = "No such Rencana Aksi for this employee and quarter"
    type = "action-plan-not-found"


class RoleNotGrantableError(ForbiddenError):
    title = "That role is not yours to grant"
    type = "role-not-grantable"
