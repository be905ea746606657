"""The emulator outlives a crash of its worker (emulator/supervisor.py): librdkafka can abort the
process after a broker restart, and a Confluent Server does not vanish because a peer restarted. The
REST ports stay open while a new worker starts from the state file, so a client waits instead of
being refused, and the links, mirrors and copying carry on."""

from __future__ import annotations

import os
import signal
import time
import urllib.error
from pathlib import Path

import pytest

from linkops_lab.lab import Lab
from linkops_lab.procs import pid_alive
from labtesting import unique, wait_until

FAST = {"pending_mirror_ms": 100, "copy_interval_ms": 50, "state_save_ms": 100}


def health(lab, cluster="destination"):
    status, body = lab.rest("GET", "/lab/v1/health", cluster=cluster, timeout=60)
    assert status == 200, body
    return body


def mirror(lab, link, topic):
    status, body = lab.rest("GET", f"/v3/clusters/{lab.destination_cluster_id}/links/{link}/mirrors/{topic}")
    assert status == 200, body
    return body


def test_a_worker_that_aborts_is_replaced_and_the_ports_never_refuse(tmp_path):
    d = tmp_path / "lab"
    link, topic = unique("crash"), unique("orders")
    with Lab.start(d, knobs=FAST) as lab:
        D = lab.destination_cluster_id
        lab.create_topic("source", topic, partitions=1)
        lab.produce("source", topic, ["a", "b"])
        assert lab.rest("POST", f"/v3/clusters/{D}/links", {
            "source_cluster_id": lab.source_cluster_id,
            "configs": [{"name": "bootstrap.servers", "value": lab.source_bootstrap}]},
            params={"link_name": link})[0] == 204
        assert lab.rest("POST", f"/v3/clusters/{D}/links/{link}/mirrors", {"source_topic_name": topic})[0] == 204
        wait_until(lambda: lab.end_offsets("destination", topic) == {0: 2}, 60, "a and b mirrored")
        wait_until(lambda: topic in Path(lab.info["state_file"]).read_text(), 10, "the mirror saved")
        supervisor_pid = lab.processes()["emulator"]["pid"]
        first = health(lab)
        assert first["worker"] == 0 and first["worker_pid"] != supervisor_pid
        assert health(lab, "source")["worker_pid"] == first["worker_pid"]   # one worker serves both

        os.kill(first["worker_pid"], signal.SIGABRT)         # what librdkafka's failed assertion does
        wait_until(lambda: not pid_alive(first["worker_pid"]), 10, "the worker gone")
        started = time.monotonic()
        second = health(lab)                                  # one request, no retry: it waits, never refused
        assert second["worker"] == 1 and second["worker_pid"] not in (first["worker_pid"], supervisor_pid)
        assert time.monotonic() - started < 30
        assert health(lab, "source")["worker_pid"] == second["worker_pid"]

        assert lab.processes()["emulator"] == {"pid": supervisor_pid, "alive": True}
        wait_until(lambda: mirror(lab, link, topic)["mirror_status"] == "ACTIVE", 30, "the mirror ACTIVE")
        lab.produce("source", topic, ["c"])
        wait_until(lambda: lab.end_offsets("destination", topic) == {0: 3}, 60, "c mirrored by the new worker")
        log = Path(lab.info["logs"]["emulator"]).read_text()
        assert f"emulator worker 0 (pid {first['worker_pid']}) died of SIGABRT; starting worker 1" in log
    assert not pid_alive(second["worker_pid"]) and not pid_alive(supervisor_pid)
    # a refused connection says what became of the emulator, with the end of its log
    with pytest.raises(urllib.error.URLError, match=r"(?s)Connection refused.*emulator.*emulator stopped"):
        lab.rest("GET", "/lab/v1/health")
    # but not a secret the log might hold
    with open(lab.info["logs"]["emulator"], "a") as log_file:
        log_file.write('ERROR bad config sasl.jaas.config=... username="link" password="s3cr3t-pw";\n')
    with pytest.raises(urllib.error.URLError) as refused:
        lab.rest("GET", "/lab/v1/health")
    assert "s3cr3t-pw" not in str(refused.value) and "left out" in str(refused.value)
