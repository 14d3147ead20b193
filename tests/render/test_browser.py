"""Open the rendered report in real headless Chromium and check what a reader would see.

Driven over the Chrome DevTools Protocol with a few lines of stdlib websocket code (the
standard library has none, and the check must not depend on a workflow tool's transitive
packages): page load, console errors, every network request, each chart's box, a screenshot.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VIEWPORT = {"width": 1280, "height": 1600}

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium; "
                             ".ci/run installs it)")


class DevTools:
    """A minimal RFC 6455 client: text frames out (masked), whole messages in."""

    def __init__(self, ws_url: str, timeout: float = 60):
        url = urlparse(ws_url)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {url.path} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        status, _, self.pending = head.partition(b"\r\n\r\n")
        if b" 101 " not in status.split(b"\r\n")[0]:
            raise ConnectionError(f"websocket handshake refused: {status[:200]!r}")
        self.next_id = 0
        self.events: list[dict] = []

    def _exact(self, n: int) -> bytes:
        while len(self.pending) < n:
            chunk = self.sock.recv(max(65536, n - len(self.pending)))
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.pending += chunk
        data, self.pending = self.pending[:n], self.pending[n:]
        return data

    def _send(self, payload: bytes, opcode: int = 0x1) -> None:
        n = len(payload)
        header = bytes([0x80 | opcode])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _message(self) -> dict:
        parts = []
        while True:
            b1, b2 = self._exact(2)
            n = b2 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._exact(8))[0]
            mask = self._exact(4) if b2 & 0x80 else None
            data = self._exact(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            opcode = b1 & 0x0F
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the websocket")
            if opcode == 0x9:
                self._send(data, 0xA)
                continue
            if opcode == 0xA:
                continue
            parts.append(data)
            if b1 & 0x80:
                return json.loads(b"".join(parts))

    def call(self, method: str, session: str | None = None, **params) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self._send(json.dumps(msg).encode())
        while True:
            reply = self._message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.events:
                if ev.get("method") == method:
                    return ev
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.events.append(self._message())

    def close(self) -> None:
        self.sock.close()


def _start_chromium(profile: Path, log) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--no-default-browser-check", "--disable-default-apps",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        # chromium still writes ~/.config and ~/.cache/dconf outside its profile
        env={**os.environ, "HOME": str(profile), "XDG_CONFIG_HOME": str(profile / "config"),
             "XDG_CACHE_HOME": str(profile / "cache")},
        stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if port_file.is_file():
            lines = port_file.read_text().split()
            if len(lines) >= 2:
                return proc, f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    _stop(proc)
    raise RuntimeError("chromium did not open its DevTools port")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the group of the browser this test started
            proc.wait(timeout=10)


CHART_PROBE = """
JSON.stringify(Array.from(document.querySelectorAll('figure.chart')).map(function (f) {
  var svg = f.querySelector('svg');
  if (!svg) return {id: f.id, svg: false};
  var r = svg.getBoundingClientRect(), s = getComputedStyle(svg);
  return {id: f.id, svg: true, width: r.width, height: r.height, display: s.display,
          visibility: s.visibility, opacity: s.opacity,
          shapes: svg.querySelectorAll('path, use, rect, line').length,
          texts: svg.querySelectorAll('text').length};
}))
"""
PAGE_PROBE = """
JSON.stringify({title: document.title,
  sections: Array.from(document.querySelectorAll('section[id]')).map(function (s) { return s.id; }),
  height: document.documentElement.scrollHeight})
"""


@pytest.fixture(scope="module")
def browsed(tmp_path_factory, rendered, built, fixture_charts):
    """Open the rendered fixture and keep everything the page did."""
    assert rendered["rc"] == 0
    page = rendered["run_dir"] / "index.html"
    profile = tmp_path_factory.mktemp("chromium-profile")
    with open(rendered["reports"] / "chromium.log", "wb") as log:
        proc, ws_url = _start_chromium(profile, log)
        try:
            result = _visit(ws_url, page)
        finally:
            _stop(proc)
    result.update(page=page, built=built, charts=fixture_charts)
    return result


def _visit(ws_url: str, page: Path) -> dict:
    cdp = DevTools(ws_url)
    try:
        target = cdp.call("Target.createTarget", url="about:blank")["targetId"]
        session = cdp.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            cdp.call(f"{domain}.enable", session)
        cdp.call("Emulation.setDeviceMetricsOverride", session, deviceScaleFactor=1,
                 mobile=False, **VIEWPORT)
        cdp.events.clear()
        cdp.call("Page.navigate", session, url=page.as_uri())
        cdp.wait_for("Page.loadEventFired")
        time.sleep(0.5)  # late console messages, if any, arrive after load

        def evaluate(expr):
            return json.loads(cdp.call("Runtime.evaluate", session, expression=expr,
                                       returnByValue=True)["result"]["value"])

        charts, info = evaluate(CHART_PROBE), evaluate(PAGE_PROBE)
        shot = cdp.call("Page.captureScreenshot", session, format="png")["data"]
        (page.parent / "screenshot.png").write_bytes(base64.b64decode(shot))
        full = cdp.call("Page.captureScreenshot", session, format="png", captureBeyondViewport=True,
                        clip={"x": 0, "y": 0, "width": VIEWPORT["width"],
                              "height": min(info["height"], 16000), "scale": 0.5})["data"]
        (page.parent / "screenshot-full.png").write_bytes(base64.b64decode(full))
        events = list(cdp.events)
        try:
            cdp.call("Browser.close")
        except (ConnectionError, OSError):
            pass
        return {"events": events, "probed": charts, "info": info}
    finally:
        cdp.close()


def test_page_loads_with_every_section(browsed):
    info = browsed["info"]
    assert browsed["built"]["summary"]["run_id"] in info["title"]
    assert info["sections"] == ["scorecard", "summary", "setups", "io", "failure", "cost", "code", "shape", "pertask",
                                "parallel", "rerun", "guide", "method"]


def test_no_console_errors_or_exceptions(browsed):
    problems = []
    for ev in browsed["events"]:
        method, params = ev.get("method"), ev.get("params", {})
        if method == "Runtime.exceptionThrown":
            problems.append(params["exceptionDetails"].get("text"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert",
                                                                               "warning"):
            problems.append(params.get("args"))
        elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
            problems.append(params["entry"].get("text"))
    assert problems == []


def test_no_request_leaves_the_page(browsed):
    page_url = browsed["page"].as_uri()
    urls = [ev["params"]["request"]["url"] for ev in browsed["events"]
            if ev.get("method") == "Network.requestWillBeSent"]
    assert page_url in urls  # the probe sees requests at all
    assert [u for u in urls if u != page_url and not u.startswith("data:")] == []


class _Loads(HTMLParser):
    """Attributes that make a browser fetch something (a plain <a href> does not)."""

    def __init__(self):
        super().__init__()
        self.loads = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "srcset", "data", "poster", "xlink:href", "action") or (
                    name == "href" and tag != "a"):
                self.loads.append((tag, name, value))


def test_html_references_nothing_external(browsed):
    text = browsed["page"].read_text(encoding="utf-8")
    parser = _Loads()
    parser.feed(text)
    external = [(t, n, v) for t, n, v in parser.loads if v and not v.startswith("#")]
    assert external == []
    assert "@import" not in text and "url(http" not in text and "url(//" not in text


def test_every_chart_is_present_and_visible(browsed):
    expected = {"chart-" + key.replace("_", "-") for key, svg in browsed["charts"].items() if svg}
    assert len(expected) == 10  # the fixture has data for every chart
    seen = {c["id"]: c for c in browsed["probed"]}
    assert set(seen) == expected
    for chart in seen.values():
        assert chart["svg"], chart
        assert chart["width"] > 300 and chart["height"] > 100, chart
        assert chart["display"] != "none" and chart["visibility"] == "visible", chart
        assert float(chart["opacity"]) > 0, chart
        assert chart["shapes"] > 10 and chart["texts"] > 3, chart


def test_screenshot_written_next_to_the_report(browsed):
    shot = browsed["page"].parent / "screenshot.png"
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (VIEWPORT["width"], VIEWPORT["height"])
