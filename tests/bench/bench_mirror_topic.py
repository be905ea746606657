"""Benchmark: what mirror_topic costs on a link with many mirrors, against a lab of its own.

    .venv/bin/python tests/bench/bench_mirror_topic.py [--mirrors 200] [--backend rest|cli|both]
                                                       [--batch-size 200] [--create-via module|rest]

Creates N one-partition source topics with a few records, then runs real `ansible` commands:
create the N mirrors in one mirror_topic task, wait for lag 0 with mirror_topic_info, a no-op
mirror_topic run, and a promote of all N in one task with batch_size (one request or one CP tool
command per batch). Prints wall time and the calls of each step: REST requests (api=rest, the
modules return rest_requests) or CP tool commands (api=cli against the lab's CP tools, the modules
return cli_commands). With --backend both, each backend gets a link and N mirrors of its own on the
same lab. --create-via rest creates the mirrors with direct REST calls instead of the module (a
faster setup when only the no-op, info and promote steps matter). Each step is printed when it
ends. Reported, not asserted: time depends on the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))   # linkops_it imports linkops_lab

from linkops_it import (  # noqa: E402
    calls, create_link_via_rest, install_cp_tools, run_ansible_module, start_lab)


def timed(lab, backend, module, args):
    start = time.monotonic()
    run = run_ansible_module(lab, module, args, timeout=3600, backend=backend)
    elapsed = time.monotonic() - start
    if run.rc != 0:
        raise SystemExit(f"{module} ({backend}) failed:\n{run.output[-3000:]}")
    return run.result, elapsed


def step(rows, backend, label, elapsed, count):
    rows.append((label, elapsed, count))
    print(f"[{backend}] {label}: {elapsed:.2f} s, {count} {'REST requests' if backend == 'rest' else 'CLI commands'}",
          flush=True)


def create_via_rest(lab, link_name, topics):
    """Setup only: a loaded lab broker can time out, so each create is tried three times."""
    for topic in topics:
        for attempt in range(3):
            status, body = lab.rest("POST", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{link_name}"
                                    "/mirrors", {"source_topic_name": topic})
            if status in (201, 204) or (attempt and "already exists" in str(body)):
                break
            time.sleep(2)
        else:
            raise SystemExit(f"creating mirror {topic} failed: {status} {body}")


def bench_backend(lab, backend: str, n: int, batch_size: int, create_via: str = "module") -> list[tuple[str, float, int]]:
    link_name = f"bench-{backend}"
    prefix = f"bench-{backend}-"
    topics = [f"{prefix}{i:05d}" for i in range(n)]
    admin = lab.admin("source")
    from confluent_kafka.admin import NewTopic
    for future in admin.create_topics([NewTopic(t, 1, 1) for t in topics]).values():
        future.result()
    for topic in topics:
        lab.produce("source", topic, ["a", "b", "c"])
    create_link_via_rest(lab, link_name)
    link = {"link_name": link_name, "topics": topics, "wait_interval": 1, "wait_timeout": 3600}
    rows = []
    if create_via == "rest":
        start = time.monotonic()
        create_via_rest(lab, link_name, topics)
        print(f"[{backend}] setup: {n} mirrors created with direct REST calls in {time.monotonic() - start:.1f} s",
              flush=True)
    else:
        result, elapsed = timed(lab, backend, "mirror_topic", dict(link, state="active"))
        step(rows, backend, f"create {n} mirrors (state=active)", elapsed, calls(result))
    deadline = time.monotonic() + 3600
    start, polls, spent = time.monotonic(), 0, 0
    while True:
        result, dummy = timed(lab, backend, "mirror_topic_info", {"link_name": link_name})
        polls += 1
        spent += calls(result)
        if result["all_active"] and result["max_lag"] == 0 and len(result["mirrors"]) == n:
            break
        if time.monotonic() > deadline:
            raise SystemExit("mirrors did not catch up")
    step(rows, backend, f"wait for lag 0 ({polls} mirror_topic_info runs)", time.monotonic() - start, spent)
    result, elapsed = timed(lab, backend, "mirror_topic_info", {"link_name": link_name})
    step(rows, backend, f"mirror_topic_info on {n} mirrors", elapsed, calls(result))
    result, elapsed = timed(lab, backend, "mirror_topic", dict(link, state="active"))
    assert not result["changed"]
    step(rows, backend, f"no-op mirror_topic on {n} mirrors", elapsed, calls(result))
    result, elapsed = timed(lab, backend, "mirror_topic", dict(link, state="promoted", batch_size=batch_size))
    step(rows, backend, f"promote {n} mirrors (batch_size {batch_size}) and wait for STOPPED", elapsed, calls(result))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirrors", type=int, default=200)
    parser.add_argument("--backend", choices=("rest", "cli", "both"), default="rest")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--create-via", choices=("module", "rest"), default="module")
    args = parser.parse_args()
    backends = ("rest", "cli") if args.backend == "both" else (args.backend,)
    if "cli" in backends:
        problem = install_cp_tools()
        if problem:
            raise SystemExit(problem)
    results = {}
    with tempfile.TemporaryDirectory(prefix="linkops-bench-") as workdir:
        lab = start_lab(Path(workdir))
        try:
            for backend in backends:
                results[backend] = bench_backend(lab, backend, args.mirrors, args.batch_size, args.create_via)
        finally:
            lab.stop()
    for backend, rows in results.items():
        unit = "REST requests" if backend == "rest" else "CLI commands"
        print(f"\napi={backend}\n{'step':64} {'wall s':>8} {unit:>14}")
        for step, elapsed, count in rows:
            print(f"{step:64} {elapsed:8.2f} {count:14d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
