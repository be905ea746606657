"""Fleet benchmark: what the collection and the lab cost at fleet size, against a lab of its own.

    make bench-fleet FLEET=20x500                  # links x mirrors per link
    .venv/bin/python tests/bench/bench_fleet.py --fleet 3x50 [--creates 1000] [--promote 1000]
        [--batch-size 200] [--verify-topics 2000] [--verify-groups 500] [--naive 100]
        [--serial '[1, 2]'] [--forks 5] [--idle-seconds 30] [--json FILE]

Steps (each printed when it ends, then one table):

* setup: LINKS x MIRRORS one-partition source topics with records, the links and their mirrors made
  with direct REST calls (8 at a time), until every mirror is ACTIVE with lag 0; the lab's mirror
  creates per second; one rollout.yml run that converges the links to the inventory; then the
  emulator's CPU while the fleet is idle (/proc/<pid>/stat);
* playbooks/rollout.yml over the fleet (one inventory host per link, every topic in link_topics),
  a no-op since the fleet is as the inventory says: wall time and REST requests per link, counted
  at the emulator (GET /lab/v1/stats of both clusters), so the figure does not depend on what the
  modules report; the same with --tags link,mirrors;
* create CREATES mirrors on a new link with one mirror_topic task, sequential (parallel: 1) and
  parallel (the option's default) on two links;
* the same with LATENCY_CREATES mirrors while every REST request waits LATENCY_MS at the lab first (its
  latency fault): a cluster a network away, where the lab's own CPU no longer bounds the creates;
* promote PROMOTE mirrors in one mirror_topic task with batch_size;
* migration_verify of VERIFY_TOPICS fleet topics and VERIFY_GROUPS consumer groups (offsets
  committed on both clusters), without the probe;
* the naive way: an ansible.builtin.uri loop reading NAIVE mirrors one by one, in the same run, as
  seconds per mirror against the rollout no-op's seconds per mirror.

It reports and never asserts on time (the machine is shared): it is not part of `make test`. A step
that fails is reported as failed and the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))   # linkops_it imports linkops_lab

import yaml  # noqa: E402
from confluent_kafka import ConsumerGroupTopicPartitions, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import NewTopic  # noqa: E402

from fleet_it import write_inventory  # noqa: E402
from linkops_it import (  # noqa: E402
    REPO, calls, create_link_via_rest, run_ansible_module, run_ansible_playbook)
from linkops_lab import kafka  # noqa: E402
from linkops_lab.lab import Lab  # noqa: E402
from linkops_lab.procs import cpu_seconds  # noqa: E402

RECORDS = 2          # records per fleet topic
POOL = 8             # concurrent REST creates in the setup


class Bench:
    def __init__(self, lab: Lab, workdir: Path, args):
        self.lab, self.workdir, self.args = lab, workdir, args
        self.rows: list[tuple[str, str, str]] = []   # (step, time, detail)
        self.facts: dict = {}

    # -- helpers
    def row(self, step: str, seconds: float | str, detail: str = "") -> None:
        shown = f"{seconds:.1f} s" if isinstance(seconds, (int, float)) else seconds
        self.rows.append((step, shown, detail))
        print(f"{step}: {shown}  {detail}", flush=True)

    def requests(self) -> int:
        """REST requests both lab clusters have answered so far."""
        total = 0
        for side in ("destination", "source"):
            status, body = self.lab.rest("GET", "/lab/v1/stats", cluster=side, timeout=60)
            if status != 200:
                raise SystemExit(f"GET /lab/v1/stats on {side}: {status} {body}")
            total += body["requests"]
        return total

    def route_counts(self) -> dict[str, int]:
        status, body = self.lab.rest("GET", "/lab/v1/stats", timeout=60)
        return body["requests_by_route"] if status == 200 else {}

    def emulator_cpu(self) -> float:
        """CPU seconds the emulator process has used (user + system)."""
        return cpu_seconds(self.lab.info["pids"]["emulator"])

    @staticmethod
    def machine_cpu() -> float:
        """CPU seconds the machine's cores have been busy (/proc/stat: all but idle and iowait): the lab,
        ansible and the module it runs, and whatever else runs (the benchmark wants a quiet machine)."""
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
        return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")

    def mirrors(self) -> list[dict]:
        status, body = self.lab.rest("GET", f"/kafka/v3/clusters/{self.lab.destination_cluster_id}/links/-/mirrors",
                                     timeout=300)
        if status != 200:
            raise RuntimeError(f"GET /links/-/mirrors: {status} {body}")
        return body["data"]

    def source_topics(self, names: list[str], records: int = RECORDS) -> None:
        adm = self.lab.admin("source")
        for i in range(0, len(names), 500):
            for fut in adm.create_topics([NewTopic(t, 1, 1) for t in names[i:i + 500]],
                                         operation_timeout=60, request_timeout=60).values():
                fut.result()
        if records:   # one producer for all the topics
            producer = Producer(kafka.client_conf(self.lab.source_bootstrap, self.lab.client_config, kind="producer",
                                                  **{"linger.ms": 20, "queue.buffering.max.messages": 1000000}))
            for t in names:
                for i in range(records):
                    producer.produce(t, f"{t}-{i}".encode(), partition=0)
                producer.poll(0)
            if producer.flush(120):
                raise RuntimeError("records not delivered to the source topics")

    def create_mirrors_rest(self, link: str, topics: list[str]) -> float:
        """Direct REST creates, POOL at a time; each tried 3 times (a loaded broker may time out)."""
        path = f"/kafka/v3/clusters/{self.lab.destination_cluster_id}/links/{link}/mirrors"

        def one(topic):
            for attempt in range(3):
                try:
                    status, body = self.lab.rest("POST", path, {"source_topic_name": topic}, timeout=120)
                except OSError as exc:
                    status, body = 0, str(exc)
                if status in (201, 204) or (attempt and "already exists" in str(body)):
                    return
                time.sleep(2)
            raise RuntimeError(f"creating mirror {topic}: {status} {body}")

        start = time.monotonic()
        with ThreadPoolExecutor(POOL) as pool:
            list(pool.map(one, topics))
        return time.monotonic() - start

    def wait_active(self, names: set[str], timeout: float = 1800) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = {m["mirror_topic_name"] for m in self.mirrors()
                     if m["mirror_topic_name"] in names and m["mirror_status"] == "ACTIVE"
                     and not any(l["lag"] for l in m["mirror_lags"])}
            if ready >= names:
                return
            time.sleep(3)
        raise RuntimeError(f"{len(names - ready)} mirrors not ACTIVE with lag 0 after {timeout} s")

    def playbook(self, *extra: str) -> tuple[float, int]:
        args = ["-i", str(self.inventory), "playbooks/rollout.yml", "-e", "rollout_gate_interval=2",
                "-e", json.dumps({"rollout_serial": yaml.safe_load(self.args.serial)})]
        if self.args.forks:
            args += ["-f", str(self.args.forks)]
        before = self.requests()
        start = time.monotonic()
        run = run_ansible_playbook([*args, *extra], self.lab.workdir, timeout=7200)
        elapsed = time.monotonic() - start
        used = self.requests() - before
        if run.rc != 0:
            raise RuntimeError(f"rollout.yml {' '.join(extra)} failed (rc {run.rc}):\n{run.output[-3000:]}")
        changed = sum(int(x) for x in re.findall(r" changed=(\d+)", run.output))
        if changed:
            print(f"  note: the no-op run reported changed={changed}", flush=True)
        return elapsed, used

    def module(self, name: str, args: dict) -> tuple[float, int, dict]:
        before = self.requests()
        start = time.monotonic()
        run = run_ansible_module(self.lab, name, args, timeout=7200)
        elapsed = time.monotonic() - start
        used = self.requests() - before
        if run.rc != 0:
            raise RuntimeError(f"{name} failed (rc {run.rc}):\n{run.output[-3000:]}")
        return elapsed, used, run.result

    # -- steps
    def setup(self) -> None:
        links, per_link = self.args.links, self.args.mirrors
        self.links = [f"fleet-{i:03d}" for i in range(links)]
        self.topics = {l: [f"{l}-t{j:05d}" for j in range(per_link)] for l in self.links}
        every = [t for l in self.links for t in self.topics[l]]
        start = time.monotonic()
        self.source_topics(every)
        topics_done = time.monotonic() - start
        for l in self.links:
            create_link_via_rest(self.lab, l)
        create_s = 0.0
        for l in self.links:
            took = self.create_mirrors_rest(l, self.topics[l])
            create_s += took
            print(f"  {l}: {per_link} mirrors in {took:.1f} s ({per_link / took:.0f}/s)", flush=True)
        self.wait_active(set(every))
        total = time.monotonic() - start
        self.facts["creates_per_s"] = len(every) / create_s
        self.facts["creates_per_s_last_link"] = per_link / took
        self.row(f"setup: {links} links x {per_link} mirrors (REST, {POOL} at a time)", total,
                 f"source topics {topics_done:.0f} s; {len(every)} mirror creates in {create_s:.0f} s = "
                 f"{len(every) / create_s:.0f}/s at the lab ({per_link / took:.0f}/s for the last link's); "
                 "all ACTIVE, lag 0")
        self.inventory = write_inventory(self.workdir / "inventory", self.lab,
                                         {l: {"link_topics": self.topics[l]} for l in self.links})
        # the links made by REST may lack configs the inventory gives them: a first run converges
        elapsed, used = self.playbook()
        self.row("rollout.yml, first run (converges the links made by REST)", elapsed,
                 f"{used} REST requests = {used / links:.1f} per link")

    def seed(self) -> None:
        """--lab-only: the fleet made directly, to get to 10,000 mirrors in minutes on a loaded
        machine: empty topics on both clusters (so every mirror is in sync), the links by REST,
        their mirrors written into the emulator's state file, the lab restarted with keep_data
        (as `labctl.py up --keep-data` does). Then CREATES more mirrors are created through REST
        on top of them: the lab's creates per second at that size."""
        links, per_link = self.args.links, self.args.mirrors
        self.links = [f"fleet-{i:03d}" for i in range(links)]
        self.topics = {l: [f"{l}-t{j:05d}" for j in range(per_link)] for l in self.links}
        every = [t for l in self.links for t in self.topics[l]]
        start = time.monotonic()
        for side in ("source", "destination"):
            adm = self.lab.admin(side)
            for i in range(0, len(every), 500):
                for fut in adm.create_topics([NewTopic(t, 1, 1) for t in every[i:i + 500]],
                                             operation_timeout=60, request_timeout=60).values():
                    fut.result()
        for l in self.links:
            create_link_via_rest(self.lab, l)
        self.lab.stop()
        state_file = self.workdir / "lab" / "emulator-state.json"
        doc = json.loads(state_file.read_text())
        now_ms = int(time.time() * 1000)
        for cluster in doc["clusters"].values():
            for link in cluster["links"]:
                link["mirrors"] = [{"name": t, "source_topic": t, "num_partitions": 1, "status": "ACTIVE",
                                    "state_time_ms": now_ms} for t in self.topics[link["name"]]]
        state_file.write_text(json.dumps(doc))
        self.lab = Lab.start(self.workdir / "lab", keep_data=True)
        self.wait_active(set(every))
        self.row(f"seed: {links} links x {per_link} mirrors (state file, lab restarted)", time.monotonic() - start,
                 f"{len(every)} topics on each cluster; all ACTIVE, lag 0")

    def creates_on_top(self) -> None:
        n = self.args.creates
        link = "bench-top"
        topics = [f"{link}-{i:05d}" for i in range(n)]
        self.source_topics(topics)
        create_link_via_rest(self.lab, link)
        cpu0 = self.emulator_cpu()
        took = self.create_mirrors_rest(link, topics)
        cpu = self.emulator_cpu() - cpu0
        self.wait_active(set(topics))
        have = self.args.links * self.args.mirrors
        self.facts["creates_per_s"] = n / took
        # the CPU the creates cost: what the emulator used meanwhile, less what it uses idle
        marginal = max(cpu - self.facts.get("idle_cpu", 0.0) * took, 1e-9) / n
        self.row(f"lab: create {n} mirrors on top of {have} (REST, {POOL} at a time)", took,
                 f"{n / took:.1f} creates/s; emulator CPU {cpu / n * 1000:.1f} ms per create, "
                 f"{marginal * 1000:.1f} ms above its idle use (= {1 / marginal:.0f} creates/s per core)")

    def idle_cpu(self) -> None:
        seconds = self.args.idle_seconds
        time.sleep(5)          # let the last copies and transitions settle
        cpu0, t0 = self.emulator_cpu(), time.monotonic()
        time.sleep(seconds)
        share = (self.emulator_cpu() - cpu0) / (time.monotonic() - t0)
        count = self.args.links * self.args.mirrors
        self.facts["idle_cpu"] = share
        self.row(f"lab idle, {count} mirrors", f"{share * 100:.1f} % of a core",
                 f"emulator process CPU over {seconds} s (/proc/<pid>/stat)")

    def rollout(self) -> None:
        elapsed, used = self.playbook()
        n = self.args.links
        self.facts["rollout_s"] = elapsed
        self.facts["rollout_per_mirror"] = elapsed / (n * self.args.mirrors)
        self.row(f"rollout.yml no-op ({n} links, serial {self.args.serial})", elapsed,
                 f"{used} REST requests = {used / n:.1f} per link; "
                 f"{elapsed / (n * self.args.mirrors) * 1000:.1f} ms per mirror")
        elapsed, used = self.playbook("--tags", "link,mirrors")
        self.row("rollout.yml --tags link,mirrors no-op", elapsed, f"{used} REST requests = {used / n:.1f} per link")

    def creates(self) -> None:
        self.promote_link, self.promote_topics = self._create_pair(self.args.creates, "bench", "", "create")

    def creates_remote(self) -> None:
        """The same two creates against a cluster a network away: every REST request waits --latency-ms at the
        lab first (its latency fault), as a request to a remote Confluent Server or Cloud does, so the server's
        own work on these 2 cores no longer bounds what 8 requests in flight can do."""
        self.lab.knobs(faults={"latency_ms": self.args.latency_ms})
        try:
            self._create_pair(self.args.latency_creates, "bench-remote", f", {self.args.latency_ms} ms REST latency",
                              "create_remote")
        finally:
            self.lab.knobs(faults={})

    def _create_pair(self, n: int, prefix: str, what: str, fact: str) -> tuple[str, list[str]]:
        """n mirrors on a new link with one mirror_topic task, sequential (parallel: 1), then n more on another
        link in parallel (the option's default); a row each, and facts <fact>_seq_s and <fact>_par_s.
        Returns the sequential run's link and topics."""
        outcomes = {}
        for kind, value in (("seq", 1), ("par", None)):
            link = f"{prefix}-{kind}"
            topics = [f"{link}-{i:05d}" for i in range(n)]
            self.source_topics(topics)
            create_link_via_rest(self.lab, link)
            args = {"link_name": link, "topics": topics, "state": "active", "wait_timeout": 3600}
            if value is not None:
                args["parallel"] = value      # else the option's default
            cpu0 = self.machine_cpu()
            elapsed, used, result = self.module("mirror_topic", args)
            busy = (self.machine_cpu() - cpu0) / elapsed
            self.facts[f"{fact}_{kind}_s"] = elapsed
            self.facts[f"{fact}_{kind}_cores_busy"] = busy
            if kind == "seq":
                created = (link, topics)
            # the results a user reads: each topic's action and status, and the mirrors the link lists after
            listed = {m["mirror_topic_name"] for m in self.mirrors() if m["link_name"] == link}
            outcomes[kind] = (dict(Counter((r["action"], r["status"]) for r in result["topics"])),
                              len(listed & set(topics)))
            extra = ""
            if kind == "par":
                same = "same results" if outcomes["par"] == outcomes["seq"] else \
                    f"RESULTS DIFFER: sequential {outcomes['seq']}, parallel {outcomes['par']}"
                extra = f"; {self.facts[f'{fact}_seq_s'] / elapsed:.2f}x the sequential, {same}"
            label = "sequential (parallel: 1)" if kind == "seq" else "parallel (default)"
            actions = ", ".join(f"{count} {action} {status}" for (action, status), count in outcomes[kind][0].items())
            self.row(f"create {n} mirrors{what}, {label}", elapsed,
                     f"{used} REST requests (module: {calls(result)}); {actions}, {outcomes[kind][1]} listed; "
                     f"{busy:.1f} of {os.cpu_count()} cores busy (/proc/stat){extra}")
        return created

    def promote(self) -> None:
        n = min(self.args.promote, len(self.promote_topics))
        routes0 = self.route_counts()
        elapsed, used, result = self.module("mirror_topic", {
            "link_name": self.promote_link, "topics": self.promote_topics[:n], "state": "promoted",
            "batch_size": self.args.batch_size, "wait_timeout": 3600, "wait_interval": 1})
        routes = self.route_counts()
        key = "POST /clusters/{cluster_id}/links/{link}/mirrors:{action}"
        batches = routes.get(key, 0) - routes0.get(key, 0)
        self.row(f"promote {n} mirrors, batch_size {self.args.batch_size}", elapsed,
                 f"{used} REST requests: {batches} batch POSTs, {used - batches} reads")

    def promote_rest(self) -> None:
        """The lab alone: promote PROMOTE fleet mirrors with REST batches, until all are STOPPED."""
        by_link: dict[str, list[str]] = {}
        left = self.args.promote
        for l in self.links:
            if left > 0:
                by_link[l] = self.topics[l][:left]
                left -= len(by_link[l])
        n = sum(len(v) for v in by_link.values())
        size = self.args.batch_size
        start, started_ms = time.monotonic(), time.time() * 1000
        for l, topics in by_link.items():
            for i in range(0, len(topics), size):
                status, body = self.lab.rest(
                    "POST", f"/kafka/v3/clusters/{self.lab.destination_cluster_id}/links/{l}/mirrors:promote",
                    {"mirror_topic_names": topics[i:i + size]}, timeout=300)
                if status != 200 or any(r["error_code"] for r in body["data"]):
                    raise RuntimeError(f"promote: {status} {str(body)[:300]}")
        posted = time.monotonic() - start
        # read each link's mirrors until they are STOPPED; the lab's own time of the change
        # (state_time_ms) says when, whatever these reads cost
        stopped_at = {}
        while True:
            for l, topics in by_link.items():
                status, body = self.lab.rest(
                    "GET", f"/kafka/v3/clusters/{self.lab.destination_cluster_id}/links/{l}/mirrors", timeout=300)
                wanted = set(topics)
                stopped_at.update({m["mirror_topic_name"]: m["state_time_ms"] for m in body.get("data", [])
                                   if m["mirror_topic_name"] in wanted and m["mirror_status"] == "STOPPED"})
            if len(stopped_at) >= n:
                break
            if time.monotonic() - start > 600:
                raise RuntimeError(f"{n - len(stopped_at)} of {n} not STOPPED after 600 s")
            time.sleep(0.5)
        done = (max(stopped_at.values()) - started_ms) / 1000
        self.row(f"lab: promote {n} mirrors, REST batches of {size}", done,
                 f"from the first batch POST to the last mirror STOPPED (its state_time_ms); the batch POSTs "
                 f"were answered in {posted:.1f} s; pending_stopped_ms 500")

    def verify(self) -> None:
        every = [t for l in self.links for t in self.topics[l]]
        topics = every[:self.args.verify_topics]
        groups = [f"bench-group-{i:04d}" for i in range(min(self.args.verify_groups, len(topics) * 4))]
        # committed offsets on both clusters, as a synced group has them
        for side in ("source", "destination"):
            adm = self.lab.admin(side)
            for i in range(0, len(groups), 100):
                futs = [adm.alter_consumer_group_offsets(
                    [ConsumerGroupTopicPartitions(g, [TopicPartition(topics[j % len(topics)], 0, 1)])],
                    request_timeout=60) for j, g in enumerate(groups[i:i + 100], start=i)]
                for fut in (f for d in futs for f in d.values()):
                    fut.result()
        args = {"source_bootstrap_servers": self.lab.source_bootstrap,
                "destination_bootstrap_servers": self.lab.destination_bootstrap,
                "source_client_config": dict(self.lab.client_config),
                "destination_client_config": dict(self.lab.client_config),
                "topics": topics, "consumer_groups": groups, "probe": False, "timeout": 120}
        start = time.monotonic()
        run = run_ansible_module(self.lab, "migration_verify", args, connect=False, timeout=7200)
        elapsed = time.monotonic() - start
        res = run.result
        detail = (f"rc {run.rc}, {len(res.get('checks') or [])} checks, "
                  f"{len(res.get('failed_checks') or [])} failed")
        for key in sorted(k for k in res if k.endswith("requests")):   # what the module counts
            detail += f", {key} {res[key]}"
        if run.rc != 0:
            detail += ": " + (res.get("msg") or run.output[-300:]).replace("\n", " ")[:300]
        self.row(f"migration_verify {len(topics)} topics, {len(groups)} groups", elapsed, detail)

    def naive(self) -> None:
        n = self.args.naive
        link = self.links[0]
        topics = self.topics[link][:n]
        book = self.workdir / "naive-uri.yml"
        book.write_text(yaml.safe_dump([{
            "name": "The naive way: one ansible.builtin.uri task iteration per mirror",
            "hosts": "localhost", "gather_facts": False,
            "tasks": [{"name": "Read each mirror", "ansible.builtin.uri": {
                "url": f"{self.lab.rest_url}/v3/clusters/{self.lab.destination_cluster_id}/links/{link}/mirrors/"
                       "{{ item }}",
                "url_username": self.lab.rest_username, "url_password": self.lab.rest_password,
                "force_basic_auth": True}, "loop": topics, "no_log": True}]}], sort_keys=False))
        start = time.monotonic()
        run = run_ansible_playbook(["-i", "localhost,", "-c", "local", str(book)], self.lab.workdir, timeout=3600)
        elapsed = time.monotonic() - start
        if run.rc != 0:
            raise RuntimeError(f"uri loop failed:\n{run.output[-2000:]}")
        per = elapsed / n
        detail = f"{per:.3f} s per mirror"
        if "rollout_per_mirror" in self.facts:
            detail += (f", {per / self.facts['rollout_per_mirror']:.0f}x the rollout no-op's "
                       f"{self.facts['rollout_per_mirror']:.4f} s per mirror")
        self.row(f"naive ansible.builtin.uri loop, {n} mirrors", elapsed, detail)

    def run_step(self, name: str, fn) -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - report and go on with the other steps
            self.row(name, "failed", str(exc).replace("\n", " ")[:400])

    def table(self) -> str:
        head = ("step", "time", "detail")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(2)]
        lines = [f"| {head[0]:<{widths[0]}} | {head[1]:<{widths[1]}} | {head[2]} |",
                 f"|{'-' * (widths[0] + 2)}|{'-' * (widths[1] + 2)}|---|"]
        lines += [f"| {r[0]:<{widths[0]}} | {r[1]:<{widths[1]}} | {r[2]} |" for r in self.rows]
        return "\n".join(lines)


def machine() -> str:
    load = os.getloadavg()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                            check=False).stdout.strip()
    return (f"{platform.node()}: {os.cpu_count()} cores, load {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} "
            f"(1/5/15 min) at the start, commit {commit}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("--fleet", default="3x50", help="LINKSxMIRRORS (mirrors per link), e.g. 20x500")
    ap.add_argument("--creates", type=int, default=1000, help="mirrors created by each create step")
    ap.add_argument("--latency-creates", type=int, default=1000,
                    help="mirrors created by each create step with REST latency (0: no such step)")
    ap.add_argument("--latency-ms", type=int, default=20, help="the REST latency of that step (a remote cluster)")
    ap.add_argument("--promote", type=int, default=1000, help="mirrors promoted (of the sequential create's)")
    ap.add_argument("--batch-size", type=int, default=200)
    ap.add_argument("--verify-topics", type=int, default=2000)
    ap.add_argument("--verify-groups", type=int, default=500)
    ap.add_argument("--naive", type=int, default=100, help="mirrors of the naive uri loop")
    ap.add_argument("--serial", default="[1, 2]", help="rollout_serial of the rollout runs (the playbook's default)")
    ap.add_argument("--forks", type=int, default=0, help="ansible-playbook -f (0: ansible.cfg's)")
    ap.add_argument("--idle-seconds", type=int, default=30)
    ap.add_argument("--lab-only", action="store_true",
                    help="only the lab: the fleet seeded into the state file, idle CPU, --creates more mirrors "
                         "through REST on top, a promote of --promote mirrors with REST batches")
    ap.add_argument("--json", help="also write the table and facts here")
    ap.add_argument("--dir", help="work directory (default: a temporary one, removed at the end)")
    args = ap.parse_args()
    try:
        args.links, args.mirrors = (int(x) for x in args.fleet.lower().split("x"))
    except ValueError:
        ap.error(f"--fleet must be LINKSxMIRRORS, e.g. 20x500, not {args.fleet!r}")
    where = machine()
    print(f"fleet benchmark {args.links}x{args.mirrors} on {where}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-fleet-", dir=args.dir) as tmp:
        workdir = Path(tmp)
        bench = Bench(Lab.start(workdir / "lab"), workdir, args)
        try:
            if args.lab_only:
                bench.seed()
                bench.run_step("lab idle", bench.idle_cpu)
                bench.run_step("lab creates", bench.creates_on_top)
                bench.run_step("lab promote", bench.promote_rest)
                return finish(bench, args, where, bench.lab)
            bench.setup()
            bench.run_step("lab idle", bench.idle_cpu)
            bench.run_step("rollout.yml no-op", bench.rollout)
            bench.run_step("create mirrors", bench.creates)
            if args.latency_creates:
                bench.run_step("create mirrors, remote", bench.creates_remote)
            if getattr(bench, "promote_link", None) and args.promote:
                bench.run_step("promote", bench.promote)
            bench.run_step("migration_verify", bench.verify)
            bench.run_step("naive uri loop", bench.naive)
        finally:
            bench.lab.stop()
    return finish(bench, args, where, None)


def finish(bench: Bench, args, where: str, lab: Lab | None) -> int:
    if lab is not None:
        lab.stop()
    print(f"\nfleet benchmark {args.links}x{args.mirrors}; {where}; load at the end "
          f"{os.getloadavg()[0]:.1f}\n")
    print(bench.table())
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": where, "rows": bench.rows, "facts": bench.facts},
                                              indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
