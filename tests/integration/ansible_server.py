"""``ansible`` and ``ansible-playbook`` runs for the tests, from a process that imported Ansible once.

Starting ``ansible`` costs about 1.2 s of CPU, half of it importing Ansible; the integration suite runs
it some 340 times, and ``ansible-playbook`` some 100 times, on a 2-core machine, where CPU is what
bounds the suite's time. ``AnsibleServer`` keeps one Python process per pytest worker that has
imported ``ansible.cli.adhoc`` and ``ansible.cli.playbook`` (with the tests' ``ANSIBLE_*`` settings,
which Ansible reads at import) and forks a child per run. The child runs the same
``cli_executor`` the command runs (``AdHocCLI`` or ``PlaybookCLI``, by the name of ``argv[0]``), in its
own process group, with the run's environment, working directory and arguments, standard input from
/dev/null and its output in files; it ends with the CLI's exit code, so the run is the command's run
without its start-up (measured: 0.53 s of CPU for a ping against 1.44 s).

``run()`` falls back to exec'ing the command when a run's ``ANSIBLE_*`` settings differ from the
server's. A run that outlives its timeout is killed with its process group and raises
``subprocess.TimeoutExpired``, as ``subprocess.run`` does.

Protocol: one JSON line per request on the server's stdin (``argv``, ``env``, ``cwd``, ``timeout``,
``out``, ``err``), one JSON line per answer on its stdout (``rc``, ``timed_out``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time


def _ansible_settings(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith("ANSIBLE_")}


class AnsibleServer:
    """One server process, one run at a time: ``run`` answers None while another thread's run is on
    (the caller then execs the command)."""

    def __init__(self, python: str, env: dict[str, str], cwd: str):
        self._env = dict(env)
        self._lock = threading.Lock()
        self._proc = subprocess.Popen([python, __file__], env=self._env, cwd=cwd, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, bufsize=1)

    def serves(self, env: dict[str, str]) -> bool:
        return self._proc.poll() is None and _ansible_settings(env) == _ansible_settings(self._env)

    def run(self, argv: list[str], env: dict[str, str], cwd: str,
            timeout: float) -> subprocess.CompletedProcess | None:
        if not self._lock.acquire(blocking=False):
            return None
        try:
            return self._run(argv, env, cwd, timeout)
        finally:
            self._lock.release()

    def _run(self, argv: list[str], env: dict[str, str], cwd: str, timeout: float) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory(prefix="ansible-run-") as tmp:
            out, err = os.path.join(tmp, "out"), os.path.join(tmp, "err")
            self._proc.stdin.write(json.dumps({"argv": argv, "env": env, "cwd": cwd, "timeout": timeout,
                                               "out": out, "err": err}) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the ansible server (pid {self._proc.pid}) ended: rc {self._proc.poll()}")
            answer = json.loads(line)
            with open(out, encoding="utf-8", errors="replace") as f:
                stdout = f.read()
            with open(err, encoding="utf-8", errors="replace") as f:
                stderr = f.read()
        if answer["timed_out"]:
            raise subprocess.TimeoutExpired(argv, timeout, output=stdout, stderr=stderr)
        return subprocess.CompletedProcess(argv, answer["rc"], stdout, stderr)

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()


# ---------------------------------------------------------------- the server process

def _child(req: dict) -> None:
    """In the forked child: become the ``ansible`` command of this request, then exit with its code."""
    code = 1
    try:
        os.setpgid(0, 0)
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        devnull = os.open(os.devnull, os.O_RDONLY)
        out = os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err = os.open(req["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(devnull, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.argv = list(req["argv"])
        cli = _CLIS[os.path.basename(req["argv"][0])]
        try:
            cli.cli_executor(list(req["argv"]))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # pylint: disable=broad-except
        import traceback
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)  # no atexit: the server's Ansible temp dirs are not the child's to remove


def _wait(pid: int, timeout: float) -> tuple[int, bool]:
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), False
        if time.monotonic() >= deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            return -signal.SIGKILL, True
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


_CLIS: dict = {}   # argv[0]'s name -> its CLI class, imported once before any fork (the point)


def serve() -> None:
    from ansible.cli.adhoc import AdHocCLI
    from ansible.cli.playbook import PlaybookCLI
    _CLIS.update({"ansible": AdHocCLI, "ansible-playbook": PlaybookCLI})
    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(req)
        rc, timed_out = _wait(pid, float(req["timeout"]))
        sys.stdout.write(json.dumps({"rc": rc, "timed_out": timed_out}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
