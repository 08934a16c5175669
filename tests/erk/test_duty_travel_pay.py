"""Duty travel (dinas luar) in a 21-working-day month, worked to the rupiah from the rules in
services/erk/README.md ("Rules as built", Money), default rule `nasional-2020`: 300 minutes a
working day, productivity 60 % / discipline 40 % of the base, 10 % per unexcused or unrecorded
day; duty travel reduces the standard unless the Perkada says otherwise, and takes no entries.
Base Rp5.000.000 (PNS, full month), no salary recorded (PTKP TK/0): PPh 21 on the TPP alone is
0 % under TER A's Rp5.400.000 and BPJS Kesehatan is 1 % of the TPP."""

from __future__ import annotations

import pytest

from erk.config import LeaveEffect
from shared.testing import assert_problem

from .conftest import STAFF, STAFF2, Erk
from .test_pay_rules import _attendance, _days, _money, _recap, _rule, _work

# effect of duty travel: (reduced days, standard, performance %, productivity, discipline, gross,
# BPJS, net)
WORKED = {
    # Standard 300 x 21 x (21 - 2) / 21 = 5.700; achieved 17 x 300 = 5.100: 89,47 %.
    # Productivity floor(5.000.000 x 60 % x 5.100 / 5.700) = floor(2.684.210,5) = 2.684.210.
    # Discipline 100 % (travel is not absence): 2.000.000. Gross 4.684.210.
    # BPJS floor(1 % of 4.684.210) = 46.842; net 4.684.210 - 46.842 = 4.637.368.
    "reduces_standard": (2, 5700, 89.47, 2_684_210, 2_000_000, 4_684_210, 46_842, 4_637_368),
    # A Perkada that counts a travel day as met: standard 6.300; achieved 5.100 + 2 x 300 (the
    # day's standard, 6.300 / 21) = 5.700: 90,47 %; floor(3.000.000 x 5.700 / 6.300) = 2.714.285.
    # Gross 4.714.285; BPJS 47.142; net 4.667.143.
    "met": (0, 6300, 90.47, 2_714_285, 2_000_000, 4_714_285, 47_142, 4_667_143),
}


@pytest.mark.parametrize("effect", sorted(WORKED))
async def test_two_days_of_duty_travel_in_a_21_day_month(erk: Erk, effect: str) -> None:
    await erk.tree()
    if effect != "reduces_standard":  # the default
        leave_effects = erk.app.state.config.erk.tpp_rules[0].leave_effects
        _rule(erk, leave_effects={**leave_effects, "duty_travel": LeaveEffect(effect=effect)})
    period, days = _days(erk, 21)
    assert len(days) == 21
    # STAFF travels on the first two working days ("dinas luar" in the fingerprint file) and is
    # present the other 19; 300 minutes approved on 17 of them, two present days without entries.
    await _attendance(erk, STAFF, days[:2], "dinas luar")
    await _attendance(erk, STAFF, days[2:])
    await _work(erk, STAFF, days[2:19], 300)
    # STAFF2 does the same work but nobody recorded the two travel days: they are unrecorded
    # working days, charged as unexcused absence, and the standard stays whole.
    await _attendance(erk, STAFF2, days[2:])
    await _work(erk, STAFF2, days[2:19], 300)

    reduced, standard, performance, productivity, discipline, gross, bpjs, net = WORKED[effect]
    row = await _recap(erk, period)
    assert (row["working_days"], row["employed_days"], row["reduced_days"]) == (21, 21, reduced)
    assert (row["met_days"], row["absent_days"], row["missing_days"]) == (2 - reduced, 0, 0)
    assert (row["standard_minutes"], row["verified_minutes"]) == (standard, 5100)
    assert (row["performance_pct"], row["discipline_pct"]) == (performance, 100.0)
    assert _money(row) == (productivity, discipline, gross)
    assert (row["pph21_idr"], row["bpjs_idr"], row["tpp_net_idr"]) == (0, bpjs, net)
    words = {"reduces_standard": "dinas luar mengurangi standar", "met": "dinas luar dihitung"}
    text = "\n".join(row["explanation"])
    assert words[effect] in text
    assert f"dikurangi {reduced} hari cuti/dinas" in text

    # Standard 6.300, 5.100 achieved: floor(3.000.000 x 5.100 / 6.300) = 2.428.571; discipline
    # 100 - 2 x 10 = 80 %: 1.600.000. Gross 4.028.571: the record of the travel is worth
    # Rp655.639 (or Rp685.714 where a travel day counts as met) to STAFF.
    unrecorded = await _recap(erk, period, STAFF2)
    assert (unrecorded["missing_days"], unrecorded["standard_minutes"]) == (2, 6300)
    assert _money(unrecorded) == (2_428_571, 1_600_000, 4_028_571)

    # A travel day takes no entries (the rule counts the day, not minutes logged on it), and the
    # refused entry leaves the recap as it was.
    assert_problem(await erk.log(STAFF, days[0], 120), 422, "absent-on-date")
    assert await _recap(erk, period) == row
