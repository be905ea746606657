# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Open a page in headless Chromium over the DevTools protocol and record what a reviewer would see.

Debian's ``chromium`` runs with ``--headless --no-sandbox --disable-gpu --disable-background-networking``
and ``--remote-debugging-pipe`` (the protocol over file descriptors 3 and 4, JSON messages ending in a
NUL byte; no port, no extra package). For each page it records console errors, uncaught exceptions,
error log entries and every request that is not to a ``file:``/``data:``/``about:`` URL, evaluates
expressions in the page, and saves a screenshot and a PDF (the print stylesheet).
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

LOCAL_SCHEMES = ("file:", "data:", "about:", "chrome:", "devtools:")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
         "--remote-debugging-pipe", "--window-size=1280,900")


def find_chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


class BrowserError(RuntimeError):
    pass


class Page:
    """What happened while one URL loaded."""

    def __init__(self, url):
        self.url = url
        self.console_errors = []
        self.external_requests = []
        self.loaded = False

    @property
    def problems(self):
        return ["console: %s" % e for e in self.console_errors] + \
               ["external request: %s" % u for u in self.external_requests]


class Chromium:
    def __init__(self, binary=None, timeout=30):
        self.binary = binary or find_chromium()
        if not self.binary:
            raise BrowserError("chromium is not installed (apt-get install -y chromium; make test does it)")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="linkops-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # The child's ends move above 9 first, so that putting them on 3 and 4 cannot clobber one another.
        to_browser_r, from_browser_w = (self._above_nine(to_browser_r), self._above_nine(from_browser_w))
        # The shell puts the pipes on descriptors 3 and 4, where --remote-debugging-pipe expects them.
        cmd = ["bash", "-c", 'exec "$@" 3<&%d 4>&%d %d<&- %d>&-' % (to_browser_r, from_browser_w, to_browser_r,
                                                                    from_browser_w),
               "chromium", self.binary, "--user-data-dir=%s" % self.profile] + list(FLAGS) + ["about:blank"]
        self.proc = subprocess.Popen(cmd, pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._events = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.call("%s.enable" % domain, session=True)

    @staticmethod
    def _above_nine(fd):
        moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
        os.close(fd)
        return moved

    # -- protocol

    def _send(self, message):
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")

    def _read(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("chromium did not answer within %ss" % self.timeout)
            ready, _w, _x = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 16)
                if not chunk:
                    raise BrowserError("chromium exited: %s" % self.proc.stderr.read().decode(errors="replace")[-2000:])
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=False):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        self._send(message)
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError("%s: %s" % (method, answer["error"]))
                return answer.get("result", {})
            self._events.append(answer)

    def _drain(self, seconds):
        deadline = time.monotonic() + seconds
        try:
            while True:
                self._events.append(self._read(deadline))
        except BrowserError:
            pass

    # -- pages

    def open(self, url, settle=0.5):
        """Navigate to ``url``, wait for the load event, then record what the page did."""
        page = Page(url)
        self._events = []
        self.call("Page.navigate", {"url": url}, session=True)
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            self._events.append(self._read(deadline))
        self._drain(settle)
        for event in self._events:
            method, params = event.get("method"), event.get("params") or {}
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                page.console_errors.append(" ".join(str(a.get("value", a.get("description", "")))
                                                    for a in params.get("args") or []))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails") or {}
                page.console_errors.append((details.get("exception") or {}).get("description") or details.get("text"))
            elif method == "Log.entryAdded" and (params.get("entry") or {}).get("level") == "error":
                page.console_errors.append(params["entry"].get("text"))
            elif method == "Network.requestWillBeSent":
                request_url = (params.get("request") or {}).get("url", "")
                if not request_url.startswith(LOCAL_SCHEMES):
                    page.external_requests.append(request_url)
        page.loaded = True
        return page

    def evaluate(self, expression):
        """The JSON value of a JavaScript expression in the page."""
        answer = self.call("Runtime.evaluate", {"expression": "JSON.stringify(%s)" % expression,
                                                "returnByValue": True}, session=True)
        if answer.get("exceptionDetails"):
            raise BrowserError("evaluating %s: %s" % (expression, answer["exceptionDetails"]))
        return json.loads(answer["result"]["value"])

    def screenshot(self, path):
        """A PNG of the whole page."""
        import base64
        size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
        shot = self.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}}, session=True)
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(shot["data"]))

    def pdf(self, path):
        """The page printed (its print stylesheet) to A4."""
        import base64
        printed = self.call("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69}, session=True)
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(printed["data"]))

    def close(self):
        try:
            self.call("Browser.close")
        except (BrowserError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)
