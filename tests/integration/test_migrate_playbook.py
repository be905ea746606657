"""tests/lab/demo.yml (what ``make demo`` runs: the guide's data, playbooks/migrate.yml with the lab
inventory, the proof) on a fresh lab of real Apache Kafka brokers of its own: SASL_SSL (PLAIN) with the
lab CA, the StandardAuthorizer, HTTPS REST, distinct cluster ids.

The playbook uses fixed names (test-topic, test-group, test-cluster-link), so it
gets its own lab. The ``migration`` fixture (conftest.py) runs the sequence a
user would: ``--check --diff`` first, then for real, then a second time; the
tests look at what each run printed and at the lab afterwards. Skipped, with the
reason, where Java 17+ or the Kafka jars (Maven or the cache) are missing.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from linkops_it import VENV_BIN, get_link, link_names
from report_browser import Chromium, find_chromium

LINK, TOPIC, GROUP = "test-cluster-link", "test-topic", "test-group"
LINK_TASK = "linkops.cluster_linking.cluster_link : Cluster link | the link, its filters and configs"
MIRRORS_TASK = "linkops.cluster_linking.cluster_link : Cluster link | every mirror topic in one task"
CUTOVER_TASK = ("linkops.cluster_linking.cutover : Cutover | promote or fail over the mirror topics in batches, "
                "wait until STOPPED (promote)")


def test_check_run_creates_nothing(migration):
    state = migration["after_check"]
    assert LINK not in state["links"], migration["check"].output
    assert TOPIC not in state["destination_topics"]
    assert TOPIC not in state["source_topics"], "check mode seeded the lab data"
    assert "Traceback" not in migration["check"].output
    # it still showed what the link would be
    assert f"+    link_name: {LINK}" in migration["check"].output


def test_check_run_completes(migration):
    check = migration["check"]
    assert check.rc == 0, check.output
    assert check.recap()["failed"] == 0
    # it predicts the mirror the real run creates
    assert check.task_status()[MIRRORS_TASK] == "changed", check.output


def test_first_run_migrates_and_proves(migration):
    first = migration["first"]
    assert first.rc == 0, first.output
    assert first.recap()["failed"] == 0
    assert "PROVED: on the destination, test-topic holds records 1..5 at offsets 0..4" in first.output
    assert "Traceback" not in first.output
    status = first.task_status()
    assert status[LINK_TASK] == "changed"
    assert status[CUTOVER_TASK] == "changed"


def test_the_link_reaches_the_source_over_sasl_ssl(migration):
    lab = migration["lab"]
    assert lab.kind == "apache-kafka"
    # as the inventory's cluster settings say
    status, link = get_link(lab, LINK)
    assert status == 200, link
    configs = lab.rest("GET", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{LINK}/configs")[1]
    values = {c["name"]: c["value"] for c in configs["data"]}
    assert values["security.protocol"] == "SASL_SSL" and values["sasl.mechanism"] == "PLAIN"
    assert values["sasl.jaas.config"] is None            # sensitive: never shown


def test_no_password_in_the_output(migration):
    info = migration["lab"].info
    secrets = {info["rest_password"], info["source_client_config"]["sasl.password"],
               info["destination_client_config"]["sasl.password"],
               info["source_link_credentials"]["password"]}
    for run in ("check", "first", "second"):
        leaked = [s for s in secrets if s in migration[run].output]
        assert not leaked, f"a password appears in the output of the {run} run"


def test_second_run_changes_nothing(migration):
    second = migration["second"]
    assert second.rc == 0, second.output
    status = second.task_status()
    for task in (LINK_TASK, MIRRORS_TASK, CUTOVER_TASK):
        assert status[task] == "ok", f"{task}: {status[task]}\n{second.output}"
    assert second.recap()["changed"] == 0, second.output
    assert "PROVED:" in second.output


def test_destination_holds_the_migrated_data(migration):
    lab = migration["lab"]
    records = sorted((r for r in lab.consume("destination", TOPIC) if r["partition"] == 0),
                     key=lambda r: r["offset"])
    assert [(r["offset"], r["value"]) for r in records[:5]] == [(0, "1"), (1, "2"), (2, "3"), (3, "4"), (4, "5")]
    # the lab inventory's probe wrote into its own topic, not into the migrated one
    assert len(records) == 5
    assert lab.group_offsets("destination", GROUP).get(TOPIC) == {0: 5}
    assert LINK in link_names(lab)


def test_files_on_the_jump_host_are_private(migration):
    files = migration["lab"].workdir / "files" / LINK
    names = sorted(p.name for p in files.iterdir())
    assert names == ["acl-filters.json", "consumer-group-filters.json", "destination.properties", "source.properties",
                     "topic-filters.json"]
    for path in files.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path
    properties = (files / "source.properties").read_text()
    assert "bootstrap.servers=" in properties and "security.protocol=SASL_SSL" in properties


def test_the_jump_host_files_work_with_the_apache_kafka_tools(migration):
    """What link_files wrote is what an operator then passes to the tools: Apache Kafka's own kafka-topics
    (the Java admin client) reaches each cluster over SASL_SSL with it and lists the migrated topic."""
    lab = migration["lab"]
    files = lab.workdir / "files" / LINK
    for side in ("source", "destination"):
        proc = subprocess.run([str(VENV_BIN / "kafka-topics"), "--bootstrap-server", lab.bootstrap(side),
                               "--command-config", str(files / f"{side}.properties"), "--list"],
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert TOPIC in proc.stdout.split(), (side, proc.stdout)


def test_cutover_records_lag_and_time(migration):
    report = json.loads((migration["lab"].workdir / "reports" / LINK / "cutover.json").read_text())
    assert report["mode"] == "promote"
    assert [(t["topic"], t["action"], t["max_lag"]) for t in report["topics"]] == [(TOPIC, "promoted", 0)]


def test_report_has_lag_samples_and_passed(migration):
    reports = migration["lab"].workdir / "reports" / LINK
    samples = [json.loads(line) for line in (reports / "lag-samples.jsonl").read_text().splitlines()]
    assert samples and all(s["phase"] == "sync_wait" for s in samples)
    assert samples[-1]["max_lag"] == 0 and samples[-1]["status_counts"] == {"ACTIVE": 1}
    report = json.loads((reports / "report.json").read_text())
    assert report["summary"]["result"] == "PASSED", report["summary"]
    assert report["lag_samples"] == samples and report["cutover"][0]["topic"] == TOPIC
    assert "<svg" in (reports / "report.html").read_text()
    assert f"Report: {reports / 'report.html'}" in " ".join(migration["first"].output.split())


OUTPUT = Path(__file__).resolve().parents[1] / "output" / "report-browser"


def test_report_carries_the_evidence_and_opens_in_chromium(migration):
    """The demo's report: header, offsets, group offsets, the seed's ACL, and a clean page in a real browser."""
    lab = migration["lab"]
    reports = lab.workdir / "reports" / LINK
    report = json.loads((reports / "report.json").read_text())
    header = dict((row["field"], row["value"]) for row in report["evidence"]["header"])
    assert header["Link"] == LINK and header["Link id"] and header["Mode"] == "DESTINATION"
    assert header["Source cluster id"] == lab.source_cluster_id
    assert header["Destination cluster id"] == lab.destination_cluster_id
    assert header["Source bootstrap"] == lab.source_bootstrap and header["Inventory host"] == LINK
    assert header["Collection version"] and header["Run by"]
    assert [p["phase"] for p in report["evidence"]["phases"]][-1] == "verify"
    topic = report["evidence"]["topics"][0]
    assert topic["records_copied"] == 5 and topic["partitions"][0]["source_end_offset"] == 5
    assert any(a["principal"] == "User:test-user" and a["destination"] for a in report["evidence"]["acls"])
    assert report["details"]["probe"] == {"linkops-probe": {"partition": 0, "offset": report["details"]["probe"][
        "linkops-probe"]["offset"], "consumed": True, "dedicated": True}}
    assert lab.rest_password not in (reports / "report.html").read_text()
    if not find_chromium():
        pytest.skip("chromium is not installed (make test installs it)")
    browser = Chromium()
    try:
        page = browser.open((reports / "report.html").as_uri())
        OUTPUT.mkdir(parents=True, exist_ok=True)
        browser.screenshot(str(OUTPUT / "demo-report.png"))
        assert page.problems == []
        text = browser.evaluate("document.body.innerText")
        assert lab.destination_cluster_id in text and "User:test-user" in text and "test-topic" in text
        ticks = browser.evaluate("Array.from(document.querySelectorAll('svg .ytick text')).map(t => t.textContent)")
        assert len(set(ticks)) == len(ticks)
    finally:
        browser.close()
