"""REST faults on demand, for reliability tests of REST clients.

The ``faults`` knob of the emulator (``PUT /lab/v1/knobs``,
``lab.knobs(faults=...)``, ``labctl.py knobs faults='{...}'``, or the
``LAB_FAULTS`` environment variable read by ``Lab.start`` / ``labctl.py up``)
is a JSON object::

    {"503": 0.2,            # answer 20 % of the requests with HTTP 503
     "429": 0.1,            # 10 % with 429 (Jetty's HTML page, as the spec shows)
     "drop": 0.05,          # 5 % closed without any response
     "latency_ms": 300,     # every matching request waits 300 ms first
     "methods": ["GET"],    # optional: only these methods
     "path_contains": "/mirrors",   # optional: only paths containing this
     "seed": 7}             # optional: reproducible draws

Keys that are HTTP statuses (``"400"``-``"599"``) and ``"drop"`` are
fractions between 0 and 1 whose sum is at most 1; one random draw per request
picks at most one of them. A 5xx answer is ``{"error_code": 50003, "message":
...}`` (the spec's retriable Kafka error), a 4xx other than 429 ``{"error_code":
<status>, ...}``. ``{}`` or ``null`` turns faults off. Only the Kafka REST
paths are affected, never ``/lab/...`` (so the knob can always be reset).

The emulator's HTTP handler calls ``intercept(handler, method, knobs)`` once per
request, before authentication (a rate limiter or a broken proxy answers
before the application does).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from urllib.parse import urlsplit

log = logging.getLogger("lab.faults")

# The 429 page of the spec (Jetty's DoSFilter), with the request URI filled in.
JETTY_429 = ('<html> <head> <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/> '
             '<title>Error 429 Too Many Requests</title> </head> <body> <h2>HTTP ERROR 429 Too Many '
             'Requests</h2> <table> <tr> <th>URI:</th> <td>{uri}</td> </tr> <tr> <th>STATUS:</th> '
             '<td>429</td> </tr> <tr> <th>MESSAGE:</th> <td>Too Many Requests</td> </tr> <tr> '
             '<th>SERVLET:</th> <td>default</td> </tr> </table> </body> </html>')

REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}

_OPTIONS = {"latency_ms", "methods", "path_contains", "seed"}


def parse(value) -> dict:
    """Validate a ``faults`` setting (a dict or its JSON text) and return it
    normalised; ``{}`` means no faults. Raises ``ValueError`` naming the key
    and the fix."""
    if value is None or value == "" or value == {}:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"faults: not valid JSON ({exc.msg}); expected e.g. "
                             '{"503": 0.2, "429": 0.1, "drop": 0.05, "latency_ms": 200}') from None
        if value is None:
            return {}
    if not isinstance(value, dict):
        raise ValueError('faults must be a JSON object such as {"503": 0.2, "drop": 0.1}')
    out: dict = {}
    total = 0.0
    for key, v in value.items():
        key = str(key)
        if key in _OPTIONS:
            continue
        if key != "drop" and not (key.isdigit() and 400 <= int(key) <= 599):
            raise ValueError(f"faults: unknown key {key!r}; use an HTTP status 400-599, 'drop', "
                             f"or one of {sorted(_OPTIONS)}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise ValueError(f"faults[{key!r}] must be a fraction between 0 and 1, not {v!r}")
        if v:
            out[key] = float(v)
            total += float(v)
    if total > 1.0 + 1e-9:
        raise ValueError(f"faults: the fractions add up to {total:g}; their sum must be at most 1")
    lat = value.get("latency_ms", 0)
    if isinstance(lat, bool) or not isinstance(lat, (int, float)) or not 0 <= lat <= 600_000:
        raise ValueError(f"faults['latency_ms'] must be a number of milliseconds (0-600000), not {lat!r}")
    if lat:
        out["latency_ms"] = lat
    methods = value.get("methods")
    if methods is not None:
        if isinstance(methods, str):
            methods = [methods]
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            raise ValueError("faults['methods'] must be a list of HTTP methods, e.g. [\"GET\"]")
        out["methods"] = [m.upper() for m in methods]
    pc = value.get("path_contains")
    if pc is not None:
        if not isinstance(pc, str):
            raise ValueError("faults['path_contains'] must be a string")
        out["path_contains"] = pc
    seed = value.get("seed")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError("faults['seed'] must be an integer")
        out["seed"] = seed
    return out


class _Dice:
    """One random stream per ``faults`` setting (re-seeded when it changes)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.setting: str | None = None
        self.rng = random.Random()

    def draw(self, faults: dict) -> float:
        key = json.dumps(faults, sort_keys=True)
        with self.lock:
            if key != self.setting:
                self.setting = key
                self.rng = random.Random(faults.get("seed"))
            return self.rng.random()


_dice = _Dice()


def choose(faults: dict, method: str, path: str) -> tuple[float, str | None]:
    """``(latency_ms, outcome)`` for one request: outcome is a status string,
    ``"drop"`` or None."""
    if not faults or path.startswith("/lab/"):
        return 0, None
    if faults.get("methods") and method.upper() not in faults["methods"]:
        return 0, None
    if faults.get("path_contains") and faults["path_contains"] not in path:
        return 0, None
    rates = [(k, v) for k, v in sorted(faults.items()) if k == "drop" or k.isdigit()]
    outcome = None
    if rates:
        draw, acc = _dice.draw(faults), 0.0
        for key, frac in rates:
            acc += frac
            if draw < acc:
                outcome = key
                break
    return faults.get("latency_ms", 0), outcome


def intercept(handler, method: str, knobs: dict) -> bool:
    """Apply the ``faults`` knob to the request ``handler`` is serving.

    Sleeps for ``latency_ms``; then, when the draw picks a fault, answers it
    (or closes the connection) and returns True: the handler must not answer
    again. Returns False to let the request through."""
    faults = knobs.get("faults")
    if not faults:
        return False
    path = urlsplit(handler.path).path
    latency, outcome = choose(faults, method, path)
    if latency:
        time.sleep(latency / 1000)
    if outcome is None:
        return False
    log.info("fault injected: %s %s -> %s", method, handler.path,
             "connection dropped" if outcome == "drop" else outcome)
    if outcome == "drop":
        handler.close_connection = True
        return True
    try:  # read the body so the connection stays usable
        n = int(handler.headers.get("Content-Length") or 0)
        if n:
            handler.rfile.read(n)
    except (ValueError, OSError):
        handler.close_connection = True
    status = int(outcome)
    if status == 429:
        data, ctype = JETTY_429.format(uri=path).encode(), "text/html;charset=utf-8"
    else:
        code = 50003 if status >= 500 else status
        data = json.dumps({"error_code": code,
                           "message": f"Injected lab fault: HTTP {status} "
                                      f"{REASONS.get(status, '')}".rstrip()}).encode()
        ctype = "application/json"
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
    return True


# --------------------------------------------------------------------------- source availability

def availability_settings(link, knobs: dict) -> tuple[int, int]:
    """``(interval_ms, threshold)`` of the link's availability check: the link's
    ``availability.check.ms`` / ``availability.check.consecutive.failure.threshold``
    when it sets them, else the lab's short defaults (knobs
    ``availability_check_ms`` / ``availability_check_threshold``) instead of
    Confluent's 60000 ms x 5."""
    def value(config: str, knob: str, default: int) -> int:
        if link.configs.get(config) not in (None, ""):
            return int(link.configs[config])
        return int(knobs.get(knob, default))
    return (value("availability.check.ms", "availability_check_ms", 500),
            max(1, value("availability.check.consecutive.failure.threshold",
                         "availability_check_threshold", 2)))


def link_error_for(bootstrap: str, err: str) -> str:
    """The ``link_error`` for a failed metadata request to ``bootstrap``."""
    if any(s in err for s in ("Authentication failed", "SASL authentication error", "_AUTHENTICATION",
                              "SSL handshake failed", "certificate verify failed",
                              "mechanism handshake failed")):
        return "AUTHENTICATION_ERROR"      # Java: SaslAuthenticationException, SslAuthenticationException
    if "_TIMED_OUT" in err or "Timed out" in err:
        return "TIMEOUT_ERROR"
    import socket
    for hp in bootstrap.split(","):
        host = hp.strip().rsplit(":", 1)[0].split("://")[-1].strip("[]")
        try:
            socket.getaddrinfo(host, None)
            return "BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR"
        except (socket.gaierror, UnicodeError):
            continue
    return "UNRESOLVABLE_BOOTSTRAP_ERROR"


def record_source_check(worker, ok: bool, err: str | None, bootstrap: str) -> None:
    """One metadata request of a link worker to its source, succeeded or not
    (called with the emulator lock held). A failure counts towards the
    threshold at most once per check interval; the link turns UNAVAILABLE
    (its mirrors SOURCE_UNAVAILABLE) after ``threshold`` counted failures in a
    row, and ACTIVE again at the first success."""
    link = worker.link
    if ok:
        worker._failures = 0
        worker._last_counted_failure = None
        if not link.available:
            log.info("link %s: source available again", link.name)
        link.available, link.link_error, link.link_error_message = True, "NO_ERROR", None
        return
    interval_ms, threshold = availability_settings(link, worker.emu.knobs)
    now = time.monotonic()
    last = getattr(worker, "_last_counted_failure", None)
    if last is None or (now - last) * 1000 >= interval_ms:
        worker._failures += 1
        worker._last_counted_failure = now
    if worker._failures >= threshold and link.available:
        code = link_error_for(bootstrap, err or "")
        log.warning("link %s: source unavailable after %d failed checks (%s): %s", link.name,
                    worker._failures, code, err)
        link.available = False
        link.link_error = code
        link.link_error_message = f"Cannot reach the source cluster at {bootstrap}: {err}"


def link_validation_error(name: str, bootstrap: str, reason: str) -> str:
    """The 400 message of a link create whose ``validate_link`` check could not read the remote
    cluster: the ``link_error`` the link would show, the client's ``reason`` (what the link's own
    client saw, e.g. a failed SASL authentication), and for a credential or trust problem the
    configs to check. Never a config value."""
    code = link_error_for(bootstrap, reason)
    if code == "TIMEOUT_ERROR":       # a metadata timeout with nothing listening
        code = "BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR"
    hint = ""
    if code == "AUTHENTICATION_ERROR":
        hint = (" Check the link's sasl.mechanism and sasl.jaas.config (username and password), "
                "and that ssl.truststore.location / ssl.truststore.certificates hold the CA of the "
                "remote cluster's certificate.")
    return (f"Unable to validate cluster link '{name}': cannot connect to the remote cluster at "
            f"'{bootstrap}' ({code}): {reason}.{hint}")
