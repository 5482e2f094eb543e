"""The browser view (``safetyapp serve``), guarded so it is not a back door (issue 12, item 5).

textual-serve's :class:`~textual_serve.server.Server` runs one app process per websocket and
has no authentication. :class:`GuardedServer` adds an aiohttp middleware in front of every
route (the page, its static files, the websocket, downloads):

- a random access token (``secrets.token_urlsafe``, as Jupyter does) is required on every
  request: as ``?token=`` in the URL printed at start, then as an HttpOnly, SameSite=Strict
  cookie the page sets for its own files and websocket (a foreign page's requests carry none);
- a request whose ``Origin`` is not the served host itself is refused, whatever its token (a
  foreign web page driving the app over a websocket);
- served on loopback, a ``Host`` that is not a loopback name is refused (DNS rebinding);
- refusals are 403 with a one-line reason and are logged; the token is compared in constant
  time, the page is not to be framed and sends no Referer.

Needs the optional textual-serve package (``pip install 'safetyapp[serve]'``); imported by the
``serve`` command only.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.server import Server

log = logging.getLogger("safetyapp.serve")

COOKIE = "safetyapp_token"
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    if host.strip("[]") in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(netloc: str) -> str:
    """``127.0.0.1:8000`` -> ``127.0.0.1``; ``[::1]:80`` -> ``::1``."""
    return (urlsplit(f"//{netloc}").hostname or "").lower()


class GuardedServer(Server):
    """A textual-serve Server whose every route needs the access token and a same-origin
    request."""

    def __init__(self, command: str, *, host: str, port: int, title: str, token: str) -> None:
        url_host = f"[{host}]" if ":" in host else host
        super().__init__(
            command, host=host, port=port, title=title, public_url=f"http://{url_host}:{port}"
        )
        self.token = token
        self.loopback = is_loopback(host)

    @property
    def url(self) -> str:
        """The address to open, token included."""
        return f"{self.public_url}/?token={self.token}"

    def refusal(self, request: web.Request) -> str | None:
        """Why ``request`` is refused; None if it may go on."""
        host = request.headers.get("Host", "")
        if self.loopback and _host_name(host) not in _LOOPBACK_NAMES:
            return "this view is served on loopback only; open it by the address it printed"
        origin = request.headers.get("Origin")
        if origin is not None:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower():
                return "request from another web page (Origin does not match this server)"
        given = request.query.get("token") or request.cookies.get(COOKIE) or ""
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            return "missing or wrong access token: open the address printed by `safetyapp serve`"
        return None

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        problem = self.refusal(request)
        if problem is not None:
            log.warning("refused %s %s from %s: %s", request.method, request.path,
                        request.remote, problem)  # fmt: skip
            raise web.HTTPForbidden(text=f"safetyapp: refused: {problem}\n")
        response = await handler(request)
        if not response.prepared:  # the page and static files (a websocket is under way)
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
            response.headers["Referrer-Policy"] = "no-referrer"
            if request.query.get("token"):
                response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict")
        return response

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.guard)
        return app
