"""The employee's start page: today's and this month's minutes against the standard, what waits
for them, what waits for the supervisor (oldest first) and whom an acting official acts for."""

from __future__ import annotations

import datetime as dt
import re

from .conftest import CHIEF, DEPUTY, STAFF, Erk
from .test_batch import _browser

TODAY = dt.date(2025, 3, 12)


async def _week(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    assert (await erk.log(STAFF, TODAY, 240, "Menyusun telaah")).status_code == 201
    assert (await erk.log(STAFF, dt.date(2025, 3, 11), 300, "Rapat koordinasi")).status_code == 201
    rejected = await erk.log(STAFF, dt.date(2025, 3, 10), 120, "Mengarsip surat")
    r = await erk.client.post(
        "/api/v1/verifications",
        json={
            "activity_ids": [rejected.json()["id"]],
            "decision": "rejected",
            "note": "Lampirkan daftar surat",
        },
        headers=await erk.login(CHIEF),
    )
    assert r.status_code == 200, r.text


async def test_the_employee_sees_today_the_month_and_what_to_correct(erk: Erk) -> None:
    await _week(erk)
    async with _browser(erk, STAFF) as browser:
        page = await browser.get("/")
    assert page.status_code == 200, page.text
    text = page.text
    assert re.search(r'id="menit-hari-ini">240<', text)
    assert re.search(r'id="standar-harian">300<', text)
    # The month: 540 logged (the rejected entry does not count), none approved yet; the standard
    # is written the Indonesian way (thousands with a dot).
    assert re.search(r'id="menit-bulan-ini">540<', text)
    assert re.search(r'id="menit-disetujui">0<', text)
    standard = re.search(r'id="standar-bulan">([\d.]+)<', text)
    assert standard is not None
    assert "." in standard.group(1)
    assert "0,00 %" in text
    assert re.search(r'id="menunggu">2<', text)
    assert re.search(r'id="ditolak">1<', text)
    assert "Lampirkan daftar surat" in text
    assert 'href="/aktivitas?tanggal=2025-03-10"' in text
    # An employee supervising nobody sees no verification queue.
    assert 'id="verifikasi"' not in text


async def test_the_supervisor_sees_the_queue_oldest_first(erk: Erk) -> None:
    await _week(erk)
    async with _browser(erk, CHIEF) as browser:
        page = await browser.get("/")
    assert page.status_code == 200, page.text
    assert re.search(r'id="menunggu-verifikasi">2<', page.text)
    oldest = page.text[page.text.index('id="terlama"') :]
    assert oldest.index("Rapat koordinasi") < oldest.index("Menyusun telaah")
    assert "Anda bertindak sebagai Plt" not in page.text


async def test_an_acting_official_is_told_whom_they_act_for(erk: Erk) -> None:
    await _week(erk)
    r = await erk.client.post(
        "/api/v1/delegations",
        json={
            "supervisor_nip": CHIEF,
            "delegate_nip": DEPUTY,
            "start_date": "2025-03-10",
            "end_date": "2025-03-21",
        },
        headers=erk.hr,
    )
    assert r.status_code == 201, r.text
    async with _browser(erk, DEPUTY) as browser:
        page = await browser.get("/")
    assert page.status_code == 200, page.text
    assert (
        "Anda bertindak sebagai Plt Pelaksana (Pegawai 002) untuk memverifikasi aktivitas "
        "2 pegawai yang dipimpinnya, sampai 21 Maret 2025."
    ) in re.sub(r"\s+", " ", page.text)
    assert re.search(r'id="menunggu-verifikasi">2<', page.text)
    # After the delegation ends the notice and the queue are gone.
    erk.at(dt.date(2025, 3, 24))
    async with _browser(erk, DEPUTY) as browser:
        later = await browser.get("/")
    assert "Anda bertindak sebagai Plt" not in later.text


async def test_a_visitor_sees_the_landing_page(erk: Erk) -> None:
    await erk.tree()
    page = await erk.client.get("/")
    assert page.status_code == 200
    assert "Masuk dengan NIP" in page.text
    assert 'id="hari-ini"' not in page.text
