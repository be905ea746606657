"""Benchmark: what mirror_topic costs on a link with many mirrors, against a lab of its own.

    .venv/bin/python tests/bench/bench_mirror_topic.py [--mirrors 200] [--batch-from 0]

Creates N one-partition source topics with a few records, then runs real `ansible` commands:
create the N mirrors in one mirror_topic task, wait for lag 0 with mirror_topic_info, a no-op
mirror_topic run, and a promote of all N in one task. Prints wall time and REST requests of each
(the modules return rest_requests). Reported, not asserted: time depends on the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from linkops_it import create_link_via_rest, run_ansible_module, start_lab  # noqa: E402


def timed(lab, module, args):
    start = time.monotonic()
    run = run_ansible_module(lab, module, args, timeout=1800)
    elapsed = time.monotonic() - start
    if run.rc != 0:
        raise SystemExit(f"{module} failed:\n{run.output[-3000:]}")
    return run.result, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirrors", type=int, default=200)
    args = parser.parse_args()
    n = args.mirrors
    with tempfile.TemporaryDirectory(prefix="linkops-bench-") as workdir:
        lab = start_lab(Path(workdir))
        try:
            topics = [f"bench-{i:05d}" for i in range(n)]
            admin = lab.admin("source")
            from confluent_kafka.admin import NewTopic
            for future in admin.create_topics([NewTopic(t, 1, 1) for t in topics]).values():
                future.result()
            for topic in topics:
                lab.produce("source", topic, ["a", "b", "c"])
            create_link_via_rest(lab, "bench-link")
            link = {"link_name": "bench-link", "topics": topics, "wait_interval": 1, "wait_timeout": 1800}
            rows = []
            result, elapsed = timed(lab, "mirror_topic", dict(link, state="active"))
            rows.append((f"create {n} mirrors (state=active)", elapsed, result["rest_requests"]))
            deadline = time.monotonic() + 1800
            start, polls, requests = time.monotonic(), 0, 0
            while True:
                result, dummy = timed(lab, "mirror_topic_info", {"link_name": "bench-link"})
                polls += 1
                requests += result["rest_requests"]
                if result["all_active"] and result["max_lag"] == 0 and len(result["mirrors"]) == n:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit("mirrors did not catch up")
            rows.append((f"wait for lag 0 ({polls} mirror_topic_info runs)", time.monotonic() - start, requests))
            result, elapsed = timed(lab, "mirror_topic_info", {"link_name": "bench-link"})
            rows.append((f"mirror_topic_info on {n} mirrors", elapsed, result["rest_requests"]))
            result, elapsed = timed(lab, "mirror_topic", dict(link, state="active"))
            assert not result["changed"]
            rows.append((f"no-op mirror_topic on {n} mirrors", elapsed, result["rest_requests"]))
            result, elapsed = timed(lab, "mirror_topic", dict(link, state="promoted"))
            rows.append((f"promote {n} mirrors (one request) and wait for STOPPED", elapsed, result["rest_requests"]))
        finally:
            lab.stop()
    print(f"\n{'step':60} {'wall s':>8} {'REST requests':>14}")
    for step, elapsed, requests in rows:
        print(f"{step:60} {elapsed:8.2f} {requests:14d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
