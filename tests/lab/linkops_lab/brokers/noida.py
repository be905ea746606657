"""The noida-db broker kind: the Kafka service of noida-db (PyPI, requirements-dev.txt).

Plaintext, no authorizer, one process per cluster (``noida-db start --only kafka``), its data
in ``<workdir>/<cluster>-data`` (``kafka.json``: records and committed offsets survive a SIGTERM
and a restart, which the fault tests use). Every instance reports the same cluster id, so the lab
assigns its own (``DEFAULT_CLUSTER_IDS``), and it ignores fetch size limits, so every client needs
``CLIENT_CONFIG`` (``kafka.BASE_CLIENT_CONFIG``). The interface is described in
brokers/__init__.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from linkops_lab import kafka
from linkops_lab.errors import LabError

KIND = "noida-db"
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
