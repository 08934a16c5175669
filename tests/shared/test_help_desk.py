"""The regency's help desk is configuration, checked at start-up, and printed at the same place on
every page of every service (WCAG 2.2 success criterion 3.2.6, consistent help)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from shared.config import RegencyConfigBase, RegencyConfigError, load_regency_config
from shared.testing import client_for

HELP = """
[regency.help]
label = "Layanan pengaduan"
phone = "022 4234793"
email = "layanan@contoh.go.id"
hours = "Senin-Jumat 08.00-16.00 WIB"
"""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('label = "Layanan pengaduan"\n', "regency.help"),  # nowhere to turn to
        ('email = "bukan-alamat"\n', "regency.help.email"),
        ('phone = "telepon kami"\n', "regency.help.phone"),
        ('url = "http://tanpa-tls.example"\n', "regency.help.url"),
        ('phone = "022 4234793"\nwhatsapp = "0812"\n', "regency.help.whatsapp"),
    ],
)
def test_a_help_desk_nobody_can_reach_stops_start_up(tmp_path: Path, body: str, field: str) -> None:
    path = tmp_path / "regency.toml"
    path.write_text("[regency.help]\n" + body, encoding="utf-8")
    with pytest.raises(RegencyConfigError) as caught:
        load_regency_config(path, RegencyConfigBase)
    assert field in str(caught.value)


@pytest.mark.parametrize(
    ("service", "path"),
    [("sabilulungan", "/login"), ("sabilulungan", "/lacak"), ("hayu", "/login"), ("erk", "/login")],
)
async def test_every_page_ends_with_the_same_help(make_app: Any, service: str, path: str) -> None:
    app = await make_app(service, config_toml=HELP)
    async with client_for(app) as client:
        r = await client.get(path)
    assert r.status_code == 200
    footer = r.text[r.text.index('<footer class="site') :]
    found = re.search(r'<p id="bantuan">(.*?)</p>', footer, re.S)
    assert found is not None
    text = " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())
    assert text.startswith("Layanan pengaduan:")
    assert "022 4234793" in text
    assert "(Senin-Jumat 08.00-16.00 WIB)" in text
    links = set(re.findall(r'href="([^"]+)"', found.group(1)))
    assert links == {"tel:0224234793", "mailto:layanan@contoh.go.id"}


async def test_no_help_line_without_a_help_desk(make_app: Any) -> None:
    app = await make_app("hayu")
    async with client_for(app) as client:
        r = await client.get("/login")
    assert r.status_code == 200
    assert 'id="bantuan"' not in r.text
