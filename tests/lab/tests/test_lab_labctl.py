"""labctl.py: up/status/env/down of a separate lab, and the data helpers."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from linkops_lab.lab import Lab, pid_alive
from labtesting import unique, wait_until

LABCTL = Path(__file__).resolve().parents[1] / "labctl.py"
REPO = LABCTL.parents[2]


def labctl(*args, check=True, env=None):
    proc = subprocess.run([sys.executable, str(LABCTL), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env=env)
    if check:
        assert proc.returncode == 0, f"labctl {args} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def clean_env():
    """No LAB_* settings but the broker kind: these tests start the noida lab (labctl up's default is
    apache-kafka, which tests/integration/test_apache_kafka_lab.py starts through make demo's playbook)."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("LAB_")}, "LAB_BROKERS": "noida"}


def test_up_status_env_down(tmp_path):
    d = str(tmp_path / "lab")
    env = clean_env()
    up = labctl("up", "--dir", d, env=env)
    try:
        info = json.loads((Path(d) / "lab.json").read_text())
        assert stat.S_IMODE(os.stat(Path(d) / "lab.json").st_mode) == 0o600
        for key in ("rest_url", "rest_username", "rest_password", "destination_cluster_id",
                    "source_cluster_id", "source_bootstrap", "destination_bootstrap",
                    "client_config", "pids", "logs"):
            assert key in info, key
        assert info["rest_url"].startswith("http://127.0.0.1:") and info["rest_url"].endswith("/kafka")
        assert info["client_config"]["receive.message.max.bytes"] == "1000000000"
        assert info["rest_password"] not in up.stdout + up.stderr
        assert all(pid_alive(pid) for pid in info["pids"].values())
        # idempotent
        again = labctl("up", "--dir", d, env=env)
        assert "already up" in again.stdout
        assert json.loads((Path(d) / "lab.json").read_text())["pids"] == info["pids"]
        status = labctl("status", "--dir", d, env=env)
        assert "lab is up" in status.stdout and info["rest_password"] not in status.stdout
        exports = labctl("env", "--dir", d, env=env).stdout
        assert f"export LAB_REST_PASSWORD={info['rest_password']}" in exports
        assert f"export LAB_DESTINATION_CLUSTER_ID={info['destination_cluster_id']}" in exports
        lab = Lab.attach(d)
        status_code, body = lab.rest("GET", "/v3/clusters")
        assert status_code == 200 and body["data"][0]["cluster_id"] == info["destination_cluster_id"]
    finally:
        down = labctl("down", "--dir", d, check=False, env=env)
    assert down.returncode == 0, down.stderr
    assert not any(pid_alive(pid) for pid in info["pids"].values())
    assert not (Path(d) / "lab.json").exists()
    assert labctl("down", "--dir", d, env=env).returncode == 0   # nothing to do is fine
    st = labctl("status", "--dir", d, check=False, env=env)
    assert st.returncode != 0 and len(st.stderr.strip().splitlines()) == 1


def test_up_fails_cleanly_on_unreachable_external_cluster(tmp_path):
    d = tmp_path / "lab"
    env = {**clean_env(), "LAB_SOURCE_BOOTSTRAP": "127.0.0.1:1", "LAB_EXTERNAL_READY_TIMEOUT": "2"}
    proc = labctl("up", "--dir", str(d), check=False, env=env)
    assert proc.returncode != 0
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "LAB_SOURCE_BOOTSTRAP" in err[0]
    # the destination broker it had started is gone again
    assert not (d / "lab.json").exists()
    out = subprocess.run(["pgrep", "-f", str(d / "destination-data")], capture_output=True, text=True)
    assert out.stdout.strip() == ""


def test_data_helpers(lab):
    d = str(lab.workdir)
    topic = unique("cli")
    labctl("create-topic", "--dir", d, "--cluster", "source", "--topic", topic, "--partitions", "2")
    assert lab.topics("source")[topic] == 2
    out = labctl("produce", "--dir", d, "--cluster", "source", "--topic", topic,
                 "--values", "1,2,3", "--key", "k", "--partition", "1", "--header", "h=v").stdout
    assert "3" in out
    records = json.loads(labctl("consume", "--dir", d, "--cluster", "source", "--topic", topic,
                                "--json").stdout)
    assert [(r["partition"], r["offset"], r["key"], r["value"], r["headers"]) for r in records] == [
        (1, i, "k", str(i + 1), [["h", "v"]]) for i in range(3)]
    assert all(isinstance(r["timestamp"], int) for r in records)
    # group consumption with commit, then from the committed offsets
    first = json.loads(labctl("consume", "--dir", d, "--cluster", "source", "--topic", topic,
                              "--group", "g1", "--commit", "--max", "2", "--json").stdout)
    assert len(first) == 2
    offsets = json.loads(labctl("group-offsets", "--dir", d, "--cluster", "source", "--group", "g1",
                                "--json").stdout)
    assert offsets == {topic: {"1": 2, "0": 0}} or offsets == {topic: {"0": 0, "1": 2}}
    rest = json.loads(labctl("consume", "--dir", d, "--cluster", "source", "--topic", topic,
                             "--group", "g1", "--json").stdout)
    assert [r["value"] for r in rest] == ["3"]
    bench = json.loads(labctl("produce", "--dir", d, "--cluster", "source", "--topic", topic,
                              "--count", "1000", "--size", "100", "--json").stdout)
    assert bench["records"] == 1000
    assert sum(lab.end_offsets("source", topic).values()) == 1003
    # failures: non-zero exit and a one-line error
    bad = labctl("consume", "--dir", d, "--cluster", "source", "--topic", unique("missing"),
                 "--json", check=False)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1
    assert "does not exist" in bad.stderr
    dup = labctl("create-topic", "--dir", d, "--cluster", "source", "--topic", topic, check=False)
    assert dup.returncode != 0 and "already exists" in dup.stderr


def test_knobs(lab):
    before = lab.knobs()
    assert "pending_stopped_ms" in before
    out = labctl("knobs", "--dir", str(lab.workdir), "pending_stopped_ms=400").stdout
    assert json.loads(out)["pending_stopped_ms"] == 400
    lab.knobs(pending_stopped_ms=before["pending_stopped_ms"])
    with pytest.raises(Exception):
        lab.knobs(no_such_knob=1)


def test_restart_with_keep_data_resumes_mirroring(tmp_path):
    d = tmp_path / "lab"
    with Lab.start(d, knobs={"pending_mirror_ms": 50}) as first:
        D = first.destination_cluster_id
        first.create_topic("source", "kept", 2)
        first.produce("source", "kept", [{"partition": i % 2, "value": str(i)} for i in range(6)])
        assert first.rest("POST", f"/v3/clusters/{D}/links", {
            "source_cluster_id": first.source_cluster_id,
            "configs": [{"name": "bootstrap.servers", "value": first.source_bootstrap}]},
            params={"link_name": "L"})[0] == 204
        assert first.rest("POST", f"/v3/clusters/{D}/links/L/mirrors",
                          {"source_topic_name": "kept"})[0] == 204
        wait_until(lambda: first.end_offsets("destination", "kept") == {0: 3, 1: 3}, 15, "copy")
        bootstrap = first.source_bootstrap
    with Lab.start(d, keep_data=True) as second:
        assert second.source_bootstrap == bootstrap      # the link's bootstrap.servers still works
        second.produce("source", "kept", [{"partition": 0, "value": "after restart"}])
        wait_until(lambda: second.end_offsets("destination", "kept") == {0: 4, 1: 3}, 15,
                   "copy after restart")
        status, m = second.rest("GET", f"/v3/clusters/{D}/links/L/mirrors/kept")
        assert status == 200 and m["mirror_status"] == "ACTIVE"
        assert second.consume("destination", "kept") == second.consume("source", "kept")


def test_broker_kind_choice_and_clear_errors(tmp_path):
    """--brokers / LAB_BROKERS: an unknown kind, and apache-kafka without Java 17+, fail in one
    line naming what to do, and leave nothing behind (no JVM is started)."""
    d = tmp_path / "lab"
    env = clean_env()
    bad = labctl("up", "--dir", str(d), "--brokers", "bogus", check=False, env=env)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert "unknown broker kind 'bogus'" in bad.stderr and "apache-kafka" in bad.stderr
    bad = labctl("up", "--dir", str(d), check=False, env={**env, "LAB_BROKERS": "bogus"})
    assert bad.returncode != 0 and "LAB_BROKERS" in bad.stderr
    no_java = {**env, "LINKOPS_LAB_JAVA": str(tmp_path / "no-java")}
    bad = labctl("up", "--dir", str(d), "--brokers", "apache-kafka", check=False, env=no_java)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert "Java 17+" in bad.stderr and "--brokers noida" in bad.stderr
    assert not (d / "lab.json").exists()
    from linkops_lab import brokers
    assert brokers.resolve("noida-db") == "noida" and brokers.get("apache-kafka").KIND == "apache-kafka"
    assert brokers.resolve() in ("noida", "apache-kafka")


def test_lab_json_records_the_kind(lab):
    from linkops_lab import brokers
    if os.environ.get("LAB_TEST_ATTACH"):
        pytest.skip("an attached lab may be of any kind")
    assert lab.info["kind"] == lab.kind == brokers.resolve()    # noida unless LAB_BROKERS says otherwise
