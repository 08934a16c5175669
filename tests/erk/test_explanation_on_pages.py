""" "Why this amount" as the employee reads it on her month page: percentages with a decimal comma,
and a disciplinary sentence and a Plt/Plh addition each on their own line."""

from __future__ import annotations

import datetime as dt
import html
import re

import httpx
from sqlalchemy import update

from erk.models import Account
from shared.testing import client_for

from .conftest import STAFF, STAFF2, Erk
from .test_pages import _login
from .test_pay_rules import _attendance, _days, _recap, _work


async def _month_page(erk: Erk, nip: str, period: str) -> httpx.Response:
    await erk.login(nip)
    async with erk.app.state.db.sessionmaker.begin() as session:
        await session.execute(
            update(Account).where(Account.username == nip).values(must_change_password=False)
        )
    async with client_for(erk.app) as browser:
        await _login(browser, nip, "sandi-awal-123")
        page = await browser.get(f"/bulan-saya?bulan={period}")
    assert page.status_code == 200, page.text
    return page


def _lines(page: httpx.Response) -> list[str]:
    """The explanation's lines as shown (the ordered list under "Mengapa jumlahnya demikian")."""
    section = page.text.split("Mengapa jumlahnya demikian", 1)[1]
    return [html.unescape(li) for li in re.findall(r"<li>(.*?)</li>", section.split("</ol>")[0])]


async def test_percentages_on_the_month_page_have_a_decimal_comma(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 20)
    # Two sick days, one present day without entries: 5.100 of 5.400 minutes = 94,44 %.
    await _attendance(erk, STAFF, days[:2], "sick")
    await _attendance(erk, STAFF, days[2:])
    await _work(erk, STAFF, days[2:19], 300)
    assert (await _recap(erk, period))["performance_pct"] == 94.44
    page = await _month_page(erk, STAFF, period)
    assert "<dt>Kinerja</dt><dd>94,44 %</dd>" in page.text
    assert "<dt>Disiplin</dt><dd>100,00 %</dd>" in page.text
    lines = _lines(page)
    assert any("capaian kinerja 94,44 % (paling tinggi 100 %)" in line for line in lines)
    assert any("× 94,44 % = Rp2.833.333." in line for line in lines)
    assert "94.44" not in page.text
    # No percentage anywhere in the explanation is written with a decimal point.
    assert not [line for line in lines if re.search(r"\d\.\d{1,2} ?%", line)]


async def test_the_acting_addition_and_the_sentence_each_have_their_own_line(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 20)
    for nip in (STAFF, STAFF2):
        await _attendance(erk, nip, days)
        await _work(erk, nip, days, 300)
    adjustments = (
        {
            "nip": STAFF,
            "kind": "sanction",
            "start_date": days[0].isoformat(),
            "end_date": (days[0] + dt.timedelta(days=180)).isoformat(),
            "percent": 25,
            "legal_basis": "SK Bupati 800/12/2024; PP 94/2021 Pasal 8 ayat (3)",
        },
        {
            "nip": STAFF2,
            "kind": "acting",
            "start_date": days[10].isoformat(),
            "end_date": (days[-1] + dt.timedelta(days=40)).isoformat(),
            "percent": 20,
            "acting_base_idr": 7_000_000,
            "legal_basis": "Sprint Plt Kepala Bidang 821/45/2024",
        },
    )
    for body in adjustments:
        r = await erk.client.post("/api/v1/pay-adjustments", json=body, headers=erk.hr)
        assert r.status_code == 201, r.text

    # STAFF2 acts for 10 of 20 working days: 7.000.000 x 20 % x 10 / 20 = 700.000 on top of
    # 5.000.000.
    acting = _lines(await _month_page(erk, STAFF2, period))
    plt = [line for line in acting if "Plt/Plh" in line]
    assert len(plt) == 1
    assert plt[0].startswith("Tambahan Plt/Plh")
    assert plt[0].endswith("= Rp700.000.")
    assert "Hukuman disiplin" not in plt[0]
    assert any(
        line.startswith("Jumlah TPP bruto") and line.endswith("= Rp5.700.000.") for line in acting
    )

    # STAFF's 25 % sentence: 5.000.000 x 25 % = 1.250.000, on a line of its own that says
    # nothing of Plt/Plh; the acting line says there is none.
    punished = _lines(await _month_page(erk, STAFF, period))
    sentence = [line for line in punished if line.startswith("Hukuman disiplin")]
    assert len(sentence) == 1
    assert "25,00 %" in sentence[0]
    assert sentence[0].endswith("= Rp1.250.000.")
    assert "Plt/Plh" not in sentence[0]
    none = [line for line in punished if line.startswith("Tambahan Plt/Plh")]
    assert len(none) == 1
    assert none[0].endswith("Rp0.")
