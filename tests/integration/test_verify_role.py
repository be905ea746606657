"""playbooks/verify.yml (role verify) after a real migration in the lab.

The migration: two topics x 3 partitions with records and a consumer group on the source, two ACLs of
an application on the source's REST server; a link (cluster_link module) that syncs the group's
offsets and the application's ACLs, mirrors (mirror_topic), a sync wait during which the test records
lag samples into lag-samples.jsonl as the sync-wait phase does (copying is paused first, so the lag is
real), then the cutover role (promote, cutover.json). Then verify.yml runs with an inventory in the
inventory model (linkops_clusters + link_* host vars) and the report is read back: report.json PASSED
with the expected checks, junit.xml with one test case per check, the HTML with the SVG lag chart
and the cutover mark, opened in headless Chromium. A default run writes nothing into the migrated
topics (their end offsets stay as they were); --check writes nothing at all; after a record is
produced to a destination topic verify.yml fails naming end_offsets:<topic> and the report says FAILED.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from linkops_it import REPO, delete_link, run_ansible_playbook, unique_name, wait_until
from report_browser import Chromium, find_chromium

S, D = "source", "destination"
OUTPUT = REPO / "tests" / "output" / "report-browser"
PARTITIONS = 3


def cluster(lab, side):
    """A lab cluster as a linkops_clusters entry (docs/fleet.md)."""
    return {"cluster_id": lab.cluster_id(side), "bootstrap_servers": lab.bootstrap(side),
            "rest_url": lab.rest_url_of(side), "rest_username": lab.rest_username,
            "rest_password": lab.rest_password, "client_config": dict(lab.client_config)}


def mirror_lags(lab, link):
    status, body = lab.rest("GET", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{link}/mirrors")
    assert status == 200, (status, body)
    return [p.get("lag", 0) for m in body["data"] for p in m.get("mirror_lags", [])]


def sample(lab, link, phase):
    lags = mirror_lags(lab, link)
    return {"time": round(time.time(), 3), "max_lag": max(lags or [0]), "total_lag": sum(lags), "phase": phase}


def acls_on(lab, side, principal):
    status, body = lab.rest("GET", f"/kafka/v3/clusters/{lab.cluster_id(side)}/acls",
                            params={"principal": principal}, cluster=side)
    assert status == 200, (status, body)
    return body["data"]


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def migrated(lab, tmp_path_factory):
    """A finished migration in the lab and an inventory for verify.yml; the link is deleted at the end."""
    tmp = tmp_path_factory.mktemp("verify-role")
    link, group = unique_name("it-verify-link"), unique_name("it-verify-g")
    topics = [unique_name("it-verify-a"), unique_name("it-verify-b")]
    principal = "User:" + unique_name("it-verify-app")
    reports = tmp / "reports"
    report_dir = reports / link
    report_dir.mkdir(parents=True)

    for topic in topics:
        lab.create_topic(S, topic, partitions=PARTITIONS)
        lab.produce(S, topic, [{"value": f"{topic}-{i}", "partition": i % PARTITIONS} for i in range(30)])
        lab.consume(S, topic, group=group, commit=True)
    status, body = lab.rest("POST", f"/kafka/v3/clusters/{lab.source_cluster_id}/acls:batch", {"data": [
        {"resource_type": "TOPIC", "resource_name": topics[0], "pattern_type": "LITERAL", "principal": principal,
         "host": "*", "operation": "READ", "permission": "ALLOW"},
        {"resource_type": "GROUP", "resource_name": group, "pattern_type": "LITERAL", "principal": principal,
         "host": "*", "operation": "READ", "permission": "ALLOW"}]}, cluster=S)
    assert status == 201, (status, body)

    acl_filters = [{"resource_type": "any", "pattern_type": "any", "principal": principal, "operation": "any",
                    "permission_type": "any"}]
    host_vars = {
        "ansible_connection": "local",
        "link_topics": topics,
        "link_consumer_groups": [group],
        "link_consumer_group_filters": [{"name": group}],
        "link_acl_filters": acl_filters,
        "link_configs": {"consumer.offset.sync.enable": True, "consumer.offset.sync.ms": 1000,
                         "acl.sync.ms": 1000},
    }
    inventory = tmp / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"cluster_links": {
        "hosts": {link: host_vars},
        "vars": {"linkops_clusters": {"onprem": cluster(lab, S), "cloud": cluster(lab, D)},
                 "link_source_cluster": "onprem", "link_destination_cluster": "cloud",
                 "linkops_report_dir": str(reports),
                 # the lab brokers have no authorizer: their ACLs are kept by the REST servers
                 "verify_acl_source": "rest"}}}))
    inventory.chmod(0o600)

    setup = tmp / "setup.yml"
    setup.write_text(yaml.safe_dump([{
        "name": "Link and mirrors", "hosts": "cluster_links", "gather_facts": False,
        "module_defaults": {"group/linkops.cluster_linking.cluster_linking":
                            "{{ linkops_clusters.cloud | linkops.cluster_linking.connection_options }}"},
        "tasks": [
            {"name": "link", "linkops.cluster_linking.cluster_link": {
                "name": "{{ inventory_hostname }}",
                "source_cluster_id": "{{ linkops_clusters.onprem.cluster_id }}",
                "source_bootstrap_servers": "{{ linkops_clusters.onprem.bootstrap_servers }}",
                "consumer_group_filters": "{{ link_consumer_group_filters }}",
                "acl_filters": "{{ link_acl_filters }}", "configs": "{{ link_configs }}"}},
            {"name": "mirrors", "linkops.cluster_linking.mirror_topic": {
                "link_name": "{{ inventory_hostname }}", "topics": "{{ link_topics }}", "state": "present"}},
        ]}]))
    cutover = tmp / "cutover.yml"
    cutover.write_text(yaml.safe_dump([{
        "name": "Cutover", "hosts": "cluster_links", "gather_facts": False,
        "tasks": [{"name": "cutover", "ansible.builtin.include_role": {"name": "linkops.cluster_linking.cutover"},
                   "vars": {"cutover_destination": "{{ linkops_clusters.cloud }}", "cutover_topics": "{{ link_topics }}",
                            "cutover_report_dir": str(report_dir)}}]}]))

    samples = []
    lab.knobs(copy_paused=True)
    try:
        run = run_ansible_playbook(["-i", str(inventory), str(setup)], lab.workdir)
        assert run.rc == 0, run.output
        wait_until(lambda: len(mirror_lags(lab, link)) == 2 * PARTITIONS, 30, "the mirrors' partitions")
        while len(samples) < 3:
            samples.append(sample(lab, link, "sync_wait"))
            time.sleep(0.5)
    finally:
        lab.knobs(copy_paused=False)

    def caught_up():
        samples.append(sample(lab, link, "sync_wait"))
        return samples[-1]["max_lag"] == 0
    wait_until(caught_up, 60, "lag 0 on every mirror partition", interval=0.5)
    wait_until(lambda: all(lab.group_offsets(D, group).get(t) == lab.group_offsets(S, group).get(t) for t in topics),
               60, "the link to sync the group's offsets")
    wait_until(lambda: len(acls_on(lab, D, principal)) == 2, 30, "the link to sync the 2 ACLs")

    run = run_ansible_playbook(["-i", str(inventory), str(cutover)], lab.workdir)
    assert run.rc == 0, run.output
    samples.append(sample(lab, link, "cutover"))
    (report_dir / "lag-samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    ends = {t: lab.end_offsets(D, t) for t in topics}

    yield {"lab": lab, "link": link, "group": group, "topics": topics, "principal": principal,
           "inventory": inventory, "report_dir": report_dir, "samples": samples, "ends_before_verify": ends}
    delete_link(lab, link)


def verify(migrated, *extra):
    return run_ansible_playbook(["-i", str(migrated["inventory"]), "playbooks/verify.yml", *extra],
                                migrated["lab"].workdir)


def expected_checks(m):
    names = []
    for topic in m["topics"]:
        names += [f"topic_exists:{topic}", f"partitions:{topic}", f"end_offsets:{topic}"]
    names += [f"group_offsets:{m['group']}", f"acls:{m['principal']}"]
    names += [f"writable:{topic}" for topic in m["topics"]]  # proven without writing; no probe by default
    return names


@pytest.fixture(scope="module")
def first_run(migrated):
    # -vvv: the run whose output the secrets test reads
    run = verify(migrated, "-vvv")
    # what the migrated topics hold right after it (later tests write to them on purpose)
    migrated["ends_after_first_verify"] = {t: migrated["lab"].end_offsets(D, t) for t in migrated["topics"]}
    return run


def test_verify_passes_and_prints_where_the_report_is(migrated, first_run):
    assert first_run.rc == 0, first_run.output
    assert first_run.recap()["failed"] == 0
    html = migrated["report_dir"] / "report.html"
    assert f"{migrated['link']}: PASSED ({len(expected_checks(migrated))} checks, 0 failed). Report: {html}" \
        in " ".join(first_run.output.split()), first_run.output


def test_report_json_says_passed_with_every_check(migrated, first_run):
    assert first_run.rc == 0, first_run.output
    report = json.loads((migrated["report_dir"] / "report.json").read_text())
    assert report["title"] == migrated["link"]
    assert report["summary"]["result"] == "PASSED"
    assert [c["name"] for c in report["checks"]] == expected_checks(migrated)
    assert all(c["ok"] and not c["skipped"] for c in report["checks"]), report["checks"]
    rows = {c["name"]: c for c in report["checks"]}
    assert rows[f"acls:{migrated['principal']}"]["detail"] == "2 ACLs present on the destination"
    assert rows[f"end_offsets:{migrated['topics'][0]}"]["detail"].startswith(
        f"end offsets equal on {PARTITIONS} partitions")
    # details from the verification, cutover rows from cutover.json, samples from lag-samples.jsonl
    assert report["details"]["topics"][migrated["topics"][0]]["partitions"] == {"source": 3, "destination": 3}
    assert report["details"]["acls"]["source_selected"] == 2
    assert sorted(r["topic"] for r in report["cutover"]) == sorted(migrated["topics"])
    assert all(r["action"] == "promoted" for r in report["cutover"])
    assert report["lag_samples"] == migrated["samples"]
    assert report["summary"]["max_lag_seen"] > 0  # copying was paused: the chart shows real lag


def test_junit_has_one_passing_test_case_per_check(migrated, first_run):
    assert first_run.rc == 0, first_run.output
    root = ET.parse(migrated["report_dir"] / "junit.xml").getroot()
    suite = root.find("testsuite")
    assert suite.get("name") == migrated["link"]
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == expected_checks(migrated)
    assert all(len(c) == 0 for c in cases)  # no <failure> or <skipped>
    assert (suite.get("tests"), suite.get("failures")) == (str(len(cases)), "0")


def test_html_is_self_contained_with_the_lag_chart(migrated, first_run):
    assert first_run.rc == 0, first_run.output
    html = (migrated["report_dir"] / "report.html").read_text()
    assert "<svg" in html and "<polyline" in html and ">cutover</text>" in html
    assert "PASSED" in html
    # no asset from anywhere (the REST endpoint is printed in the header as text, not fetched)
    for external in ("<script", "<link ", "<img", 'src="', 'href="', "url("):
        assert external not in html
    assert (migrated["report_dir"] / "report.md").read_text().startswith(f"# Migration report: {migrated['link']}")


def test_secrets_stay_out_of_the_output_and_the_report(migrated, first_run):
    password = migrated["lab"].rest_password
    assert len(password) >= 8
    assert password not in first_run.output
    for path in migrated["report_dir"].iterdir():
        assert password not in path.read_text(), path


def test_check_mode_writes_nothing_and_probes_nothing(migrated, first_run):
    assert first_run.rc == 0, first_run.output
    lab = migrated["lab"]
    before = snapshot(migrated["report_dir"])
    ends = {t: lab.end_offsets(D, t) for t in migrated["topics"]}
    run = verify(migrated, "--check")
    assert run.rc == 0, run.output
    assert "Report (not written under --check)" in " ".join(run.output.split()), run.output
    assert snapshot(migrated["report_dir"]) == before
    assert {t: lab.end_offsets(D, t) for t in migrated["topics"]} == ends


def test_a_record_written_to_the_destination_fails_naming_the_check(migrated, first_run):
    assert first_run.rc == 0, first_run.output
    lab, topic = migrated["lab"], migrated["topics"][1]
    lab.produce(D, topic, [{"value": "written on the destination only", "partition": 1}])
    run = verify(migrated)
    assert run.rc != 0, run.output
    assert run.recap()["failed"] == 1
    flat = " ".join(run.output.split())
    html = migrated["report_dir"] / "report.html"
    assert (f"Migration verification of {migrated['link']} failed: 1 of {len(expected_checks(migrated))} checks "
            f"failed: end_offsets:{topic}. See {html}.") in flat, run.output
    report = json.loads((migrated["report_dir"] / "report.json").read_text())
    assert report["summary"]["result"] == "FAILED"
    assert report["summary"]["failed_checks"] == [f"end_offsets:{topic}"]
    failures = [c.get("name") for c in ET.parse(migrated["report_dir"] / "junit.xml").getroot().iter("testcase")
                if c.find("failure") is not None]
    assert failures == [f"end_offsets:{topic}"]
    assert "FAILED" in html.read_text()


def test_a_default_run_leaves_every_migrated_topic_untouched(migrated, first_run):
    """verify.yml as the inventory leaves it (verify_probe false) writes nothing into the migrated topics."""
    assert first_run.rc == 0, first_run.output
    assert migrated["ends_after_first_verify"] == migrated["ends_before_verify"]
    report = json.loads((migrated["report_dir"] / "report.json").read_text())
    assert report["details"]["probe"] == {}
    rows = {c["name"]: c for c in report["checks"]}
    assert rows[f"writable:{migrated['topics'][0]}"]["detail"] == (
        f"mirror of link {migrated['link']} is STOPPED (promoted or failed over); nothing was written")


def test_the_report_opens_in_chromium_with_the_real_lag_series(migrated, first_run):
    assert first_run.rc == 0, first_run.output
    if not find_chromium():
        pytest.skip("chromium is not installed (make test installs it)")
    lab = migrated["lab"]
    browser = Chromium()
    try:
        page = browser.open((migrated["report_dir"] / "report.html").as_uri())
        OUTPUT.mkdir(parents=True, exist_ok=True)
        browser.screenshot(str(OUTPUT / "verify-role-report.png"))
        assert page.problems == []
        # every sample and the cutover point, on distinct ticks
        assert browser.evaluate("document.querySelectorAll('svg circle').length") == len(migrated["samples"]) + 1
        for kind in ("ytick", "xtick"):
            ticks = browser.evaluate("Array.from(document.querySelectorAll('svg .%s text')).map(t => t.textContent)"
                                     % kind)
            assert len(ticks) >= 2 and len(set(ticks)) == len(ticks), (kind, ticks)
        text = browser.evaluate("document.body.innerText")
        assert lab.source_cluster_id in text and lab.destination_cluster_id in text
        ends = migrated["ends_before_verify"][migrated["topics"][0]]
        assert format(max(ends.values()), ",") in text
    finally:
        browser.close()
