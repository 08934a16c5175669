"""SABILULUNGAN's typed errors: each becomes an application/problem+json response."""

from __future__ import annotations

from shared.problems import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnprocessableError,
    UnsupportedMediaTypeError,
)


class ProposalNotFoundError(NotFoundError):
    title = "Proposal not found"
    type = "proposal-not-found"


class DocumentNotFoundError(NotFoundError):
    title = "Document not found"
    type = "document-not-found"


class BudgetNotFoundError(NotFoundError):
    title = "Budget not found"
    type = "budget-not-found"


class BudgetExistsError(ConflictError):
    title = "Budget already set"
    type = "budget-exists"


class IneligibleApplicantError(UnprocessableError):
    title = "Applicant not eligible for this kind of aid"
    type = "ineligible-applicant"


class BudgetLinesMismatchError(UnprocessableError):
    title = "Budget lines do not add up to the requested amount"
    type = "budget-lines-mismatch"


class AmountAboveRequestedError(UnprocessableError):
    title = "Amount above the requested amount"
    type = "amount-above-requested"


class InvalidAmountError(UnprocessableError):
    title = "Amount not valid"
    type = "invalid-amount"


class ProposalWindowClosedError(UnprocessableError):
    title = "Proposal window closed"
    type = "proposal-window-closed"


class FreezePeriodError(ConflictError):
    title = "Action frozen in this period"
    type = "freeze-period"


class CeilingExceededError(ConflictError):
    title = "Budget ceiling exceeded"
    type = "budget-ceiling-exceeded"


class BudgetNotSetError(ConflictError):
    title = "No budget ceiling for this fiscal year and kind"
    type = "budget-not-set"


class SegregationOfDutiesError(ForbiddenError):
    title = "Segregation of duties"
    type = "segregation-of-duties"


class AgreementRequiredError(ConflictError):
    title = "Grant agreement (NPHD) required"
    type = "agreement-required"


class DisbursementExceedsApprovedError(UnprocessableError):
    title = "Disbursement above the approved amount"
    type = "disbursement-exceeds-approved"


class TooManyTranchesError(ConflictError):
    title = "Too many tranches"
    type = "too-many-tranches"


class FlaggedProposalError(ConflictError):
    title = "Integrity flag blocks this action"
    type = "integrity-flag"


class NotYourProposalError(ForbiddenError):
    title = "Not your proposal"
    type = "not-your-proposal"


class OpdMismatchError(ForbiddenError):
    title = "Proposal assigned to another OPD"
    type = "opd-mismatch"


class UnknownChecklistItemError(UnprocessableError):
    title = "Unknown checklist item"
    type = "unknown-checklist-item"


class UnsupportedFileError(UnsupportedMediaTypeError):
    title = "File type not accepted"
    type = "unsupported-file"


class UploadNameError(UnprocessableError):
    title = "File name not accepted"
    type = "upload-name-invalid"


class UploadImageTooLargeError(UnprocessableError):
    title = "Image has too many pixels"
    type = "upload-image-too-large"


class DocumentNotAvailableError(ConflictError):
    title = "Document not available yet"
    type = "document-not-available"


class PersonalDataForbiddenError(ForbiddenError):
    title = "Personal data not available to this role"
    type = "personal-data-forbidden"


class CeilingBelowApprovedError(ConflictError):
    title = "Ceiling below the approved total"
    type = "ceiling-below-approved"


class PastFiscalYearError(UnprocessableError):
    title = "Fiscal year has ended"
    type = "past-fiscal-year"


class MissingDocumentsError(UnprocessableError):
    title = "Required documents missing"
    type = "missing-documents"


class ChecklistIncompleteError(UnprocessableError):
    title = "Evaluation checklist incomplete"
    type = "checklist-incomplete"


class UploadsLockedError(ConflictError):
    title = "Uploads are closed at this stage"
    type = "uploads-locked"


class OutsideFiscalYearError(ConflictError):
    title = "Outside the fiscal year"
    type = "outside-fiscal-year"


class AmountAboveRecommendationError(UnprocessableError):
    title = "Amount above the previous recommendation"
    type = "amount-above-recommendation"


class UnknownOpdError(UnprocessableError):
    title = "Unknown OPD"
    type = "unknown-opd"


class NotStageHolderError(ForbiddenError):
    title = "Not the holder of the current stage"
    type = "not-stage-holder"


class RefundError(UnprocessableError):
    title = "Refund not valid"
    type = "invalid-refund"


class UnspentNotReturnedError(ConflictError):
    title = "Unspent money not returned"
    type = "unspent-not-returned"


class TrancheScheduleError(UnprocessableError):
    title = "Tranche schedule not valid"
    type = "invalid-tranche-schedule"


class WrongTrancheAmountError(UnprocessableError):
    title = "Amount is not the next tranche"
    type = "wrong-tranche-amount"


class TrancheConditionError(ConflictError):
    title = "The next tranche's condition is not met"
    type = "tranche-condition-unmet"


class LpjLinesMismatchError(UnprocessableError):
    title = "LPJ lines do not match the RAB"
    type = "lpj-lines-mismatch"


class LpjLineAboveApprovedError(UnprocessableError):
    title = "LPJ line above its approved amount"
    type = "lpj-line-above-approved"


class LpjTotalMismatchError(UnprocessableError):
    title = "LPJ total does not add up"
    type = "lpj-total-mismatch"
