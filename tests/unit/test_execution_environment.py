"""The execution environment: docs/aap/execution-environment.yml as docs/aap.md says to use it (build the
collection's tarball, then ``ansible-builder create`` writes the build context), and the collection's own
requirements (meta/execution-environment.yml) that ansible-builder finds. No image is built (no container engine here); what the
image build would do with the context is checked as far as it runs without one: the requirements file
installs the tarball as the build names it, and ansible-builder's introspection of the installed collection
finds the Python requirement (confluent-kafka) and no system package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
EE_DIR = REPO / "docs" / "aap"


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=600, check=False,
                          env=env)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """A checkout-shaped directory (docs/aap/ and the tarball in its root), and the context ansible-builder wrote."""
    work = tmp_path_factory.mktemp("ee")
    run([VENV_BIN / "ansible-galaxy", "collection", "build", "--output-path", work, REPO], REPO)
    tarballs = list(work.glob("linkops-cluster_linking-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    shutil.copytree(EE_DIR, work / "docs" / "aap")
    run([VENV_BIN / "ansible-builder", "create", "-f", "docs/aap/execution-environment.yml", "--context", "context"], work)
    return {"work": work, "tarball": tarballs[0], "context": work / "context"}


def test_the_definition_is_on_a_supported_base_without_epel_or_system_packages():
    ee = yaml.safe_load((EE_DIR / "execution-environment.yml").read_text())
    assert ee["version"] == 3
    assert ee["images"]["base_image"]["name"].startswith("registry.access.redhat.com/ubi9/")
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())
    assert "system" not in meta["dependencies"], meta
    assert "confluent-kafka" in (REPO / meta["dependencies"]["python"]).read_text()


def test_create_puts_the_tarball_in_the_context_and_installs_it_in_the_galaxy_stage(context):
    ctx = context["context"]
    containerfile = next(p for p in (ctx / "Containerfile", ctx / "Dockerfile") if p.exists()).read_text()
    assert 'EE_BASE_IMAGE="registry.access.redhat.com/ubi9/ubi-minimal:latest"' in containerfile
    assert "epel" not in containerfile.lower() and "librdkafka" not in containerfile
    copied = ctx / "_build" / "collections" / context["tarball"].name
    assert copied.read_bytes() == context["tarball"].read_bytes()
    rename = containerfile.index("mv /build/collections/linkops-cluster_linking-*.tar.gz")
    install = containerfile.index("ansible-galaxy collection install")
    assert rename < install, containerfile
    requirements = yaml.safe_load((ctx / "_build" / "requirements.yml").read_text())
    assert requirements["collections"] == [{"name": "/build/collections/linkops-cluster_linking.tar.gz", "type": "file"}]


def test_the_galaxy_stage_installs_the_tarball_and_introspection_finds_confluent_kafka(context):
    """The galaxy stage's two steps, with /build moved to a temporary directory: the tarball under its
    unversioned name installs from the requirements file, and ansible-builder's introspection (the builder
    stage) finds what the image would get from PyPI and bindep."""
    work = context["work"]
    build = work / "build"
    (build / "collections").mkdir(parents=True)
    shutil.copy(context["tarball"], build / "collections" / "linkops-cluster_linking.tar.gz")
    req = (context["context"] / "_build" / "requirements.yml").read_text().replace("/build/", f"{build}/")
    (build / "requirements.yml").write_text(req)
    # --force: this machine may have the collection installed elsewhere on its collections path; the image has not
    run([VENV_BIN / "ansible-galaxy", "collection", "install", "--offline", "--force", "-r", build / "requirements.yml",
         "--collections-path", work / "installed"], build)
    installed = work / "installed" / "ansible_collections" / "linkops" / "cluster_linking"
    assert (installed / "MANIFEST.json").is_file() and (installed / "meta" / "execution-environment.yml").is_file()
    found = run([VENV_BIN / "ansible-builder", "introspect", work / "installed"], work).stdout
    python = found.split("system:")[0] if "system:" in found else found
    assert "confluent-kafka" in python, found
    assert "librdkafka" not in found and "gcc" not in found, found


def test_builder_introspection_reads_the_collection_requirements(tmp_path):
    namespace = tmp_path / "ansible_collections" / "linkops"
    namespace.mkdir(parents=True)
    (namespace / "cluster_linking").symlink_to(REPO)
    run = subprocess.run([sys.executable, "-m", "ansible_builder._target_scripts.introspect", "introspect",
                          str(tmp_path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    found = yaml.safe_load(run.stdout)
    assert any(line.startswith("confluent-kafka>=") and "linkops.cluster_linking" in line for line in found["python"])
    # the confluent-kafka wheels bundle librdkafka: no system package (no librdkafka-devel, no EPEL)
    assert not found["system"], found["system"]
    # test-only packages of requirements-dev.txt never reach an execution environment
    assert not any(name in line for line in found["python"] for name in ("pytest", "noida", "openapi", "ansible-runner"))
