"""The execution environment metadata: ansible-builder makes a build context and finds our requirements."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BUILDER = Path(sys.executable).parent / "ansible-builder"


def test_ansible_builder_create_makes_a_build_context(tmp_path):
    context = tmp_path / "context"
    run = subprocess.run([str(BUILDER), "create", "-f", str(REPO / "docs/aap/execution-environment.yml"),
                          "--context", str(context)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    containerfile = next(p for p in (context / "Containerfile", context / "Dockerfile") if p.exists()).read_text()
    assert "ansible-galaxy collection install" in containerfile
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert [c["name"] for c in galaxy["collections"]] == ["linkops.cluster_linking"]


def test_builder_introspection_reads_the_collection_requirements(tmp_path):
    namespace = tmp_path / "ansible_collections" / "linkops"
    namespace.mkdir(parents=True)
    (namespace / "cluster_linking").symlink_to(REPO)
    run = subprocess.run([sys.executable, "-m", "ansible_builder._target_scripts.introspect", "introspect",
                          str(tmp_path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    found = yaml.safe_load(run.stdout)
    assert any(line.startswith("confluent-kafka>=2.3.0") and "linkops.cluster_linking" in line
               for line in found["python"])
    assert all("linkops.cluster_linking" in line for line in found["system"])
    # test-only packages of requirements-dev.txt never reach an execution environment
    assert not any(name in line for line in found["python"] for name in ("pytest", "noida", "openapi"))
