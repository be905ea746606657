"""Benchmark: how fast does the emulator copy records? (reported, not asserted)

    .venv/bin/python tests/bench/bench_copy.py [--records 100000] [--size 1024] [--partitions 6]
                                               [--runs 1] [--dir DIR]   # --dir: attach to a running lab

Each run produces the records to a fresh source topic first, creates a link,
then ``POST mirrors`` and polls until the mirror is ACTIVE with lag 0 on every
partition, sampling the destination high watermarks meanwhile. One JSON line
per run:

* ``post_to_lag0_seconds``: from ``POST .../mirrors`` to the first ``GET`` of
  the mirror that shows ACTIVE and lag 0 while the destination end offsets
  equal the source's (topic creation, PENDING_MIRROR, copying, the last poll);
  ``lag0_before_copied`` counts GETs that said lag 0 before that (lags computed
  from a stale source fetch when the source was too slow to answer);
* ``copy_records_per_s``: the steady copy rate, from the destination high
  watermarks between 10 % and 90 % of the records copied;
* ``end_to_end_records_per_s``: records / ``post_to_lag0_seconds``;
* ``produce_records_per_s``: how fast the source took the records;
* ``cpu_seconds``: CPU time the emulator and each broker used from ``POST
  mirrors`` to lag 0, and ``emulator_cpu_us_per_record``: a measure of the
  copy engine's cost that a busy machine distorts less than the rates;
* ``idle_cpu_percent``: CPU the emulator and each broker use while the caught-up mirror stays
  ACTIVE with nothing new to copy (5 seconds measured; an idle link should cost next to nothing);
* ``load_before`` / ``load_after``: the 1-minute load average (the machine is
  shared: note it with the numbers).

The emulator does no contract checks here (``LAB_CONTRACT_LOG`` unset) unless
the environment sets it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))   # a script: linkops_lab is not installed

from linkops_lab.kafka import watermarks  # noqa: E402
from linkops_lab.lab import Lab  # noqa: E402
from linkops_lab.procs import cpu_seconds  # noqa: E402


def _rate_between(samples: list[tuple[float, int]], total: int, lo: float = 0.1, hi: float = 0.9):
    """Records/s between the samples where ``lo`` and ``hi`` of ``total`` were copied."""
    start = next(((t, n) for t, n in samples if n >= total * lo), None)
    end = next(((t, n) for t, n in samples if n >= total * hi), None)
    if start is None or end is None or end[0] <= start[0]:
        return None
    return round((end[1] - start[1]) / (end[0] - start[0]))


IDLE_SECONDS = 15


def _cpu(lab: Lab) -> dict:
    return {name: cpu_seconds(pid) for name, pid in (lab.info.get("pids") or {}).items()}


def _cpu_between(before: dict, after: dict) -> dict:
    return {name: round(after[name] - before[name], 2) for name in before
            if before.get(name) is not None and after.get(name) is not None}


def run(lab: Lab, records: int, size: int, partitions: int) -> dict:
    topic = f"bench-{uuid.uuid4().hex[:6]}"
    link = f"bench-{uuid.uuid4().hex[:6]}"
    load_before = round(os.getloadavg()[0], 2)
    lab.create_topic("source", topic, partitions)
    produced = lab.produce_bench("source", topic, records, size)
    D = lab.destination_cluster_id
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{D}/links", {
        "source_cluster_id": lab.source_cluster_id,
        "configs": [{"name": "bootstrap.servers", "value": lab.source_bootstrap}]},
        params={"link_name": link})
    assert status == 204, body
    dest = lab.admin("destination")
    samples: list[tuple[float, int]] = []
    cpu0 = _cpu(lab)
    t0 = time.monotonic()
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{D}/links/{link}/mirrors",
                            {"source_topic_name": topic})
    assert status == 204, body
    t_created = time.monotonic() - t0
    deadline = time.monotonic() + 600
    m: dict = {}
    src_end = lab.end_offsets("source", topic)
    early_lag0 = 0
    while True:
        if time.monotonic() > deadline:
            raise SystemExit(f"mirror not caught up after 600s: {m}")
        _status, m = lab.rest("GET", f"/kafka/v3/clusters/{D}/links/{link}/mirrors/{topic}")
        now = time.monotonic() - t0
        if m["mirror_status"] == "ACTIVE" and all(l["lag"] == 0 for l in m["mirror_lags"]):
            if lab.end_offsets("destination", topic) == src_end:
                break
            early_lag0 += 1  # lag 0 from a stale source fetch (the emulator could not read it)
        if m["mirror_status"] == "FAILED":
            raise SystemExit(f"mirror failed: {m}")
        try:
            wm = watermarks(dest, [(topic, p) for p in range(partitions)], timeout=5)
            samples.append((now, sum(wm.values())))
        except Exception:
            pass
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    cpu1 = _cpu(lab)
    cpu = _cpu_between(cpu0, cpu1)
    idle0 = _cpu(lab)
    time.sleep(IDLE_SECONDS)
    idle = {name: round(sec * 100 / IDLE_SECONDS, 1) for name, sec in _cpu_between(idle0, _cpu(lab)).items()}
    lab.rest("DELETE", f"/kafka/v3/clusters/{D}/links/{link}", params={"force": True})
    first = next((t for t, n in samples if n > 0), None)
    return {"records": records, "size": size, "partitions": partitions,
            "produce_records_per_s": produced["records_per_second"],
            "post_mirror_seconds": round(t_created, 2),
            "first_record_seconds": round(first, 2) if first is not None else None,
            "post_to_lag0_seconds": round(elapsed, 2),
            "copy_records_per_s": _rate_between(samples, records),
            "end_to_end_records_per_s": round(records / elapsed),
            "copy_mb_per_s": round(records * size / elapsed / 1e6, 1),
            "lag0_before_copied": early_lag0,
            "cpu_seconds": cpu,
            "emulator_cpu_us_per_record": (round(cpu["emulator"] * 1e6 / records, 1)
                                           if "emulator" in cpu else None),
            "idle_cpu_percent": idle,
            "load_before": load_before, "load_after": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count()}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--dir", help="attach to the lab in DIR instead of starting one")
    args = ap.parse_args()

    def go(lab: Lab) -> None:
        for _run in range(args.runs):
            print(json.dumps(run(lab, args.records, args.size, args.partitions)), flush=True)

    if args.dir:
        go(Lab.attach(args.dir))
        return 0
    with tempfile.TemporaryDirectory() as tmp, Lab.start(tmp) as lab:
        go(lab)
    return 0


if __name__ == "__main__":
    sys.exit(main())
