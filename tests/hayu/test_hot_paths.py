"""Filing, tracking and verification are hot paths: their database round trips are counted."""

from __future__ import annotations

import uuid

from hayu_factories import actors, filing
from starlette import datastructures

from shared.testing import client_for, statements_built_per_request, statements_sent


def _work(statement, context):
    head = statement.lstrip().split(None, 1)[0].upper()
    return head in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


def statements(app):
    return statements_sent(app, _work)


async def test_round_trips_of_filing_tracking_and_verification(make_app, backend):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        with statements(app) as seen:
            warm = await client.post(
                "/api/v1/applications", json=filing(capital_idr=1), headers=who.business_owner
            )
        assert warm.status_code == 201, warm.text
        # the first filing of the process loads the KBLI, region and risk lists (1 statement)
        postgres = backend == "postgres"
        assert len(seen) == (1 if postgres else 5) + 1, seen
        with statements(app) as seen:
            created = await client.post(
                "/api/v1/applications", json=filing(capital_idr=1), headers=who.business_owner
            )
        # PostgreSQL: one statement; SQLite: business, number, application, history, audit
        assert len(seen) == (1 if postgres else 5), seen
        with statements(app) as seen:
            permit = await client.post(
                "/api/v1/applications", json=filing("REKLAME"), headers=who.business_owner
            )
        assert len(seen) == (1 if postgres else 4), seen
        with statements(app) as seen:
            assert (
                await client.get(f"/api/v1/public/track/{permit.json()['tracking_code']}")
            ).status_code == 200
        assert len(seen) == 1, seen
        number = created.json()["registration_number"]
        with statements(app) as seen:
            assert (await client.get(f"/api/v1/public/verify/{number}")).status_code == 200
        assert len(seen) == 1, seen


async def test_the_public_verification_reads_only_what_it_shows(make_app, backend):
    """One prebuilt statement of the shown columns: no NIK, phone or address is even read.

    The old lookup loaded the application and the business whole (every column of both, the
    encrypted NIK and phone and the address included) through the ORM.
    """
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await client.post(
            "/api/v1/applications", json=filing(capital_idr=1), headers=who.business_owner
        )
        number = created.json()["registration_number"]
        with statements(app) as seen:
            answer = await client.get(f"/api/v1/public/verify/{number}")
        assert answer.status_code == 200, answer.text
        missing = await client.get("/api/v1/public/verify/NIB-0000000000000")
    assert missing.status_code == 404
    assert answer.json()["number"] == number
    assert answer.json()["business_name"]
    (statement,) = seen
    for personal in ("owner_nik", "owner_phone", "address", "kbli_codes", "capital_idr"):
        assert personal not in statement, personal


async def test_warm_hot_paths_send_prebuilt_statements_only(make_app):
    """Once warm, the self-report, the tracking lookup and the certificate check each send a
    statement from the compiled cache as the same text: no `IN` list (the spellings of a typed
    number) rendered into it per execution."""
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)

        async def rounds():
            keyed = {**who.business_owner, "Idempotency-Key": uuid.uuid4().hex}
            created = await client.post(
                "/api/v1/applications", json=filing(capital_idr=1), headers=keyed
            )
            assert created.status_code == 201, created.text
            body = created.json()
            tracked = await client.get(f"/api/v1/public/track/{body['tracking_code']}")
            number = body["registration_number"]
            verified = await client.get(f"/api/v1/public/verify/{number.lower()}")
            typed = await client.get(f"/api/v1/public/verify/{number.replace('-', ' ')}")
            assert (tracked.status_code, verified.status_code, typed.status_code) == (200,) * 3

        await rounds()
        await rounds()
        with statements_built_per_request(app) as built:
            await rounds()
    assert built == []


async def test_a_number_of_blanks_only_is_not_found_without_a_query(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        with statements(app) as seen:
            blank = await client.get("/api/v1/public/verify/%20%20")
    assert blank.status_code == 404, blank.text
    assert seen == []


def _count_urls(monkeypatch):
    made = []
    real = datastructures.URL.__init__

    def counting(self, *args, **kwargs):
        made.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(datastructures.URL, "__init__", counting)
    return made


async def test_a_keyed_write_builds_no_url_object(make_app, monkeypatch):
    """Before: the idempotency scope and the password-change check each parsed the request's URL
    (`request.url.path`) on every authenticated, keyed write."""
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        headers = {**who.business_owner, "Idempotency-Key": "k-1"}
        warm = await client.post(
            "/api/v1/applications", json=filing(capital_idr=1), headers=headers
        )
        assert warm.status_code == 201, warm.text
        made = _count_urls(monkeypatch)
        headers = {**who.business_owner, "Idempotency-Key": "k-2"}
        again = await client.post(
            "/api/v1/applications", json=filing(capital_idr=1), headers=headers
        )
        assert again.status_code == 201, again.text
        replay = await client.post(
            "/api/v1/applications", json=filing(capital_idr=1), headers=headers
        )
    assert made == []
    assert replay.json()["id"] == again.json()["id"]  # the same key is still the same write
