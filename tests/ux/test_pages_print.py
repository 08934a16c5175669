"""Printing a page: the print stylesheet is linked and leaves the menus and forms off the paper."""

from __future__ import annotations

import re

import pytest

from shared.testing import client_for

PRINT_LINK = re.compile(r'<link rel="stylesheet" href="([^"]+)" media="print">')


def _hidden_selectors(css: str) -> set[str]:
    """Selectors of every rule that sets `display: none`."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    hidden: set[str] = set()
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        if re.search(r"display:\s*none", body):
            hidden.update(s.strip() for s in selectors.split(","))
    return hidden


@pytest.mark.parametrize(
    ("service", "path"),
    [("sabilulungan", "/lacak"), ("hayu", "/lacak"), ("erk", "/"), ("sabilulungan", "/login")],
)
async def test_print_stylesheet_is_linked_and_hides_navigation_and_forms(
    make_app, service: str, path: str
) -> None:
    app = await make_app(service)
    async with client_for(app) as client:
        page = await client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 200
        link = PRINT_LINK.search(page.text)
        assert link, "no print stylesheet on the page"
        assert "?v=" in link.group(1)
        css = await client.get(link.group(1))
        assert css.status_code == 200
    hidden = _hidden_selectors(css.text)
    assert {"nav", "form", "button", ".skip"} <= hidden, hidden
    # The tracking address is printed beside a tracking link, so paper still leads to the file.
    assert re.search(r'a\[href\*="/lacak"\]::after[^{]*\{[^}]*attr\(href\)', css.text)
    # The screen stylesheet does not hide the menu: only print does.
    assert "nav" not in _hidden_selectors((await _screen_css(app)).text)


async def _screen_css(app):
    async with client_for(app) as client:
        return await client.get("/static/style.css")
