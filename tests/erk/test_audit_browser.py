"""e-RK mounts the shared audit-event browser: auditors see events and the verify result."""

from __future__ import annotations

from shared.testing import user_headers

from .conftest import Erk

HTML = {"accept": "text/html"}


async def test_audit_browser_for_auditors_only(erk: Erk) -> None:
    await erk.setup()
    await erk.unit("DINAS")  # an audited write
    auditor = await user_headers(erk.app, erk.client, "auditor1", ["auditor"])
    page = await erk.client.get("/audit/peristiwa", headers={**auditor, **HTML})
    assert page.status_code == 200
    assert 'id="verify-result"><span class="badge ok">' in page.text
    assert "<code>" in page.text
    bad = await erk.client.get(
        "/audit/peristiwa", params={"dari": "besok"}, headers={**auditor, **HTML}
    )
    assert bad.status_code == 422
    assert "TTTT-BB-HH" in bad.text
    refused = await erk.client.get("/audit/peristiwa", headers={**erk.hr, **HTML})
    assert refused.status_code == 403
