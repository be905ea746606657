"""Fixtures for the lab's own tests (tests/lab/tests/test_lab_*.py).

``lab``: one lab per session (``Lab.start`` in a temp dir with short
timings; set ``LAB_TEST_ATTACH=<dir>`` to use a lab started by ``labctl.py
up`` instead). ``spec``: the Cloud OpenAPI checker. ``rest``: a request
helper that validates every authenticated response against the spec.
``link``: a fresh link on the destination, force-deleted after the test.
``bin_dir``: the CP tools installed by ``labctl.py install-tools`` in a temp folder, once per
session; ``tools``: a ``cptools_runner.Tools`` that runs them against the session lab.
``dst`` / ``src``: a ``sides.Side`` of each cluster (per module); ``copy_running``: sets the
``copy_paused`` knob back after the test (``pytestmark = pytest.mark.usefixtures(...)``).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from linkops_lab.lab import Lab
from spec_check import SpecChecker
from labtesting import Rest, unique
from cptools_runner import HERE, Tools
from sides import Side

TEST_KNOBS = {"pending_stopped_ms": 300, "pending_mirror_ms": 100, "auto_create_interval_ms": 300,
              "copy_interval_ms": 50}


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    attach = os.environ.get("LAB_TEST_ATTACH")
    if attach:
        yield Lab.attach(attach)
        return
    with Lab.start(tmp_path_factory.mktemp("lab"), knobs=TEST_KNOBS) as running:
        yield running


@pytest.fixture(scope="session")
def spec():
    return SpecChecker.load()


@pytest.fixture(scope="session")
def rest(lab, spec):
    return Rest(lab, spec)


@pytest.fixture
def link(rest):
    """A fresh link on the destination; force-deleted afterwards."""
    name = unique("link")
    rest.create_link(name)
    yield name
    rest("DELETE", f"/clusters/{{D}}/links/{name}", params={"force": True})


@pytest.fixture(scope="session")
def bin_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cptools-bin")
    r = subprocess.run([sys.executable, str(HERE / "labctl.py"), "install-tools", "--bin", str(d)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert f"in {d}" in r.stdout
    return d


@pytest.fixture(scope="module")
def tools(lab, bin_dir):
    return Tools(lab, bin_dir)


@pytest.fixture(scope="module")
def dst(lab, spec):
    return Side(lab, spec, "destination")


@pytest.fixture(scope="module")
def src(lab, spec):
    return Side(lab, spec, "source")


@pytest.fixture
def copy_running(lab):
    yield
    lab.knobs(copy_paused=False)
