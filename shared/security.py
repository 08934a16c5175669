"""Browser-facing protections: security headers, cross-site form posts, cookies, `/metrics` access.

`BrowserGuard` holds the rules; the request frame (`shared.frame`) applies them. On every answer
it sets a Content-Security-Policy that allows no inline script (htmx is served from `/static`),
`frame-ancestors 'none'` (and `X-Frame-Options: DENY` for older browsers),
`X-Content-Type-Options: nosniff` and a `Referrer-Policy`. Before the app runs, it refuses a
state-changing request that a browser marks as coming from another site (`Sec-Fetch-Site`, or an
`Origin` that is not this site's), so a foreign page cannot post the login or registration form
(login CSRF) or any other form in a visitor's name. Clients that are not browsers send neither
header and are not affected.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from fastapi import Request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
# The interactive API documentation (development and test only) loads its scripts from a CDN.
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class BrowserGuard:
    """See the module docstring. `public_url` is the site's external URL.

    Used by `shared.frame.RequestFrame`, which reads each request's headers once for every check.
    """

    def __init__(self, public_url: str = "") -> None:
        self.public_origin = origin_of(public_url) if public_url else None
        csp = (b"content-security-policy", CSP.encode())
        self._with_csp = (*HEADERS, csp)
        self._names = frozenset(name for name, _ in self._with_csp)

    def refuses(
        self, method: str, fetch_site: bytes | None, origin: bytes | None, host: bytes | None
    ) -> bool:
        """Whether a request is a state-changing one a browser marks as from another site."""
        if method in SAFE_METHODS:
            return False
        site = fetch_site.decode("latin-1").lower() if fetch_site is not None else None
        if site in ("same-origin", "none"):
            return False
        if site in ("cross-site", "same-site"):
            return True
        if origin is None:
            return False  # not a browser (or one too old to say): nothing to check against
        own = self._own_origins(host.decode("latin-1").lower() if host is not None else None)
        return origin.decode("latin-1").lower() not in own

    def add_headers(self, headers: list[tuple[bytes, bytes]], path: str) -> None:
        """Append the protective headers the answer does not set itself; no
        Content-Security-Policy on the interactive API documentation."""
        wanted = HEADERS if path in DOCS_PATHS else self._with_csp
        present = {name.lower() for name, _ in headers}
        if present.isdisjoint(self._names):  # the usual answer: all of them, no filtering
            headers.extend(wanted)
        else:
            headers.extend(h for h in wanted if h[0] not in present)

    def _own_origins(self, host: str | None) -> set[str]:
        own = {self.public_origin} if self.public_origin else set()
        if host:
            # Behind a TLS-terminating gateway the request arrives as http for an https page.
            own.update({f"http://{host}", f"https://{host}"})
        return own


def cookie_secure(request: Request) -> bool:
    """Whether a cookie must be `Secure`: in production, whenever the public URL is https, or when
    the request itself came over https (a TLS-terminating gateway hides that from the app)."""
    settings = request.app.state.settings
    return (
        settings.environment == "production"
        or settings.public_url.lower().startswith("https://")
        or request.url.scheme == "https"
    )


def _is_proxied(request: Request) -> bool:
    headers = request.headers
    return any(h in headers for h in ("x-forwarded-for", "forwarded", "x-real-ip"))


def in_networks(address: str | None, networks: Iterable[str]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)


def metrics_allowed(request: Request) -> bool:
    """`/metrics` answers a scraper that shows the metrics token (`Authorization: Bearer ...`), or
    one connecting directly (not through a proxy) from an allowed network."""
    settings = request.app.state.settings
    token = settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    if _is_proxied(request):
        return False  # whoever is behind the proxy is not the proxy's address
    peer = request.client.host if request.client else None
    return in_networks(peer, settings.metrics_allowed_networks)
