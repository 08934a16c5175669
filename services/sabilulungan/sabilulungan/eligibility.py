"""Who may receive what: the recipient category a proposal is filed under, checked on submission.

The categories (UU 23/2014 Pasal 298(5); Permendagri 32/2011 as amended) live in the rule set in
force, so a regency may change them and every decision records the version and basis it used.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan import errors
from sabilulungan.config import DEFAULT_CATEGORY, DOC_PATTERNS, RecipientCategory, RuleSet
from sabilulungan.dependencies import Context
from sabilulungan.models import Proposal
from sabilulungan.schemas import ProposalCreate


def category_of(rule: RuleSet, data: ProposalCreate) -> tuple[str, RecipientCategory]:
    applicant = data.applicant
    name = applicant.category or DEFAULT_CATEGORY.get((data.kind, applicant.type))
    if name is None:
        raise errors.IneligibleApplicantError(
            "Hibah may go only to government bodies, BUMN/BUMD and organisations with "
            "Indonesian legal-entity status (UU 23/2014 Pasal 298(5)); individuals may apply "
            "for bansos",
            rule="recipient_category",
        )
    category = rule.recipient_categories.get(name)
    if category is None:
        raise errors.IneligibleApplicantError(
            f"'{name}' is not a recipient category; use one of: "
            + ", ".join(rule.recipient_categories),
            rule="recipient_category",
            allowed=list(rule.recipient_categories),
        )
    if category.kind != data.kind or category.applicant_type != applicant.type:
        raise errors.IneligibleApplicantError(
            f"A {data.kind} cannot go to the category '{category.label}' "
            f"({category.kind}, {category.applicant_type}); UU 23/2014 Pasal 298",
            rule="recipient_category",
        )
    return name, category


def check_eligibility(
    ctx: Context, rule: RuleSet, data: ProposalCreate, today: dt.date
) -> tuple[str, RecipientCategory]:
    """Each broken rule is a 422 naming it (`rule` in the problem) and the basis."""
    applicant = data.applicant
    if data.fiscal_year < today.year:
        raise errors.PastFiscalYearError(
            f"Fiscal year {data.fiscal_year} has ended; proposals are for the current or a "
            "coming fiscal year",
            rule="fiscal_year",
        )
    name, category = category_of(rule, data)
    number = (applicant.legal_entity_number or "").strip()
    if category.legal_document is not None:
        if not number:
            raise errors.IneligibleApplicantError(
                f"The category '{category.label}' needs its legal-entity number "
                "(e.g. the Kemenkumham AHU decree), UU 23/2014 Pasal 298(5)",
                rule="legal_document",
            )
        if not re.fullmatch(DOC_PATTERNS[category.legal_document], number):
            raise errors.IneligibleApplicantError(
                f"'{number}' is not a valid {category.legal_document.upper()} number for the "
                f"category '{category.label}'",
                rule="legal_document",
            )
    if category.min_registered_years:
        registered = applicant.registered_on
        years = category.min_registered_years
        # 29 February has no twin in most years: the limit is then 28 February
        limit = (
            today - dt.timedelta(days=1 if (today.month, today.day) == (2, 29) else 0)
        ).replace(year=today.year - years)
        if registered is None or registered > limit:
            raise errors.IneligibleApplicantError(
                f"The category '{category.label}' must have been registered for at least "
                f"{category.min_registered_years} years ({rule.basis})",
                rule="registration_age",
            )
    if category.max_amount_idr is not None and data.requested_amount_idr > category.max_amount_idr:
        raise errors.IneligibleApplicantError(
            f"A {data.kind} to the category '{category.label}' is at most "
            f"{category.max_amount_idr} rupiah ({rule.basis})",
            rule="max_amount",
            max_amount_idr=category.max_amount_idr,
        )
    if category.purposes and data.purpose_code not in category.purposes:
        raise errors.IneligibleApplicantError(
            "Bansos must name one of its purposes: " + ", ".join(category.purposes),
            rule="bansos_purpose",
            allowed=category.purposes,
        )
    if category.social_risks and data.social_risk not in category.social_risks:
        raise errors.IneligibleApplicantError(
            f"A bansos to the category '{category.label}' is selective: name the social risk the "
            f"recipient faces, one of: {', '.join(category.social_risks)} "
            f"({category.criteria_basis})",
            rule="social_risk",
            basis=category.criteria_basis,
            allowed=category.social_risks,
        )
    if not category.domicile_exempt and not applicant.region_code.startswith(
        ctx.regency_code + "."
    ):
        raise errors.IneligibleApplicantError(
            f"The recipient's domicile or seat ({applicant.region_code}) is not in "
            f"{ctx.regency_name} ({ctx.regency_code}); aid goes to residents and bodies of the "
            "region",
            rule="domicile",
        )
    return name, category


async def check_temporary(
    session: AsyncSession, ctx: Context, rule: RuleSet, p: Proposal, action: str
) -> None:
    """Bansos is temporary: the same recipient may not receive it in more than the category's
    `max_consecutive_years` fiscal years in a row, unless the social risk is a permanent need."""
    name = p.recipient_category or DEFAULT_CATEGORY.get((p.kind, p.applicant_type))
    category = rule.recipient_categories.get(name or "")
    if category is None or category.max_consecutive_years is None:
        return
    if p.social_risk in category.permanent_risks:
        return
    limit = category.max_consecutive_years
    years = set(
        await session.scalars(
            select(Proposal.fiscal_year).where(
                Proposal.applicant_key == p.applicant_key,
                Proposal.kind == p.kind,
                Proposal.id != p.id,
                Proposal.approved_at.is_not(None),
                Proposal.status != "cancelled",
                Proposal.fiscal_year.between(p.fiscal_year - limit, p.fiscal_year - 1),
            )
        )
    )
    run = 0
    while p.fiscal_year - run - 1 in years:
        run += 1
    if run >= limit:
        raise errors.IneligibleApplicantError(
            f"'{action}': this recipient already received a {p.kind} in the {run} fiscal "
            f"year(s) before {p.fiscal_year}; bansos is temporary, at most {limit} year(s) in a "
            f"row unless the need is permanent ({category.criteria_basis})",
            rule="temporary",
            basis=category.criteria_basis,
            max_consecutive_years=limit,
        )
