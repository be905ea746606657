"""Helpers of the playbook tests (fleet, DR, check mode, large migration).

``write_inventory(directory, lab, links, **group_vars)`` writes an inventory in the model every
playbook uses (docs/fleet.md): ``linkops_clusters`` with the two lab clusters (``lab_source``,
``lab_destination``) as literal values, one host per link with its ``host_vars``, jump host files
and reports inside ``directory`` (never in the repository). ``playbook(lab, inventory, name, *args)``
runs ``playbooks/<name>.yml`` with it. ``lab_snapshot(lab)`` is what the lab holds (links and their
configs on both clusters, mirrors and their states, topics, end offsets, committed group offsets,
ACLs), for "changes nothing" assertions.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import subprocess
import termios
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from linkops_it import REPO, VENV_BIN, VENV_PYTHON, PlaybookRun, ansible_env, run_ansible_playbook

S, D = "source", "destination"


# librdkafka settings of lab.json that are cluster keys of docs/fleet.md (as the lab inventory maps them)
SECURITY_KEYS = {"security.protocol": "security_protocol", "sasl.mechanism": "sasl_mechanism",
                 "sasl.username": "sasl_username", "sasl.password": "sasl_password",
                 "ssl.ca.location": "ssl_truststore_location"}


def cluster_dict(lab, side: str) -> dict:
    """A lab cluster as a linkops_clusters entry: on an apache-kafka lab with its SASL_SSL settings (the
    lab's admin user, the lab CA as a PEM trust store) and, over HTTPS REST, rest_ca_path."""
    client = dict(lab.info.get(f"{side}_client_config") or lab.client_config)
    entry = {"cluster_id": lab.cluster_id(side), "bootstrap_servers": lab.bootstrap(side),
             "rest_url": lab.rest_url_of(side), "rest_username": lab.rest_username,
             "rest_password": lab.rest_password}
    for key, option in SECURITY_KEYS.items():
        if key in client:
            entry[option] = client.pop(key)
    if "ssl_truststore_location" in entry:
        entry["ssl_truststore_type"] = "PEM"
    for option, value in (("rest_ca_path", lab.rest_ca_path), ("rest_client_cert", lab.rest_client_cert),
                          ("rest_client_key", lab.rest_client_key)):
        if value and lab.rest_tls:
            entry[option] = value
    entry["client_config"] = client
    return entry


def write_inventory(directory: Path, lab, links: dict[str, dict], **group_vars: Any) -> Path:
    """An inventory directory with one host per link; returns its path."""
    inv = Path(directory)
    (inv / "group_vars").mkdir(parents=True, exist_ok=True)
    (inv / "host_vars").mkdir(exist_ok=True)
    hosts = {name: {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
             for name in links}
    (inv / "hosts.yml").write_text(yaml.safe_dump({"cluster_links": {"hosts": hosts}}, sort_keys=False))
    common = {
        "linkops_clusters": {"lab_source": cluster_dict(lab, S), "lab_destination": cluster_dict(lab, D)},
        "link_source_cluster": "lab_source",
        "link_destination_cluster": "lab_destination",
        "link_files_base_dir": str(inv.parent / "files"),
        "linkops_report_dir": str(inv.parent / "reports"),
    }
    common.update(group_vars)
    path = inv / "group_vars" / "cluster_links.yml"
    path.write_text(yaml.safe_dump(common, sort_keys=False))
    path.chmod(0o600)
    for name, host_vars in links.items():
        (inv / "host_vars" / f"{name}.yml").write_text(yaml.safe_dump(host_vars, sort_keys=False))
    return inv


def playbook(lab, inventory: Path, name: str, *args: str, timeout: float = 600) -> PlaybookRun:
    return run_ansible_playbook(["-i", str(inventory), f"playbooks/{name}.yml", *args], lab.workdir,
                                timeout=timeout)


PROMPT_END = "Type yes to go on"


def _controlling_terminal():
    """In the child: a session of its own whose controlling terminal is its stdin (the pseudo-terminal), as
    in a login shell; ansible's prompt checks that it runs in the terminal's foreground."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def playbook_in_terminal(lab, inventory: Path, name: str, answer: str, *args: str,
                         timeout: float = 600) -> tuple[PlaybookRun, list[str]]:
    """``playbook`` run in a terminal (a pseudo-terminal as its stdin and output), as an operator at a
    jump host runs it: every question (ansible.builtin.pause) is answered with ``answer``. Returns the
    run and the questions, each as printed: the pause's ``[task name]`` line, the question, the prompt."""
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), f"playbooks/{name}.yml", *args,
           "-e", f"ansible_python_interpreter={VENV_PYTHON}"]
    main, child = pty.openpty()
    proc = subprocess.Popen(cmd, cwd=REPO, env=ansible_env(LINKOPS_LAB_DIR=str(lab.workdir), COLUMNS="200"),
                            stdin=child, stdout=child, stderr=child, close_fds=True, preexec_fn=_controlling_terminal)
    os.close(child)
    output, questions, since = "", [], 0
    deadline = time.monotonic() + timeout
    unanswered_since = None  # a question is on the screen and nothing came after our answer yet
    try:
        while time.monotonic() < deadline:
            readable = select.select([main], [], [], 0.5)[0]
            if readable:
                try:
                    chunk = os.read(main, 65536).decode(errors="replace")
                except OSError:  # the child closed the terminal
                    chunk = ""
                if not chunk and proc.poll() is not None:
                    break
                output += chunk
                end = output.find(PROMPT_END, since)
                if end >= 0:
                    # the question: from the pause's "[task name]" header line to the prompt's end
                    start = output.rfind("\n[", since, end)
                    questions.append(output[start + 1 if start >= 0 else since:end + len(PROMPT_END)])
                    since = end + len(PROMPT_END)
                    unanswered_since = time.monotonic()
                elif re.search(r"^(TASK|PLAY|ok:|fatal:|skipping:|changed:)", output[since:], re.M):
                    unanswered_since = None  # the play went on: the answer was read
            elif proc.poll() is not None:
                break
            # The prompt puts the terminal in raw mode, which flushes what was typed before it: type the
            # answer a moment after the question shows, and again while nothing answers it.
            if unanswered_since is not None and time.monotonic() - unanswered_since > 1:
                os.write(main, (answer + "\r").encode())
                unanswered_since = time.monotonic() + 2
        else:
            proc.kill()
            raise AssertionError(f"{name}.yml did not end in {timeout} s:\n{output[-3000:]}")
        proc.wait(timeout=30)
    finally:
        os.close(main)
    return PlaybookRun(output.replace("\r\n", "\n"), proc.returncode), questions


def _get(lab, path: str, side: str, params: dict | None = None) -> tuple[int, Any]:
    """A REST read of the lab, tried again when the emulator does not answer in time (a loaded
    machine): reads are safe to repeat."""
    for attempt in range(4):
        try:
            return lab.rest("GET", path, params=params, cluster=side, timeout=60)
        except OSError:  # TimeoutError, URLError, connection reset
            if attempt == 3:
                raise
            time.sleep(2)
    raise AssertionError("unreachable")


def links_on(lab, side: str) -> dict[str, dict]:
    """``{link name: link}`` of one lab cluster (REST)."""
    status, body = _get(lab, f"/kafka/v3/clusters/{lab.cluster_id(side)}/links", side)
    assert status == 200, (status, body)
    return {l["link_name"]: l for l in body["data"]}


def mirrors_on(lab, side: str) -> dict[tuple[str, str], dict]:
    """``{(link, topic): mirror}`` of every mirror held by one lab cluster."""
    status, body = _get(lab, f"/kafka/v3/clusters/{lab.cluster_id(side)}/links/-/mirrors", side)
    assert status == 200, (status, body)
    return {(m["link_name"], m["mirror_topic_name"]): m for m in body["data"]}


def mirror_status(lab, side: str, link: str, topic: str) -> str | None:
    status, body = _get(lab, f"/kafka/v3/clusters/{lab.cluster_id(side)}/links/{link}/mirrors/{topic}", side)
    return body["mirror_status"] if status == 200 else None


def _configs(lab, side: str, link: str) -> dict[str, Any]:
    status, body = _get(lab, f"/kafka/v3/clusters/{lab.cluster_id(side)}/links/{link}/configs", side)
    assert status == 200, (status, body)
    return {e["name"]: e["value"] for e in body["data"] if e.get("source") != "DEFAULT_CONFIG"}


def _acls(lab, side: str) -> list:
    status, body = _get(lab, f"/kafka/v3/clusters/{lab.cluster_id(side)}/acls", side)
    assert status == 200, (status, body)
    keys = ("resource_type", "resource_name", "pattern_type", "principal", "host", "operation", "permission")
    return sorted(tuple(a[k] for k in keys) for a in body["data"])


def lab_snapshot(lab, groups: list[str] = ()) -> dict:
    """Everything a playbook could change, on both clusters (topics starting with _ left out)."""
    snap: dict[str, Any] = {}
    for side in (S, D):
        links = links_on(lab, side)
        snap[f"{side}.links"] = {name: {"state": l.get("link_state"), "configs": _configs(lab, side, name)}
                                 for name, l in links.items()}
        snap[f"{side}.mirrors"] = {f"{k[0]}/{k[1]}": (m["mirror_status"], m["source_topic_name"])
                                   for k, m in mirrors_on(lab, side).items()}
        topics = {t: n for t, n in lab.topics(side).items() if not t.startswith("_")}
        snap[f"{side}.topics"] = topics
        snap[f"{side}.end_offsets"] = {t: lab.end_offsets(side, t) for t in sorted(topics)}
        snap[f"{side}.groups"] = {g: lab.group_offsets(side, g) for g in groups}
        snap[f"{side}.acls"] = _acls(lab, side)
    return snap


def task_lines(output: str, task_prefix: str) -> list[str]:
    """The result lines (``ok: [h]``, ``changed: [h]``, ...) printed under every task whose name
    starts with ``task_prefix`` (the role prefix ``linkops.cluster_linking.x : `` is ignored)."""
    lines: list[str] = []
    current = None
    for line in output.splitlines():
        m = re.match(r"^TASK \[(?:[\w.]+ : )?(.*)\] \**$", line)
        if m:
            current = m.group(1)
            continue
        if current and current.startswith(task_prefix) and re.match(r"^(ok|changed|skipping|failed|fatal): \[", line):
            lines.append(line)
    return lines


def recap(output: str) -> dict[str, dict[str, int]]:
    """``{host: {ok, changed, failed, ...}}`` of the PLAY RECAP."""
    part = output.split("PLAY RECAP", 1)
    assert len(part) == 2, f"no PLAY RECAP in the output:\n{output[-3000:]}"
    hosts = {}
    for line in part[1].splitlines():
        m = re.match(r"^(\S+)\s+: (.*)$", line)
        if m:
            hosts[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return hosts


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


REFUSED = "not confirmed"


def refused_hosts(output: str) -> set[str]:
    """The hosts (links) a confirmation refused: ``<host>: not confirmed (...)`` in the output."""
    flat = " ".join(output.split())
    return {h for h in recap(output) if f"{h}: {REFUSED}" in flat}


@contextmanager
def host_vars_added(inventory: Path, values_by_host: dict[str, dict]):
    """Adds each host's values to its host_vars for the ``with`` block, then puts the files back."""
    paths = {host: Path(inventory) / "host_vars" / f"{host}.yml" for host in values_by_host}
    before = {host: path.read_text() for host, path in paths.items()}
    for host, values in values_by_host.items():
        current = yaml.safe_load(before[host]) or {}
        paths[host].write_text(yaml.safe_dump({**current, **values}, sort_keys=False))
    try:
        yield
    finally:
        for host, text in before.items():
            paths[host].write_text(text)


def links_with_topics(lab, directory: Path, prefix: str, count: int = 3, records: int = 4,
                      group_vars: dict | None = None, **host_vars: Any) -> dict:
    """``count`` links named ``<prefix><i>-<uuid>``, each with a topic ``<link>-t`` of 2 partitions holding
    ``records`` records on the source, and an inventory for them (host vars: ``link_topics`` and
    ``host_vars``). Returns ``{"names", "inventory", "lab"}``."""
    from linkops_it import unique_name  # pylint: disable=import-outside-toplevel

    names = [unique_name(f"{prefix}{i}") for i in range(count)]
    for name in names:
        lab.create_topic(S, f"{name}-t", partitions=2)
        if records:
            lab.produce(S, f"{name}-t", [{"value": str(i), "partition": i % 2} for i in range(records)])
    inventory = write_inventory(Path(directory) / "inventory", lab,
                                {n: {"link_topics": [f"{n}-t"], **host_vars} for n in names}, **(group_vars or {}))
    return {"names": names, "inventory": inventory, "lab": lab}
