"""The net TPP reaches payroll and the employee as computed: the xlsx and CSV exports and the
employee's own month page carry the same PPh 21, BPJS and net, to the rupiah.

The worked example of `test_pay_rules.test_net_after_pph21_ter_and_bpjs`: PTKP K/1 (TER category
B), salary Rp4.500.000, a full 21-working-day month: TPP Rp5.000.000. Salary + TPP = 9.500.000:
TER B 1,5 % = 142.500, the salary alone 0 %: PPh 21 Rp142.500. BPJS 1 % of 9.500.000 less 1 % of
4.500.000 = Rp50.000. Net 5.000.000 - 142.500 - 50.000 = Rp4.807.500."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from sqlalchemy import update

from erk.models import Account
from shared.testing import client_for

from .conftest import Erk
from .test_pages import _login
from .test_pay_rules import NEWCOMER, _attendance, _days, _newcomer, _recap, _work

GROSS, PPH21, BPJS, NET = 5_000_000, 142_500, 50_000, 4_807_500


async def _month(erk: Erk) -> str:
    await erk.tree()
    period, days = _days(erk, 21)
    await _newcomer(erk, ptkp_status="K/1", salary_gross_idr=4_500_000)
    await _attendance(erk, NEWCOMER, days)
    await _work(erk, NEWCOMER, days, 300)
    row = await _recap(erk, period, NEWCOMER)
    assert (row["tpp_total_idr"], row["pph21_idr"], row["bpjs_idr"], row["tpp_net_idr"]) == (
        GROSS,
        PPH21,
        BPJS,
        NET,
    )
    return period


async def test_the_exports_carry_pph21_bpjs_and_net_to_the_rupiah(erk: Erk) -> None:
    period = await _month(erk)

    r = await erk.client.get(f"/api/v1/recaps/{period}.xlsx", headers=erk.hr)
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    header = [c.value for c in sheet[3]]
    columns = {name: header.index(name) for name in header if name}
    money = ("TPP bruto (Rp)", "PPh 21 (Rp)", "BPJS Kesehatan (Rp)", "TPP bersih (Rp)")
    lines = [row for row in sheet.iter_rows(min_row=4) if row[0].value == NEWCOMER]
    assert len(lines) == 1
    cells = [lines[0][columns[name]] for name in money]
    assert [c.value for c in cells] == [GROSS, PPH21, BPJS, NET]
    # Whole rupiah with thousands separators, never a float or a text.
    assert all(isinstance(c.value, int) for c in cells)
    assert {c.number_format for c in cells} == {"#,##0"}

    r = await erk.client.get(f"/api/v1/recaps/{period}.csv", headers=erk.hr)
    assert r.status_code == 200, r.text
    text = r.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    mine = [row for row in rows if row["NIP"] == NEWCOMER]
    assert len(mine) == 1
    assert [mine[0][name] for name in money] == ["5000000", "142500", "50000", "4807500"]


async def test_the_employee_sees_the_same_net_on_her_month_page(erk: Erk) -> None:
    period = await _month(erk)
    await erk.login(NEWCOMER)
    async with erk.app.state.db.sessionmaker.begin() as session:
        await session.execute(
            update(Account).where(Account.username == NEWCOMER).values(must_change_password=False)
        )
    async with client_for(erk.app) as browser:
        await _login(browser, NEWCOMER, "sandi-awal-123")
        page = await browser.get(f"/bulan-saya?bulan={period}")
    assert page.status_code == 200, page.text
    facts = dict(
        re.findall(r"<dt>([^<]+)</dt><dd>(?:<strong>)?([^<]+?)(?:</strong>)?</dd>", page.text)
    )
    assert facts["Jumlah bruto"] == "Rp5.000.000"
    assert facts["PPh 21"] == "− Rp142.500"
    assert facts["Iuran BPJS Kesehatan"] == "− Rp50.000"
    assert facts["Diterima (bersih)"] == "Rp4.807.500"
    # The explanation's last line adds it up the same way.
    assert "TPP bersih: Rp5.000.000 − Rp142.500 − Rp50.000 = Rp4.807.500." in page.text
    for unformatted in ("4807500", "4.807.500,", "4,807,500", "142500", "142,500"):
        assert unformatted not in page.text
