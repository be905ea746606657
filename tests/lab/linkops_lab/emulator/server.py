"""The emulator's HTTP side: one threading HTTP server per served cluster, request parsing
(``Request``), HTTP Basic auth, the ``faults`` knob before anything else (faults.py), the
contract hook (``contract.observe``) before each response is sent, and ``serve``, the process
entry point (``labctl.py serve-emulator --config FILE``, which the lab runs: it keeps the REST
ports open and runs the emulator in a worker process it starts again after a crash, see
supervisor.py). The config file is
JSON::

    {"host": "127.0.0.1", "username": "lab", "password": "...",
     "clusters": [
        {"name": "destination", "cluster_id": "...", "bootstrap": "...", "client_config": {},
         "port": 0},
        {"name": "source", "cluster_id": "...", "bootstrap": "...", "client_config": {},
         "port": 0}],
     "state_file": "...", "port_file": "...",
     "tls": {"certfile": ".../tls/rest-server.pem", "client_ca": ".../tls/ca.crt"},
     "knobs": {"pending_stopped_ms": 500, ...}}

``tls`` (optional) makes every REST server HTTPS: ``certfile`` holds the private key and the
certificate chain (PEM, as ``lab_tls.ensure_server_cert`` writes it); with ``client_ca`` the
servers require a client certificate signed by that CA (mutual TLS). The TLS handshake happens
in the request's own thread; a failed one (an untrusted server certificate on the client's
side, no or a wrong client certificate) is logged and the connection closed.

A cluster with a ``port`` (0: any free port) gets a REST server; one without is only known as a
remote cluster (bootstrap -> cluster id). The port file receives ``{"<name>": port, ...}``. The
older single-cluster form (``"destination": {...}``, ``"port"``, ``"clusters": [remote, ...]``)
is still read: only the destination is served then."""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import signal
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from linkops_lab.emulator import contract_hook, faults, supervisor
from linkops_lab.emulator.api import Api, RawBody
from linkops_lab.emulator.core import Emulator
from linkops_lab.emulator.model import ApiError, config_clusters

log = logging.getLogger("lab.emulator")


class Request:
    def __init__(self, handler: BaseHTTPRequestHandler, method: str):
        self.method = method
        parts = urlsplit(handler.path)
        self.path = parts.path.rstrip("/") or "/"
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.host = handler.headers.get("Host") or "%s:%s" % handler.server.server_address[:2]
        self.scheme = "https" if isinstance(handler.connection, ssl.SSLSocket) else "http"
        self.prefix = ""
        self.handler = handler
        self._body: bytes | None = None

    def query_str(self, name: str) -> str | None:
        vals = self.query.get(name)
        return vals[-1] if vals else None

    def query_bool(self, name: str, default: bool) -> bool:
        v = self.query_str(name)
        if v is None or v == "":
            return default
        if v.lower() in ("true", "false"):
            return v.lower() == "true"
        raise ApiError(400, 400, f"Cannot deserialize value of type `boolean` from String "
                                 f"\"{v}\" (query parameter '{name}')")

    def raw_body(self) -> bytes:
        if self._body is None:
            n = int(self.handler.headers.get("Content-Length") or 0)
            self._body = self.handler.rfile.read(n) if n else b""
        return self._body

    def json_body(self, required: bool = False):
        raw = self.raw_body()
        if not raw.strip():
            if required:
                raise ApiError(400, 400, "Request body is required.")
            return {}
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ApiError(400, 400, f"Unexpected request body: {exc}") from None


def make_handler(api: Api, username: str, password: str):
    expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "lab-cluster-linking-emulator"
        # the head and the body of an answer are two writes: with Nagle's algorithm the body of an
        # answer on a kept-alive connection waits for the client's delayed ACK of the head (40 ms).
        # Jetty (Confluent Server's REST) sets TCP_NODELAY on accepted connections too.
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):  # route access logs to logging
            log.debug("%s %s", self.address_string(), fmt % args)

        def _send(self, status: int, body: Any) -> None:
            if body is None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if isinstance(body, RawBody):
                data, ctype = body.text.encode(), body.content_type
            else:
                data, ctype = json.dumps(body).encode(), "application/json"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            req = Request(self, method)
            api.count(req)
            if faults.intercept(self, method, api.emu.knobs):  # the faults knob (faults.py)
                return
            try:
                auth = self.headers.get("Authorization") or ""
                if not secrets.compare_digest(auth.encode(), expected.encode()):
                    raise ApiError(401, 40101, "Authentication failed")
                status, body = api.dispatch(req)
            except ApiError as exc:
                status, body = exc.status, {"error_code": exc.error_code, "message": exc.message}
            except Exception as exc:  # never leak a traceback to the client
                log.exception("%s %s failed", method, self.path)
                status, body = 500, {"error_code": 500, "message": f"Internal Server Error: {exc}"}
            # drain an unread body so keep-alive stays in sync
            try:
                req.raw_body()
            except Exception:
                pass
            log.info("%s %s -> %s", method, self.path, status)
            contract_hook.observe(self, req, status, body)  # OpenAPI checks when LAB_CONTRACT_LOG is set
            self._send(status, body)

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

        def do_PUT(self):
            self._handle("PUT")

        def do_DELETE(self):
            self._handle("DELETE")

        def do_PATCH(self):
            self._handle("PATCH")

    return Handler


HANDSHAKE_TIMEOUT = 10.0


def server_context(tls: dict) -> ssl.SSLContext:
    """The TLS context of the ``tls`` config entry (see the module docstring)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(tls["certfile"])
    if tls.get("client_ca"):
        ctx.load_verify_locations(cafile=tls["client_ca"])
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class TLSHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer over TLS: the accepting thread only wraps the socket; the
    handshake runs in the request's thread, so a slow or failing client blocks nobody."""

    def __init__(self, address, handler, context: ssl.SSLContext, bind_and_activate: bool = True):
        self.ssl_context = context
        super().__init__(address, handler, bind_and_activate)

    def get_request(self):
        sock, addr = super().get_request()
        return self.ssl_context.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError) as exc:
            log.info("TLS handshake with %s:%s failed: %s", *client_address[:2],
                     getattr(exc, "reason", None) or exc)
            return
        request.settimeout(None)
        super().finish_request(request, client_address)


class EmulatorServer:
    """The emulator plus one HTTP server per served cluster; ``serve_forever``
    until ``shutdown``. ``sockets`` (cluster name -> listening socket, from
    ``supervisor.bind``): serve those instead of binding the clusters' ports."""

    def __init__(self, config: dict, sockets: dict[str, socket.socket] | None = None):
        self.emu = Emulator(config)
        host = config.get("host", "127.0.0.1")
        self.httpds: dict[str, ThreadingHTTPServer] = {}
        self.ports: dict[str, int] = {}
        context = server_context(config["tls"]) if config.get("tls") else None
        self.scheme = "https" if context else "http"
        try:
            for cluster in self.emu.served():
                api = Api(self.emu, cluster)
                handler = make_handler(api, config["username"], config["password"])
                address = (host, int(cluster.port or 0))
                bind = sockets is None
                httpd = (TLSHTTPServer(address, handler, context, bind) if context
                         else ThreadingHTTPServer(address, handler, bind))
                if not bind:
                    httpd.socket.close()
                    httpd.socket = sockets[cluster.name]
                    httpd.server_address = httpd.socket.getsockname()
                httpd.daemon_threads = True
                self.httpds[cluster.name] = httpd
                self.ports[cluster.name] = httpd.server_address[1]
        except BaseException:
            for httpd in self.httpds.values():
                httpd.server_close()
            raise
        first = self.emu.cluster().name
        self.httpd = self.httpds[first]        # the default (destination) cluster's server
        self.port = self.ports[first]

    def serve_forever(self) -> None:
        self.emu.start_workers()
        threads = []
        for name, httpd in self.httpds.items():
            if httpd is self.httpd:
                continue
            t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                 name=f"http-{name}", daemon=True)
            t.start()
            threads.append(t)
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            for httpd in self.httpds.values():
                if httpd is not self.httpd:
                    httpd.shutdown()
            for t in threads:
                t.join(timeout=5)
            for httpd in self.httpds.values():
                httpd.server_close()
            self.emu.shutdown()

    def shutdown(self) -> None:
        self.httpd.shutdown()


def serve(config_path: str) -> int:
    """The emulator process: binds the REST ports, writes the port file, then runs the emulator in
    a worker process that is started again if it crashes (supervisor.py)."""
    with open(config_path) as fh:
        config = json.load(fh)
    logging.basicConfig(level=os.environ.get("LAB_EMULATOR_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    host = config.get("host", "127.0.0.1")
    served = [c for c in config_clusters(config) if c.served]
    sockets = supervisor.bind(host, {c.name: int(c.port or 0) for c in served})
    ports = {name: sock.getsockname()[1] for name, sock in sockets.items()}
    port_file = config.get("port_file")
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(ports, fh)
        os.replace(tmp, port_file)
    scheme = "https" if config.get("tls") else "http"
    for c in served:
        log.info("emulator: REST for cluster %s (%s) on %s://%s:%d%s", c.cluster_id, c.name,
                 scheme, host, ports[c.name],
                 " (client certificates required)" if (config.get("tls") or {}).get("client_ca")
                 else "")

    def run_worker() -> int:
        server = EmulatorServer(config, sockets)
        log.info("emulator worker %d (pid %d) serving", supervisor.worker_number(), os.getpid())

        def on_signal(signum, _frame):
            log.info("signal %d: shutting down", signum)
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        server.serve_forever()
        return 0

    code = supervisor.supervise(run_worker)
    log.info("emulator stopped")
    return code
