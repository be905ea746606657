"""The emulator process keeps its REST ports open and runs the emulator in a worker process it
starts again when the worker crashes.

Why: the emulator's Kafka clients are librdkafka's, and librdkafka 2.16 can abort the whole
process after a lab broker restarts (``rd_kafka_enq_once_del_source_return: Assertion
'eonce->refcnt > 0' failed``, confluentinc/librdkafka#3663), which no Python code can catch. A
Confluent Server does not vanish because a peer broker restarted, so the lab should not either.

How: ``serve`` (server.py) binds every REST port in this process (``bind``), which never makes a
Kafka client or a thread, then ``supervise`` forks a worker that serves those same sockets. While a
worker starts again, connections wait in the sockets' backlog instead of being refused; requests a
crashed worker was answering are lost, as with a server that restarts. The new worker loads the
state file (statefile.py: at most the last ``state_save_ms`` of changes are lost) and makes new
clients.

* A worker that dies of a signal (SIGABRT, SIGSEGV) is restarted, logged at ERROR with its
  signal; more than ``MAX_RESTARTS`` crashes in ``RESTART_WINDOW_S`` seconds stop the emulator.
* A worker that exits (0 after SIGTERM, 1 after a Python error, e.g. a bad state file) ends the
  emulator with its exit code, as before there was a supervisor.
* SIGTERM/SIGINT to this process (or its process group) stop the worker, then this process.
* Each worker knows its number (``LAB_EMULATOR_WORKER``: 0 for the first); ``GET /lab/v1/health``
  answers with it and the worker's pid, and the contract hook's counts record it.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from typing import Callable

from linkops_lab.procs import pdeathsig_preexec

log = logging.getLogger("lab.emulator")

MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0
BACKLOG = 128
WORKER_ENV = "LAB_EMULATOR_WORKER"


def bind(host: str, ports: dict[str, int]) -> dict[str, socket.socket]:
    """Listening sockets for ``{cluster name: port}`` (0: any free port)."""
    out: dict[str, socket.socket] = {}
    try:
        for name, port in ports.items():
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(BACKLOG)
            out[name] = sock
    except BaseException:
        for sock in out.values():
            sock.close()
        raise
    return out


def worker_number() -> int:
    """This worker's number: 0 for the first, 1 after one restart, ..."""
    try:
        return int(os.environ.get(WORKER_ENV, "0"))
    except ValueError:
        return 0


def _signal_name(status: int) -> str:
    """The signal a worker died of (``os.WIFSIGNALED(status)``)."""
    sig = os.WTERMSIG(status)
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def supervise(run_worker: Callable[[], int]) -> int:
    """Run ``run_worker`` in a forked worker, again after each crash; returns the exit code."""
    parent = os.getpid()
    stopping = False
    child = 0
    crashes: list[float] = []
    number = 0

    def on_signal(signum, _frame):
        nonlocal stopping
        stopping = True
        log.info("signal %d: stopping the emulator worker", signum)
        if child:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while True:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                pdeathsig_preexec()   # the worker dies with this process
                if os.getppid() != parent:
                    os._exit(0)
                os.environ[WORKER_ENV] = str(number)
                code = run_worker()
            except BaseException:  # noqa: BLE001 - the worker's last words, then its exit code
                log.exception("emulator worker failed")
            finally:
                logging.shutdown()
                os._exit(code)
        child = pid
        if stopping:
            os.kill(child, signal.SIGTERM)
        _, status = os.waitpid(child, 0)
        child = 0
        if stopping or not os.WIFSIGNALED(status):
            return 0 if stopping else os.waitstatus_to_exitcode(status)
        now = time.monotonic()
        crashes = [t for t in crashes if now - t < RESTART_WINDOW_S] + [now]
        if len(crashes) > MAX_RESTARTS:
            log.error("emulator worker %d (pid %d) died of %s: %d crashes in %.0f s, giving up", number, pid,
                      _signal_name(status), len(crashes), RESTART_WINDOW_S)
            return 1
        number += 1
        log.error("emulator worker %d (pid %d) died of %s; starting worker %d from the state file (the REST "
                  "ports stayed open)", number - 1, pid, _signal_name(status), number)
