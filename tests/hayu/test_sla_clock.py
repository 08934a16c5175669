"""The whole-SLA clock: pauses and resumes exact to the day over 2025-2030 calendars, and deemed
approval (fiktif positif) exactly when the whole SLA lapses, in any stage."""

from __future__ import annotations

import datetime as dt

from hayu_factories import PDF, actors, filing, upload_checklist
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from hayu import sla
from hayu.dependencies import context_of
from hayu.models import Application, ApplicationDocument
from shared.calendar import WorkingCalendar
from shared.testing import assert_problem, client_for

ONE = dt.timedelta(days=1)


def _brute_due(calendar, start, sla_days, pauses):
    """Walk day by day: a working day after `start` counts unless it lies in (paused, resumed]."""
    used, day = 0, start
    while used < sla_days:
        day += ONE
        paused = any(p < day <= r for p, r in pauses)
        if calendar.is_working_day(day) and not paused:
            used += 1
    return day


@st.composite
def scenarios(draw):
    holidays = draw(st.sets(st.dates(dt.date(2025, 1, 1), dt.date(2030, 12, 31)), max_size=40))
    calendar = WorkingCalendar("Asia/Jakarta", extra_holidays=holidays)
    start = draw(st.dates(dt.date(2025, 1, 1), dt.date(2029, 6, 30)))
    sla_days = draw(st.integers(1, 30))
    pauses = []
    cursor = start
    for _ in range(draw(st.integers(0, 4))):
        due_now = _brute_due(calendar, start, sla_days, pauses)
        if cursor >= due_now:
            break
        # the clock pauses while it runs: before the day its last SLA day is used
        paused = cursor + dt.timedelta(days=draw(st.integers(0, (due_now - cursor).days - 1)))
        resumed = paused + dt.timedelta(days=draw(st.integers(0, 40)))
        pauses.append((paused, resumed))
        cursor = resumed
    return calendar, start, sla_days, pauses


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_pauses_and_resumes_are_exact_to_the_day(scenario):
    calendar, start, sla_days, pauses = scenario
    paused_days = sum(sla.paused_working_days(calendar, p, r) for p, r in pauses)
    due = sla.due_date(calendar, start, sla_days, paused_days)
    assert due == _brute_due(calendar, start, sla_days, pauses)
    assert sla.used_working_days(calendar, start, due, pauses) == sla_days
    next_working = calendar.add_working_days(due, 1)
    assert sla.used_working_days(calendar, start, next_working, pauses) == sla_days + 1


REKLAME_CHECKLIST = ("ktp", "desain", "bukti_retribusi")


async def _upload(client, who, app_id, items=REKLAME_CHECKLIST):
    await upload_checklist(client, who.business_owner, app_id, items)


async def _start_clocks(app, at=None):
    ctx = context_of(app.state, "http://test")
    async with app.state.db.sessionmaker.begin() as session:
        return await sla.start_missing_clocks(session, ctx.at(at) if at else ctx)


async def _file_stalled_in_verification(app, client, who, *, complete=True):
    created = (
        await client.post(
            "/api/v1/applications",
            json=filing("REKLAME", capital_idr=750_000_000),
            headers=who.business_owner,
        )
    ).json()
    if complete:
        await _upload(client, who, created["id"])
        assert await _start_clocks(app) == 1
    accepted = await client.post(
        f"/api/v1/applications/{created['id']}/transitions",
        json={"action": "accept"},
        headers=who.officer,
    )
    assert accepted.status_code == 200, accepted.text
    return created["id"]


async def test_deemed_approval_fires_when_the_whole_sla_lapses_in_any_stage(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        app_id = await _file_stalled_in_verification(app, client, who)
        ctx = context_of(app.state, "http://test")
        async with app.state.db.sessionmaker() as session:
            due = (await session.get(Application, app_id)).sla_due_date
        assert due is not None
        on_due = ctx.calendar.local_midnight_utc(due) + dt.timedelta(hours=12)
        async with app.state.db.sessionmaker.begin() as session:
            assert await sla.run_deemed_approvals(session, ctx.at(on_due)) == []
        async with app.state.db.sessionmaker.begin() as session:
            issued = await sla.run_deemed_approvals(session, ctx.at(on_due + ONE))
        assert issued == [app_id]
        read = (await client.get(f"/api/v1/applications/{app_id}", headers=who.officer)).json()
        assert read["status"] == "issued"
        assert read["deemed_approved"] is True
        last = read["history"][-1]
        assert last["from_state"] == "document_verification"
        # a local permit: UU 30/2014 Pasal 53 as amended, not PP 28/2025
        assert "UU 30/2014 Pasal 53" in last["note"]
        assert "PP 28/2025" not in last["note"]


async def test_waiting_for_the_applicant_stops_the_clock(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        app_id = await _file_stalled_in_verification(app, client, who)
        ctx = context_of(app.state, "http://test")
        revision = await client.post(
            f"/api/v1/applications/{app_id}/transitions",
            json={"action": "request_revision", "note": "Desain belum ada"},
            headers=who.officer,
        )
        assert revision.status_code == 200
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=60)
        async with app.state.db.sessionmaker.begin() as session:
            assert await sla.run_deemed_approvals(session, ctx.at(later)) == []
            # the pause began 20 calendar days ago (moved back to measure it)
            paused_since = dt.datetime.now(dt.UTC) - dt.timedelta(days=20)
            await session.execute(
                update(Application)
                .where(Application.id == app_id)
                .values(sla_paused_since=paused_since)
            )
        resubmit = await client.post(
            f"/api/v1/applications/{app_id}/transitions",
            json={"action": "resubmit"},
            headers=who.business_owner,
        )
        assert resubmit.status_code == 200, resubmit.text
        async with app.state.db.sessionmaker() as session:
            row = (
                await session.execute(select(Application).where(Application.id == app_id))
            ).scalar_one()
        today = ctx.calendar.local_date(dt.datetime.now(dt.UTC))
        expected_pause = sla.paused_working_days(
            ctx.calendar, ctx.calendar.local_date(paused_since), today
        )
        assert row.sla_paused_days == expected_pause > 0
        started = ctx.calendar.local_date(row.sla_started_at)
        assert row.sla_due_date == sla.due_date(ctx.calendar, started, 9, expected_pause)


class TestSegregationOfDuties:
    async def test_one_account_cannot_file_and_then_act_as_official_on_it(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            from shared.testing import user_headers

            everything = await user_headers(
                app, client, "serba", ["business_owner", "officer", "approver"]
            )
            created = await client.post(
                "/api/v1/applications",
                json=filing("SS", capital_idr=900_000_000),
                headers=everything,
            )
            assert created.status_code == 201
            refused = await client.post(
                f"/api/v1/applications/{created.json()['id']}/transitions",
                json={"action": "accept"},
                headers=everything,
            )
            assert_problem(refused, 403, "separation-of-duties")

    async def test_the_officer_who_verified_does_not_approve(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            from shared.testing import user_headers

            who = await actors(app, client)
            both = await user_headers(app, client, "petugas-ganda", ["officer", "approver"])
            created = (
                await client.post(
                    "/api/v1/applications",
                    json=filing("SS", capital_idr=900_000_000),
                    headers=who.business_owner,
                )
            ).json()
            url = f"/api/v1/applications/{created['id']}"
            for item in ("ktp", "npwp", "akta"):
                await client.post(
                    f"{url}/documents",
                    data={"checklist_item": item},
                    files={"file": ("a.pdf", PDF, "application/pdf")},
                    headers=who.business_owner,
                )
            for action in ("accept", "verify_documents"):
                done = await client.post(
                    f"{url}/transitions", json={"action": action}, headers=both
                )
                assert done.status_code == 200, done.text
            refused = await client.post(
                f"{url}/transitions", json={"action": "approve"}, headers=both
            )
            assert_problem(refused, 403, "separation-of-duties")
            approved = await client.post(
                f"{url}/transitions", json={"action": "approve"}, headers=who.approver
            )
            assert approved.status_code == 200, approved.text


async def test_statistics_use_the_clock_and_leave_out_revision_time(make_app):
    from hayu import oversight

    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        app_id = await _file_stalled_in_verification(app, client, who)
    ctx = context_of(app.state, "http://test")
    calendar = ctx.calendar
    start = dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC)  # Monday 09:00 WIB
    issued = dt.datetime(2026, 3, 20, 2, tzinfo=dt.UTC)  # three weeks later
    used = sla.used_working_days(calendar, calendar.local_date(start), calendar.local_date(issued))
    async with app.state.db.sessionmaker.begin() as session:
        await session.execute(
            update(Application)
            .where(Application.id == app_id)
            .values(
                status="issued",
                submitted_at=start,
                sla_started_at=start,
                issued_at=issued,
                sla_paused_days=used - 8,  # all but 8 working days spent waiting for revision
                number="00001/REKLAME/3273/DPMPTSP/III/2026",
            )
        )
    async with app.state.db.sessionmaker() as session:
        stats = await oversight.public_stats(session, ctx.at(issued))
    row = next(i for i in stats.items if i.permit_type_code == "REKLAME")
    assert row.median_working_days == 8
    assert row.within_sla_share == 1.0  # 8 <= 9: on time once revision time is left out


async def test_files_from_before_the_clock_get_it_from_when_they_became_complete(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        app_id = await _file_stalled_in_verification(app, client, who)
    ctx = context_of(app.state, "http://test")
    async with app.state.db.sessionmaker.begin() as session:
        await session.execute(
            update(Application)
            .where(Application.id == app_id)
            .values(sla_started_at=None, sla_due_date=None)
        )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=40)
    async with app.state.db.sessionmaker.begin() as session:
        assert await sla.run_deemed_approvals(session, ctx.at(later)) == [app_id]


class TestTheClockRunsFromTheCompleteApplication:
    """UU 30/2014 Pasal 53 / PP 6/2021: the deadline runs from a complete application."""

    async def test_a_file_with_documents_missing_is_never_deemed_approved(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            app_id = await _file_stalled_in_verification(app, client, who, complete=False)
            await _upload(client, who, app_id, ("ktp", "desain"))  # bukti_retribusi missing
        async with app.state.db.sessionmaker() as session:
            row = await session.get(Application, app_id)
            assert (row.sla_started_at, row.sla_due_date) == (None, None)
        ctx = context_of(app.state, "http://test")
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=90)
        async with app.state.db.sessionmaker.begin() as session:
            assert await sla.run_deemed_approvals(session, ctx.at(later)) == []
        async with app.state.db.sessionmaker() as session:
            row = await session.get(Application, app_id)
            assert row.status == "document_verification"
            assert row.deemed_approved is False
            assert row.sla_due_date is None

    async def test_an_empty_file_clocked_from_its_filing_is_not_deemed_approved(self, make_app):
        # a file filed while the clock still started at filing: it has a due date but no documents
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            app_id = await _file_stalled_in_verification(app, client, who, complete=False)
        ctx = context_of(app.state, "http://test")
        filed = dt.datetime.now(dt.UTC)
        async with app.state.db.sessionmaker.begin() as session:
            await session.execute(
                update(Application)
                .where(Application.id == app_id)
                .values(
                    sla_started_at=filed,
                    sla_due_date=sla.due_date(ctx.calendar, ctx.calendar.local_date(filed), 9, 0),
                )
            )
        later = filed + dt.timedelta(days=60)
        async with app.state.db.sessionmaker.begin() as session:
            assert await sla.run_deemed_approvals(session, ctx.at(later)) == []
        async with app.state.db.sessionmaker() as session:
            row = await session.get(Application, app_id)
            assert (row.status, row.deemed_approved) == ("document_verification", False)
            assert (row.sla_started_at, row.sla_due_date) == (None, None)

    async def test_the_clock_starts_when_the_last_document_arrives_not_at_filing(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            app_id = await _file_stalled_in_verification(app, client, who, complete=False)
            ctx = context_of(app.state, "http://test")
            filed = dt.datetime.now(dt.UTC) - dt.timedelta(days=45)
            async with app.state.db.sessionmaker.begin() as session:
                await session.execute(
                    update(Application).where(Application.id == app_id).values(submitted_at=filed)
                )
            assert await _start_clocks(app) == 0  # 45 days after filing, still incomplete
            await _upload(client, who, app_id)
        assert await _start_clocks(app) == 1
        async with app.state.db.sessionmaker() as session:
            row = await session.get(Application, app_id)
        today = ctx.calendar.local_date(dt.datetime.now(dt.UTC))
        assert ctx.calendar.local_date(row.sla_started_at) == today
        due = sla.due_date(ctx.calendar, today, 9, 0)
        assert row.sla_due_date == due
        on_due = ctx.calendar.local_midnight_utc(due) + dt.timedelta(hours=12)
        async with app.state.db.sessionmaker.begin() as session:
            assert await sla.run_deemed_approvals(session, ctx.at(on_due)) == []
        async with app.state.db.sessionmaker.begin() as session:
            assert await sla.run_deemed_approvals(session, ctx.at(on_due + ONE)) == [app_id]


async def test_the_file_page_explains_segregation_of_duties_in_indonesian(make_app):
    import re

    from shared.testing import user_headers

    app = await make_app("hayu")
    async with client_for(app) as client:
        both = await user_headers(app, client, "serba", ["business_owner", "officer"])
        created = await client.post(
            "/api/v1/applications", json=filing("SS", capital_idr=900_000_000), headers=both
        )
        app_id = created.json()["id"]
        login = await client.post("/login", data={"username": "serba", "password": "password-123"})
        assert login.status_code == 303
        page = await client.get(f"/berkas/{app_id}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        refused = await client.post(
            f"/berkas/{app_id}/aksi", data={"action": "accept", "csrf_token": token}
        )
        assert refused.status_code == 403
        assert "Pemisahan tugas" in refused.text


class TestEveryPageReadsTheSameClock:
    """The due date shows as soon as the file is complete (before any periodic pass), and the
    public "Lama proses" is the SLA clock's count: from the complete application, pauses out."""

    async def test_the_due_date_shows_once_the_last_document_is_in(self, make_app):
        from shared.web import tanggal

        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            app_id = await _file_stalled_in_verification(app, client, who, complete=False)
            url = f"/api/v1/applications/{app_id}"
            await _upload(client, who, app_id, ("ktp", "desain"))
            before = (await client.get(url, headers=who.business_owner)).json()
            assert (before["sla_started_at"], before["sla_due_date"]) == (None, None)
            await _upload(client, who, app_id, ("bukti_retribusi",))  # now complete
            ctx = context_of(app.state, "http://test")
            due = sla.due_date(ctx.calendar, ctx.today, 9, 0)
            for headers in (who.business_owner, who.officer):
                read = (await client.get(url, headers=headers)).json()
                assert read["sla_due_date"] == due.isoformat()
                assert read["sla_working_days"] == 9
                assert read["sla_working_days_used"] == 0
                assert read["sla_paused"] is False
            login = await client.post(
                "/login", data={"username": "u-business_owner", "password": "password-123"}
            )
            assert login.status_code == 303
            page = await client.get(f"/berkas/{app_id}")
            assert f"batas {tanggal(due)}" in page.text
            assert "0 dari 9 hari kerja sejak berkas lengkap" in page.text
        async with app.state.db.sessionmaker() as session:
            stored = await session.get(Application, app_id)
            assert stored.sla_due_date is None  # read from the uploads: the upload wrote nothing
        assert await _start_clocks(app) == 1  # the periodic pass stores the same clock
        async with app.state.db.sessionmaker() as session:
            assert (await session.get(Application, app_id)).sla_due_date == due

    async def test_a_revision_asked_before_the_periodic_pass_pauses_the_clock(self, make_app):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            app_id = await _file_stalled_in_verification(app, client, who, complete=False)
            await _upload(client, who, app_id)
            asked = await client.post(
                f"/api/v1/applications/{app_id}/transitions",
                json={"action": "request_documents", "note": "Desain tidak terbaca"},
                headers=who.officer,
            )
            assert asked.status_code == 200, asked.text
            assert asked.json()["sla_paused"] is True
            assert asked.json()["sla_due_date"] is None
        async with app.state.db.sessionmaker() as session:
            row = await session.get(Application, app_id)
        # stored by the transition, from when the file became complete, and paused by it
        assert row.sla_started_at is not None
        assert row.sla_paused_since is not None

    async def test_the_public_lama_proses_counts_from_complete_and_leaves_out_pauses(
        self, make_app
    ):
        app = await make_app("hayu")
        async with client_for(app) as client:
            who = await actors(app, client)
            app_id = await _file_stalled_in_verification(app, client, who, complete=False)
            code = (await client.get(f"/api/v1/applications/{app_id}", headers=who.officer)).json()[
                "tracking_code"
            ]
            calendar = context_of(app.state, "http://test").calendar
            filed = dt.datetime(2026, 4, 6, 2, tzinfo=dt.UTC)  # Monday 09:00 WIB
            complete = dt.datetime(2026, 4, 20, 2, tzinfo=dt.UTC)  # two weeks later
            paused = dt.datetime(2026, 4, 24, 2, tzinfo=dt.UTC)
            now = dt.datetime(2026, 5, 15, 2, tzinfo=dt.UTC)
            async with app.state.db.sessionmaker.begin() as session:
                await session.execute(
                    update(Application)
                    .where(Application.id == app_id)
                    .values(submitted_at=filed, status_since=filed)
                )
            app.state.clock = lambda: now
            # no document yet: the clock has not started, whatever the time since filing
            track = (await client.get(f"/api/v1/public/track/{code}")).json()
            assert track["working_days_so_far"] == 0
            assert track["sla_started_at"] is None
            page = await client.get("/lacak", params={"kode": code})
            assert "Belum berjalan" in page.text
            async with app.state.db.sessionmaker.begin() as session:
                await session.execute(
                    update(Application)
                    .where(Application.id == app_id)
                    .values(
                        status="revision_requested",
                        status_since=paused,
                        sla_started_at=complete,
                        sla_paused_days=2,  # an earlier pause of two working days
                        sla_paused_since=paused,  # and waiting for the applicant since then
                        sla_due_date=None,
                    )
                )
            track = (await client.get(f"/api/v1/public/track/{code}")).json()
            page = await client.get("/lacak", params={"kode": code})
        start, today = calendar.local_date(complete), calendar.local_date(now)
        expected = (
            sla.used_working_days(calendar, start, today, [(calendar.local_date(paused), today)])
            - 2
        )
        assert track["working_days_so_far"] == expected
        assert 0 < expected < calendar.elapsed_working_days(filed, now)  # not from the filing
        assert track["sla_paused"] is True
        assert f"{expected} dari 9 hari kerja sejak berkas lengkap" in page.text
        assert "sedang dihentikan" in page.text


async def test_statistics_clock_a_file_issued_before_its_clock_was_stored(make_app):
    from hayu import oversight

    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        app_id = await _file_stalled_in_verification(app, client, who, complete=False)
        await _upload(client, who, app_id)
    ctx = context_of(app.state, "http://test")
    calendar = ctx.calendar
    filed = dt.datetime(2026, 4, 6, 2, tzinfo=dt.UTC)
    complete = dt.datetime(2026, 4, 20, 2, tzinfo=dt.UTC)
    issued = dt.datetime(2026, 5, 15, 2, tzinfo=dt.UTC)
    async with app.state.db.sessionmaker.begin() as session:
        await session.execute(
            update(Application)
            .where(Application.id == app_id)
            .values(
                status="issued",
                submitted_at=filed,
                issued_at=issued,
                sla_started_at=None,
                number="00001/REKLAME/3273/DPMPTSP/V/2026",
            )
        )
        await session.execute(
            update(ApplicationDocument)
            .where(ApplicationDocument.application_id == app_id)
            .values(uploaded_at=complete)
        )
    async with app.state.db.sessionmaker() as session:
        stats = await oversight.public_stats(session, ctx.at(issued))
    row = next(i for i in stats.items if i.permit_type_code == "REKLAME")
    # counted from the uploads (complete), not from the filing two weeks before
    from_complete = sla.used_working_days(
        calendar, calendar.local_date(complete), calendar.local_date(issued)
    )
    assert row.median_working_days == from_complete
    assert from_complete < sla.used_working_days(
        calendar, calendar.local_date(filed), calendar.local_date(issued)
    )
