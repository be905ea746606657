"""A real SSH jump host for the lab (docs/lab.md, "SSH jump host"): Debian's openssh-server run as an sshd of
its own on a 127.0.0.1 port, with its own host key and config, that lets one non-root user in with a key made
at start. That user has what docs/migration.md says a jump host needs: a Python with confluent-kafka (a
virtualenv in its home) and the CP tools on its PATH (the lab's, pointed at this lab).

``start(workdir)`` (``labctl.py jump-host up``) returns the ``JumpHost`` and writes ``<workdir>/jump-host.json``;
``JumpHost.ansible_vars()`` are the inventory variables that reach it over ``ansible_connection: ssh``;
``stop(workdir)`` (``labctl.py jump-host down``, and ``labctl.py down``) stops that sshd and removes the lab's
directory in the user's home.

Run as root (CI, these machines), the user is ``linkops-jump`` (created with useradd when missing). Run as
another user, sshd can only let that user in, so the jump host's user is the one running the lab.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from linkops_lab.errors import LabError
from linkops_lab.procs import free_port, pdeathsig_preexec, pid_alive, pid_cmdline, write_private

USER = "linkops-jump"
STATE_FILE = "jump-host.json"
VENV = ".linkops-venv"          # in the user's home: the Python the modules run with
LABS = ".linkops-lab"           # in the user's home: <LABS>/<lab id>/ (CP tools, their lab.json, authorized_keys)
CPTOOLS_LOG = "cptools.log"     # in the lab's directory of the user's home: one line per CP tool run there
CPTOOL_LOGGER = """#!/bin/sh
# {tool} on the linkops lab's jump host: logs who ran it with which arguments (no secrets: the CP tools
# read those from --command-config files), then runs the lab's {tool}.
printf '%s %s {tool} %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(id -un)" "$*" >> {log}
exec {real} "$@"
"""
INSTALL_HINT = ("install Debian's openssh-server (apt-get install -y openssh-server; "
                "make jump-host-deps does it when sshd is missing)")


def find_sshd() -> str:
    found = shutil.which("sshd") or next((p for p in ("/usr/sbin/sshd", "/usr/local/sbin/sshd") if os.access(p, os.X_OK)),
                                         None)
    if not found:
        raise LabError(f"no sshd on this machine: {INSTALL_HINT}")
    return found


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    if proc.returncode != 0:
        raise LabError(f"{' '.join(cmd)} failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()[:500]}")
    return proc


def jump_user() -> pwd.struct_passwd:
    """The user the jump host lets in: linkops-jump when run as root (created if missing), else ourselves."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        _run(["useradd", "--create-home", "--shell", "/bin/sh", "--comment", "linkops lab jump host", USER])
        # No password, but not locked: sshd (without PAM) refuses accounts whose password starts with "!".
        _run(["usermod", "--password", "*", USER])
        return pwd.getpwnam(USER)


def _chown(path: Path, user: pwd.struct_passwd) -> None:
    if os.geteuid() == 0:
        os.chown(path, user.pw_uid, user.pw_gid)


def _chown_tree(path: Path, user: pwd.struct_passwd) -> None:
    if os.geteuid() != 0:
        return
    os.chown(path, user.pw_uid, user.pw_gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), user.pw_uid, user.pw_gid)


def _site_packages(python: str) -> Path:
    out = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    return Path(out)


def ensure_python(user: pwd.struct_passwd) -> str:
    """``~user/.linkops-venv/bin/python`` with confluent-kafka: a virtualenv of the system's python3 (readable by
    the user, unlike a virtualenv under /root), with this Python's confluent-kafka copied in when both are the
    same Python version (the wheel bundles librdkafka), else installed with pip."""
    home = Path(user.pw_dir)
    venv = home / VENV
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import confluent_kafka"]
    if python.exists() and subprocess.run(check, capture_output=True, check=False).returncode == 0:
        return str(python)
    base = shutil.which("python3", path="/usr/bin:/usr/local/bin:/bin")
    if not base:
        raise LabError("the jump host needs a system python3 (/usr/bin/python3) for its user")
    tmp = home / f"{VENV}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    _run([base, "-m", "venv", "--without-pip", str(tmp)])
    target = _site_packages(str(tmp / "bin" / "python"))
    version = _run([base, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).stdout.strip()
    import confluent_kafka  # pylint: disable=import-outside-toplevel
    ours = Path(confluent_kafka.__file__).resolve().parent.parent
    if version == "%d.%d" % sys.version_info[:2]:
        for entry in ours.iterdir():
            if entry.name.startswith("confluent_kafka"):
                (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, target / entry.name)
    else:
        _run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target),
              f"confluent-kafka=={confluent_kafka.version()[0]}"])
    _chown_tree(tmp, user)
    shutil.rmtree(venv, ignore_errors=True)
    os.replace(tmp, venv)
    if subprocess.run(check, capture_output=True, check=False).returncode != 0:
        raise LabError(f"{python} cannot import confluent_kafka")
    return str(python)


@dataclass
class JumpHost:
    info: dict

    @property
    def user(self) -> str:
        return self.info["user"]

    @property
    def lab_dir(self) -> Path:
        """The lab's directory in the user's home (its CP tools and their lab.json)."""
        return Path(self.info["lab_dir"])

    def ansible_vars(self) -> dict:
        """Inventory variables of a link whose jump host this is."""
        i = self.info
        return {
            "ansible_connection": "ssh",
            "ansible_host": i["host"],
            "ansible_port": i["port"],
            "ansible_user": i["user"],
            "ansible_ssh_private_key_file": i["client_key"],
            "ansible_ssh_common_args": (f"-o UserKnownHostsFile={i['known_hosts']} -o StrictHostKeyChecking=yes "
                                        "-o IdentitiesOnly=yes -o PasswordAuthentication=no"),
            "ansible_python_interpreter": i["python"],
        }

    def alive(self) -> bool:
        pid = self.info.get("pid")
        return pid_alive(pid) and "sshd" in pid_cmdline(pid)


def _lab_id(workdir: Path) -> str:
    return hashlib.sha256(str(workdir).encode()).hexdigest()[:12]


def _keygen(path: Path, comment: str) -> str:
    for p in (path, path.with_name(path.name + ".pub")):
        p.unlink(missing_ok=True)
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    path.chmod(0o600)
    return path.with_name(path.name + ".pub").read_text().strip()


def _wait_for_banner(port: int, proc: subprocess.Popen, log: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LabError(f"sshd exited ({proc.returncode}): {log.read_text()[-800:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                if s.recv(64).startswith(b"SSH-2.0"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise LabError(f"sshd did not answer on 127.0.0.1:{port} in {timeout} s: {log.read_text()[-800:]}")


def start(workdir: str | os.PathLike, extra_tools: dict[str, Path] | None = None,
          die_with_parent: bool = False) -> JumpHost:
    """Starts (or finds running) the lab's jump host; the lab (lab.json) must be up in ``workdir``.
    ``extra_tools``: more commands for its PATH, ``{name: python script}`` run with the jump host's Python
    (the integration tests add their kafka-topics stand-in, which the lab's CP tools do not include).
    ``die_with_parent``: sshd gets SIGTERM when this process ends (tests; labctl leaves it running)."""
    workdir = Path(workdir).resolve()
    lab_json = workdir / "lab.json"
    if not lab_json.exists():
        raise LabError(f"no lab in {workdir} (lab.json missing): start it first (labctl.py up)")
    running = attach(workdir)
    if running is not None and running.alive():
        return running
    sshd = find_sshd()
    user = jump_user()
    home = Path(user.pw_dir)
    python = ensure_python(user)

    # The controller side, in the lab's directory (root only): host key, config, the user's login key.
    here = workdir / "jump-host"
    here.mkdir(mode=0o700, exist_ok=True)
    host_pub = _keygen(here / "ssh_host_ed25519_key", "linkops-lab-jump-host")
    client_pub = _keygen(here / "id_ed25519", f"linkops-lab-controller@{_lab_id(workdir)}")

    # The jump host side, in the user's home: authorized_keys, the CP tools and the lab.json they read.
    labs = home / LABS
    labs.mkdir(mode=0o700, exist_ok=True)
    _chown(labs, user)
    lab_dir = labs / _lab_id(workdir)
    shutil.rmtree(lab_dir, ignore_errors=True)
    (lab_dir / "bin").mkdir(mode=0o700, parents=True)
    write_private(lab_dir / "authorized_keys", client_pub + "\n")
    write_private(lab_dir / "lab.json", lab_json.read_text())
    from linkops_lab.cptools.install import TOOLS, wrapper_text  # pylint: disable=import-outside-toplevel
    (lab_dir / "libexec").mkdir(mode=0o700)
    scripts = {tool: wrapper_text(tool, python) for tool in TOOLS}
    scripts.update({tool: f'#!/bin/sh\nexec "{python}" "{Path(script).resolve()}" "$@"\n'
                    for tool, script in (extra_tools or {}).items()})
    for tool, text in scripts.items():
        real = lab_dir / "libexec" / tool
        real.write_text(text)
        # On PATH: a line per run in cptools.log (who ran which tool, with which arguments), then the tool.
        logged = lab_dir / "bin" / tool
        logged.write_text(CPTOOL_LOGGER.format(tool=tool, real=real, log=lab_dir / CPTOOLS_LOG))
        for path in (real, logged):
            path.chmod(0o700)
    _chown_tree(lab_dir, user)

    port = free_port()
    known_hosts = here / "known_hosts"
    write_private(known_hosts, f"[127.0.0.1]:{port} {host_pub}\n")
    config = here / "sshd_config"
    write_private(config, "\n".join([
        "# The linkops lab's SSH jump host (tests/lab/linkops_lab/jump_host.py): key login for one user.",
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {here / 'ssh_host_ed25519_key'}",
        f"PidFile {here / 'sshd.pid'}",
        f"AuthorizedKeysFile {lab_dir / 'authorized_keys'}",
        f"AllowUsers {user.pw_name}",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin no",
        "UsePAM no",
        "StrictModes yes",
        "X11Forwarding no",
        "AllowTcpForwarding no",
        "PrintMotd no",
        # What an operator's jump host has on its PATH: the CP tools; and where the lab's tools find the lab.
        f"SetEnv LINKOPS_LAB_DIR={lab_dir} PATH={lab_dir / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "Subsystem sftp internal-sftp",
        "LogLevel VERBOSE",
        "",
    ]))
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)   # privilege separation directory
    _run([sshd, "-t", "-f", str(config)])
    log = here / "sshd.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=pdeathsig_preexec if die_with_parent else None)
    try:
        _wait_for_banner(port, proc, log)
    except LabError:
        proc.kill()
        raise
    info = {"pid": proc.pid, "host": "127.0.0.1", "port": port, "user": user.pw_name, "home": str(home),
            "python": python, "lab_dir": str(lab_dir), "bin": str(lab_dir / "bin"),
            "client_key": str(here / "id_ed25519"), "known_hosts": str(known_hosts), "config": str(config),
            "log": str(log)}
    write_private(workdir / STATE_FILE, json.dumps(info, indent=2))
    return JumpHost(info)


def attach(workdir: str | os.PathLike) -> JumpHost | None:
    path = Path(workdir).resolve() / STATE_FILE
    try:
        return JumpHost(json.loads(path.read_text()))
    except FileNotFoundError:
        return None


def stop(workdir: str | os.PathLike) -> bool:
    """Stops the lab's sshd and removes the lab's directory in the user's home; False when none was there."""
    workdir = Path(workdir).resolve()
    jump = attach(workdir)
    if jump is None:
        return False
    if jump.alive():
        os.kill(jump.info["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 10
        while jump.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        if jump.alive():
            os.kill(jump.info["pid"], signal.SIGKILL)
    shutil.rmtree(jump.lab_dir, ignore_errors=True)
    (workdir / STATE_FILE).unlink(missing_ok=True)
    return True
