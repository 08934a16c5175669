"""The self-report write path: its round trips, its numbers under concurrency, the idempotency
record and audit event it writes, and the cached reference lists it checks against."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
from hayu_factories import actors, filing
from sqlalchemy import event, insert, select

from hayu import reference, writes
from hayu.models import AuditEvent, IdempotencyRecord, KbliCode, NumberSequence, Region
from shared.codes import render_number_template
from shared.testing import assert_problem, client_for

# Statements one warm self-report with an Idempotency-Key executes (BEGIN/COMMIT not counted).
# PostgreSQL: one statement writing everything, in autocommit (so one round trip in all). SQLite
# (portable path): business, number, application, history, audit event, idempotency record.
# Before this path: 7 on PostgreSQL (8 with the former up-front idempotency lookup), 7 on SQLite.
SELF_REPORT_STATEMENTS = {"postgres": 1, "sqlite": 6}
URL = "/api/v1/applications"


class Statements:
    def __init__(self, app) -> None:
        self.engine = app.state.db.engine.sync_engine
        self.seen: list[str] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        head = statement.lstrip().split(None, 1)[0].upper()
        if head in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
            self.seen.append(statement)

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


def self_report(**business):
    return filing("REG-UMK", capital_idr=business.pop("capital_idr", 1_000_000), **business)


async def test_a_self_report_takes_at_most_its_counted_statements(make_app, backend):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        warm = await client.post(URL, json=self_report(), headers=who.business_owner)
        assert warm.status_code == 201, warm.text
        headers = {**who.business_owner, "Idempotency-Key": "count-1"}
        with Statements(app) as seen:
            created = await client.post(URL, json=self_report(), headers=headers)
        assert created.status_code == 201, created.text
        assert created.json()["registration_number"]
        assert len(seen) <= SELF_REPORT_STATEMENTS[backend], seen
        if backend == "postgres":
            # the yearly counter is bumped by the last statement: its lock lasts until COMMIT
            assert "number_sequences" in seen[-1]
            assert all("number_sequences" not in s for s in seen[:-1])


async def test_concurrent_self_reports_get_distinct_gapless_numbers(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        responses = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/applications",
                    json=self_report(name=f"Usaha {i}"),
                    headers={**who.business_owner, "Idempotency-Key": f"race-{i}"},
                )
                for i in range(24)
            )
        )
        assert [r.status_code for r in responses] == [201] * 24, [r.text for r in responses]
        numbers = [r.json()["registration_number"] for r in responses]
        year = dt.date.today().year
        assert all(re.fullmatch(rf"REG-3273-{year}-\d{{6}}", n) for n in numbers), numbers
        assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 25))
        async with app.state.db.sessionmaker() as session:
            last = await session.scalar(
                select(NumberSequence.last_value).where(
                    NumberSequence.scope == f"self_report:{year}"
                )
            )
        assert last == 24


async def test_a_retried_self_report_answers_the_stored_response(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        headers = {**who.business_owner, "Idempotency-Key": "self-1"}
        first = await client.post(URL, json=self_report(), headers=headers)
        assert first.status_code == 201, first.text
        again = await client.post(URL, json=self_report(), headers=headers)
        assert again.status_code == 201
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == first.json()
        other = await client.post(
            "/api/v1/applications", json=self_report(capital_idr=7), headers=headers
        )
        assert_problem(other, 422, "idempotency-key-reused")
        async with app.state.db.sessionmaker() as session:
            stored = (await session.execute(select(IdempotencyRecord))).scalars().all()
        assert len(stored) == 1
        assert stored[0].status_code == 201
        assert stored[0].response_body == first.json()


async def test_the_audit_event_has_the_fields_record_event_writes(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = (await client.post(URL, json=self_report(), headers=who.business_owner)).json()
        permit = (await client.post(URL, json=filing("REKLAME"), headers=who.business_owner)).json()
    async with app.state.db.sessionmaker() as session:
        rows = {
            r.entity_id: r
            for r in (await session.execute(select(AuditEvent))).scalars()
            if r.entity_type == "application"
        }
    registered = rows[str(created["id"])]
    assert (registered.actor, registered.actor_role) == ("u-business_owner", "business_owner")
    assert registered.action == "application.register"
    assert registered.before is None
    assert registered.request_id
    assert registered.seal_position is None
    assert registered.seal_hash is None
    assert registered.after == {
        "status": "registered",
        "kind": "self_report",
        "permit_type_code": "REG-UMK",
        "number": created["registration_number"],
        "rule_version": created["rule_version"],
        "rule_versions": [created["rule_version"], "size-classes:2021-02-02"],
        "size_class": "mikro",
        "risk_level": None,
        "capital_idr": 1_000_000,
    }
    submitted = rows[str(permit["id"])]
    assert submitted.action == "application.submit"
    assert submitted.after is not None
    assert submitted.after["number"] is None


@pytest.mark.parametrize(
    "template",
    [
        "REG-{code}-{year}-{seq:06d}",
        "{seq:05d}/{type}/{code}/DPMPTSP/{roman_month}/{year}",
        "{seq}/{{REG}}/{day:02d}.{month:02d}.{year}",
        "{seq:4}-{code}",
        "{seq:d}",
        "{seq:,}/{year}",
        "{seq:>6}/{year}",
        "{seq}-{seq}",
    ],
)
def test_numbers_rendered_in_sql_match_the_template(template):
    when = dt.date(2026, 11, 28)
    fields = {"code": "3273", "type": "REG-UMK"}
    spec = writes.seq_format(template)
    for seq in (1, 42, 999_999, 1_234_567):
        expected = render_number_template(template, seq=seq, when=when, **fields)
        if spec is None:  # rendered in Python on the portable path
            assert template in ("{seq:,}/{year}", "{seq:>6}/{year}", "{seq}-{seq}")
            continue
        values = {"year": 2026, "month": 11, "roman_month": "XI", "day": 28, **fields}
        prefix, suffix = spec.affixes(values)
        text = str(seq)
        assert prefix + text.rjust(max(spec.width, len(text)), spec.fill) + suffix == expected


@pytest.mark.parametrize("template", ["{seq:4}/{code}/{roman_month}/{year}", "{seq:,}-{year}"])
async def test_configured_templates_keep_their_format(make_app, template):
    app = await make_app("hayu", config_toml=f'[hayu]\nregistration_number_template = "{template}"')
    async with client_for(app) as client:
        who = await actors(app, client)
        numbers = [
            (await client.post(URL, json=self_report(), headers=who.business_owner)).json()[
                "registration_number"
            ]
            for _ in range(2)
        ]
    today = dt.date.today()
    assert numbers == [
        render_number_template(template, seq=seq, when=today, code="3273", type="REG-UMK")
        for seq in (1, 2)
    ]


async def test_an_import_in_this_process_is_checked_at_once(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        # no list imported: codes are checked for form only, and that state is now cached
        body = self_report(kbli_codes=["93232"])
        assert (await client.post(URL, json=body, headers=who.business_owner)).status_code == 201
        async with app.state.db.sessionmaker.begin() as session:
            await reference.replace_reference(
                session, KbliCode, [{"code": "47111", "title": "ECERAN", "category": "G"}]
            )
            await reference.replace_reference(
                session, Region, [{"code": "32.73.01", "name": "SUKASARI", "level": "kecamatan"}]
            )
        refused = await client.post(URL, json=body, headers=who.business_owner)
        assert_problem(refused, 422, "kbli-not-found")
        wrong_place = self_report(region_code="32.73.02.1001")
        assert_problem(
            await client.post(URL, json=wrong_place, headers=who.business_owner),
            422,
            "region-not-found",
        )
        village = self_report(region_code="32.73.01.1001")
        assert (await client.post(URL, json=village, headers=who.business_owner)).status_code == 201


async def test_another_process_import_is_seen_after_the_ttl(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        body = self_report(kbli_codes=["93232"])
        assert (await client.post(URL, json=body, headers=who.business_owner)).status_code == 201
        # another replica's import: rows written without this process's invalidation
        async with app.state.db.sessionmaker.begin() as session:
            await session.execute(
                insert(KbliCode).values(code="47111", title="ECERAN", category="G")
            )
        assert (
            await client.post(URL, json=body, headers=who.business_owner)
        ).status_code == 201  # still the cached (empty) list, within the TTL
        async with app.state.db.sessionmaker() as session:
            cache = reference.cache_for(session)
        cache.ttl = 0.0
        refused = await client.post(URL, json=body, headers=who.business_owner)
        assert_problem(refused, 422, "kbli-not-found")


async def test_a_load_older_than_an_invalidation_is_not_kept(monkeypatch):
    cache = reference.ReferenceCache()
    loaded = reference.ReferenceSets(kbli=frozenset({"47111"}), kecamatan=frozenset())

    async def load_during_an_import(session):
        cache.invalidate()  # an import commits while this load is under way
        return loaded

    monkeypatch.setattr(reference, "_load_sets", load_during_an_import)
    assert await cache.get(session=None) is loaded
    assert cache._sets is None  # the next filing loads again


async def test_one_key_sent_twice_at_once_files_once(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        headers = {**who.business_owner, "Idempotency-Key": "twice"}
        answers = await asyncio.gather(
            *(client.post(URL, json=self_report(), headers=headers) for _ in range(4))
        )
        # the twins wait on the key's unique index entry, then replay the stored answer
        assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
        assert len({a.json()["registration_number"] for a in answers}) == 1
        async with app.state.db.sessionmaker() as session:
            stored = (await session.execute(select(IdempotencyRecord))).scalars().all()
            registered = await session.scalar(
                select(NumberSequence.last_value).where(
                    NumberSequence.scope == f"self_report:{dt.date.today().year}"
                )
            )
        assert len(stored) == 1
        assert registered == 1  # the losers' counter bumps were rolled back: no gap


async def test_public_lookups_on_postgresql_are_one_round_trip_each(make_app, backend):
    """Tracking and certificate verification run their one statement without BEGIN and
    ROLLBACK around it: one round trip each (three before), the same answers."""
    from shared.testing import transactions_begun

    if backend != "postgres":
        pytest.skip("the autocommit read is PostgreSQL's path")
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = (await client.post(URL, json=self_report(), headers=who.business_owner)).json()
        track = f"/api/v1/public/track/{created['tracking_code']}"
        verify = f"/api/v1/public/verify/{created['registration_number']}"
        await client.get(track)
        await client.get(verify)
        with transactions_begun() as begun, Statements(app) as seen:
            tracked = await client.get(track)
            verified = await client.get(verify)
            unknown = await client.get("/api/v1/public/verify/TIDAK-ADA")
            page = await client.get(f"/lacak?kode={created['tracking_code']}")
    assert tracked.status_code == 200, tracked.text
    assert tracked.json()["tracking_code"] == created["tracking_code"]
    assert verified.status_code == 200, verified.text
    assert verified.json()["valid"] is True
    assert verified.json()["number"] == created["registration_number"]
    assert_problem(unknown, 404)
    assert page.status_code == 200
    assert len(seen) == 4, seen
    assert begun == []
