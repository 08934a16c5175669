"""The default hibah/bansos workflow (domain-brief §1.4), as data a regency may replace."""

from __future__ import annotations

from shared.workflow import WorkflowDef

REVIEW_STATES = [
    "submitted",
    "awaiting_assignment",
    "evaluation",
    "consideration",
    "awaiting_approval",
]
REVIEWERS = ["clerk", "coordinator", "opd_evaluator", "tapd", "head"]
# Officials who may read every file; reviewers also include the OPD evaluators.
OFFICERS = frozenset({"clerk", "coordinator", "tapd", "head", "finance", "auditor", "admin"})
REVIEWER_ROLES = frozenset({*OFFICERS, "opd_evaluator"})
# Who may issue the verifiable annex of a decree.
DECREE_ISSUER_ROLES = frozenset({"head", "tapd", "admin"})

DEFAULT_WORKFLOW = WorkflowDef.model_validate(
    {
        "name": "hibah-bansos",
        "initial_state": "submitted",
        "states": [
            {"name": "submitted", "label": "Pemeriksaan kelengkapan", "holder": "clerk",
             "sla_working_days": 5},
            {"name": "revision", "label": "Perbaikan oleh pemohon", "holder": "applicant",
             "sla_working_days": 10},
            {"name": "awaiting_assignment", "label": "Penunjukan OPD", "holder": "coordinator",
             "sla_working_days": 5},
            {"name": "evaluation", "label": "Evaluasi OPD", "holder": "opd_evaluator",
             "sla_working_days": 14},
            {"name": "consideration", "label": "Pertimbangan TAPD", "holder": "tapd",
             "sla_working_days": 10},
            {"name": "awaiting_approval", "label": "Keputusan kepala daerah", "holder": "head",
             "sla_working_days": 10},
            {"name": "approved", "label": "Ditetapkan dalam Keputusan", "holder": "head",
             "sla_working_days": 10},
            {"name": "agreement_signed", "label": "NPHD ditandatangani", "holder": "finance",
             "sla_working_days": 10},
            {"name": "disbursed", "label": "Dicairkan, menunggu LPJ", "holder": "applicant"},
            {"name": "reported", "label": "Pemeriksaan LPJ", "holder": "opd_evaluator",
             "sla_working_days": 10},
            {"name": "closed", "label": "Selesai", "final": True},
            {"name": "rejected", "label": "Ditolak", "final": True},
            {"name": "withdrawn", "label": "Dicabut pemohon", "final": True},
            {"name": "cancelled", "label": "Dibatalkan setelah penetapan", "final": True},
        ],
        "actions": [
            {"name": "verify_completeness", "label": "Berkas lengkap",
             "from_states": ["submitted"], "to_state": "awaiting_assignment", "roles": ["clerk"]},
            {"name": "return_for_revision", "label": "Kembalikan untuk perbaikan",
             "from_states": REVIEW_STATES, "to_state": "revision", "roles": REVIEWERS,
             "required_fields": ["note"]},
            {"name": "resubmit", "label": "Kirim ulang", "from_states": ["revision"],
             "to_state": "submitted", "roles": ["applicant"]},
            {"name": "assign_opd", "label": "Tunjuk OPD", "from_states": ["awaiting_assignment"],
             "to_state": "evaluation", "roles": ["coordinator"], "required_fields": ["opd_code"]},
            {"name": "reassign_opd", "label": "Alihkan ke OPD lain",
             "from_states": ["evaluation"], "to_state": "evaluation", "roles": ["coordinator"],
             "required_fields": ["opd_code", "note"]},
            {"name": "recommend", "label": "Rekomendasikan jumlah",
             "from_states": ["evaluation"], "to_state": "consideration",
             "roles": ["opd_evaluator"], "required_fields": ["amount_idr"]},
            {"name": "consider", "label": "Tetapkan jumlah akhir TAPD",
             "from_states": ["consideration"], "to_state": "awaiting_approval", "roles": ["tapd"],
             "required_fields": ["amount_idr"]},
            {"name": "approve", "label": "Setujui dalam Keputusan",
             "from_states": ["awaiting_approval"], "to_state": "approved", "roles": ["head"],
             "required_fields": ["decree_number"]},
            {"name": "return_to_tapd", "label": "Kembalikan ke TAPD",
             "from_states": ["awaiting_approval"], "to_state": "consideration", "roles": ["head"],
             "required_fields": ["note"]},
            {"name": "cancel", "label": "Batalkan penetapan",
             "from_states": ["approved", "agreement_signed"], "to_state": "cancelled",
             "roles": ["head"], "required_fields": ["note"]},
            {"name": "reject", "label": "Tolak", "from_states": REVIEW_STATES,
             "to_state": "rejected", "roles": REVIEWERS, "required_fields": ["note"]},
            {"name": "sign_agreement", "label": "Tanda tangani NPHD",
             "from_states": ["approved"], "to_state": "agreement_signed", "roles": ["head"],
             "required_fields": ["agreement_number"]},
            {"name": "disburse", "label": "Cairkan",
             "from_states": ["approved", "agreement_signed", "disbursed"],
             "to_state": "disbursed", "roles": ["finance"], "required_fields": ["amount_idr"]},
            {"name": "submit_report", "label": "Serahkan LPJ", "from_states": ["disbursed"],
             "to_state": "reported", "roles": ["applicant"]},
            {"name": "refund", "label": "Catat pengembalian sisa dana",
             "from_states": ["reported"], "to_state": "reported", "roles": ["finance"],
             "required_fields": ["amount_idr"]},
            {"name": "return_report", "label": "Kembalikan LPJ", "from_states": ["reported"],
             "to_state": "disbursed", "roles": ["opd_evaluator", "tapd"],
             "required_fields": ["note"]},
            {"name": "accept_report", "label": "Terima LPJ dan tutup",
             "from_states": ["reported"], "to_state": "closed", "roles": ["opd_evaluator", "tapd"]},
            {"name": "withdraw", "label": "Cabut usulan",
             "from_states": ["revision", *REVIEW_STATES], "to_state": "withdrawn",
             "roles": ["applicant"]},
        ],
    }
)  # fmt: skip
