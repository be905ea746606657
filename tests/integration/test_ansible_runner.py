"""migrate.yml, failover.yml and teardown.yml run through ``ansible-runner run``, as an Ansible Automation
Platform job template launches them (docs/aap.md), on the session lab.

The private data directory is laid out as AAP lays it out for a job:
- ``project/``: the project as docs/aap.md recommends it: the collection's ``playbooks/`` and the cluster
  secrets in a vault file next to them (``playbooks/group_vars/all/vault.yml``), never in the inventory
  source, so that the inventory import needs no vault password;
- ``requirements_collections/``: the collection (here a link to this checkout), where AAP installs a
  project's ``collections/requirements.yml`` for the job (``env/envvars`` points Ansible at it);
- ``inventory/hosts``: the job's inventory as AAP writes it, a script that prints the imported hosts and
  variables as JSON (no secrets: the cluster entries name the vault's variables);
- ``env/extravars``: the survey's answers (strings) and the ``awx_*`` / ``tower_*`` variables AAP adds;
- ``env/cmdline`` (``--ask-vault-pass``, ``--limit``) and ``env/passwords``: the Vault credential, answered at
  ansible-playbook's prompt as AAP answers it;
- ``env/settings``: an idle timeout, as AAP has one.

Checked: the survey's ``"false"`` ends each job within seconds, refused, with the lab as it was (no link
created, nothing failed over, nothing deleted); ``"true"`` migrates and the verification passes; no
secret (the lab's REST password, the vault password) appears in the runner's artifacts (job events,
stdout, everything under ``artifacts/``).
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time

import pytest
import yaml

from fleet_it import D, S, cluster_dict, lab_snapshot, links_on, mirror_status
from linkops_it import REPO, VENV_BIN, VENV_PYTHON, ansible_env, create_link_via_rest, delete_link, unique_name

# What the job's "false" answer may take at most: ansible start-up and the read-only preflight on a loaded
# machine. A question left waiting would run into the idle timeout (IDLE_TIMEOUT) instead.
FALSE_ENDS_WITHIN = 120
IDLE_TIMEOUT = 300
AAP_VARS = {"awx_job_id": 4711, "tower_job_id": 4711, "awx_job_template_name": "linkops", "awx_user_name": "admin"}


def _inventory_script(hosts: dict, group_vars: dict) -> str:
    data = {"cluster_links": {"hosts": sorted(hosts), "vars": group_vars}, "_meta": {"hostvars": hosts}}
    # ansible runs it with --list (and --host, answered by _meta); it prints the same JSON either way
    return f"#!{VENV_PYTHON}\nprint({json.dumps(data)!r})\n"


@pytest.fixture(scope="module")
def aap(lab, tmp_path_factory):
    """The private data directory, link ``migrate`` (a topic of 6 records on the source, nothing on the
    destination) and link ``standing`` (made through REST, its mirror ACTIVE: what failover and teardown act on)."""
    work = tmp_path_factory.mktemp("aap")
    pdd = work / "private_data_dir"
    names = {"migrate": unique_name("aap-m"), "standing": unique_name("aap-s")}
    for name in names.values():
        lab.create_topic(S, f"{name}-t", partitions=2)
        lab.produce(S, f"{name}-t", [{"value": str(i), "partition": i % 2} for i in range(6)])
    create_link_via_rest(lab, names["standing"])
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{names['standing']}/mirrors",
                            {"source_topic_name": f"{names['standing']}-t"})
    assert status in (201, 204), (status, body)

    vault_password = secrets.token_urlsafe(24)
    # The project: the collection's playbooks (a copy of this repository's playbooks/, as a project that is the
    # collection's repository or a fork of it has them), and the secrets vault next to them.
    project = pdd / "project"
    shutil.copytree(REPO / "playbooks", project / "playbooks", ignore=shutil.ignore_patterns("inventories"))
    # The collection, where AAP installs a project's collections/requirements.yml for the job.
    collections = pdd / "requirements_collections"
    (collections / "ansible_collections" / "linkops").mkdir(parents=True)
    (collections / "ansible_collections" / "linkops" / "cluster_linking").symlink_to(REPO)
    vault = project / "playbooks" / "group_vars" / "all" / "vault.yml"
    vault.parent.mkdir(parents=True)
    vault.write_text(yaml.safe_dump({"vault_lab_rest_password": lab.rest_password}))
    password_file = work / "vault-password"
    password_file.write_text(vault_password)
    password_file.chmod(0o600)
    subprocess.run([str(VENV_BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password_file), str(vault)],
                   check=True, capture_output=True, env=ansible_env())
    password_file.unlink()
    assert lab.rest_password not in vault.read_text()

    clusters = {}
    for side, name in ((S, "lab_source"), (D, "lab_destination")):
        cluster = cluster_dict(lab, side)
        cluster["rest_password"] = "{{ vault_lab_rest_password }}"
        clusters[name] = cluster
    hosts = {name: {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                    "link_topics": [f"{name}-t"]} for name in names.values()}
    group_vars = {"linkops_clusters": clusters, "link_source_cluster": "lab_source",
                  "link_destination_cluster": "lab_destination", "link_files_base_dir": str(work / "jump-files"),
                  "linkops_report_dir": str(work / "reports"), "teardown_force": True}
    (pdd / "inventory").mkdir(parents=True)
    script = pdd / "inventory" / "hosts"
    script.write_text(_inventory_script(hosts, group_vars))
    script.chmod(0o700)
    (pdd / "env").mkdir()
    (pdd / "env" / "passwords").write_text(json.dumps({r"Vault password:\s*?$": vault_password}))
    (pdd / "env" / "settings").write_text(json.dumps({"idle_timeout": IDLE_TIMEOUT, "job_timeout": 900}))
    (pdd / "env" / "envvars").write_text(json.dumps({"ANSIBLE_COLLECTIONS_PATH": str(collections)}))
    env = {k: v for k, v in ansible_env().items() if k != "ANSIBLE_CONFIG"}   # AAP has no ansible.cfg of ours
    yield {"lab": lab, "pdd": pdd, "names": names, "vault_password": vault_password, "env": env, "jobs": {},
           "work": work}
    for name in names.values():   # idle links would load the session lab's emulator
        delete_link(lab, name)


def launch(aap, ident: str, playbook: str, limit: str, survey: dict, aap_vars: bool = True) -> dict:
    """One job: env/extravars (the survey's answers, and AAP's job variables), env/cmdline, then
    ``ansible-runner run``. Returns its status, rc, seconds, stdout and event data."""
    pdd = aap["pdd"]
    (pdd / "env" / "extravars").write_text(json.dumps({**(AAP_VARS if aap_vars else {}), **survey}))
    (pdd / "env" / "cmdline").write_text(f"--ask-vault-pass --limit {limit}")
    started = time.monotonic()
    proc = subprocess.run([str(VENV_BIN / "ansible-runner"), "run", str(pdd), "-p", f"playbooks/{playbook}.yml", "--ident", ident],
                          capture_output=True, text=True, timeout=IDLE_TIMEOUT + 120, check=False, env=aap["env"])
    seconds = time.monotonic() - started
    artifacts = pdd / "artifacts" / ident
    events = [json.loads(p.read_text()) for p in sorted((artifacts / "job_events").glob("*.json"))]
    job = {"status": (artifacts / "status").read_text().strip(), "rc": int((artifacts / "rc").read_text()),
           "seconds": seconds, "stdout": (artifacts / "stdout").read_text(), "events": events,
           "runner_output": proc.stdout + proc.stderr}
    aap["jobs"][ident] = job
    print(f"\n{ident}: {job['status']} in {seconds:.1f} s")   # the figures docs/aap.md quotes (pytest -s)
    return job


def refused_in_seconds(job: dict, variable: str) -> None:
    flat = " ".join(job["stdout"].split())
    assert job["status"] == "failed" and job["rc"] != 0, (job["status"], job["stdout"][-3000:])
    assert job["seconds"] < FALSE_ENDS_WITHIN, (job["seconds"], job["stdout"][-3000:])
    assert "not confirmed" in flat and f"{variable}=true" in flat, job["stdout"][-3000:]
    assert "Nobody can answer a question in this run" in flat
    assert "Type yes to go on" not in job["stdout"]
    failed = [e for e in job["events"] if e.get("event") == "runner_on_failed"]
    assert failed and all("Confirm |" in e["event_data"]["task"] for e in failed), [e["event_data"]["task"] for e in failed]


def test_migrate_survey_false_ends_in_seconds_and_creates_no_link(aap):
    lab, name = aap["lab"], aap["names"]["migrate"]
    before = lab_snapshot(lab)
    job = launch(aap, "migrate-false", "migrate", name, {"migrate_confirm_cutover": "false"})
    refused_in_seconds(job, "migrate_confirm_cutover")
    assert "an AAP job (awx_job_id is set)" in " ".join(job["stdout"].split())
    assert name not in links_on(lab, D)
    assert lab_snapshot(lab) == before


def test_failover_survey_false_ends_in_seconds_and_fails_nothing_over(aap):
    lab, name = aap["lab"], aap["names"]["standing"]
    before = lab_snapshot(lab)
    job = launch(aap, "failover-false", "failover", name, {"failover_confirm": "false"})
    refused_in_seconds(job, "failover_confirm")
    assert mirror_status(lab, D, name, f"{name}-t") == "ACTIVE"
    assert lab_snapshot(lab) == before


def test_teardown_under_plain_ansible_runner_ends_in_seconds_and_deletes_nothing(aap):
    """No awx_* variables: ansible-runner alone (its pseudo-terminal nobody types into) is enough."""
    lab, name = aap["lab"], aap["names"]["standing"]
    before = lab_snapshot(lab)
    job = launch(aap, "teardown-false", "teardown", name, {"teardown_confirm": "false"}, aap_vars=False)
    refused_in_seconds(job, "teardown_confirm")
    assert "run by ansible-runner" in " ".join(job["stdout"].split())
    assert name in links_on(lab, D)
    assert lab_snapshot(lab) == before


def test_migrate_survey_true_proves_the_migration(aap):
    lab, name = aap["lab"], aap["names"]["migrate"]
    job = launch(aap, "migrate-true", "migrate", name, {"migrate_confirm_cutover": "true"})
    assert job["status"] == "successful" and job["rc"] == 0, job["stdout"][-4000:]
    assert mirror_status(lab, D, name, f"{name}-t") == "STOPPED"
    values = sorted(r["value"] for r in lab.consume(D, f"{name}-t"))
    # the six records, and the one the verification's probe wrote
    assert [v for v in values if not v.startswith("linkops-probe-")] == [str(i) for i in range(6)], values
    report = json.loads((aap["work"] / "reports" / name / "report.json").read_text())
    assert report["summary"]["result"] == "PASSED", report["summary"]


def test_no_secret_in_the_runner_artifacts(aap):
    assert len(aap["jobs"]) == 4, "the four jobs of this module run first (run the whole file)"
    secret_values = {aap["lab"].rest_password, aap["vault_password"]}
    scanned = []
    for path in (aap["pdd"] / "artifacts").rglob("*"):
        if path.is_file():
            scanned.append(path.relative_to(aap["pdd"]))
            data = path.read_bytes()
            assert not [s for s in secret_values if s.encode() in data], path
    assert sum(1 for p in scanned if "job_events" in p.parts) > 40, scanned
    assert sum(1 for p in scanned if p.name == "stdout") == 4, scanned
    for job in aap["jobs"].values():
        assert not [s for s in secret_values if s in job["runner_output"]]
