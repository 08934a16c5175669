"""Helpers for e-RK tests: a regency with units, a supervisor tree and a fixed clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from shared.testing import bearer, client_for, user_headers

WIB = ZoneInfo("Asia/Jakarta")

HEAD = "196805101990031003"  # kepala dinas
CHIEF = "197901202005012002"  # kepala bidang, supervises the staff
STAFF = "198503152010011001"
STAFF2 = "199001012015031004"
DEPUTY = "198807072015032005"  # acting official while the chief is away
OTHER = "199202022018011006"  # in another unit, supervises nobody here


def month_with_working_days(app: FastAPI, count: int) -> dt.date:
    """The first month of 2024-2025 with exactly `count` working days in the regency calendar."""
    calendar = app.state.calendar
    for year in (2024, 2025):
        for month in range(1, 13):
            if len(calendar.working_days_in_month(year, month)) == count:
                return dt.date(year, month, 1)
    raise AssertionError(f"no month with {count} working days")


class Erk:
    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client
        self.hr: dict[str, str] = {}
        self._tokens: dict[str, dict[str, str]] = {}

    def at(self, day: dt.date, hour: int = 10) -> None:
        moment = dt.datetime.combine(day, dt.time(hour), tzinfo=WIB).astimezone(dt.UTC)
        self.app.state.clock = lambda: moment

    async def setup(self) -> None:
        self.hr = await user_headers(self.app, self.client, "bkpsdm", ["hr_admin"])

    async def unit(self, code: str, parent: str | None = None) -> dict[str, Any]:
        r = await self.client.post(
            "/api/v1/units",
            json={"code": code, "name": f"Unit {code}", "parent_code": parent},
            headers=self.hr,
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def employee(
        self,
        nip: str,
        unit: str,
        *,
        supervisor: str | None = None,
        base: int = 5_000_000,
        name: str | None = None,
    ) -> dict[str, Any]:
        r = await self.client.post(
            "/api/v1/employees",
            json={
                "nip": nip,
                "name": name or f"Pegawai {nip[-3:]}",
                "unit_code": unit,
                "position": "Pelaksana",
                "job_class": 7,
                "rank": "III/a",
                "supervisor_nip": supervisor,
                "tpp_base_idr": base,
            },
            headers=self.hr,
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def login(self, nip: str) -> dict[str, str]:
        if nip not in self._tokens:
            r = await self.client.post(
                f"/api/v1/employees/{nip}/password",
                json={"password": "sandi-awal-123"},
                headers=self.hr,
            )
            assert r.status_code == 204, r.text
            self._tokens[nip] = await self._full_token(nip)
        return self._tokens[nip]

    async def _full_token(self, nip: str) -> dict[str, str]:
        """A token as if the employee had already replaced the temporary password: a token taken
        while `must_change_password` is set is good only for changing it. The flag is set again
        afterwards, so pages still ask for the change."""
        from sqlalchemy import update

        from erk.models import Account

        async def flag(value: bool) -> None:
            async with self.app.state.db.sessionmaker.begin() as session:
                await session.execute(
                    update(Account)
                    .where(Account.username == nip)
                    .values(must_change_password=value)
                )

        await flag(False)
        headers = await bearer(self.client, nip, "sandi-awal-123")
        await flag(True)
        return headers

    async def grant(self, nip: str, roles: list[str], unit: str | None = None) -> dict[str, str]:
        """Give an employee's own account extra roles (e.g. unit admin of their unit)."""
        from sqlalchemy import update

        from erk.models import Account

        await self.login(nip)  # the password is set while the account is a plain employee
        async with self.app.state.db.sessionmaker.begin() as session:
            await session.execute(
                update(Account)
                .where(Account.username == nip)
                .values(roles=sorted({"employee", *roles}), unit=unit)
            )
        self._tokens[nip] = await self._full_token(nip)
        return self._tokens[nip]

    async def tree(self) -> None:
        """DINAS > BIDANG: HEAD supervises CHIEF and DEPUTY, CHIEF supervises STAFF and STAFF2."""
        await self.setup()
        await self.unit("DINAS")
        await self.unit("BIDANG", "DINAS")
        await self.unit("LAIN")
        await self.employee(HEAD, "DINAS", base=9_000_000)
        await self.employee(CHIEF, "BIDANG", supervisor=HEAD, base=7_000_000)
        await self.employee(DEPUTY, "BIDANG", supervisor=HEAD, base=6_000_000)
        await self.employee(STAFF, "BIDANG", supervisor=CHIEF)
        await self.employee(STAFF2, "BIDANG", supervisor=CHIEF)
        await self.employee(OTHER, "LAIN")

    async def log(
        self, nip: str, day: dt.date, minutes: int, description: str = "Menyusun laporan"
    ) -> httpx.Response:
        return await self.client.post(
            "/api/v1/activities",
            json={"date": day.isoformat(), "description": description, "minutes": minutes},
            headers=await self.login(nip),
        )


@pytest.fixture
async def erk(make_app: Any) -> AsyncIterator[Erk]:
    app = await make_app("erk")
    async with client_for(app) as client:
        yield Erk(app, client)
