"""The services under test, handed to the shared fixtures (`shared.testing` names no service)."""

import pytest

import erk.main
import erk.settings
import hayu.main
import hayu.settings
import sabilulungan.main
import sabilulungan.settings

pytest_plugins = ["shared.testing"]


def pytest_configure(config: pytest.Config) -> None:
    # imported here, after pytest_plugins has loaded it with its asserts rewritten
    from shared.testing import register_service

    register_service(sabilulungan.main, sabilulungan.settings.Settings)
    register_service(hayu.main, hayu.settings.Settings)
    register_service(erk.main, erk.settings.Settings)
