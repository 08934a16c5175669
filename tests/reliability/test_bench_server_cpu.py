"""`bench.server_cpu`: a server's CPU per request in each load level of a bench run."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from bench.server_cpu import _cpu_seconds, levels

DAY = dt.date(2026, 12, 7)


def _at(clock: str) -> float:
    return dt.datetime.combine(DAY, dt.time.fromisoformat(clock), tzinfo=dt.UTC).timestamp()


def test_each_level_gets_the_servers_cpu_in_its_window_divided_by_its_requests() -> None:
    log = [
        "[bench 20:13:15]   reference.orm_insert @16: 634 req/s, p50 21.6 ms, errors 0.0 %",
        "[bench 20:14:45]   erk.activity_submit @16: 500 req/s, p50 30.3 ms, errors 0.0 %",
        "[bench 20:15:00]   erk.activity_submit @64: 400 req/s, p50 127.9 ms, errors 0.0 %",
    ]
    end16, end64 = _at("20:14:45") - 1.5, _at("20:15:00") - 1.5
    samples = [
        (end16 - 10.0, 7, 100.0),  # 0.9 s of CPU in 10 s at 500 req/s: 180 µs a request
        (end16, 7, 100.9),
        (end64 - 10.0, 7, 101.0),  # 2.0 s in 10 s at 400 req/s: 500 µs a request
        (end64 - 5.0, 7, 102.0),
        (end64, 7, 103.0),
    ]
    found = levels(log, samples, DAY)
    assert [(f.scenario, f.clients, f.rate) for f in found] == [
        ("erk.activity_submit", 16, 500),
        ("erk.activity_submit", 64, 400),
    ]
    assert found[0].cpu_us_per_request == pytest.approx(180.0)
    assert found[0].cores == pytest.approx(0.09)
    assert found[1].cpu_us_per_request == pytest.approx(500.0)


def test_a_level_whose_window_spans_two_server_processes_is_left_out() -> None:
    log = ["[bench 20:14:45]   erk.activity_submit @16: 500 req/s, p50 30.3 ms"]
    end = _at("20:14:45") - 1.5
    assert levels(log, [(end - 10.0, 7, 100.0), (end, 8, 1.0)], DAY) == []
    assert levels(log, [(end, 7, 100.0)], DAY) == []


def test_the_cpu_time_of_a_live_process_is_read_from_proc() -> None:
    spent = _cpu_seconds(os.getpid())
    assert spent is not None
    assert spent > 0
    assert _cpu_seconds(2**22 + 12345) is None  # no such process
