"""The noida-db broker kind: the Kafka service of noida-db (PyPI, requirements-dev.txt).

Plaintext, no authorizer, one process per cluster (``noida-db start --only kafka``), its data
in ``<workdir>/<cluster>-data`` (``kafka.json``: records and committed offsets survive a SIGTERM
and a restart, which the fault tests use). Every instance reports the same cluster id, so the lab
assigns its own (``DEFAULT_CLUSTER_IDS``), and it ignores fetch size limits, so every client needs
``CLIENT_CONFIG`` (``kafka.BASE_CLIENT_CONFIG``). The interface is described in
brokers/__init__.py (``start``/``wait`` are the single-process steps ``start_many`` uses).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from linkops_lab import kafka
from linkops_lab.errors import LabError

KIND = "noida"
CLIENT_CONFIG = kafka.BASE_CLIENT_CONFIG
# Logical cluster ids (every noida-db instance reports the same id).
DEFAULT_CLUSTER_IDS = {"source": "LABsrcCLUSTERid0000001", "destination": "LABdstCLUSTERid0000002"}


def binary() -> str:
    """The noida-db server binary itself. The ``noida-db`` console script is a
    Python wrapper that runs it as a child; starting the binary directly keeps
    it a direct child of the lab, so PR_SET_PDEATHSIG reaches it."""
    try:
        from importlib.resources import files
        binary = Path(str(files("noida_db").joinpath("noida-db")))
        if binary.is_file():
            if not os.access(binary, os.X_OK):
                os.chmod(binary, 0o755)
            return str(binary)
    except (ImportError, OSError):
        pass
    cand = Path(sys.executable).parent / "noida-db"
    if cand.exists():
        return str(cand)
    found = shutil.which("noida-db")
    if not found:
        raise LabError("noida-db not found: run `make venv` (it is in requirements-dev.txt)")
    return found


def start(data_dir: Path, port: int | str, log_path: Path, cwd: Path, preexec=None) -> subprocess.Popen:
    """Start one broker on 127.0.0.1:``port`` with its data in ``data_dir``, logging to ``log_path``."""
    cmd = [binary(), "start", "--data-dir", str(data_dir), "--only", "kafka",
           "--kafka-port", str(port), "--host", "127.0.0.1"]
    with open(log_path, "ab") as logf:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                stderr=subprocess.STDOUT, cwd=cwd,
                                start_new_session=True, preexec_fn=preexec)


def wait(bootstrap: str, client_config: dict | None = None, timeout: float = 30.0) -> str:
    """Wait until the broker at ``bootstrap`` answers metadata; the cluster id it reports.
    Raises ``kafka.LabKafkaError``."""
    return kafka.wait_ready(bootstrap, client_config, timeout=timeout)


def stop(proc, timeout: float = 15.0) -> None:
    """SIGTERM to the broker's process group (its data is kept), SIGKILL after ``timeout``."""
    proc.stop(timeout)


class NoidaBroker:
    """One lab broker of this kind (see brokers/__init__.py)."""

    def __init__(self, role: str, workdir: Path, port: int, popen: subprocess.Popen | None):
        self.role = role
        self.bootstrap = f"127.0.0.1:{port}"
        self.data_path = Path(workdir) / f"{role}-data"
        self.log_path = Path(workdir) / f"{role}-broker.log"
        self.popen = popen
        self.pid = popen.pid if popen is not None else None
        self.cluster_id: str | None = None      # what it reports (the same for every instance)

    def client_config(self, bootstrap: bool = False) -> dict:
        return {"bootstrap.servers": self.bootstrap} if bootstrap else {}


def marker(role: str, workdir: Path) -> str:
    return str(Path(workdir) / f"{role}-data")


def _wait(b: NoidaBroker, timeout: float) -> None:
    try:
        b.cluster_id = wait(b.bootstrap, CLIENT_CONFIG, timeout=timeout)
    except kafka.LabKafkaError as exc:
        raise LabError(f"{b.role} cluster at {b.bootstrap} is not ready: {exc}; "
                       f"see {b.log_path}") from None


def start_many(roles, workdir: Path, *, ports: dict, keep_data: bool = False,
               die_with_parent: bool = True, ready_timeout: float = 60.0) -> dict:
    """Start one broker per role (all first, then wait for each); see brokers/__init__.py."""
    from linkops_lab.procs import free_port, pdeathsig_preexec
    workdir = Path(workdir)
    preexec = pdeathsig_preexec if die_with_parent else None
    started: dict[str, NoidaBroker] = {}
    try:
        for role in roles:
            data_dir = workdir / f"{role}-data"
            if data_dir.exists() and not keep_data:
                shutil.rmtree(data_dir)
            data_dir.mkdir(parents=True, exist_ok=True)
            port = int((ports or {}).get(role) or 0) or free_port()
            b = NoidaBroker(role, workdir, port, None)
            b.popen = start(data_dir, port, b.log_path, workdir, preexec)
            b.pid = b.popen.pid
            started[role] = b
        for b in started.values():
            _wait(b, ready_timeout)
    except BaseException:
        for b in started.values():
            _kill(b)
        raise
    return started


def _kill(b: NoidaBroker) -> None:
    from linkops_lab.procs import Proc
    if b.popen is not None:
        Proc(f"{b.role}_broker", b.popen.pid, str(b.data_path), b.popen).stop()


def restart(role: str, workdir: Path, port: int | str, *, die_with_parent: bool = True,
            ready_timeout: float = 60.0) -> NoidaBroker:
    """The broker of ``role`` again on ``port`` with its data (after ``stop``)."""
    from linkops_lab.procs import pdeathsig_preexec
    b = NoidaBroker(role, Path(workdir), int(port), None)
    b.popen = start(b.data_path, port, b.log_path, Path(workdir),
                    pdeathsig_preexec if die_with_parent else None)
    b.pid = b.popen.pid
    try:
        b.cluster_id = wait(b.bootstrap, CLIENT_CONFIG, timeout=ready_timeout)
    except kafka.LabKafkaError as exc:
        raise LabError(f"{role} broker did not come back on {b.bootstrap}: {exc}; "
                       f"see {b.log_path}") from None
    return b


def lab_entries(role: str, broker: NoidaBroker) -> dict:
    return {}
