"""Measurement (issue 15): how many migrate.yml runs converge on their first run under REST faults.

    .venv/bin/python tests/bench/bench_write_faults.py [--runs 20] [--modes mix,lost] [--seed 15]

The playbook is the one the integration tests run (linkops_it.MIGRATE_PLAYBOOK: migrate.yml with the
lab's seed data and proof). Each run gets a fresh lab (migrate.yml uses fixed names) and a fault proxy
(tests/integration/fault_proxy.py) between the modules and the lab's REST endpoint; the
playbook reaches the lab through the proxy (the lab's `rest_url` is replaced in an extra-vars
file of mode 0600 in the lab directory, next to lab.json, which holds the same password).

Modes (the issue's):
  mix   8% of the requests answered 503, 7% answered 429 (Retry-After: 1), 5% dropped
        before they reach the emulator
  lost  30% of the write answers dropped after the emulator acted

A run converges on its first run when ansible-playbook exits 0 and prints the PROVED line.
From the proxy's request log each run also reports the side effects that reached the emulator:
creates per link and per mirror, promotes accepted per topic, and promotes the emulator refused
(a duplicate promote would be one). Prints one line per run and a JSON summary at the end.
Reported, not asserted (tests/integration/test_write_retries.py asserts a few rounds in the suite).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
sys.path.insert(0, str(HERE.parent / "lab"))   # linkops_it imports the lab

from fault_proxy import FaultProxy, side_effects  # noqa: E402
from linkops_it import MIGRATE_PLAYBOOK, run_ansible_playbook, start_lab  # noqa: E402

MODES = {
    "mix": {"503": 0.08, "429": 0.07, "drop": 0.05, "retry_after": "1"},
    "lost": {"drop_after": 0.30},
}
LINK, TOPIC = "test-cluster-link", "test-topic"


def one_run(mode: str, seed: int, workroot: Path) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"faults-{mode}-", dir=workroot))
    started = time.monotonic()
    lab = start_lab(workdir)
    proxy = None
    try:
        lab_started = time.monotonic() - started
        proxy = FaultProxy(lab.rest_url, dict(MODES[mode]), seed=seed)
        info = json.loads((workdir / "lab.json").read_text())
        info["rest_url"] = proxy.url
        extra = workdir / "via-proxy.json"
        fd = os.open(extra, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"lab": info}, handle)
        began = time.monotonic()
        run = run_ansible_playbook(MIGRATE_PLAYBOOK + ["-e", f"@{extra}"], workdir, timeout=1200)
        elapsed = time.monotonic() - began
        effects = side_effects(proxy.log)
        failed_tasks = [line for line in run.output.splitlines() if line.startswith(("fatal:", "failed:"))]
        result = {
            "mode": mode, "seed": seed, "rc": run.rc, "proved": "PROVED:" in run.output,
            "converged_first_run": run.rc == 0 and "PROVED:" in run.output,
            "traceback": "Traceback" in run.output,
            "seconds": round(elapsed, 1), "lab_start_seconds": round(lab_started, 1),
            "requests": len(proxy.log), "faults": proxy.faults_injected(),
            "link_creates": effects["link_creates"], "mirror_creates": effects["mirror_creates"],
            "promotes": effects["promotes"], "refused_promotes": effects["refused_promotes"],
            "failed_tasks": [line[:300] for line in failed_tasks][:3],
        }
        result["duplicates"] = (any(n > 1 for n in effects["link_creates"].values())
                                or any(n > 1 for n in effects["mirror_creates"].values())
                                or any(n > 1 for n in effects["promotes"].values())
                                or bool(effects["refused_promotes"]))
        if not result["converged_first_run"]:
            (workroot / f"failed-{mode}-{seed}.log").write_text(run.output)
        return result
    finally:
        if proxy is not None:
            proxy.close()
        lab.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--modes", default="mix,lost")
    parser.add_argument("--seed", type=int, default=15, help="first seed; run i uses seed + i")
    parser.add_argument("--out", help="also append each run as a JSON line to this file")
    args = parser.parse_args()
    workroot = Path(tempfile.mkdtemp(prefix="bench-write-faults-"))
    summary = {}
    for mode in args.modes.split(","):
        results = []
        for i in range(args.runs):
            result = one_run(mode, args.seed + i, workroot)
            results.append(result)
            print(json.dumps(result), flush=True)
            if args.out:
                with open(args.out, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(result) + "\n")
        faults: dict[str, int] = {}
        for r in results:
            for key, n in r["faults"].items():
                faults[key] = faults.get(key, 0) + n
        summary[mode] = {
            "runs": len(results),
            "converged_first_run": sum(r["converged_first_run"] for r in results),
            "with_duplicates": sum(r["duplicates"] for r in results),
            "with_traceback": sum(r["traceback"] for r in results),
            "faults_injected": faults,
            "median_seconds": sorted(r["seconds"] for r in results)[len(results) // 2] if results else None,
        }
    print("SUMMARY " + json.dumps(summary), flush=True)
    print(f"logs of runs that failed: {workroot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
