"""HR's account list (/akun): the database filters by rank and search text and loads one page; the
SQL rule is the Python rule (`accounts.manages`) for every combination of roles."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, insert, select

from erk import accounts
from erk.models import Account
from shared.auth import Principal
from shared.testing import client_for

from .conftest import Erk
from .test_admin_pages import _as_hr
from .test_round_trips import _work, statements

# Every known role and one the code does not know (it ranks above all).
ROLES = (*accounts.GRANTABLE_ROLES, "pengawas_khusus")
COMBINATIONS = [sorted(c) for n in range(len(ROLES) + 1) for c in itertools.combinations(ROLES, n)]


def _username(roles: list[str]) -> str:
    return "akun-" + ("-".join(roles) or "tanpa-peran")


async def _add(erk: Erk, rows: list[dict[str, Any]]) -> None:
    now = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    defaults = {
        "password_hash": "!",
        "active": True,
        "must_change_password": False,
        "failed_logins": 0,
        "created_at": now,
    }
    async with erk.app.state.db.sessionmaker.begin() as session:
        await session.execute(insert(Account), [defaults | r for r in rows])


async def test_the_sql_rule_is_the_python_rule_for_every_role_combination(erk: Erk) -> None:
    await _add(
        erk,
        [
            {"username": _username(roles), "full_name": f"Pegawai {i}", "roles": roles}
            for i, roles in enumerate(COMBINATIONS)
        ],
    )
    async with erk.app.state.db.sessionmaker() as session:
        every = list(await session.scalars(select(Account).order_by(Account.username)))
        assert len(every) >= len(COMBINATIONS)
        for i, roles in enumerate(COMBINATIONS):
            # the actor owns one of the accounts: its own is never listed
            actor = Principal(i + 1, _username(roles), frozenset(roles))
            listed, more = await accounts.accounts_below(session, actor, limit=len(every))
            expected = [a.username for a in every if accounts.manages(actor, a)]
            assert [a.username for a in listed] == expected, roles
            assert more == 0
        hr = Principal(1, "bkpsdm", frozenset({"hr_admin"}))
        shown = {a.username for a in (await accounts.accounts_below(session, hr, limit=100))[0]}
        assert _username(["admin"]) not in shown
        assert _username(["employee", "hr_admin"]) not in shown
        assert _username(["pengawas_khusus"]) not in shown
        assert _username(["auditor", "employee", "unit_admin"]) in shown
        assert _username([]) in shown


@contextmanager
def loaded_accounts(erk: Erk) -> Iterator[list[str]]:
    """The usernames of the Account rows the ORM builds meanwhile."""
    seen: list[str] = []

    def record(target: Account, _context: Any) -> None:
        seen.append(target.username)

    event.listen(Account, "load", record)
    try:
        yield seen
    finally:
        event.remove(Account, "load", record)


async def test_the_account_list_loads_one_page_and_searches_in_the_database(erk: Erk) -> None:
    await erk.setup()
    rows = [
        {
            "username": f"19900101201501{i:04d}",
            "full_name": f"Pegawai Nomor {i}",
            "roles": ["employee"],
        }
        for i in range(130)
    ]
    rows += [
        {"username": "20000101202501" + "9999", "full_name": "Sri RAHAYU", "roles": ["employee"]},
        {"username": "sistem", "full_name": "Rahayu Admin", "roles": ["admin"]},
        {"username": "kepala_100%", "full_name": "Kepala", "roles": ["employee"]},
    ]
    await _add(erk, rows)
    async with client_for(erk.app) as hr:
        await _as_hr(erk, hr)
        with statements(erk) as seen, loaded_accounts(erk) as loaded:
            first = await hr.get("/akun")
        assert first.status_code == 200, first.text
        # one page of 50 (and one row to know there is more), then one count: not 133 rows
        assert len(loaded) == 51, loaded
        assert [s for s in _work(seen) if s == "SELECT"].count("SELECT") <= 4, seen
        assert first.text.count('<tr id="akun-') == 50
        assert "Dan 82 akun lain" in first.text
        assert len(first.content) <= 50_000
        nxt = "/akun?q=&amp;setelah=199001012015010049"
        assert nxt in first.text
        second = await hr.get("/akun", params={"setelah": "199001012015010049"})
        assert 'id="akun-199001012015010050"' in second.text
        assert 'id="akun-199001012015010049"' not in second.text
        assert "Dan 32 akun lain" in second.text
        third = await hr.get("/akun", params={"setelah": "199001012015010099"})
        assert third.text.count('<tr id="akun-') == 32  # 30 + two more; HR's own and admin's not
        assert "Dan " not in third.text
        assert "Kembali ke awal daftar" in third.text
        # Search: any case, by name or NIP; never an account above HR's rank.
        with loaded_accounts(erk) as loaded:
            found = await hr.get("/akun", params={"q": "rahayu"})
        assert loaded == ["200001012025019999"]
        assert "Sri RAHAYU" in found.text
        assert "Rahayu Admin" not in found.text
        assert "Dan " not in found.text
        by_nip = await hr.get("/akun", params={"q": "2015010123"})
        assert by_nip.text.count('<tr id="akun-') == 1
        # `%` and `_` are text, not patterns
        percent = await hr.get("/akun", params={"q": "_100%"})
        assert percent.text.count('<tr id="akun-') == 1
        assert 'id="akun-kepala_100%"' in percent.text
