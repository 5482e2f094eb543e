"""`safetyapp serve` is not a back door (issue 12, item 5): served on loopback (a free port),
every request needs the printed access token, a foreign Origin is refused, and the read-only
view writes nothing. Traffic to 127.0.0.1 only; every wait is bounded."""

from __future__ import annotations

import base64
import http.client
import os
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_support import write_store
from support import setup_world
from test_cli import Cli

pytest.importorskip("textual_serve")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(self, proc: subprocess.Popen[str], port: int, token: str, banner: str) -> None:
        self.proc, self.port, self.token, self.banner = proc, port, token, banner

    def get(self, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path, headers={"Host": f"127.0.0.1:{self.port}", **(headers or {})})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return resp

    def websocket(self, path: str, headers: dict[str, str] | None = None) -> int:
        """The status of a websocket handshake (101 when accepted); the socket is then closed."""
        key = base64.b64encode(os.urandom(16)).decode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path, headers={
            "Host": f"127.0.0.1:{self.port}", "Upgrade": "websocket", "Connection": "Upgrade",
            "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13", **(headers or {}),
        })  # fmt: skip
        resp = conn.getresponse()
        status = resp.status
        conn.close()
        return status


def _serve(cli: Cli, *extra: str) -> Iterator[Served]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "safetyapp", "--db", str(cli.db), "serve", "--port", str(port),
         *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=cli.env,
    )  # fmt: skip
    assert proc.stderr is not None
    banner = ""
    try:
        deadline = time.monotonic() + 30  # bounded: the banner, then the port
        while "token=" not in banner and time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([proc.stderr], [], [], 0.5)
            if ready:  # unbuffered: select sees only what the pipe still holds
                banner += os.read(proc.stderr.fileno(), 65536).decode("utf-8", "replace")
        found = re.search(rf"http://127\.0\.0\.1:{port}/\?token=([\w-]+)", banner)
        assert found, banner
        served = Served(proc, port, found.group(1), banner)
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield served
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    write_store(setup_world(), cli.db)
    return cli


@pytest.fixture
def served(cli: Cli) -> Iterator[Served]:
    yield from _serve(cli)


def test_the_page_needs_the_printed_token(served: Served) -> None:
    assert "reachable from this computer only (localhost)" in served.banner
    assert len(served.token) >= 40  # token_urlsafe(32)
    assert served.get("/").status == 403
    assert served.get("/?token=wrong").status == 403
    assert served.get("/static/js/textual.js").status == 403
    ok = served.get(f"/?token={served.token}")
    assert ok.status == 200
    cookie = ok.getheader("Set-Cookie") or ""
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert ok.getheader("X-Frame-Options") == "DENY"
    assert ok.getheader("Referrer-Policy") == "no-referrer"
    # The page's own files and websocket then carry the cookie.
    value = cookie.split(";", 1)[0]
    assert served.get("/static/js/textual.js", {"Cookie": value}).status == 200


def test_the_websocket_needs_the_token_and_the_same_origin(served: Served) -> None:
    own = f"http://127.0.0.1:{served.port}"
    token = f"/ws?token={served.token}"
    assert served.websocket("/ws", {"Origin": own}) == 403
    assert served.websocket(token, {"Origin": "http://evil.example"}) == 403
    assert served.websocket(token, {"Origin": f"http://localhost:{served.port}"}) == 403
    assert served.websocket(token, {"Origin": "null"}) == 403
    assert served.websocket(token, {"Origin": own}) == 101


def test_a_foreign_host_name_is_refused_on_loopback(served: Served) -> None:
    # DNS rebinding: a foreign name pointed at 127.0.0.1 (no token either: refused twice over).
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    conn.request("GET", f"/?token={served.token}", headers={"Host": "evil.example"})
    assert conn.getresponse().status == 403
    conn.close()


def test_another_host_needs_the_token_and_says_so(cli: Cli) -> None:
    # A documentation address (TEST-NET-1) is not this machine's: the banner, then a clear
    # refusal to listen; nothing is ever served off loopback here.
    out = cli("serve", "--host", "192.0.2.1", "--port", str(_free_port()), code=1)
    assert "cannot listen on 192.0.2.1" in out.stderr
    assert "the access token in the address is required" in out.stderr
    assert "?token=" in out.stderr


def test_read_only_writes_nothing(cli: Cli) -> None:
    before = cli.db.read_bytes()
    refused = cli("--read-only", "hold", "raise", "--by", "Jordan Lee", "--reason", "x",
                  stdin="2222\n", code=1)  # fmt: skip
    assert "open read-only here: nothing can be recorded" in refused.stderr
    assert cli.db.read_bytes() == before
    for served in _serve(cli, "--read-only"):
        assert "serving the app read-only (the board and the audit)" in served.banner
        assert served.get(f"/?token={served.token}").status == 200
