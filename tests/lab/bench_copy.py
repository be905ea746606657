#!/usr/bin/env python3
"""Benchmark: how fast does the emulator copy records? (reported, not asserted)

    .venv/bin/python tests/lab/bench_copy.py [--records 200000] [--size 1024] [--partitions 6]
                                             [--dir DIR]   # attach to a running lab instead

Produces the records to a fresh source topic first, then creates a link and a
mirror and times until every partition's lag is 0 (copy throughput), and
prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lab import Lab  # noqa: E402


def run(lab: Lab, records: int, size: int, partitions: int) -> dict:
    topic = f"bench-{uuid.uuid4().hex[:6]}"
    link = f"bench-{uuid.uuid4().hex[:6]}"
    lab.create_topic("source", topic, partitions)
    produced = lab.produce_bench("source", topic, records, size)
    D = lab.destination_cluster_id
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{D}/links", {
        "source_cluster_id": lab.source_cluster_id,
        "configs": [{"name": "bootstrap.servers", "value": lab.source_bootstrap}]},
        params={"link_name": link})
    assert status == 204, body
    t0 = time.monotonic()
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{D}/links/{link}/mirrors",
                            {"source_topic_name": topic})
    assert status == 204, body
    deadline = time.monotonic() + 600
    while True:
        if time.monotonic() > deadline:
            raise SystemExit(f"mirror not caught up after 600s: {m}")
        _, m = lab.rest("GET", f"/kafka/v3/clusters/{D}/links/{link}/mirrors/{topic}")
        if m["mirror_status"] == "ACTIVE" and all(l["lag"] == 0 for l in m["mirror_lags"]):
            break
        if m["mirror_status"] == "FAILED":
            raise SystemExit(f"mirror failed: {m}")
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    assert lab.end_offsets("destination", topic) == lab.end_offsets("source", topic)
    lab.rest("DELETE", f"/kafka/v3/clusters/{D}/links/{link}", params={"force": True})
    return {"records": records, "size": size, "partitions": partitions,
            "produce_records_per_s": produced["records_per_second"],
            "copy_seconds": round(elapsed, 2),
            "copy_records_per_s": round(records / elapsed),
            "copy_mb_per_s": round(records * size / elapsed / 1e6, 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--dir", help="attach to the lab in DIR instead of starting one")
    args = ap.parse_args()
    if args.dir:
        print(json.dumps(run(Lab.attach(args.dir), args.records, args.size, args.partitions)))
        return 0
    with tempfile.TemporaryDirectory() as tmp, Lab.start(tmp) as lab:
        print(json.dumps(run(lab, args.records, args.size, args.partitions)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
