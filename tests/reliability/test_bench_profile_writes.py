"""`bench.profile_writes`: the requests it sends are the write scenarios' own."""

from __future__ import annotations

import json

import pytest

from bench import scenarios
from bench.profile_writes import WRITES, main, write_request
from bench.spec import GENERATOR


@pytest.mark.parametrize("service", sorted(WRITES))
def test_each_request_is_the_scenarios_write_with_a_key_of_its_own(service: str) -> None:
    scenario = scenarios.BY_NAME[WRITES[service]]
    pools = {"days": ["2026-12-01"]}
    first, second = (write_request(service, "t0k3n", i, "run1", pools) for i in (0, 1))
    assert (first.method, first.path) == (scenario.method, scenario.path)
    headers = dict(first.headers)
    assert headers[b"authorization"] == b"Bearer t0k3n"
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"idempotency-key"] != dict(second.headers)[b"idempotency-key"]
    body = json.loads(first.body)
    assert set(body) == set(scenario.body), body  # every field of the scenario's body, filled
    assert not GENERATOR.search(first.body.decode()), first.body  # every generator rendered
    if service == "erk":
        assert body["date"] == "2026-12-01"
        assert body["minutes"] == 1


def test_an_unknown_service_is_refused() -> None:
    with pytest.raises(SystemExit):
        main(["--service", "nope"])


def test_a_round_with_refused_writes_stops_the_measurement() -> None:
    from bench.profile_writes import _refuse_refusals

    _refuse_refusals({201: 500})
    with pytest.raises(SystemExit, match="422"):
        _refuse_refusals({201: 499, 422: 1})
