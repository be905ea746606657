"""migrate.yml run as it runs in production: each link's ``ansible_host`` is a jump host reached over SSH
(``ansible_connection: ssh``), here the lab's real one (tests/lab/linkops_lab/jump_host.py: Debian's sshd
on a 127.0.0.1 port, the non-root user linkops-jump, key login, Python with confluent-kafka and the CP
tools on its PATH). Two links in one run, one with ``link_api: cli`` and one with ``rest``.

What a user checks afterwards: both migrations proved (mirrors promoted, the verification passed); the
client properties and filter files are on the jump host, owned by its user, mode 0600; the CLI backend
ran the CP tools there, as that user (the jump host's log of tool runs), and the REST backend ran none;
the reports came back to the controller; the controller's disk (the report directory, Ansible's local
temporary directory) holds no cluster secret.
"""

from __future__ import annotations

import json
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from fleet_it import D, S, cluster_dict, mirror_status, recap
from linkops_it import REPO, VENV_BIN, ansible_env, delete_link, unique_name
from linkops_lab import jump_host


@pytest.fixture(scope="module")
def jump(lab):
    try:
        jump_host.find_sshd()
    except jump_host.LabError as exc:
        pytest.fail(f"{exc} (CI installs it: make jump-host-deps)")
    # the CLI backend also runs kafka-topics, which the lab's CP tools do not include: the tests' stand-in
    started = jump_host.start(lab.workdir, extra_tools={"kafka-topics": Path(__file__).parent / "lab_kafka_topics.py"},
                               die_with_parent=True)
    yield started
    jump_host.stop(lab.workdir)


@pytest.fixture(scope="module")
def migrated(lab, jump, tmp_path_factory):
    """One migrate.yml run over SSH: a cli link and a rest link, each with one topic of 6 records and a
    consumer group filter (so that a filter file is written too)."""
    work = tmp_path_factory.mktemp("jump-ssh")
    links = {api: unique_name(f"ssh-{api}") for api in ("cli", "rest")}
    hosts = {}
    for api, name in links.items():
        lab.create_topic(S, f"{name}-t", partitions=2)
        lab.produce(S, f"{name}-t", [{"value": str(i), "partition": i % 2} for i in range(6)])
        hosts[name] = {**jump.ansible_vars(), "link_api": api, "link_topics": [f"{name}-t"],
                       "link_consumer_group_filters": [{"name": f"{name}-g"}]}
    inventory = work / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"cluster_links": {"hosts": hosts}}, sort_keys=False))
    group_vars = inventory / "group_vars" / "cluster_links.yml"
    group_vars.write_text(yaml.safe_dump({
        "linkops_clusters": {"lab_source": cluster_dict(lab, S), "lab_destination": cluster_dict(lab, D)},
        "link_source_cluster": "lab_source", "link_destination_cluster": "lab_destination",
        # the files go to the default place on the jump host (~/linkops/<link>); the reports to the controller
        "linkops_report_dir": str(work / "reports"),
        "migrate_confirm_cutover": True,
    }, sort_keys=False))
    group_vars.chmod(0o600)
    local_tmp = work / "ansible-local-tmp"
    # No -e ansible_python_interpreter: the jump host's own Python (its inventory variable) runs the modules.
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/migrate.yml"],
                          cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900, check=False,
                          env=ansible_env(LINKOPS_LAB_DIR=str(lab.workdir), ANSIBLE_LOCAL_TEMP=str(local_tmp)))
    yield {"links": links, "output": proc.stdout + proc.stderr, "rc": proc.returncode, "work": work,
           "local_tmp": local_tmp}
    for name in links.values():   # the client properties hold the lab's password: not left on the jump host
        shutil.rmtree(Path(jump.info["home"]) / "linkops" / name, ignore_errors=True)
        delete_link(lab, name)


def test_both_migrations_over_ssh_are_proved(lab, migrated):
    assert migrated["rc"] == 0, migrated["output"]
    hosts = recap(migrated["output"])
    for name in migrated["links"].values():
        assert hosts[name]["failed"] == 0 and hosts[name]["unreachable"] == 0, migrated["output"]
        assert mirror_status(lab, D, name, f"{name}-t") == "STOPPED"
        values = sorted(r["value"] for r in lab.consume(D, f"{name}-t"))
        # the six records, and the one the verification's probe wrote
        assert [v for v in values if not v.startswith("linkops-probe-")] == [str(i) for i in range(6)], values


def test_files_are_on_the_jump_host_owned_by_its_user_mode_0600(jump, migrated):
    assert migrated["rc"] == 0, migrated["output"]
    user = pwd.getpwnam(jump.user)
    for name in migrated["links"].values():
        files_dir = Path(user.pw_dir) / "linkops" / name
        found = sorted(p.name for p in files_dir.iterdir())
        assert {"source.properties", "destination.properties"} <= set(found), found
        assert any(f.endswith(".json") for f in found), found   # the consumer group filter
        for path in [files_dir, *files_dir.iterdir()]:
            st = path.stat()
            assert (st.st_uid, st.st_gid) == (user.pw_uid, user.pw_gid), path
            assert stat.S_IMODE(st.st_mode) == (0o700 if path.is_dir() else 0o600), (path, oct(st.st_mode))


def test_the_cli_backend_ran_the_cp_tools_on_the_jump_host_as_its_user(jump, migrated):
    assert migrated["rc"] == 0, migrated["output"]
    log = (jump.lab_dir / jump_host.CPTOOLS_LOG).read_text().splitlines()
    cli, rest = migrated["links"]["cli"], migrated["links"]["rest"]
    # each line: time, user, tool, arguments; the link's files (--command-config) carry its name
    ran = [dict(zip(("user", "tool", "args"), line.split(" ", 3)[1:])) for line in log if cli in line]
    assert ran, log
    assert {r["user"] for r in ran} == {jump.user}
    assert {"kafka-cluster-links", "kafka-mirrors"} <= {r["tool"] for r in ran}, ran
    files_dir = str(Path(pwd.getpwnam(jump.user).pw_dir) / "linkops" / cli)
    assert any(r["tool"] == "kafka-cluster-links" and "--create" in r["args"] and f"{files_dir}/" in r["args"]
               for r in ran), ran
    assert not [line for line in log if rest in line], log


def test_reports_came_back_to_the_controller(migrated):
    assert migrated["rc"] == 0, migrated["output"]
    for name in migrated["links"].values():
        reports = migrated["work"] / "reports" / name
        report = json.loads((reports / "report.json").read_text())
        assert report["summary"]["result"] == "PASSED", report["summary"]
        assert (reports / "cutover.json").is_file() and (reports / "junit.xml").is_file()


def test_the_controller_holds_no_cluster_secret(lab, jump, migrated):
    assert migrated["rc"] == 0, migrated["output"]
    secrets = {lab.rest_password} | {str(v) for k, v in lab.client_config.items() if "password" in k or "jaas" in k}
    scanned = 0
    for top in (migrated["work"] / "reports", migrated["local_tmp"]):
        for path in top.rglob("*"):
            if path.is_file():
                scanned += 1
                data = path.read_bytes()
                assert not [s for s in secrets if s.encode() in data], path
    assert scanned >= 4   # the reports at least
    assert not [s for s in secrets if s in migrated["output"]]
    # nothing of the run (module arguments hold secrets) is left in the jump user's temporary directory either
    assert not list((Path(jump.info["home"]) / ".ansible" / "tmp").glob("ansible-tmp-*"))
