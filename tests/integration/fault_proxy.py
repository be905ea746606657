"""A fault-injecting HTTP proxy in front of the lab's REST endpoint, with a request log (issue 15).

The lab's own ``faults`` knob answers a fault *instead of* the emulator. This proxy also loses
answers *after* the emulator acted (``drop_after``: the write reached the server, the client
sees the connection close), which is what makes a write's outcome unknown, and answers 429 with
a ``Retry-After`` header. Every request is logged with what the proxy did and what the emulator
answered (the emulator's answer is known even when the client never saw it), so a test can
count side effects: the creates and promotes that reached the emulator.

    proxy = FaultProxy(lab.rest_url, {"503": 0.08, "429": 0.07, "drop": 0.05}, seed=1)
    proxy.url            # use as rest_url
    proxy.log            # [Entry(method, path, query, body, fault, status, answer)]
    proxy.close()

Faults (fractions of matching requests, one draw per request):

* ``"503"``, ``"429"``: answered by the proxy; the emulator never sees the request.
* ``"drop"``: the connection is closed before forwarding (the emulator never sees it).
* ``"drop_after"``: writes only; forwarded, then the connection is closed without the answer.
* ``retry_after``: the ``Retry-After`` value sent with 429 (default ``"1"``).
* ``script``: ``[{"method": "POST", "status": 429, "count": 3, "retry_after": "2"}]``, applied
  first, in order, to matching requests until each count is used up.
* ``each_write_429``: N: every distinct write (method, path, query and body) is answered 429
  (with ``retry_after``) its first N times, then forwarded.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

JETTY_429 = ("<html> <head> <title>Error 429 Too Many Requests</title> </head> <body> <h2>HTTP ERROR 429 "
             "Too Many Requests</h2> </body> </html>")
WRITES = ("POST", "PUT", "DELETE", "PATCH")


class Entry(NamedTuple):
    t: float
    method: str
    path: str
    query: dict
    body: Any
    fault: str | None       # None, "503", "429", "drop", "drop_after"
    status: int | None      # the emulator's status (None: it never saw the request)
    answer: Any             # the emulator's decoded answer


class FaultProxy:
    def __init__(self, upstream: str, faults: dict | None = None, seed: int | None = None):
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.faults = dict(faults or {})
        # one stream for reads, one for writes: which writes fail does not depend on how often a task polled
        self.rng = {"read": random.Random(seed), "write": random.Random(None if seed is None else seed + 1)}
        self.lock = threading.Lock()
        self.log: list[Entry] = []
        self.script = [dict(rule) for rule in self.faults.pop("script", [])]
        self.seen_writes: dict[tuple, int] = {}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):  # quiet
                pass

            def _handle(self):
                proxy.handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="fault-proxy", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{self.prefix}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def set_faults(self, faults: dict, seed: int | None = None) -> None:
        with self.lock:
            if seed is not None:
                self.rng = {"read": random.Random(seed), "write": random.Random(seed + 1)}
            self.faults = dict(faults)
            self.script = [dict(rule) for rule in self.faults.pop("script", [])]

    # -- one request --------------------------------------------------------------------------

    def _choose(self, method: str, key: tuple) -> tuple[str | None, str | None]:
        with self.lock:
            if self.faults.get("each_write_429") and method in WRITES:
                seen = self.seen_writes[key] = self.seen_writes.get(key, 0) + 1
                if seen <= self.faults["each_write_429"]:
                    return "429", self.faults.get("retry_after", "1")
            for rule in self.script:
                if rule.get("count", 1) > 0 and rule.get("method", method) == method:
                    rule["count"] = rule.get("count", 1) - 1
                    return str(rule["status"]), rule.get("retry_after")
            draw, acc = self.rng["write" if method in WRITES else "read"].random(), 0.0
            for key in ("503", "429", "drop", "drop_after"):
                frac = self.faults.get(key, 0)
                if key == "drop_after" and method not in WRITES:
                    continue
                acc += frac
                if draw < acc:
                    return key, self.faults.get("retry_after", "1")
        return None, None

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        method = handler.command
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        fault, retry_after = self._choose(method, (method, handler.path, raw))
        status, answer, data, headers = None, None, b"", []
        if fault in ("503", "429"):
            self._record(method, parts, body, fault, None, None)
            if fault == "429":
                data, ctype = JETTY_429.encode(), "text/html;charset=utf-8"
            else:
                data = json.dumps({"error_code": 50003, "message": "Injected proxy fault: HTTP 503"}).encode()
                ctype = "application/json"
            handler.send_response(int(fault))
            handler.send_header("Content-Type", ctype)
            handler.send_header("Content-Length", str(len(data)))
            if fault == "429" and retry_after is not None:
                handler.send_header("Retry-After", str(retry_after))
            handler.end_headers()
            handler.wfile.write(data)
            return
        if fault == "drop":
            self._record(method, parts, body, fault, None, None)
            handler.close_connection = True
            return
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            forward = {k: v for k, v in handler.headers.items()
                       if k.lower() in ("authorization", "content-type", "accept", "user-agent")}
            conn.request(method, handler.path, body=raw or None, headers=forward)
            resp = conn.getresponse()
            status, data = resp.status, resp.read()
            headers = [(k, v) for k, v in resp.getheaders() if k.lower() in ("content-type", "retry-after")]
        finally:
            conn.close()
        try:
            answer = json.loads(data) if data.strip() else None
        except ValueError:
            answer = data.decode("utf-8", "replace")
        self._record(method, parts, body, fault, status, answer)
        if fault == "drop_after":
            handler.close_connection = True
            return
        handler.send_response(status)
        for key, value in headers:
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _record(self, method, parts, body, fault, status, answer) -> None:
        entry = Entry(time.time(), method, parts.path, parse_qs(parts.query), body, fault, status, answer)
        with self.lock:
            self.log.append(entry)

    # -- reading the log ----------------------------------------------------------------------

    def reached(self, method: str, suffix: str) -> list[Entry]:
        """Requests the emulator handled whose path ends with suffix (any status)."""
        with self.lock:
            return [e for e in self.log if e.method == method and e.status is not None and e.path.endswith(suffix)]

    def faults_injected(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self.lock:
            for e in self.log:
                if e.fault:
                    counts[e.fault] = counts.get(e.fault, 0) + 1
        return counts


def side_effects(log: list[Entry]) -> dict:
    """What reached the emulator and took effect: link creates per link, mirror creates per mirror,
    promotes per topic that the emulator accepted, and promotes it refused (a duplicate would be one)."""
    link_creates: dict[str, int] = {}
    mirror_creates: dict[str, int] = {}
    promotes: dict[str, int] = {}
    refused_promotes: list[tuple[str, Any]] = []
    for e in log:
        if e.status is None or e.method != "POST":
            continue
        if e.path.endswith("/links") and e.status < 300:
            name = (e.query.get("link_name") or ["?"])[0]
            link_creates[name] = link_creates.get(name, 0) + 1
        elif e.path.endswith("/mirrors") and e.status < 300:
            name = (e.body or {}).get("mirror_topic_name") or (e.body or {}).get("source_topic_name")
            mirror_creates[name] = mirror_creates.get(name, 0) + 1
        elif e.path.endswith("/mirrors:promote") and e.status < 300:
            for item in (e.answer or {}).get("data") or []:
                topic = item.get("mirror_topic_name")
                if item.get("error_code"):
                    refused_promotes.append((topic, item.get("error_message")))
                else:
                    promotes[topic] = promotes.get(topic, 0) + 1
    return {"link_creates": link_creates, "mirror_creates": mirror_creates, "promotes": promotes,
            "refused_promotes": refused_promotes}
