"""The emulator's side of the contract checks (the checks themselves are in contract.py).

Off unless ``LAB_CONTRACT_LOG`` is set in the emulator's environment. Then ``observe(handler,
req, status, body)``, which the HTTP handler (server.py) calls once per request before the
response is sent, validates the pair with ``contract.Contract`` (loaded once, lazily, from the
JSON spec cache), appends one JSON line per violation to the log, and keeps the counts of what it
validated in ``<log>.counts.<pid>``. It never raises: a crash of the check is logged as a
violation of its own.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from linkops_lab.contract import COLLECTION_USER_AGENT, ENV, Contract, redact_query
from linkops_lab.emulator import supervisor


class _Recorder:
    def __init__(self, log_path: str):
        self.log_path = log_path
        self.counts_path = f"{log_path}.counts.{os.getpid()}"
        self.cache_path = Path(os.environ.get("LAB_CONTRACT_SPEC_CACHE") or f"{log_path}.specs.json")
        self._lock = threading.Lock()
        self._contract: Contract | None = None
        self._load_error: str | None = None
        self.counts = {"requests": 0, "responses": 0, "violations": 0, "rejected_invalid": 0,
                       "unknown_operation": 0, "lab": os.getcwd(), "pid": os.getpid(),
                       "load_seconds": None, "check_cpu_seconds": 0.0}

    def contract(self) -> Contract | None:
        if self._contract is None and self._load_error is None:
            with self._lock:
                if self._contract is None and self._load_error is None:
                    t0 = time.monotonic()
                    try:
                        self._contract = Contract.load(self.cache_path)
                    except Exception as exc:  # a broken spec must not take the emulator down
                        self._load_error = f"{type(exc).__name__}: {exc}"
                    self.counts["load_seconds"] = round(time.monotonic() - t0, 3)
        return self._contract

    def write_counts(self) -> None:
        with self._lock:
            self.counts["worker"] = supervisor.worker_number()   # > 0: a worker started after a crash
            doc = json.dumps(self.counts)
            tmp = f"{self.counts_path}.tmp"
            try:
                with open(tmp, "w") as fh:
                    fh.write(doc)
                os.replace(tmp, self.counts_path)
            except OSError:  # e.g. the session removed its log directory already
                pass

    def record(self, entry: dict) -> None:
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self._lock:
            self.counts["violations"] += 1
            with open(self.log_path, "a") as fh:
                fh.write(line)

    def observe(self, handler, req, status: int, body: Any) -> None:
        cpu0 = time.thread_time()
        try:
            self._observe(handler, req, status, body)
        finally:
            with self._lock:
                self.counts["check_cpu_seconds"] = round(
                    self.counts["check_cpu_seconds"] + time.thread_time() - cpu0, 4)

    def _observe(self, handler, req, status: int, body: Any) -> None:
        split = urlsplit(handler.path)
        path = split.path.rstrip("/") or "/"
        if not (path.startswith("/v3/") or path.startswith("/kafka/v3/")):
            return
        kpath = Contract.kafka_path(path)
        method = req.method
        query = parse_qsl(split.query, keep_blank_values=True)
        hdrs = handler.headers
        client = hdrs.get("User-Agent") or ""
        base = {"ts": round(time.time(), 3), "method": method, "path": path,
                "query": redact_query(query), "status": status, "client": client,
                "lab": self.counts["lab"], "port": handler.server.server_address[1],
                "pid": os.getpid()}
        contract = self.contract()
        if contract is None:
            self.record({**base, "side": "setup", "operation": None, "spec": None,
                         "errors": [f"cannot load the OpenAPI specs: {self._load_error}"]})
            return
        op = contract.operation(method, kpath)
        from_collection = client.startswith(COLLECTION_USER_AGENT)
        if op is None:
            with self._lock:
                self.counts["unknown_operation"] += 1
            if status < 400 or from_collection:
                self.record({**base, "side": "request", "operation": None, "spec": None,
                             "errors": [f"{method} {kpath} is not an operation of the Confluent "
                                        "Cloud or Platform spec"]})
            return
        base.update(operation=op.operation_id, spec=op.spec_name)
        # request
        headers = {}
        if hdrs.get("Authorization"):
            scheme = hdrs["Authorization"].split(" ", 1)[0]
            headers["Authorization"] = f"{scheme} <redacted>"
        try:
            raw = req.raw_body()  # already read (the handler drains it before answering)
        except Exception:
            raw = b""
        req_errors = contract.check_request(op, method, kpath, query, headers, raw,
                                            hdrs.get("Content-Type"))
        # response
        if body is None:
            ctype, rbody = None, None
        elif hasattr(body, "content_type") and hasattr(body, "text"):  # api.RawBody
            ctype, rbody = body.content_type, body.text
        else:
            ctype, rbody = "application/json", body
        resp_errors = contract.check_response(op, method, kpath, status, ctype, rbody)
        with self._lock:
            self.counts["requests"] += 1
            self.counts["responses"] += 1
            if req_errors and not (status < 400 or from_collection):
                self.counts["rejected_invalid"] += 1
        if req_errors and (status < 400 or from_collection):
            self.record({**base, "side": "request", "errors": req_errors})
        if resp_errors:
            self.record({**base, "side": "response", "errors": resp_errors})
        self.write_counts()


_RECORDER: _Recorder | None = None


def _new_recorder() -> None:
    global _RECORDER
    _RECORDER = _Recorder(os.environ[ENV]) if os.environ.get(ENV) else None


_new_recorder()
# an emulator worker (supervisor.py forks one, and another after a crash) counts as its own process
os.register_at_fork(after_in_child=_new_recorder)


def observe(handler, req, status: int, body: Any) -> None:
    """The emulator's hook: check one request/response pair (no-op unless
    ``LAB_CONTRACT_LOG`` is set). Never raises."""
    if _RECORDER is None:
        return
    try:
        _RECORDER.observe(handler, req, status, body)
    except Exception as exc:  # the check must never break the emulator
        try:
            _RECORDER.record({"ts": round(time.time(), 3), "method": getattr(req, "method", "?"),
                              "path": getattr(handler, "path", "?"), "status": status,
                              "side": "checker", "lab": _RECORDER.counts["lab"], "pid": os.getpid(),
                              "errors": [f"contract check crashed: {type(exc).__name__}: {exc}"]})
        except Exception:
            pass
