"""HAYU's default workflows as data: the permit application path and the self-report record.

Stage SLAs follow the SOP pattern of regional DPMPTSP offices (domain brief §2.5): a file is
accepted within a working day, checked within two, inspected within three, decided within two
and the signed permit handed over within one. A regency replaces the permit workflow in
`[hayu.workflow]`; HAYU only needs the states listed in `REQUIRED_STATES` to exist.
"""

from __future__ import annotations

from shared.workflow import WorkflowDef

INSPECTION_PHOTO = "foto_pemeriksaan"
"""The checklist item of the inspector's site photos (not part of any type's checklist)."""
REQUIRED_STATES = frozenset({"submitted", "approval", "issued", "rejected", "revoked"})
STAFF_ROLES = ("officer", "inspector", "approver", "auditor", "admin")
ROLE_LABELS: dict[str, str] = {
    "business_owner": "Pemohon (pelaku usaha)",
    "officer": "Petugas verifikasi DPMPTSP",
    "inspector": "Tim pemeriksa lapangan",
    "approver": "Kepala DPMPTSP (penandatangan)",
    "auditor": "Auditor",
    "admin": "Admin",
}

DEFAULT_PERMIT_WORKFLOW = WorkflowDef.model_validate(
    {
        "name": "hayu-permit",
        "initial_state": "submitted",
        "states": {
            "submitted": {"label": "Berkas diterima", "holder": "officer", "sla_working_days": 1},
            "document_verification": {
                "label": "Verifikasi dokumen",
                "holder": "officer",
                "sla_working_days": 2,
            },
            "revision_requested": {
                "label": "Menunggu perbaikan dari pemohon",
                "holder": "business_owner",
            },
            "field_inspection": {
                "label": "Pemeriksaan lapangan",
                "holder": "inspector",
                "sla_working_days": 3,
            },
            "approval": {
                "label": "Menunggu keputusan",
                "holder": "approver",
                "sla_working_days": 2,
            },
            "approved": {
                "label": "Disetujui, izin sedang diterbitkan",
                "holder": "approver",
                "sla_working_days": 1,
            },
            "issued": {"label": "Izin terbit", "sla_working_days": None},
            "rejected": {"label": "Ditolak", "final": True},
            "revoked": {"label": "Dicabut", "final": True},
        },
        "actions": {
            "accept": {
                "label": "Terima berkas dan mulai verifikasi",
                "from_states": ["submitted"],
                "to_state": "document_verification",
                "roles": ["officer"],
            },
            "verify_documents": {
                "label": "Dokumen lengkap dan benar",
                "from_states": ["document_verification"],
                "to_state": "approval",
                "roles": ["officer"],
            },
            "request_documents": {
                "label": "Dokumen belum lengkap, minta dilengkapi",
                "from_states": ["submitted", "document_verification"],
                "to_state": "revision_requested",
                "roles": ["officer"],
                "required_fields": ["note"],
            },
            "request_revision": {
                "label": "Minta perbaikan",
                "from_states": ["submitted", "document_verification", "field_inspection"],
                "to_state": "revision_requested",
                "roles": ["officer", "inspector"],
                "required_fields": ["note"],
            },
            "resubmit": {
                "label": "Kirim ulang setelah perbaikan",
                "from_states": ["revision_requested"],
                "to_state": "document_verification",
                "roles": ["business_owner"],
            },
            "schedule_inspection": {
                "label": "Jadwalkan pemeriksaan lapangan",
                "from_states": ["document_verification"],
                "to_state": "field_inspection",
                "roles": ["officer"],
                "required_fields": ["inspection_date"],
            },
            "record_inspection": {
                "label": "Catat hasil pemeriksaan",
                "from_states": ["field_inspection"],
                "to_state": "approval",
                "roles": ["inspector"],
                "required_fields": ["inspection_result", "findings"],
            },
            "approve": {
                "label": "Setujui",
                "from_states": ["approval"],
                "to_state": "approved",
                "roles": ["approver"],
            },
            "reject": {
                "label": "Tolak",
                "from_states": ["document_verification", "field_inspection", "approval"],
                "to_state": "rejected",
                "roles": ["approver"],
                "required_fields": ["note"],
            },
            "issue": {
                "label": "Terbitkan izin",
                "from_states": ["approved"],
                "to_state": "issued",
                "roles": ["approver"],
            },
            "revoke": {
                "label": "Cabut izin",
                "from_states": ["issued"],
                "to_state": "revoked",
                "roles": ["approver"],
                "required_fields": ["note"],
            },
        },
    }
)

# A self-report is registered at once; the only thing that can happen to it later is revocation
# (after a post-audit finds it false, for example).
SELF_REPORT_WORKFLOW = WorkflowDef.model_validate(
    {
        "name": "hayu-self-report",
        "initial_state": "registered",
        "states": {
            "registered": {"label": "Terdaftar"},
            "revoked": {"label": "Dicabut", "final": True},
        },
        "actions": {
            "revoke": {
                "label": "Cabut pendaftaran",
                "from_states": ["registered"],
                "to_state": "revoked",
                "roles": ["approver"],
                "required_fields": ["note"],
            }
        },
    }
)

# What an action does besides moving the state, as named effects (`hayu.transitions.EFFECTS`);
# a regency that renames or adds actions in `[hayu.workflow]` maps them in `[hayu.action_effects]`.
EFFECT_NAMES = frozenset(
    {
        "require_checklist",  # every checklist document uploaded ("Dokumen lengkap")
        "refuse_if_inspection_needed",  # the type needs a field inspection first
        "inspection_date_not_past",
        "pause_clock",  # the file waits for the applicant: the SLA clock stops
        "resume_clock",
        "stop_clock",
        "issue_permit",  # number, issue date, validity
        "revoke_permit",
        "require_inspection_photo",  # the inspector uploaded at least one site photo
    }
)
DEFAULT_ACTION_EFFECTS: dict[str, list[str]] = {
    "verify_documents": ["require_checklist", "refuse_if_inspection_needed"],
    "schedule_inspection": ["require_checklist", "inspection_date_not_past"],
    "record_inspection": ["require_inspection_photo"],
    "request_documents": ["pause_clock"],
    "request_revision": ["pause_clock"],
    "resubmit": ["resume_clock"],
    "reject": ["stop_clock"],
    "issue": ["issue_permit", "stop_clock"],
    "revoke": ["revoke_permit"],
}
# Segregation of duties on one file: whoever took the first action of a pair may not take the
# second (the officer who verified does not approve). The applicant never acts as an official.
DEFAULT_SEPARATED_ACTIONS: list[tuple[str, str]] = [
    ("accept", "approve"),
    ("verify_documents", "approve"),
    ("record_inspection", "approve"),
    ("verify_documents", "reject"),
    ("record_inspection", "reject"),
]
