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

import json
import re
import time
from pathlib import Path
from typing import Any

import yaml

from linkops_it import PlaybookRun, run_ansible_playbook

S, D = "source", "destination"


def cluster_dict(lab, side: str) -> dict:
    """A lab cluster as a linkops_clusters entry."""
    return {"cluster_id": lab.cluster_id(side), "bootstrap_servers": lab.bootstrap(side),
            "rest_url": lab.rest_url_of(side), "rest_username": lab.rest_username,
            "rest_password": lab.rest_password, "client_config": dict(lab.client_config)}


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
