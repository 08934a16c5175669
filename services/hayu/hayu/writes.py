"""The filing write path's SQL, built once at import and bound per request.

Two shapes, chosen per request by the database's dialect:

* **PostgreSQL**: one statement. Data-modifying CTEs insert the business, the application, its
  first history row, the audit event and (when the request carried an Idempotency-Key) the
  idempotency record; for a self-report the same statement bumps the yearly number counter and
  renders the registration number from it. The counter's row lock is therefore taken by the last
  statement of the transaction and held for the COMMIT round trip only.
* **Portable** (SQLite, or a number template whose `seq` field SQL cannot render): one Core INSERT
  per table, number taken before the application row. SQLite serialises writing transactions
  anyway (`BEGIN IMMEDIATE`), so the order costs nothing there.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Executable,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    true,
    type_coerce,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB

from hayu.models import (
    Application,
    ApplicationEvent,
    AuditEvent,
    Business,
    IdempotencyRecord,
    NumberSequence,
)
from shared.audit import events_from
from shared.db import JSONType, UTCDateTime
from shared.idempotency import record_from

BUSINESSES = cast("Table", Business.__table__)
APPLICATIONS = cast("Table", Application.__table__)
EVENTS = cast("Table", ApplicationEvent.__table__)
SEQUENCES = cast("Table", NumberSequence.__table__)


# --------------------------------------------------------------------------------------------------
# Portable statements: one INSERT per table
# --------------------------------------------------------------------------------------------------

INSERT_BUSINESS = insert(BUSINESSES).returning(BUSINESSES.c.id)
INSERT_APPLICATION = insert(APPLICATIONS).returning(APPLICATIONS.c.id)
INSERT_EVENT = insert(EVENTS)


def _sequence_upsert(dialect: Any) -> Any:
    stmt = dialect.insert(SEQUENCES).values(scope=bindparam("seq_scope"), last_value=1)
    return stmt.on_conflict_do_update(
        index_elements=[SEQUENCES.c.scope], set_={"last_value": SEQUENCES.c.last_value + 1}
    ).returning(SEQUENCES.c.last_value)


BUMP_SEQUENCE = {"postgresql": _sequence_upsert(postgresql), "sqlite": _sequence_upsert(sqlite)}


# --------------------------------------------------------------------------------------------------
# Number templates rendered in SQL
# --------------------------------------------------------------------------------------------------

# `{seq}`, `{seq:d}`, `{seq:06d}`, `{seq:6}`: a width, zero- or space-filled. Anything else
# (grouping, alignment, another type) is rendered in Python on the portable path.
_SEQ_SPEC = re.compile(r"(0?)(\d*)d?")
_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class SeqFormat:
    """How SQL renders `seq` inside the number: `prefix || lpad(seq, width, fill) || suffix`."""

    width: int
    fill: str
    head: tuple[tuple[str, str | None, str, str | None], ...]
    tail: tuple[tuple[str, str | None, str, str | None], ...]

    def affixes(self, values: dict[str, object]) -> tuple[str, str]:
        return _render(self.head, values), _render(self.tail, values)


def _render(parts: tuple[tuple[str, str | None, str, str | None], ...], values: Any) -> str:
    out = []
    for literal, name, spec, conversion in parts:
        out.append(literal)
        if name is not None:
            value = values[name]
            if conversion:
                value = _FORMATTER.convert_field(value, conversion)
            out.append(format(value, spec))
    return "".join(out)


@lru_cache(maxsize=16)
def seq_format(template: str) -> SeqFormat | None:
    """The SQL rendering of `template`'s `seq`, or None when only Python can render it.

    The template has already been accepted by `render_number_template` (plain names only).
    """
    parsed = list(_FORMATTER.parse(template))
    at = [i for i, (_lit, name, _spec, _conv) in enumerate(parsed) if name == "seq"]
    if len(at) != 1:
        return None
    _literal, _name, spec, conversion = parsed[at[0]]
    match = _SEQ_SPEC.fullmatch(spec or "")
    if conversion or match is None:
        return None
    fill = "0" if match.group(1) or (match.group(2) or "").startswith("0") else " "
    width = int(match.group(2) or 0)
    for probe in (0, 7, 42, 123456, 99999999):  # the SQL below, in Python, against str.format
        text = str(probe)
        if text.rjust(max(width, len(text)), fill) != format(probe, spec or ""):
            return None
    parts = [(lit, name, spec or "", conv) for lit, name, spec, conv in parsed]
    head = (*parts[: at[0]], (parts[at[0]][0], None, "", None))
    tail = tuple(parts[at[0] + 1 :])
    return SeqFormat(width=width, fill=fill, head=head, tail=tail)


# --------------------------------------------------------------------------------------------------
# PostgreSQL: the whole filing in one statement
# --------------------------------------------------------------------------------------------------


def _p(name: str, type_: Any) -> Any:
    return bindparam(name, type_=type_)


def _filing_statement(*, self_report: bool, idempotent: bool) -> Executable:
    biz = (
        insert(BUSINESSES)
        .values(
            owner_account_id=_p("owner_account_id", BigInteger),
            owner_nik_encrypted=_p("owner_nik_encrypted", String),
            owner_nik_index=_p("owner_nik_index", String),
            owner_name=_p("owner_name", String),
            owner_phone_encrypted=_p("owner_phone_encrypted", String),
            name=_p("business_name", String),
            kbli_codes=_p("kbli_codes", JSONType),
            address=_p("address", String),
            region_code=_p("region_code", String),
            capital_idr=_p("capital_idr", BigInteger),
            workforce=_p("workforce", Integer),
            nib=_p("nib", String),
            annual_sales_idr=_p("annual_sales_idr", BigInteger),
            created_at=_p("now", UTCDateTime),
        )
        .returning(BUSINESSES.c.id)
        .cte("biz")
    )
    seq = None
    number: Any = None
    if self_report:
        seq = BUMP_SEQUENCE["postgresql"].cte("seq")
        text = sql_cast(seq.c.last_value, Text)
        number = (
            _p("number_prefix", String)
            + func.lpad(
                text,
                func.greatest(_p("number_width", Integer), func.length(text)),
                _p("fill", Text),
            )
            + _p("number_suffix", String)
        )
    columns: dict[str, Any] = {
        "kind": _p("kind", String),
        "permit_type_code": _p("permit_type_code", String),
        "business_id": biz.c.id,
        "applicant_account_id": _p("owner_account_id", BigInteger),
        "status": _p("status", String),
        "status_since": _p("now", UTCDateTime),
        "stage_due_date": _p("stage_due_date", Date),
        "tracking_code": _p("tracking_code", String),
        "number": number if number is not None else sql_cast(None, String),
        "rule_version": _p("rule_version", String),
        "decision_reason": _p("decision_reason", Text),
        "workflow_name": _p("workflow_name", String),
        "submitted_at": _p("now", UTCDateTime),
        "issued_at": _p("issued_at", UTCDateTime),
        "valid_until": _p("valid_until", Date),
        "deemed_approved": _p("deemed_approved", Boolean),
        "sla_paused_days": literal_column("0", Integer),
        "sla_started_at": _p("sla_started_at", UTCDateTime),
        "sla_due_date": _p("sla_due_date", Date),
    }
    source = select(*(c.label(k) for k, c in columns.items()))
    if seq is not None:  # one row each: joined ON true, which the cartesian-product lint accepts
        source = source.select_from(biz.join(seq, true()))
    app = (
        insert(APPLICATIONS)
        .from_select(list(columns), source)
        .returning(APPLICATIONS.c.id, APPLICATIONS.c.number)
        .cte("app")
    )
    ev_cols: dict[str, Any] = {
        "application_id": app.c.id,
        "action": _p("action", String),
        "from_state": sql_cast(None, String),
        "to_state": _p("status", String),
        "actor": _p("actor", String),
        "actor_role": _p("actor_role", String),
        "note": sql_cast(None, Text),
        "details": _p("details", JSONType),
        "occurred_at": _p("now", UTCDateTime),
    }
    ev = (
        insert(EVENTS)
        .from_select(list(ev_cols), select(*(c.label(k) for k, c in ev_cols.items())))
        .returning(EVENTS.c.id)
        .cte("ev")
    )
    after: Any = None
    if self_report:  # the number exists only inside the statement
        after = type_coerce(_p("audit_after", JSONType), JSONB).op("||", return_type=JSONB)(
            func.jsonb_build_object(literal_column("'number'"), app.c.number)
        )
    audit = events_from(
        app,
        AuditEvent,
        action=f"application.{'register' if self_report else 'submit'}",
        entity_type="application",
        after=after,
    ).cte("audit")
    extra = [ev, audit]
    if idempotent:
        # A taken key fails the statement: it commits on its own (`standalone_runner`), so the
        # filing must not stand without its record; the retry is answered from the store.
        record = record_from(
            app,
            IdempotencyRecord,
            fields={"registration_number": app.c.number},
            taken_key_fails=True,
        )
        extra.append(record.cte("idem"))
    if seq is None:
        final = select(app.c.id, app.c.number, literal_column("0").label("seq"))
    else:
        final = select(app.c.id, app.c.number, seq.c.last_value.label("seq")).select_from(
            app.join(seq, true())
        )
    return final.add_cte(*extra)


FILING = {
    (self_report, idempotent): _filing_statement(self_report=self_report, idempotent=idempotent)
    for self_report in (True, False)
    for idempotent in (True, False)
}
"""The PostgreSQL filing statement by (self-report?, with an idempotency record?)."""
