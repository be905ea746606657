"""Bad input: a one-line error naming the option or endpoint, no traceback, nothing changed."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import re
import socket
import subprocess
import traceback
from unittest import mock

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from linkops_it import (REPO, VENV_BIN, VENV_PYTHON, ansible_env, cli_connection, cli_env, connection,
                        create_link_via_rest, delete_link, get_link, link_configs, link_names, run_ansible_module)


def assert_clean_failure(run, *named):
    assert run.rc != 0, run.output
    assert run.result.get("_status") == "FAILED!", run.output
    assert run.msg and "\n" not in run.msg.strip(), f"not a one-line message: {run.msg!r}"
    # what the user reads first: the whole message on the one [ERROR] line
    assert any(line.startswith("[ERROR]") and line.endswith(run.msg.strip())
               for line in run.output.splitlines()), run.output
    for text in named:
        assert text in run.msg, f"{text!r} not named in: {run.msg}"
    assert "Traceback" not in run.output, run.output
    assert "MODULE FAILURE" not in run.output, run.output


def new_link(lab, name, **extra):
    args = {"name": name, "source_cluster_id": lab.source_cluster_id,
            "source_bootstrap_servers": lab.source_bootstrap}
    args.update(extra)
    return args


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unknown_link_config_is_refused_by_the_server(lab, run_module, link_name):
    run = run_module("cluster_link", new_link(lab, link_name, configs={"no.such.link.config": "1"}))
    assert_clean_failure(run, "no.such.link.config", link_name)
    assert get_link(lab, link_name)[0] == 404
    assert link_name not in link_names(lab)


def test_topic_filter_with_unknown_pattern_type(lab, run_module, link_name):
    run = run_module("cluster_link", new_link(lab, link_name, topic_filters=[
        {"name": "orders.", "pattern_type": "PREFIXED"}, {"name": "x", "pattern_type": "FUZZY"}]))
    # the second entry is the bad one
    assert_clean_failure(run, "topic_filters[1].pattern_type", "FUZZY")
    assert get_link(lab, link_name)[0] == 404

    run = run_module("cluster_link", new_link(lab, link_name, topic_filters=[
        {"name": "x", "pattern_type": "FUZZY"}]))
    assert_clean_failure(run, "topic_filters[0].pattern_type", "FUZZY")
    assert get_link(lab, link_name)[0] == 404


def test_mirror_topic_name_kafka_would_refuse(lab, run_module, link_name):
    create_link_via_rest(lab, link_name)
    run = run_module("mirror_topic", {"link_name": link_name, "topics": ["bad topic!"]})
    assert_clean_failure(run, "topics[0]", "bad topic!")
    assert run.result.get("rest_requests") == 0, "a request was sent for an invalid topic name"
    assert get_link(lab, link_name)[1]["topic_names"] == []
    assert "bad topic!" not in lab.topics("destination")


def test_unreachable_rest_url_names_the_endpoint(lab, link_name):
    url = f"http://127.0.0.1:{closed_port()}/kafka"
    args = new_link(lab, link_name, rest_url=url, rest_username=lab.rest_username,
                    rest_password=lab.rest_password, cluster_id=lab.destination_cluster_id,
                    request_retries=0)
    run = run_ansible_module(lab, "cluster_link", args, connect=False)
    assert_clean_failure(run, url, "rest_url")
    assert get_link(lab, link_name)[0] == 404


def test_wrong_rest_password(lab, run_module, link_name):
    run = run_module("cluster_link", new_link(lab, link_name, rest_password="not-the-password"))
    assert_clean_failure(run, "401", "rest_username", "rest_password")
    assert "not-the-password" not in run.output
    assert get_link(lab, link_name)[0] == 404


def test_offset_sync_without_group_filters_fails_naming_the_task(lab, run_module, link_name):
    """Confluent accepts the link but its ConsumerOffsetSync task is IN_ERROR: say so, don't report ok."""
    run = run_module("cluster_link", new_link(lab, link_name, configs={"consumer.offset.sync.enable": True}))
    assert_clean_failure(run, link_name, "ConsumerOffsetSync", "MISCONFIGURATION_ERROR", "IN_ERROR")
    assert run.result.get("changed") is True
    assert get_link(lab, link_name)[0] == 200, "the link was created (and the task says so)"


def test_migration_verify_never_shows_a_client_secret(lab, run_module, unique):
    """A password in the Kafka client settings stays hidden, even at -vvv and when checks fail."""
    canary = unique("CANARY")
    config = dict(lab.client_config, **{"sasl.password": canary, "sasl.username": "probe"})
    run = run_module("migration_verify", {
        "source_bootstrap_servers": lab.source_bootstrap, "source_client_config": config,
        "destination_bootstrap_servers": lab.destination_bootstrap, "destination_client_config": config,
        "topics": [unique("it-absent")], "timeout": 10,
    }, verbose=3, connect=False)
    assert run.rc != 0, run.output
    assert "topic_exists:" in run.output
    assert canary not in run.output
    assert "Traceback" not in run.output


# ================================================================ the bad-input table (issue 16)
#
# Each case: (module, args, what the message must name), against one lab whose state is read before and
# after; each case asserts: the task failed, the one-line message names the option, no traceback, nothing
# changed. Two runs of the table:
# * every case, with the module's own main() in this process (ansible.module_utils.testing.patch_module_args,
#   the way ansible-core's unit tests run modules): the same module code ansible runs, in milliseconds a case;
# * one case per (module, backend, option) through ansible-playbook (a loop per module, ignore_errors,
#   results registered; connection options from module_defaults or the case): the user's path, with the
#   action plugins, module_defaults, AnsiballZ and the callback's one [ERROR] line.
# The playbook run used to hold all ~350 cases: 6-12 minutes of the suite, nearly all of it ansible's cost
# of starting a module, the same for every case.

EXISTING = "it-bad-input-existing"   # a link made before the run, so "apply to an existing link" is covered
BAD_LINK_NAMES = [".", "..", "--help", "-x", "", "a/b", "a b", "x" * 250, "l\u00e9", "a?b", "a#b", "%2e%2e",
                  "{'a': 1}", "a\nb"]
BAD_BOOTSTRAPS = ["not a host", "host:notaport", "", "h", "h:0", "h:70000", "a:1,,b:2", "http://h:9092",
                  "$(id):9092", "h:1;id", "h:1 h2:2"]
BAD_TOPIC_FILTER_NAMES = ["a\nb", '"x"', "$(id)", "orders*", "a b", "..", "x" * 250, "`id`", "a'b", "o\u00e9",
                          "a,b"]
BAD_GROUP_FILTER_NAMES = ["g\nx", '"g"', "$(id)", "g*", "g 1", "g;id", "g'1", "g\\x"]
BAD_TOPICS = ["bad topic!", "..", "a/b", "x" * 250, "$(id)"]
BAD_STATUSES = ["RUNNING", "active; drop", "", "STOPPED\n"]
BAD_CONNECTION = [  # (args, option named)
    ({"request_timeout": -1}, "request_timeout"), ({"request_timeout": 0}, "request_timeout"),
    ({"rest_url": "not a url"}, "rest_url"), ({"rest_url": "ftp://h:8090"}, "rest_url"),
    ({"rest_url": "http://h:99999/kafka"}, "rest_url"), ({"rest_url": "localhost:8090"}, "rest_url"),
    ({"rest_url": "http://h:8090/kafka?x=1"}, "rest_url"), ({"cluster_id": "../x"}, "cluster_id"),
    ({"ca_path": "/nonexistent/ca.pem"}, "ca_path"),
    ({"client_cert": "/nonexistent/c.pem", "client_key": "/etc/hostname"}, "client_cert"),
    ({"client_cert": "/etc/hostname", "client_key": "/nonexistent/k.pem"}, "client_key"),
    ({"ca_path": "/etc"}, "ca_path"),
]
REPORT_DEST_MARK = "bad-input-report"


def _link_args(name, **extra):
    args = {"name": name, "source_cluster_id": "SRC_ID", "source_bootstrap_servers": "SRC_BOOTSTRAP"}
    args.update(extra)
    return args


def _cases():
    cases = []

    def add(module, args, named, tag):
        cases.append({"id": f"{module}-{tag}-{len(cases)}", "module": module, "args": args, "named": named})

    for i, name in enumerate(BAD_LINK_NAMES):
        add("cluster_link", _link_args(name), "name", f"name{i}")
        add("cluster_link", {"name": name, "state": "absent"}, "name", f"absent-name{i}")
        add("mirror_topic", {"link_name": name, "topics": ["t1"]}, "link_name", f"link{i}")
        add("mirror_topic_info", {"link_name": name}, "link_name", f"link{i}")
        add("cluster_link_info", {"names": [name]}, "names[0]", f"names{i}")
        add("cluster_link", dict(_link_args(name), **{"api": "cli"}), "name", f"cli-name{i}")
        add("mirror_topic", {"link_name": name, "topics": ["t1"], "api": "cli"}, "link_name", f"cli-link{i}")
    add("cluster_link", _link_args({"a": 1}), "name", "name-dict")
    add("cluster_link_info", {"names": ["ok", {"a": 1}]}, "names[1]", "names-dict")
    add("mirror_topic_info", {"link_name": ["a"]}, "link_name", "link-list")

    for i, value in enumerate(BAD_BOOTSTRAPS):
        add("cluster_link", _link_args(f"it-bad-bs-{i}", source_bootstrap_servers=value),
            "source_bootstrap_servers", f"bs{i}")
        add("cluster_link", _link_args(EXISTING, source_bootstrap_servers=value),
            "source_bootstrap_servers", f"existing-bs{i}")
        add("cluster_link", {"name": f"it-bad-rbs-{i}", "remote_cluster_id": "SRC_ID",
                             "remote": {"bootstrap_servers": value}}, "remote.bootstrap_servers", f"remote-bs{i}")
        add("cluster_link", _link_args(EXISTING, configs={"bootstrap.servers": value}),
            "configs.bootstrap.servers", f"configs-bs{i}")
        add("link_filters", {"topic_filters": [{"name": "orders"}], "source_bootstrap_servers": value, "timeout": 5},
            "source_bootstrap_servers", f"bs{i}")
        add("migration_verify", {"source_bootstrap_servers": value, "destination_bootstrap_servers": "DST_BOOTSTRAP",
                                 "topics": ["t1"], "timeout": 5, "probe": False}, "source_bootstrap_servers", f"src-bs{i}")
        add("migration_verify", {"source_bootstrap_servers": "SRC_BOOTSTRAP", "destination_bootstrap_servers": value,
                                 "topics": ["t1"], "timeout": 5, "probe": False},
            "destination_bootstrap_servers", f"dst-bs{i}")
        if value:
            add("cluster_link_info", {"api": "cli", "bootstrap_server": value}, "bootstrap_server", f"cli-bs{i}")

    # the probe writes only where it is told to, and only into legal topic names
    verify = {"source_bootstrap_servers": "SRC_BOOTSTRAP", "destination_bootstrap_servers": "DST_BOOTSTRAP",
              "topics": ["t1"], "timeout": 5}
    add("migration_verify", dict(verify, probe=True), "probe_topic", "probe-nowhere")
    add("migration_verify", dict(verify, probe=True, probe_topic="a/b"), "probe_topic", "probe-topic-name")
    add("migration_verify", dict(verify, probe=True, probe_topics=["ok", ".."]), "probe_topics[1]", "probe-topics-name")
    add("migration_verify", dict(verify, probe=True, probe_topic="p", probe_topics=["q"]), "probe_topics",
        "probe-both")
    add("migration_verify", dict(verify, producer_principal="orders-app"), "producer_principal", "principal")

    for i, name in enumerate(BAD_TOPIC_FILTER_NAMES):
        add("cluster_link", _link_args(EXISTING, topic_filters=[{"name": "ok"}, {"name": name}]),
            "topic_filters[1].name", f"tf{i}")
        add("link_filters", {"topic_filters": [{"name": name}], "dest": "DEST"}, "topic_filters[0].name", f"tf{i}")
    add("cluster_link", _link_args(EXISTING, topic_filters=[{"name": "*", "pattern_type": "PREFIXED"}]),
        "topic_filters[0]", "tf-star-prefixed")
    for i, name in enumerate(BAD_GROUP_FILTER_NAMES):
        add("cluster_link", _link_args(EXISTING, consumer_group_filters=[{"name": name}]),
            "consumer_group_filters[0].name", f"gf{i}")
        add("link_filters", {"consumer_group_filters": [{"name": name}], "dest": "DEST"},
            "consumer_group_filters[0].name", f"gf{i}")

    for i, (extra, option) in enumerate(BAD_CONNECTION):
        add("cluster_link", _link_args("it-bad-conn", **extra), option, f"conn{i}")
        add("mirror_topic", dict({"link_name": EXISTING, "topics": ["t1"]}, **extra), option, f"conn{i}")
        add("mirror_topic_info", dict({"link_name": EXISTING}, **extra), option, f"conn{i}")
        add("cluster_link_info", dict(extra), option, f"conn{i}")
    for i, (extra, option) in enumerate(BAD_CONNECTION[2:]):
        side = {f"destination_{k if k == 'cluster_id' else 'rest_' + k.replace('rest_', '')}": v
                for k, v in extra.items()}
        named = f"destination_{option if option == 'cluster_id' else 'rest_' + option.replace('rest_', '')}"
        add("migration_verify", dict({"source_bootstrap_servers": "SRC_BOOTSTRAP",
                                      "destination_bootstrap_servers": "DST_BOOTSTRAP", "topics": ["t1"],
                                      "timeout": 5, "probe": False, "acl_source": "rest",
                                      "acl_filters": [{"resource_type": "any", "pattern_type": "any",
                                                       "operation": "any", "permission_type": "any"}],
                                      "source_rest_url": "REST_URL", "destination_rest_url": "REST_URL"}, **side),
            named, f"rest{i}")

    for i, value in enumerate([".", "a/b", "x y", "../x"]):
        add("cluster_link", _link_args("it-bad-id", source_cluster_id=value), "source_cluster_id", f"id{i}")
    for i, value in enumerate(["dc1 ", "a/b", "$(id)"]):
        add("cluster_link", _link_args("it-bad-prefix", prefix=value), "prefix", f"prefix{i}")
    for i, path in enumerate(["/etc/passwd", "/etc/os-release", "/etc", "/nonexistent/source.config",
                              "PROPS_UNKNOWN", "PROPS_BAD_BOOTSTRAP"]):
        add("cluster_link", {"name": EXISTING, "source_cluster_id": "SRC_ID", "properties_file": path},
            "properties_file", f"props{i}")
        add("cluster_link", {"name": "it-bad-props", "source_cluster_id": "SRC_ID", "properties_file": path},
            "properties_file", f"new-props{i}")

    for i, topics in enumerate(BAD_TOPICS):
        add("mirror_topic", {"link_name": EXISTING, "topics": ["ok", topics]}, "topics[1]", f"topic{i}")
        add("mirror_topic_info", {"link_name": EXISTING, "topics": [topics]}, "topics[0]", f"topic{i}")
    add("mirror_topic_info", {"link_name": EXISTING, "topics": [{"a": 1}]}, "topics[0]", "topic-dict")
    for i, status in enumerate(BAD_STATUSES):
        add("mirror_topic_info", {"link_name": EXISTING, "status": ["ACTIVE", status]}, "status[1]", f"status{i}")
    for key, value in (("max_lag", -1), ("wait_timeout", -1), ("wait_interval", 0), ("wait_interval", -2)):
        add("mirror_topic_info", {"link_name": EXISTING, key: value, "wait_for": "caught_up"}, key, f"{key}")
        add("mirror_topic", {"link_name": EXISTING, "topics": ["t1"], key: value}, key, f"{key}")
    add("mirror_topic", {"link_name": EXISTING, "topics": ["t1"], "batch_size": 0}, "batch_size", "batch0")
    for i, timeout in enumerate([0, -1]):
        add("link_filters", {"topic_filters": [{"name": "orders"}], "source_bootstrap_servers": "SRC_BOOTSTRAP",
                             "timeout": timeout}, "timeout", f"timeout{i}")
        add("migration_verify", {"source_bootstrap_servers": "SRC_BOOTSTRAP",
                                 "destination_bootstrap_servers": "DST_BOOTSTRAP", "topics": ["t1"],
                                 "timeout": timeout}, "timeout", f"timeout{i}")

    report = {"dest": "REPORT_DEST", "title": "t"}
    for i, (extra, named) in enumerate([
            ({"dest": "/proc/linkops-report"}, "dest"), ({"dest": "/etc/hostname/report"}, "dest"),
            ({"dest": "/etc/hostname"}, "dest"),
            ({"checks": [{"bogus": 1}]}, "checks[0]"), ({"checks": [{"name": "x", "ok": "maybe"}]}, "checks[0].ok"),
            ({"checks": [{"name": "x"}]}, "checks[0].ok"), ({"checks": [{"ok": True}]}, "checks[0].name"),
            ({"checks": [{"name": "x", "ok": True, "skipped": "no"}]}, "checks[0].skipped"),
            ({"checks": [{"name": "x", "ok": True, "detail": {"a": 1}}]}, "checks[0].detail"),
            ({"cutover": [{"topic": "t", "action": "exploded"}]}, "cutover[0].action"),
            ({"cutover": [{"topic": "t t", "action": "promoted"}]}, "cutover[0].topic"),
            ({"cutover": [{"topic": "t", "action": "promoted", "max_lag": -3}]}, "cutover[0].max_lag"),
            ({"cutover": [{"topic": "t", "action": "promoted", "epoch": "soon"}]}, "cutover[0].epoch"),
            ({"cutover": [{"action": "promoted"}]}, "cutover[0].topic"),
            ({"lag_samples": [{"time": "soon"}]}, "lag_samples[0].time"),
            ({"lag_samples": [{"time": 1, "max_lag": "lots"}]}, "lag_samples[0].max_lag"),
            ({"lag_samples": [{"time": -5}]}, "lag_samples[0].time"),
            ({"generated_at": "yesterday"}, "generated_at"), ({"generated_at": "2026-12-07<script>"}, "generated_at"),
    ]):
        add("migration_report", dict(report, **extra), named, f"report{i}")
    return cases


CASES = _cases()
MODULES = sorted(set(c["module"] for c in CASES))


def _fill(value, subst):
    if isinstance(value, dict):
        return {k: _fill(v, subst) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, subst) for v in value]
    return subst.get(value, value) if isinstance(value, str) else value


def lab_snapshot(lab) -> dict:
    """Links (non-secret configs as set, mirrors and their status) and the topics of both clusters."""
    links = {}
    for name in link_names(lab):
        configs = {n: e.get("value") for n, e in link_configs(lab, name).items()
                   if not e.get("is_default") and not e.get("is_sensitive")}
        status, body = lab.rest("GET", f"/kafka/v3/clusters/{lab.destination_cluster_id}/links/{name}/mirrors")
        mirrors = sorted((m["mirror_topic_name"], m["mirror_status"]) for m in (body or {}).get("data", [])) \
            if status == 200 else status
        links[name] = {"configs": configs, "mirrors": mirrors}
    return {"links": links, "source_topics": sorted(lab.topics("source")),
            "destination_topics": sorted(lab.topics("destination"))}


PLAYBOOK = """\
- name: Bad input
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/linkops.cluster_linking.cluster_linking: {defaults}
  tasks:
{tasks}
    - name: Save the results
      ansible.builtin.copy:
        dest: "{{{{ results_path }}}}"
        content: "{{{{ {{{saved}}} | to_json }}}}"
        mode: "0600"
"""
TASK = """\
    - name: {module}
      linkops.cluster_linking.{module}: "{{{{ item.args }}}}"
      loop: "{{{{ cases | selectattr('module', 'equalto', '{module}') | list }}}}"
      loop_control:
        label: "{{{{ item.id }}}}"
      register: out_{module}
      ignore_errors: true
"""


def playbook_cases(cases):
    """One case per (module, backend, option), the first of each in table order."""
    seen, out = set(), []
    for case in cases:
        key = (case["module"], case["args"].get("api", "rest"), re.split(r"[.\[]", case["named"])[0])
        if key not in seen:
            seen.add(key)
            out.append(case)
    return out


PLAYBOOK_CASES = playbook_cases(CASES)


def run_in_process(module: str, args: dict, env: dict) -> dict:
    """The module's main() with ``args`` in this process: its result as ansible would register it (``failed``,
    ``msg``, ``changed`` false unless the module said otherwise); an exception out of main() is a traceback."""
    mod = importlib.import_module(f"ansible_collections.linkops.cluster_linking.plugins.modules.{module}")
    out = io.StringIO()
    try:
        with patch_module_args(args), mock.patch.dict(os.environ, env), contextlib.redirect_stdout(out):
            mod.main()
    except SystemExit:
        pass
    except Exception:  # what ansible shows as MODULE FAILURE with the module's traceback
        return {"failed": True, "changed": False, "exception": traceback.format_exc()}
    try:
        result = json.loads(out.getvalue())
    except ValueError:
        return {"failed": True, "changed": False, "module_stdout": out.getvalue()}
    result.setdefault("changed", False)
    return result


@pytest.fixture(scope="module")
def bad_input_run(lab, tmp_path_factory):
    work = tmp_path_factory.mktemp("bad-input")
    delete_link(lab, EXISTING)
    create_link_via_rest(lab, EXISTING)
    props_unknown = work / "unknown.config"
    props_unknown.write_text("bootstrap.servers=%s\nno.such.setting=CANARY-VALUE\n" % lab.source_bootstrap)
    props_bad = work / "bad-bootstrap.config"
    props_bad.write_text("security.protocol=PLAINTEXT\nbootstrap.servers=CANARY host\n")
    report_dest = work / REPORT_DEST_MARK
    subst = {"SRC_ID": lab.source_cluster_id, "SRC_BOOTSTRAP": lab.source_bootstrap,
             "DST_BOOTSTRAP": lab.destination_bootstrap, "REST_URL": lab.rest_url, "DEST": str(work / "filters"),
             "REPORT_DEST": str(report_dest), "PROPS_UNKNOWN": str(props_unknown), "PROPS_BAD_BOOTSTRAP": str(props_bad)}
    cli = cli_connection(lab)
    cases = []
    for case in CASES:
        args = _fill(case["args"], subst)
        if args.get("api") == "cli":
            args = dict(cli, **args)
        cases.append(dict(case, args=args))
    playbook = work / "bad-input.yml"
    playbook.write_text(PLAYBOOK.format(
        defaults=json.dumps(connection(lab)),
        tasks="".join(TASK.format(module=m) for m in sorted({c["module"] for c in PLAYBOOK_CASES})),
        saved=", ".join(f"'{m}': out_{m}.results" for m in sorted({c["module"] for c in PLAYBOOK_CASES}))))
    chosen = {c["id"] for c in PLAYBOOK_CASES}
    (work / "cases.json").write_text(json.dumps({"cases": [c for c in cases if c["id"] in chosen]}))
    results_path = work / "results.json"

    before = lab_snapshot(lab)
    env = cli_env(lab)
    in_process = {}
    group = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["action_groups"]["cluster_linking"]
    for case in cases:  # the module_defaults of the playbook: the group's modules get the REST connection
        args = case["args"]
        if case["module"] in group:
            args = dict(connection(lab), **args)
        in_process[case["id"]] = run_in_process(case["module"], args, env)
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), str(playbook), "-e", f"@{work / 'cases.json'}",
         "-e", f"results_path={results_path}", "-e", f"ansible_python_interpreter={VENV_PYTHON}"],
        cwd=REPO, env=ansible_env(ANSIBLE_PIPELINING="True", **env), capture_output=True, text=True,
        timeout=900, check=False)
    after = lab_snapshot(lab)
    assert results_path.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    saved = json.loads(results_path.read_text())
    results = {r["item"]["id"]: r for rows in saved.values() for r in rows}
    yield {"results": results, "in_process": in_process, "before": before, "after": after,
           "output": proc.stdout + proc.stderr + json.dumps(in_process), "work": work, "report_dest": report_dest}
    for name in set(after["links"]) - set(before["links"]):
        delete_link(lab, name)
    delete_link(lab, EXISTING)


def _traceback(result):
    text = " ".join(str(result.get(k, "")) for k in ("msg", "module_stderr", "module_stdout", "exception"))
    return "Traceback (most recent call last)" in text or "MODULE FAILURE" in text


def tally(results):
    """The issue's figures: clean failures, naming the option, tracebacks, accepted, accepted with a change."""
    counts = {"cases": 0, "clean_failure": 0, "names_option": 0, "traceback": 0, "accepted": 0, "changed": 0}
    for case in CASES:
        r = results.get(case["id"], {})
        counts["cases"] += 1
        if _traceback(r):
            counts["traceback"] += 1
        elif r.get("failed"):
            counts["clean_failure"] += 1
            counts["names_option"] += case["named"] in str(r.get("msg", ""))
        else:
            counts["accepted"] += 1
        counts["changed"] += bool(r.get("changed"))
    return counts


def test_the_table_covers_every_module():
    assert len(CASES) >= 300
    assert MODULES == ["cluster_link", "cluster_link_info", "link_filters", "migration_report", "migration_verify",
                       "mirror_topic", "mirror_topic_info"]


def check_failure(result, case):
    msg = str(result.get("msg", ""))
    assert not _traceback(result), result
    assert result.get("failed") is True, f"accepted: {result}"
    assert result.get("changed") is False, result
    assert msg and "\n" not in msg.strip(), f"not a one-line message: {msg!r}"
    assert case["named"] in msg, f"{case['named']!r} not named in: {msg}"
    assert "CANARY" not in msg and "root:" not in msg, msg
    assert "rest_requests" not in result or result["rest_requests"] == 0, result
    assert not result.get("cli_commands"), result


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input_fails_naming_the_option(bad_input_run, case):
    check_failure(bad_input_run["in_process"][case["id"]], case)


@pytest.mark.parametrize("case", PLAYBOOK_CASES, ids=[c["id"] for c in PLAYBOOK_CASES])
def test_bad_input_fails_the_same_in_a_playbook(bad_input_run, case):
    result = bad_input_run["results"][case["id"]]
    check_failure(result, case)
    assert result["msg"] == bad_input_run["in_process"][case["id"]]["msg"]


def test_the_playbook_run_covers_every_module_backend_and_option():
    assert {(c["module"], c["args"].get("api", "rest")) for c in PLAYBOOK_CASES} == \
        {(c["module"], c["args"].get("api", "rest")) for c in CASES}
    assert 50 <= len(PLAYBOOK_CASES) < len(CASES) / 3


def test_bad_input_changed_nothing(bad_input_run):
    assert bad_input_run["after"] == bad_input_run["before"]
    assert not bad_input_run["report_dest"].exists()
    assert not (bad_input_run["work"] / "filters").exists()
    assert "CANARY" not in bad_input_run["output"]
    print("bad-input figures:", tally(bad_input_run["in_process"]))
