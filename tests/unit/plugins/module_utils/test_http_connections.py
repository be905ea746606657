# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kept-alive connections (_http_connections.py) through RestClient, against a real local HTTP server:
one connection per thread, a connection the server closed is replaced without a write being reported
as lost, errors and redirects as open_url gives them, and proxies left to open_url."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _rest_client
from ansible_collections.linkops.cluster_linking.plugins.module_utils._http_connections import KeptAliveOpener
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestClient, RestError


class Server:
    """An HTTP/1.1 server that counts connections and requests. ``close_after``: the server closes a
    connection after that many answers on it (without saying so), ``answer_close``: it says
    ``Connection: close``; ``routes``: path -> (status, body, extra headers)."""

    def __init__(self, close_after=None, answer_close=False, routes=None, delays=None):
        self.connections = 0
        lock = threading.Lock()
        self.requests = []
        self.routes = routes or {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def setup(self):
                with lock:
                    outer.connections += 1
                self.answered = 0
                super().setup()

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append((self.command, self.path, body, dict(self.headers)))
                time.sleep((delays or {}).get(self.path, 0))
                status, payload, headers = outer.routes.get(self.path, (200, {"path": self.path}, {}))
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if answer_close:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(data)
                self.answered += 1
                if close_after is not None and self.answered >= close_after:
                    self.close_connection = True   # closed silently: an idle keep-alive timeout

            do_GET = do_POST = do_DELETE = _answer  # noqa: N815 (http.server's names)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/kafka" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server_factory():
    made = []

    def make(**kwargs):
        server = Server(**kwargs)
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


@pytest.fixture
def contexts_made(monkeypatch):
    """The TLS contexts the REST client makes (the keyword arguments of each make_context call)."""
    made = []
    real = _rest_client.make_context

    def counting_make_context(**kwargs):
        made.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(_rest_client, "make_context", counting_make_context)
    return made


def test_threads_keep_their_connections_and_http_needs_no_tls_context(server_factory, contexts_made):
    """open_url makes a TLS context and a connection for every request (a context reads every system CA
    certificate when it validates: ~30 ms, over http:// too). The client makes no context for http://
    and each thread keeps one connection."""
    server = server_factory()
    client = RestClient(server.url, cluster_id="c1", validate_certs=True)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda i: client.request("GET", "/v3/x/%d" % i), range(12)))
    assert [a["path"] for a in answers] == ["/kafka/v3/x/%d" % i for i in range(12)]
    assert client.request_count == 12 and contexts_made == []
    assert 1 <= server.connections <= 4   # one per thread at most, not one per request


def test_one_connection_carries_a_threads_requests(server_factory):
    server = server_factory()
    client = RestClient(server.url, cluster_id="c1", username="u", password="p")
    for i in range(20):
        assert client.request("POST", "/v3/x/%d" % i, body={"i": i}) == {"path": "/kafka/v3/x/%d" % i}
    assert server.connections == 1 and len(server.requests) == 20
    method, path, body, headers = server.requests[-1]
    assert (method, path, json.loads(body)) == ("POST", "/kafka/v3/x/19", {"i": 19})
    assert headers["Authorization"] == "Basic dTpw" and headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "ansible-httpget"


def test_a_connection_the_server_closed_is_replaced_and_no_write_is_lost(server_factory):
    """A server that closes idle connections (a keep-alive timeout): every write lands once, none is
    reported as possibly lost, none is sent twice."""
    server = server_factory(close_after=1)
    client = RestClient(server.url, cluster_id="c1", retries=0)
    for i in range(10):
        client.request("POST", "/v3/w/%d" % i, body={})
        time.sleep(0.01)   # the server's FIN arrives before the next request
    assert [p for m, p, b, h in server.requests] == ["/kafka/v3/w/%d" % i for i in range(10)]
    assert server.connections == 10 and client.retry_count == 0


def test_connection_close_answers_open_a_new_connection(server_factory):
    server = server_factory(answer_close=True)
    client = RestClient(server.url, cluster_id="c1")
    for i in range(3):
        client.request("GET", "/v3/r/%d" % i)
    assert server.connections == 3 and len(server.requests) == 3


def test_an_error_status_is_an_http_error_with_the_body(server_factory):
    server = server_factory(routes={"/kafka/v3/clusters/c1/links/x": (
        404, {"error_code": 40402, "message": "Cluster link 'x' does not exist."}, {})})
    client = RestClient(server.url, cluster_id="c1")
    with pytest.raises(RestError) as info:
        client.cluster("GET", "/links/x")
    assert info.value.status == 404 and info.value.error_code == 40402
    assert "Cluster link 'x' does not exist." in info.value.message
    assert client.request("GET", "/v3/after") == {"path": "/kafka/v3/after"}   # the connection still serves
    assert server.connections == 1


def test_a_timed_out_answer_leaves_no_broken_connection(server_factory):
    """A read that timed out is retried on a new connection, and so is the request after it: the old
    connection, whose answer may still come, is not used again."""
    server = server_factory(delays={"/kafka/v3/slow": 0.5})
    client = RestClient(server.url, cluster_id="c1", timeout=0.2, retries=0)
    with pytest.raises(RestError) as info:
        client.request("GET", "/v3/slow")
    assert "timed out" in info.value.message
    assert client.request("GET", "/v3/fast") == {"path": "/kafka/v3/fast"}
    assert server.connections == 2


def test_a_redirected_read_is_followed_and_a_redirected_write_is_an_error(server_factory):
    target = server_factory()
    moved = (307, {}, {"Location": target.url + "/v3/moved"})
    server = server_factory(routes={"/kafka/v3/old": moved})
    client = RestClient(server.url, cluster_id="c1", retries=0)
    assert client.request("GET", "/v3/old") == {"path": "/kafka/v3/moved"}
    with pytest.raises(RestError) as info:
        client.request("POST", "/v3/old", body={})
    assert info.value.status == 307
    assert [p for m, p, b, h in target.requests] == ["/kafka/v3/moved"]


def test_a_refused_connection_is_a_write_not_sent(server_factory):
    """Nothing listens: the connect fails, so a write is tried again (the server cannot have acted)."""
    server = server_factory()
    url = server.url
    server.stop()
    delays = []
    client = RestClient(url, cluster_id="c1", retries=2, sleep=delays.append)
    with pytest.raises(RestError) as info:
        client.request("POST", "/v3/x", body={})
    assert "Cannot reach the REST endpoint" in info.value.message and len(delays) == 2


def test_a_proxied_url_goes_through_open_url(monkeypatch, server_factory):
    server = server_factory()
    monkeypatch.setenv("http_proxy", "http://proxy.invalid:3128")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert not KeptAliveOpener.use_for(server.url + "/v3/x")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert KeptAliveOpener.use_for(server.url + "/v3/x")
    monkeypatch.delenv("http_proxy")
    monkeypatch.delenv("no_proxy")
    assert KeptAliveOpener.use_for(server.url + "/v3/x")
    assert not KeptAliveOpener.use_for("ftp://127.0.0.1/x")


def test_a_client_behind_a_proxy_sends_through_it(monkeypatch, server_factory):
    """Where http_proxy applies, the client's requests go to the proxy (open_url), not straight to the
    endpoint: a proxy that refuses connections fails the request; no_proxy for the host sends it direct."""
    server = server_factory()
    # open_url installs its opener (with this test's proxy) as urllib's global one: put the old one back after
    monkeypatch.setattr(urllib.request, "_opener", urllib.request._opener)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:1")      # nothing listens there
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(RestError) as info:
        RestClient(server.url, cluster_id="c1", retries=0).request("GET", "/v3/x")
    assert "Cannot reach the REST endpoint" in info.value.message and server.requests == []
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert RestClient(server.url, cluster_id="c1").request("GET", "/v3/x") == {"path": "/kafka/v3/x"}
    assert server.connections == 1


def test_https_makes_one_tls_context_for_all_threads(contexts_made):
    """The TLS context is made once per client, at its first https request, and shared by the threads'
    connections (not once per request, as open_url would)."""
    client = RestClient("https://127.0.0.1:1/kafka", cluster_id="c1", retries=0, validate_certs=False)
    for i in range(3):
        with pytest.raises(RestError):
            client.request("GET", "/v3/x/%d" % i)   # nothing listens: each request still needs the context
    assert contexts_made == [{"cafile": None, "validate_certs": False, "client_cert": None, "client_key": None}]
