"""HAYU's typed errors; each becomes an RFC 9457 problem with its own type slug."""

from __future__ import annotations

from shared.problems import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    UnprocessableError,
    UnsupportedMediaTypeError,
)


class PermitTypeNotFoundError(UnprocessableError):
    title = "Unknown permit type"
    type = "permit-type-not-found"


class KbliNotFoundError(UnprocessableError):
    title = "KBLI code not in the imported KBLI 2020 list"
    type = "kbli-not-found"


class ApplicationNotFoundError(NotFoundError):
    title = "Application not found"
    type = "application-not-found"


class PermitNotFoundError(NotFoundError):
    title = "Permit or registration not found"
    type = "permit-not-found"


class TrackingCodeNotFoundError(NotFoundError):
    title = "Tracking code not found"
    type = "tracking-code-not-found"


class NotYourApplicationError(ForbiddenError):
    title = "Not your application"
    type = "not-your-application"


class DocumentsMissingError(ConflictError):
    title = "Required documents missing"
    type = "documents-missing"


class InspectionRequiredError(ConflictError):
    title = "This permit type needs a field inspection first"
    type = "inspection-required"


class ChecklistItemError(UnprocessableError):
    title = "Not a checklist item of this permit type"
    type = "checklist-item-invalid"


class UploadClosedError(ConflictError):
    title = "Documents cannot be changed in this state"
    type = "upload-closed"


class UploadTypeError(UnsupportedMediaTypeError):
    title = "Only PDF, JPEG or PNG files are accepted"
    type = "upload-type"


class NoCertificateError(ConflictError):
    title = "No certificate for this application yet"
    type = "no-certificate"


class AuditSampleError(UnprocessableError):
    title = "Audit sample cannot be drawn"
    type = "audit-sample-invalid"


class RegionNotFoundError(UnprocessableError):
    title = "Region code not in the imported kode wilayah list"
    type = "region-not-found"


class InspectionDateError(UnprocessableError):
    title = "Inspection date not acceptable"
    type = "inspection-date-invalid"


class UploadNameError(UnprocessableError):
    title = "File name not acceptable"
    type = "upload-name-invalid"


class UploadImageTooLargeError(UnprocessableError):
    title = "Image has too many pixels"
    type = "upload-image-too-large"


class DocumentNotFoundError(NotFoundError):
    title = "Document not found"
    type = "document-not-found"


class OutsideJurisdictionError(UnprocessableError):
    title = "Business located outside this regency"
    type = "outside-jurisdiction"


class SeparationOfDutiesError(ForbiddenError):
    title = "Segregation of duties"
    type = "separation-of-duties"


class OssUnauthorizedError(UnauthorizedError):
    title = "OSS inbound token missing or wrong"
    type = "oss-unauthorized"


class AuditFindingExistsError(ConflictError):
    title = "Finding already recorded"
    type = "audit-finding-exists"


class InspectionPhotoMissingError(ConflictError):
    title = "Site photo missing"
    type = "inspection-photo-missing"
