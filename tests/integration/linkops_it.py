"""Helpers of the integration tests (imported by conftest.py and the tests).

``run_ansible_module(lab, module, args, check=False, diff=False, verbose=0)``
runs ``ansible localhost -m linkops.cluster_linking.<module> -a '<json>'`` as a
user would (repo ansible.cfg, venv first on PATH, the venv python as the module
interpreter) with the lab's REST connection options filled in, and returns a
``ModuleRun(result, output, rc)``: the result dict parsed from the
``localhost | CHANGED => ...`` / ``SUCCESS`` / ``FAILED!`` block, the whole
stdout+stderr text, and the exit code.

``run_ansible_playbook(args, lab_dir)`` runs ``ansible-playbook`` from the repo
root with LINKOPS_LAB_DIR set. ``unique_name(prefix)`` adds a uuid suffix.

Backends: ``run_ansible_module(..., backend="cli")`` fills in the CLI options
instead (``cli_connection``: api=cli, bootstrap_server = the lab destination,
command_config = a properties file written for the lab, cli_path = ``cli_tools_dir``:
.venv/bin where ``labctl.py install-tools`` puts the lab's CP tools and Apache's kafka-topics,
or on a noida lab the same CP tools with lab_kafka_topics.py as kafka-topics) and runs ansible
with LINKOPS_LAB_DIR, so the tools find the lab (``cli_env``). ``calls(result)`` is what a run cost
(rest_requests, or cli_commands on the CLI backend).
"""

from __future__ import annotations

import atexit
import json
import os
import re
import subprocess
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any, Callable, NamedTuple

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
VENV_PYTHON = VENV_BIN / "python"
LAB_DIR = REPO / "tests" / "lab"

from linkops_lab.cptools import install as cpinstall  # noqa: E402  (pytest.ini puts tests/lab on the path)
from linkops_lab.lab import Lab  # noqa: E402

from ansible_server import AnsibleServer  # noqa: E402  (tests/integration is on the path)

COLLECTION = "linkops.cluster_linking"

# Short emulator timings keep the suite fast; they change nothing a user sees.
TEST_KNOBS = {"pending_stopped_ms": 300, "pending_mirror_ms": 100, "auto_create_interval_ms": 300,
              "copy_interval_ms": 100}

BACKENDS = ("rest", "cli")
# The lab's CP tools (labctl.py install-tools writes them into .venv/bin).
CP_TOOLS = ("kafka-cluster-links", "kafka-mirrors", "kafka-configs")

# Variables of the user's environment that would change what the modules do.
_SCRUB_ENV = ("KAFKA_REST_URL", "KAFKA_CLUSTER_ID", "KAFKA_REST_USERNAME", "KAFKA_REST_PASSWORD",
              "KAFKA_REST_TOKEN", "KAFKA_BOOTSTRAP_SERVER", "KAFKA_COMMAND_CONFIG", "LAB_DIR", "ANSIBLE_STDOUT_CALLBACK", "ANSIBLE_CALLBACK_RESULT_FORMAT",
              "ANSIBLE_INVENTORY", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS",
              "ANSIBLE_FORCE_COLOR", "LINKOPS_LAB_DIR")

RESULT_LINE = re.compile(r"^(?P<host>\S+) \| (?P<status>CHANGED|SUCCESS|FAILED!|UNREACHABLE!) =>(?P<rest>.*)$",
                         re.M)


class ModuleRun(NamedTuple):
    result: dict
    output: str
    rc: int

    @property
    def msg(self) -> str:
        return str(self.result.get("msg", ""))


class PlaybookRun(NamedTuple):
    output: str
    rc: int

    def task_status(self) -> dict[str, str]:
        """``{task name: ok|changed|skipping|failed|fatal}`` from the default callback's output."""
        status: dict[str, str] = {}
        current = None
        for line in self.output.splitlines():
            m = re.match(r"^TASK \[(.*)\] \**$", line)
            if m:
                current = m.group(1)
                continue
            m = re.match(r"^(ok|changed|skipping|failed|fatal): \[", line)
            if m and current is not None and current not in status:
                status[current] = m.group(1)
        return status

    def recap(self) -> dict[str, int]:
        m = re.search(r"^PLAY RECAP \*+\n\S+\s*: (.*)$", self.output, re.M)
        assert m, f"no PLAY RECAP in the output:\n{self.output}"
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}


def ansible_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB_ENV}
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_NOCOLOR"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


# libyaml's safe loader where PyYAML has it: the pure-Python one took 2.3 s for the 1,000 rows of a
# mirror_topic result (0.3 s with libyaml), time a benchmark counted as the module's
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_result(output: str) -> dict:
    """The result dict of the (last) ``host | STATUS => ...`` block of ad-hoc output,
    in either callback_result_format (yaml, as ansible.cfg sets it, or json)."""
    matches = list(RESULT_LINE.finditer(output))
    if not matches:
        return {}
    m = matches[-1]
    rest = m.group("rest").strip()
    following = output[m.end():].split("\n")[1:]
    if rest.startswith("{"):
        lines = [rest]
        for line in following:
            lines.append(line)
            if line == "}":
                break
        parsed = json.loads("\n".join(lines))
    else:
        block = [rest] if rest else []
        for line in following:
            if line and not line[0].isspace():
                break
            block.append(line)
        parsed = yaml.load(textwrap.dedent("\n".join(block)), Loader=YAML_LOADER) or {}
    parsed["_status"] = m.group("status")
    return parsed


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def start_lab(workdir: Path) -> Lab:
    return Lab.start(workdir, knobs=TEST_KNOBS)


def start_apache_kafka_lab(workdir: Path) -> Lab:
    """A lab of real Apache Kafka brokers (SASL_SSL, ACLs) with the test knobs; skips the test, with the
    reason, where Java 17+ or the Kafka jars (Maven or the cache) are missing. C1-only JVMs
    (LINKOPS_LAB_KAFKA_JIT=c1 unless set): cheaper starts, and tests move little data."""
    from linkops_lab.brokers import apache_kafka
    try:
        apache_kafka.check_available()       # Java 17+, the jars (fetched once per machine)
    except apache_kafka.Unavailable as exc:
        pytest.skip(f"the apache-kafka lab is unavailable here: {exc}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LINKOPS_LAB_KAFKA_JIT", os.environ.get("LINKOPS_LAB_KAFKA_JIT") or "c1")
        for name in ("LAB_SOURCE_BOOTSTRAP", "LAB_DESTINATION_BOOTSTRAP", "LAB_SOURCE_CLUSTER_ID",
                     "LAB_DESTINATION_CLUSTER_ID", "LAB_BROKERS", "LAB_REST_TLS", "LAB_REST_MTLS"):
            mp.delenv(name, raising=False)
        return Lab.start(workdir, knobs=TEST_KNOBS, kind="apache-kafka")


def connection(lab: Lab) -> dict[str, str]:
    """The REST connection options of the lab destination (over HTTPS also ca_path, and with mTLS
    client_cert and client_key)."""
    return lab.rest_connection("destination")


def command_config_path(lab: Lab) -> Path:
    """The admin client properties file of the lab destination (what --command-config reads), written once."""
    path = Path(lab.workdir) / "cli-admin.properties"
    if not path.exists():
        if lab.kind == "apache-kafka":   # SASL_SSL as the lab's admin user, the lab CA (lab.json)
            props = lab.info["destination_java_client_properties"]
            text = "# admin client settings for the lab destination (SASL_SSL)\n" + "".join(
                f"{k}={v}\n" for k, v in props.items() if k != "bootstrap.servers")
        else:
            text = ("# admin client settings for the lab destination (PLAINTEXT brokers)\n"
                    "security.protocol=PLAINTEXT\nrequest.timeout.ms=30000\n")
        path.write_text(text)
        path.chmod(0o600)
    return path


def cli_connection(lab: Lab) -> dict[str, str]:
    """The CLI backend's options for the lab: the tools of ``cli_tools_dir`` against the lab destination."""
    return {"api": "cli", "bootstrap_server": lab.destination_bootstrap,
            "command_config": str(command_config_path(lab)), "cli_path": str(cli_tools_dir(lab))}


def cli_tools_dir(lab: Lab) -> Path:
    """Where the CLI backend finds its tools. On an apache-kafka lab .venv/bin: the lab's CP tools and the
    real Apache kafka-topics (labctl.py install-tools). On a noida lab a directory of the lab with the same
    CP tools (links to .venv/bin) and lab_kafka_topics.py as kafka-topics: a JVM per kafka-topics call
    costs seconds, for a stand-in broker the module tests only need listed and deleted topics from."""
    if lab.kind == "apache-kafka":
        return VENV_BIN
    shims = Path(lab.workdir) / "cli-shims"
    shim = shims / "kafka-topics"
    if not shim.exists():
        shims.mkdir(exist_ok=True)
        for tool in CP_TOOLS:
            (shims / tool).symlink_to(VENV_BIN / tool)
        shim.write_text(f'#!/bin/sh\nexec "{VENV_PYTHON}" "{Path(__file__).resolve().parent}/lab_kafka_topics.py" '
                        '"$@"\n')
        shim.chmod(0o755)
    return shims


def missing_cp_tools() -> list[str]:
    """The CP tools not in .venv/bin, or written by an older lab (cptools.install.is_stale)."""
    return [t for t in CP_TOOLS if not (VENV_BIN / t).exists() or cpinstall.is_stale(VENV_BIN / t, t)]


def install_cp_tools() -> str | None:
    """Make sure the lab's CP tools are in .venv/bin (labctl.py install-tools); None, or what is wrong."""
    if not missing_cp_tools():
        return None
    proc = subprocess.run([str(VENV_PYTHON), str(LAB_DIR / "labctl.py"), "install-tools"], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    missing = missing_cp_tools()
    if missing:
        return (f"the CLI backend needs the lab's CP tools; {', '.join(missing)} not in {VENV_BIN} after "
                f"`labctl.py install-tools` (rc {proc.returncode}): {(proc.stdout + proc.stderr)[-500:]}")
    return None


def cli_env(lab: Lab) -> dict[str, str]:
    """Environment of a CLI-backend run: LINKOPS_LAB_DIR (the tools find the lab through it) and the tools of
    ``cli_tools_dir`` first on PATH."""
    return {"LINKOPS_LAB_DIR": str(lab.workdir),
            "PATH": f"{cli_tools_dir(lab)}{os.pathsep}{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def calls(result: dict) -> int | None:
    """What a module run cost: REST requests (api=rest) or CP tool commands (api=cli)."""
    return result["cli_commands"] if "cli_commands" in result else result.get("rest_requests")


def run_ansible_module(lab: Lab | None, module: str, args: dict, *, check: bool = False,
                       diff: bool = False, verbose: int = 0, connect: bool = True,
                       timeout: float = 180, backend: str = "rest") -> ModuleRun:
    extra_env = {}
    if connect and lab is not None and backend == "cli":
        full_args = cli_connection(lab)
        extra_env.update(cli_env(lab))
    elif connect and lab is not None:
        full_args = dict(connection(lab))
    else:
        full_args = {}
    full_args.update(args)
    cmd = [str(VENV_BIN / "ansible"), "localhost", "-m", f"{COLLECTION}.{module}",
           "-a", json.dumps(full_args), "-e", f"ansible_python_interpreter={VENV_PYTHON}"]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if verbose:
        cmd.append("-" + "v" * verbose)
    proc = run_ansible(cmd, ansible_env(**extra_env), timeout)
    output = proc.stdout + proc.stderr
    return ModuleRun(parse_result(proc.stdout) or parse_result(output), output, proc.returncode)


_SERVER: AnsibleServer | None = None


def run_ansible(cmd: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    """``cmd`` (``ansible`` or ``ansible-playbook``) as subprocess.run would run it with stdin from
    /dev/null (no terminal, as under CI or AAP), through this process's AnsibleServer (ansible_server.py:
    Ansible imported once, a fork per run) when it can serve ``env``; ``LINKOPS_IT_FORK=no`` execs
    every run."""
    global _SERVER  # pylint: disable=global-statement
    if os.environ.get("LINKOPS_IT_FORK") != "no":
        if _SERVER is None:
            _SERVER = AnsibleServer(str(VENV_PYTHON), ansible_env(), str(REPO))
            atexit.register(_SERVER.stop)
        if _SERVER.serves(env):
            proc = _SERVER.run(cmd, env, str(REPO), timeout)
            if proc is not None:
                return proc
    return subprocess.run(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, check=False)


def run_ansible_playbook(args: list[str], lab_dir: Path, timeout: float = 300) -> PlaybookRun:
    cmd = [str(VENV_BIN / "ansible-playbook"), *args,
           "-e", f"ansible_python_interpreter={VENV_PYTHON}"]
    # No terminal, as under CI or AAP: a question (ansible.builtin.pause) gets no answer.
    proc = run_ansible(cmd, ansible_env(LINKOPS_LAB_DIR=str(lab_dir)), timeout)
    return PlaybookRun(proc.stdout + proc.stderr, proc.returncode)


# ---------------------------------------------------------------- lab read-back helpers

def get_link(lab: Lab, name: str) -> tuple[int, Any]:
    return lab.rest("GET", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{name}")


def link_configs(lab: Lab, name: str) -> dict[str, dict]:
    """``{config name: entry}`` of the link as the REST API returns them."""
    status, body = lab.rest("GET", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{name}/configs")
    assert status == 200, (status, body)
    return {e["name"]: e for e in body["data"]}


def link_names(lab: Lab) -> list[str]:
    status, body = lab.rest("GET", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links")
    assert status == 200, (status, body)
    return [l["link_name"] for l in body["data"]]


def mirror(lab: Lab, link: str, topic: str) -> tuple[int, Any]:
    return lab.rest("GET", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{link}/mirrors/{topic}")


def diff_text(output: str) -> str:
    """The ``--- before / +++ after`` blocks that --diff printed (all of them, joined)."""
    blocks = re.findall(r"^--- before.*?(?=^\S+ \| |^TASK |^PLAY |\Z)", output, re.M | re.S)
    return "\n".join(blocks)


def diff_has(output: str, sign: str, text: str) -> bool:
    """True when the printed diff has a line ``<sign><indent><text>``."""
    return re.search(rf"^{re.escape(sign)}\s*{re.escape(text)}\s*$", diff_text(output), re.M) is not None


def delete_link(lab: Lab, name: str) -> None:
    """Delete a link (force) if it exists: test cleanup, so idle links do not load the emulator."""
    lab.rest("DELETE", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{name}",
             params={"force": True})


def link_security_configs(lab: Lab) -> dict[str, str]:
    """The configs a link needs to reach the lab's source: on an apache-kafka lab SASL_SSL as the read-only
    link user (SCRAM-SHA-512) trusting the lab CA; none on a noida lab (PLAINTEXT)."""
    if lab.kind != "apache-kafka":
        return {}
    from linkops_lab.brokers.apache_kafka import jaas_config
    creds = lab.info["source_link_credentials"]
    return {"security.protocol": "SASL_SSL", "ssl.truststore.type": "PEM",
            "ssl.truststore.location": lab.info["ca_file"], "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.jaas.config": jaas_config(creds["username"], creds["password"], "SCRAM-SHA-512")}


def create_link_via_rest(lab: Lab, name: str, **configs: str) -> None:
    """Test setup: a plain link (no auto-create filters) made directly through the REST API (on an
    apache-kafka lab with ``link_security_configs``)."""
    configs = {"bootstrap.servers": lab.source_bootstrap, **link_security_configs(lab), **configs}
    body = {"source_cluster_id": lab.source_cluster_id,
            "configs": [{"name": k, "value": v} for k, v in configs.items()]}
    status, resp = lab.rest("POST", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links",
                            body, params={"link_name": name})
    assert status in (201, 204), (status, resp)


# ---------------------------------------------------------------- migrate.yml sequence

# the sync wait is bounded (documented inventory knob; default 150 x 2s) so a stuck lab fails in ~1 min
# make demo: the lab data, playbooks/migrate.yml with the lab inventory, the proof (tests/lab/demo.yml).
MIGRATE_PLAYBOOK = ["-i", "playbooks/inventories/lab", "tests/lab/demo.yml"]


def lab_state(lab: Lab) -> dict:
    return {"links": link_names(lab), "destination_topics": set(lab.topics("destination")),
            "source_topics": set(lab.topics("source"))}


def run_migration_sequence(workdir: Path) -> dict:
    """On a fresh apache-kafka lab of its own (migrate.yml uses fixed names; SASL_SSL, ACLs, HTTPS REST,
    as ``make demo``): ``--check --diff``, then the real run, then a second run. Returns the runs, the lab
    state after the check run, and the lab, still running (the caller stops it)."""
    lab = start_apache_kafka_lab(workdir)
    try:
        runs: dict[str, Any] = {"lab": lab}
        runs["check"] = run_ansible_playbook(MIGRATE_PLAYBOOK + ["--check", "--diff"], workdir)
        runs["after_check"] = lab_state(lab)
        runs["first"] = run_ansible_playbook(MIGRATE_PLAYBOOK, workdir)
        runs["second"] = run_ansible_playbook(MIGRATE_PLAYBOOK, workdir)
        return runs
    except BaseException:
        lab.stop()
        raise
