"""Running the lab's CP tools in the tests (test_lab_cptools*.py): ``run_tool`` runs an installed
executable and fails on a traceback, ``Tools`` runs them against a lab (its lab.json through
``LINKOPS_LAB_DIR``) and knows that lab's bootstraps and cluster ids, ``props_file`` writes a
properties file, ``JAAS`` is a PLAIN login line of a link user. The fixtures ``bin_dir`` (the
tools installed by ``labctl.py install-tools``) and ``tools`` are in conftest.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]   # tests/lab: labctl.py

REPO = HERE.parents[1]
JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
        'username="link-user" password="Sup3rSecret!";')


def run_tool(bin_dir, tool, *args, env=None, timeout=120):
    r = subprocess.run([str(bin_dir / tool), *args], capture_output=True, text=True, env=env,
                       timeout=timeout)
    assert "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr
    assert "Exception in thread" not in r.stdout + r.stderr
    return r


class Tools:
    def __init__(self, lab, bin_dir):
        self.lab = lab
        self.bin = bin_dir
        self.env = dict(os.environ, LINKOPS_LAB_DIR=str(lab.workdir))
        self.env.pop("LINKOPS_CPTOOLS_TRACE", None)
        self.D = lab.destination_bootstrap
        self.S = lab.source_bootstrap
        self.did = lab.destination_cluster_id
        self.sid = lab.source_cluster_id

    def __call__(self, tool, *args, env=None):
        return run_tool(self.bin, tool, *args, env=env or self.env)

    def links(self, *args):
        return self("kafka-cluster-links", *args)

    def mirrors(self, *args):
        return self("kafka-mirrors", *args)

    def configs(self, *args):
        return self("kafka-configs", *args)

    def rest_configs(self, link):
        status, body = self.lab.rest("GET", f"/kafka/v3/clusters/{self.did}/links/{link}/configs")
        assert status == 200, body
        return {c["name"]: c for c in body["data"]}

    def rest_links(self):
        status, body = self.lab.rest("GET", f"/kafka/v3/clusters/{self.did}/links")
        assert status == 200, body
        return {lk["link_name"]: lk for lk in body["data"]}

    def emulator_requests(self, needle):
        log = Path(self.lab.info["logs"]["emulator"]).read_text(errors="replace")
        return sum(1 for line in log.splitlines() if needle in line)


def props_file(path: Path, **items) -> str:
    path.write_text("".join(f"{k.replace('_', '.')}={v}\n" for k, v in items.items()))
    return str(path)
