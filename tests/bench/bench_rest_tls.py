"""Benchmark: what does HTTPS (and mutual TLS) cost a REST request to the emulator? (reported, not asserted)

    .venv/bin/python tests/bench/bench_rest_tls.py [--requests 200] [--dir DIR]

Starts three noida labs in turn (http, HTTPS, HTTPS with client certificates; noida brokers: only
the REST side is measured) and sends ``--requests`` sequential ``GET /kafka/v3/clusters/<id>/links``
to the destination REST of each with HTTP Basic auth, two ways:

* ``new-connection``: every request on a new connection (urllib, as ``open_url`` and the CP tools make
  them: with HTTPS, a TLS handshake each);
* ``kept-alive``: the modules' RestClient, whose thread keeps one connection (_http_connections.py).

The TLS context is built once per lab, as a client process would. One JSON line per mode and client:
``median_ms``, ``p90_ms``, ``mean_ms``, ``total_s``, ``cpu_ms_per_request`` (this process: the client
side), ``emulator_cpu_ms_per_request`` (the server side), and ``load_before``/``load_after`` (the
1-minute load average: the machine is shared).

Measured on the shared 2-core machine, 200 GETs each: see docs/lab.md ("HTTPS and mutual TLS").
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / ".collections"))   # make venv links it

from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_client import RestClient  # noqa: E402
from linkops_lab.lab import Lab  # noqa: E402
from linkops_lab.procs import cpu_seconds  # noqa: E402


def new_connection_get(lab: Lab):
    """A GET of the links on a new connection each time (urllib, as open_url makes them)."""
    url = f"{lab.rest_url}/v3/clusters/{lab.destination_cluster_id}/links"
    auth = "Basic " + base64.b64encode(f"{lab.rest_username}:{lab.rest_password}".encode()).decode()
    context = lab.ssl_context()

    def get():
        req = urllib.request.Request(url, headers={"Authorization": auth, "Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=30, context=context) as resp:
            resp.read()
            assert resp.status == 200
    return get


def kept_alive_get(lab: Lab):
    """The same GET through the modules' RestClient (one kept-alive connection)."""
    conn = lab.rest_connection("destination")
    client = RestClient(conn["rest_url"], cluster_id=conn["cluster_id"], username=conn["rest_username"],
                        password=conn["rest_password"], ca_path=conn.get("ca_path"),
                        client_cert=conn.get("client_cert"), client_key=conn.get("client_key"))
    return lambda: client.cluster("GET", "/links")


CLIENTS = {"new-connection": new_connection_get, "kept-alive": kept_alive_get}


def measure(lab: Lab, requests: int, get) -> dict:
    emulator = lab.info["pids"]["emulator"]
    times = []
    load_before = os.getloadavg()[0]
    cpu0, emu0, t0 = time.process_time(), cpu_seconds(emulator), time.perf_counter()
    for _request in range(requests):
        start = time.perf_counter()
        get()
        times.append((time.perf_counter() - start) * 1000)
    total = time.perf_counter() - t0
    times.sort()
    return {"requests": requests, "median_ms": round(statistics.median(times), 2),
            "p90_ms": round(times[int(len(times) * 0.9) - 1], 2), "mean_ms": round(statistics.mean(times), 2),
            "total_s": round(total, 2),
            "cpu_ms_per_request": round((time.process_time() - cpu0) * 1000 / requests, 2),
            "emulator_cpu_ms_per_request": round((cpu_seconds(emulator) - emu0) * 1000 / requests, 2),
            "load_before": round(load_before, 1), "load_after": round(os.getloadavg()[0], 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--dir", help="parent directory of the labs (default: a temporary one)")
    args = ap.parse_args(argv)
    parent = Path(args.dir or tempfile.mkdtemp(prefix="bench-rest-tls-"))
    for mode, tls in (("http", {"rest_tls": False}), ("https", {"rest_tls": True}),
                      ("mtls", {"rest_mtls": True})):
        with Lab.start(parent / mode, kind="noida", **tls) as lab:
            for client, make in CLIENTS.items():
                get = make(lab)
                measure(lab, 10, get)                         # warm up (imports, first connections)
                print(json.dumps({"mode": mode, "client": client, **measure(lab, args.requests, get)}),
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
