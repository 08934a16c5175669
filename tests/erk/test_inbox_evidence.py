"""The supervisor's verification page links an item's evidence, and says when there is none."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import update

from erk.models import Account
from shared.testing import client_for

from .conftest import CHIEF, STAFF, Erk
from .test_evidence import PDF
from .test_pages import _login

TODAY = dt.date(2025, 3, 12)


def _item(page: str, activity: int) -> str:
    """The inbox's list item of one activity."""
    items = re.findall(r"<li>\s*<input[^>]*>.*?</li>", page, flags=re.S)
    mine = [i for i in items if f'value="{activity}"' in i]
    assert len(mine) == 1, page
    return mine[0]


async def test_the_inbox_links_evidence_and_says_when_there_is_none(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    day = TODAY - dt.timedelta(days=1)
    with_file = (await erk.log(STAFF, day, 60, "Rapat koordinasi, notulen terlampir")).json()
    without = (await erk.log(STAFF, day, 45, "Menelaah surat masuk")).json()
    r = await erk.client.put(
        f"/api/v1/activities/{with_file['id']}/evidence",
        files={"file": ("notulen.pdf", PDF, "application/pdf")},
        headers=await erk.login(STAFF),
    )
    assert r.status_code == 200, r.text
    await erk.login(CHIEF)
    async with erk.app.state.db.sessionmaker.begin() as session:
        await session.execute(
            update(Account).where(Account.username == CHIEF).values(must_change_password=False)
        )
    async with client_for(erk.app) as browser:
        await _login(browser, CHIEF, "sandi-awal-123")
        page = await browser.get("/verifikasi")
        assert page.status_code == 200, page.text

        linked = _item(page.text, with_file["id"])
        link = f"/api/v1/activities/{with_file['id']}/evidence"
        assert re.search(rf'Bukti: <a href="[^"]*{re.escape(link)}">lihat bukti</a>', linked)
        assert "tidak ada" not in linked

        bare = _item(page.text, without["id"])
        assert re.search(r"Bukti: tidak ada</p>", bare)
        assert "lihat bukti" not in bare
        assert "/evidence" not in bare
        assert page.text.count("lihat bukti") == 1

        # The link works for the supervisor's page session: it is the file itself.
        href = re.search(r'<a href="([^"]*/evidence)">lihat bukti</a>', linked)
        assert href is not None
        evidence = await browser.get(href.group(1))
        assert evidence.status_code == 200, evidence.text
        assert evidence.content == PDF
        assert evidence.headers["content-type"].startswith("application/pdf")
        # The item without evidence has no file to fetch.
        missing = await browser.get(f"/api/v1/activities/{without['id']}/evidence")
        assert missing.status_code == 404
