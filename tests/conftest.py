# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Contract checks for the whole test suite (tests/unit, tests/lab, tests/integration).

Every lab emulator started during the session validates each Kafka REST v3 request and response
against the OpenAPI specs (tests/lab/linkops_lab/contract.py) and appends the violations to the log named
by ``LAB_CONTRACT_LOG``, which this plugin sets before any lab starts (a fresh temporary file;
an existing ``LAB_CONTRACT_LOG`` is used as it is).

* An autouse fixture fails the test (an error at teardown, listing the violations) when
  violations were logged while it ran (its fixtures' setup and teardown included).
* Labs started off the main thread (the migrate.yml lab of tests/integration runs in a background
  thread while other tests run) keep their violations until a test that uses that lab (a ``Lab``
  among its fixture values, or inside a dict/list/attribute ``lab`` of one) tears down; whatever no
  test claimed fails the session at the end.
* ``contract_violations.take()`` hands a test the violations logged so far (they then do not fail
  it): for tests that provoke a violation on purpose.
* At the end the terminal summary says how many requests and responses the emulators validated.
* ``LAB_CONTRACT=off`` turns all of this off (to measure what the checks cost).
* Under pytest-xdist (``make test`` runs ``-n 4 --dist loadfile``) every worker keeps a log of its
  own (a shared file would mix the workers' violations); each worker sends its totals and the
  violations no test claimed to the controller, which prints the summary and fails the session.

And the scopes of ``--dist loadfile`` (``pytest_xdist_make_scheduler`` below): every test file is one, except
that the files using the integration tests' session ``apache_kafka_lab`` (``AK_FILES``) are one together and
so share one pair of JVM brokers.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

LOG_ENV = "LAB_CONTRACT_LOG"
REPO = Path(__file__).resolve().parents[1]
LAB_MODULE = REPO / "tests" / "lab" / "linkops_lab" / "lab.py"
MAX_SHOWN = 15


class ContractLog:
    """Reads the violation log incrementally and attributes the lines to tests."""

    def __init__(self, path, owned_dir=None):
        self.path = Path(path)
        self.owned_dir = owned_dir
        self.started = time.time()
        try:
            self.offset = self.path.stat().st_size  # an existing log: only this session's lines
        except OSError:
            self.offset = 0
        self.background = set()   # workdirs of labs started off the main thread
        self.pending = {}         # background lab workdir -> violations no test claimed yet
        self.current = []         # violations attributed to the running test, not yet reported
        self.reported = 0         # violations that failed a test
        self.taken = 0            # violations a test expected (contract_violations.take)
        self.unclaimed = []
        self._lock = threading.Lock()

    def read_new(self):
        with self._lock:
            try:
                with open(self.path, "rb") as fh:
                    fh.seek(self.offset)
                    data = fh.read()
            except OSError:
                return []
            end = data.rfind(b"\n") + 1   # complete lines only
            self.offset += end
        out = []
        for line in data[:end].splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append({"side": "log", "errors": ["unreadable log line: %r" % line[:200]]})
        return out

    def collect(self, labs):
        """Read new violations; keep those of this test (``labs``: workdirs it uses) in current."""
        for lab in sorted(labs & set(self.pending)):
            self.current.extend(self.pending.pop(lab))
        for entry in self.read_new():
            lab = entry.get("lab")
            if lab in self.background and lab not in labs:
                self.pending.setdefault(lab, []).append(entry)
            else:
                self.current.append(entry)

    def take(self, labs):
        self.collect(labs)
        out, self.current = self.current, []
        return out

    def lab_started(self, workdir):
        if threading.current_thread() is not threading.main_thread():
            self.background.add(str(workdir))

    def counts(self):
        totals = {"requests": 0, "responses": 0, "violations": 0, "rejected_invalid": 0,
                  "unknown_operation": 0, "processes": 0, "labs": set(), "load_seconds": 0.0,
                  "check_cpu_seconds": 0.0, "worker_restarts": 0}
        for name in glob.glob(glob.escape(str(self.path)) + ".counts.*"):
            if name.endswith(".tmp"):
                continue
            try:
                if os.stat(name).st_mtime < self.started - 1:
                    continue
                with open(name) as fh:
                    doc = json.load(fh)
            except (OSError, ValueError):
                continue
            totals["processes"] += 1
            totals["labs"].add(doc.get("lab"))
            totals["worker_restarts"] += 1 if doc.get("worker") else 0   # a worker started after a crash
            for key in ("requests", "responses", "violations", "rejected_invalid", "unknown_operation"):
                totals[key] += int(doc.get(key) or 0)
            totals["load_seconds"] += float(doc.get("load_seconds") or 0)
            totals["check_cpu_seconds"] += float(doc.get("check_cpu_seconds") or 0)
        return totals


def format_violations(entries, title):
    lines = ["%s (%d):" % (title, len(entries))]
    for e in entries[:MAX_SHOWN]:
        query = e.get("query") or {}
        qs = ("?" + "&".join("%s=%s" % (k, v) for k, v in query.items())) if query else ""
        where = ", ".join(x for x in (e.get("operation"), ("%s spec" % e["spec"]) if e.get("spec") else None) if x)
        lines.append("  %s: %s %s%s -> %s%s; client %s; lab %s (port %s)" % (
            e.get("side"), e.get("method"), e.get("path"), qs, e.get("status"),
            " [%s]" % where if where else "", e.get("client") or "?", e.get("lab"), e.get("port")))
        errors = e.get("errors") or []
        for err in errors[:10]:
            lines.append("      - %s" % err)
        if len(errors) > 10:
            lines.append("      - ... %d more" % (len(errors) - 10))
    if len(entries) > MAX_SHOWN:
        lines.append("  ... %d more" % (len(entries) - MAX_SHOWN))
    return "\n".join(lines)


def _labs_of(request):
    """Workdirs of the labs among the test's fixture values (one level into dicts, lists and
    a ``lab`` attribute, e.g. the migration dict or the lab tests' Rest helper)."""
    found = set()

    def add(value, depth=0):
        if hasattr(value, "workdir") and hasattr(value, "rest_url"):
            found.add(str(value.workdir))
        elif depth < 2 and isinstance(value, dict):
            for v in value.values():
                add(v, depth + 1)
        elif depth < 2 and isinstance(value, (list, tuple)):
            for v in value:
                add(v, depth + 1)
        elif depth < 2 and hasattr(value, "lab"):
            add(getattr(value, "lab", None), depth + 1)

    for value in getattr(request.node, "funcargs", {}).values():
        add(value)
    return found


_STATE = {}


def _log():
    return _STATE.get("log")


def _xdist_worker_id(config):
    return (getattr(config, "workerinput", None) or {}).get("workerid")


def _xdist_controller(config):
    """True in the pytest-xdist controller process (it runs no tests, its workers do)."""
    return (_xdist_worker_id(config) is None and bool(getattr(config.option, "numprocesses", None))
            and getattr(config.option, "dist", "no") != "no")


def pytest_configure(config):
    if os.environ.get("LAB_CONTRACT", "").lower() == "off":  # measuring the checks' cost
        os.environ.pop(LOG_ENV, None)
        return
    if _xdist_controller(config):
        _STATE["workers"] = []  # filled by pytest_testnodedown
        return
    owned_dir = None
    worker = _xdist_worker_id(config)
    path = None if worker else os.environ.get(LOG_ENV)
    if not path:
        owned_dir = tempfile.mkdtemp(prefix="lab-contract-%s" % (worker + "-" if worker else ""))
        path = os.path.join(owned_dir, "contract.jsonl")
        os.environ[LOG_ENV] = path
    # the parsed specs, cached across sessions (keyed by the spec files and linkops_lab/contract.py)
    if not os.environ.get("LAB_CONTRACT_SPEC_CACHE") and (REPO / ".gitignore").exists():
        (REPO / ".cache").mkdir(exist_ok=True)
        os.environ["LAB_CONTRACT_SPEC_CACHE"] = str(REPO / ".cache" / "lab-contract-specs.json")
    _STATE["log"] = ContractLog(path, owned_dir)
    _STATE["env_set_by_us"] = owned_dir is not None


# ---------------------------------------------------------------- xdist groups
# make test runs pytest-xdist with --dist loadfile: a test file runs on one worker. The files using the integration
# tests' session apache_kafka_lab (AK_FILES) count as one file here, so they run on one worker and share one
# pair of JVM brokers (each pair a worker starts costs seconds of CPU on a 2-core machine). (--dist loadgroup
# with xdist_group marks would say the same, but xdist 3.8 cannot rename pytest 9's node ids: it splits.)
APACHE_KAFKA_GROUP = "apache_kafka_lab"
AK_FILES = {"test_apache_kafka_emulator.py", "test_bad_kafka_credentials.py", "test_migration_verify_acls.py",
            "test_seed_guide.py"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FilesAndTheApacheKafkaGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            return APACHE_KAFKA_GROUP if Path(path).name in AK_FILES else path

    return FilesAndTheApacheKafkaGroup(config, log)


def pytest_collection_modifyitems(config, items):
    """AK_FILES must name every file that uses apache_kafka_lab, or a second worker starts a second pair."""
    missing = sorted({item.path.name for item in items if "apache_kafka_lab" in getattr(item, "fixturenames", ())}
                     - AK_FILES)
    if missing:
        raise pytest.UsageError(f"tests/conftest.py: add {', '.join(missing)} to AK_FILES (they use apache_kafka_lab)")


def pytest_collection_finish(session):
    """Note which labs start off the main thread: wrap Lab.start of linkops_lab.lab if a collected
    test module imported it (no import otherwise: unit-only runs stay light)."""
    mod = sys.modules.get("linkops_lab.lab")
    if mod is None or Path(getattr(mod, "__file__", "") or "").resolve() != LAB_MODULE:
        return
    lab_cls = getattr(mod, "Lab", None)
    if lab_cls is None or getattr(lab_cls.start, "_contract_wrapped", False):
        return
    original = lab_cls.start.__func__

    def start(cls, *args, **kwargs):
        lab = original(cls, *args, **kwargs)
        log = _log()
        if log is not None:
            log.lab_started(lab.workdir)
        return lab

    start._contract_wrapped = True
    lab_cls.start = classmethod(start)


class ContractViolations:
    """``take()``: the violations logged so far during this test; they no longer fail it."""

    def __init__(self, request):
        self._request = request

    def take(self, wait=0.0, min_count=1):
        log = _log()
        out = []
        deadline = time.monotonic() + wait
        while True:
            got = log.take(_labs_of(self._request))
            log.taken += len(got)
            out.extend(got)
            if len(out) >= min_count or time.monotonic() >= deadline:
                return out
            time.sleep(0.05)

    @property
    def path(self):
        return str(_log().path)


@pytest.fixture
def contract_violations(request):
    return ContractViolations(request)


@pytest.fixture(autouse=True)
def _lab_contract_check(request):
    """Fail the test when an emulator logged a contract violation while it ran."""
    yield
    log = _log()
    if log is None:
        return
    log.collect(_labs_of(request))
    entries, log.current = log.current, []
    if entries:
        log.reported += len(entries)
        pytest.fail(format_violations(entries, "OpenAPI contract violations while this test ran "
                                      "(log: %s)" % log.path), pytrace=False)


def pytest_sessionfinish(session, exitstatus):
    workers = _STATE.get("workers")
    if workers is not None:  # the xdist controller: its workers' unclaimed violations fail the session
        if exitstatus == 0 and any(w["unclaimed"] for w in workers):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    log = _log()
    if log is None:
        return
    log.collect(set())
    leftover = log.current + [e for entries in log.pending.values() for e in entries]
    log.current, log.pending = [], {}
    log.unclaimed = leftover
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports and fails the session
        totals = log.counts()
        totals["labs"] = sorted(l for l in totals["labs"] if l)
        workeroutput["lab_contract"] = json.dumps({
            "totals": totals, "reported": log.reported, "taken": log.taken, "unclaimed": leftover,
            "path": str(log.path), "seconds": time.time() - log.started})
    if leftover and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist controller: a worker finished; keep what its contract log said."""
    workers = _STATE.get("workers")
    data = (getattr(node, "workeroutput", None) or {}).get("lab_contract")
    if workers is not None and data:
        workers.append(json.loads(data))


class _WorkerLogs:
    """The controller's view of its workers' logs, shaped like ContractLog for the summary."""

    def __init__(self, workers):
        self.workers = workers
        self.reported = sum(w["reported"] for w in workers)
        self.taken = sum(w["taken"] for w in workers)
        self.unclaimed = [e for w in workers for e in w["unclaimed"]]
        self.path = ", ".join(w["path"] for w in workers if w["reported"] or w["unclaimed"])
        self.seconds = max([w["seconds"] for w in workers] or [0])

    def counts(self):
        totals = {"labs": set()}
        for w in self.workers:
            for key, value in w["totals"].items():
                if key == "labs":
                    totals["labs"].update(value)
                else:
                    totals[key] = totals.get(key, 0) + value
        return totals


def pytest_terminal_summary(terminalreporter):
    log = _log()
    if log is None and _STATE.get("workers"):
        log = _WorkerLogs(_STATE["workers"])
    if log is None:
        return
    totals = log.counts()
    tr = terminalreporter
    if totals.get("processes", 0) == 0 and not log.unclaimed and not log.reported:
        return  # no lab ran (unit tests only)
    seconds = log.seconds if isinstance(log, _WorkerLogs) else time.time() - log.started
    tr.write_sep("-", "OpenAPI contract checks")
    tr.write_line(
        "%d requests and %d responses validated against the Confluent Cloud/Platform specs by %d "
        "emulator process(es) of %d lab(s), using %.1f s of CPU (spec loading included) in %.0f s of "
        "session" % (
            totals["requests"], totals["responses"], totals["processes"], len(totals["labs"]),
            totals["check_cpu_seconds"], seconds))
    if totals.get("worker_restarts"):
        tr.write_line("%d of those emulator processes were workers started again after a crash "
                      "(test_lab_supervisor.py provokes one; any other was a librdkafka abort: see the "
                      "lab's emulator.log)" % totals["worker_restarts"], yellow=True)
    tr.write_line(
        "%d violation(s) logged: %d failed a test, %d were provoked on purpose, %d no test claimed; "
        "%d spec-invalid request(s) from test code rejected by the emulator with 4xx (negative tests); "
        "%d request(s) outside the specs" % (
            totals["violations"], log.reported, log.taken, len(log.unclaimed), totals["rejected_invalid"],
            totals["unknown_operation"]))
    if log.unclaimed:
        tr.write_line(format_violations(log.unclaimed, "violations no test claimed (they fail the session)"),
                      red=True)
    if log.reported or log.unclaimed:
        tr.write_line("log: %s" % log.path)


def pytest_unconfigure(config):
    _STATE.pop("workers", None)
    log = _STATE.pop("log", None)
    if _STATE.pop("env_set_by_us", False):
        os.environ.pop(LOG_ENV, None)
    if log is not None and log.owned_dir and not log.reported and not log.unclaimed:
        shutil.rmtree(log.owned_dir, ignore_errors=True)  # kept when a violation failed something
