"""Fixtures of the integration tests: a real lab and real ``ansible`` commands.

``lab``: one lab (two brokers + the Cluster Linking emulator) for the session,
started in a temporary directory and stopped at the end. ``apache_kafka_lab``: the
same with real Apache Kafka brokers (SASL_SSL, ACLs), for the tests that need them.
``run_module(module, args, check=False, diff=False, verbose=0)``: one module
run with the lab's connection options for the test's backend (see
linkops_it.run_ansible_module).
``backend``: "rest" or "cli", the backend the test's module runs use.
``run_playbook(args, lab_dir)``: one ansible-playbook run.
``unique(prefix)``: a name with a uuid suffix, so tests never share names.
``link_name``: a fresh link name, the link deleted after the test.
``migration``: the migrate.yml sequence (check, real, second run) on a lab of its
own. It takes ~1 minute, mostly ansible start-up, so when test_migrate_playbook.py
is selected it starts in a background thread at the beginning of the session and
runs while the other tests run; the fixture waits for it (under pytest-xdist, whose workers
already run tests side by side, it starts when the first test needs it).

Both backends: a test that uses ``run_module`` (or ``backend``) runs once per
backend named by its ``backends`` marker, with ids ``[rest]`` / ``[cli]``:

    pytestmark = pytest.mark.backends("rest", "cli")   # every test of the file

    @pytest.mark.backends("rest")                       # one test: REST only
    def test_tasks_in_error(lab, run_module, ...): ...  # (the closest marker wins)

Without a marker a test runs on REST only. On ``cli`` the module runs get
api=cli, bootstrap_server = the lab destination, command_config = a properties
file written into the lab directory, cli_path = linkops_it.cli_tools_dir (the lab's CP tools,
installed by ``labctl.py install-tools`` when missing) and LINKOPS_LAB_DIR.
A cost assertion reads ``calls(run.result)`` (linkops_it): rest_requests on
REST, cli_commands on CLI. Select one backend with ``-k "rest"`` / ``-k "cli"``.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
# ansible_collections.linkops.cluster_linking (make venv links the checkout there), for the tests that run a
# module's main() in this process (test_bad_input.py)
COLLECTIONS = HERE.parents[1] / ".collections"
if COLLECTIONS.is_dir() and str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

from linkops_it import (  # noqa: E402
    BACKENDS, ModuleRun, delete_link, install_cp_tools, run_ansible_module, run_ansible_playbook,
    run_migration_sequence, start_apache_kafka_lab, start_lab, unique_name)


def pytest_configure(config):
    config.addinivalue_line("markers", "backends(*names): run the test once per backend: rest, cli")


def pytest_generate_tests(metafunc):
    if "backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("backends")
    names = tuple(marker.args) if marker and marker.args else ("rest",)
    unknown = [n for n in names if n not in BACKENDS]
    if unknown:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: unknown backends {unknown}; use {BACKENDS}")
    metafunc.parametrize("backend", names, ids=list(names), indirect=True)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    with start_lab(tmp_path_factory.mktemp("lab")) as running:
        yield running


@pytest.fixture(scope="session")
def apache_kafka_lab(tmp_path_factory):
    """One lab of Apache Kafka brokers (SASL_SSL, ACLs) for the session's tests that need real brokers;
    skipped where Java 17+ or the jars are missing (linkops_it.start_apache_kafka_lab)."""
    with start_apache_kafka_lab(tmp_path_factory.mktemp("apache-kafka-lab")) as running:
        yield running


@pytest.fixture(scope="session")
def _cp_tools():
    problem = install_cp_tools()
    if problem:
        pytest.fail(problem)


@pytest.fixture
def backend(request):
    """The backend of this test's module runs: "rest" or "cli" (parametrized by the backends marker)."""
    name = getattr(request, "param", "rest")
    if name == "cli":
        request.getfixturevalue("_cp_tools")
    return name


@pytest.fixture
def run_module(lab, backend):
    def _run(module: str, args: dict, **kw) -> ModuleRun:
        kw.setdefault("backend", backend)
        return run_ansible_module(lab, module, args, **kw)
    return _run


@pytest.fixture(scope="session")
def run_playbook():
    return run_ansible_playbook


@pytest.fixture
def unique():
    return unique_name


@pytest.fixture
def link_name(lab):
    """A fresh link name; the link (if a test created it) is deleted after the test."""
    name = unique_name("it-link")
    yield name
    delete_link(lab, name)


@pytest.fixture(scope="session")
def _migration_future(tmp_path_factory):
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="migrate-yml")
    future = executor.submit(run_migration_sequence, tmp_path_factory.mktemp("migrate-lab"))
    yield future
    try:
        if future.exception() is None:
            future.result()["lab"].stop()
    finally:
        executor.shutdown(wait=True)


@pytest.fixture(scope="session", autouse=True)
def _start_migration_early(request):
    # Under pytest-xdist every worker collects every test: only the worker that runs
    # test_migrate_playbook.py should pay for the migration, so it starts when first used there.
    if hasattr(request.config, "workerinput"):
        return
    if any(Path(str(item.fspath)).name == "test_migrate_playbook.py" for item in request.session.items):
        request.getfixturevalue("_migration_future")


@pytest.fixture(scope="session")
def migration(_migration_future):
    return _migration_future.result(timeout=600)
