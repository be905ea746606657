"""Role link_files and module migration_report on the controller (no lab): what their docs promise.

link_files: files mode 0600 in a 0700 directory, the JAAS line escaped as Java reads it, a canary
password never in the output (-vvv, --diff), check mode writes nothing, a second run changes
nothing, state=absent removes the files. migration_report: check mode writes nothing, the same data
rewrites nothing.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

from linkops_it import REPO, run_ansible_playbook

sys.path.insert(0, str(REPO / ".collections"))
from ansible_collections.linkops.cluster_linking.plugins.module_utils._properties import (  # noqa: E402
    parse_properties)

CANARY = 'Canary"pw\\9f3c'


def playbook(tmp_path: Path, state: str = "present") -> Path:
    path = tmp_path / f"link_files_{state}.yml"
    path.write_text(textwrap.dedent(f"""\
        - hosts: localhost
          gather_facts: false
          tasks:
            - ansible.builtin.include_role:
                name: linkops.cluster_linking.link_files
              vars:
                link_files_dir: {tmp_path / 'files'}
                link_files_state: {state}
                link_files_source:
                  bootstrap_servers: src-1:9093
                  security_protocol: SASL_SSL
                  sasl_mechanism: SCRAM-SHA-512
                  sasl_username: linker
                  sasl_password: {json.dumps(CANARY)}
                  rest_url: https://src:8090/kafka
                link_files_destination:
                  bootstrap_servers: dst-1:9092
                link_files_topic_filters: [{{name: orders., pattern_type: prefixed}}]
        """))
    return path


def test_link_files_private_escaped_secret_free_and_idempotent(tmp_path):
    files = tmp_path / "files"
    check = run_ansible_playbook([str(playbook(tmp_path)), "--check", "--diff", "-vvv"], tmp_path)
    assert check.rc == 0, check.output
    assert not files.exists(), "check mode wrote files"
    first = run_ansible_playbook([str(playbook(tmp_path)), "--diff", "-vvv"], tmp_path)
    assert first.rc == 0, first.output
    for run in (check, first):
        assert "Canary" not in run.output and "9f3c" not in run.output
    assert files.stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in files.iterdir()) == ["destination.properties", "source.properties",
                                                       "topic-filters.json"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in files.iterdir())
    source = parse_properties((files / "source.properties").read_text())
    assert source["sasl.jaas.config"] == ('org.apache.kafka.common.security.scram.ScramLoginModule required '
                                          'username="linker" password="Canary\\"pw\\\\9f3c";')
    assert "rest" not in " ".join(source), "REST settings are not client properties"
    assert json.loads((files / "topic-filters.json").read_text())["topicFilters"][0]["patternType"] == "PREFIXED"
    second = run_ansible_playbook([str(playbook(tmp_path))], tmp_path)
    assert second.rc == 0 and second.recap()["changed"] == 0, second.output
    gone = run_ansible_playbook([str(playbook(tmp_path, "absent"))], tmp_path)
    assert gone.rc == 0, gone.output
    assert not files.exists()


def test_migration_report_check_mode_and_unchanged_data(tmp_path):
    dest = tmp_path / "report"
    args = {"dest": str(dest), "title": "l1",
            "checks": [{"name": "end_offsets:a", "ok": True, "detail": "equal"}],
            "lag_samples": [{"time": 1000, "max_lag": 3, "total_lag": 4}, {"time": 1002, "max_lag": 0}]}
    book = tmp_path / "report.yml"
    book.write_text(textwrap.dedent(f"""\
        - hosts: localhost
          gather_facts: false
          tasks:
            - linkops.cluster_linking.migration_report: {json.dumps(args)}
        """))
    check = run_ansible_playbook([str(book), "--check"], tmp_path)
    assert check.rc == 0 and check.recap()["changed"] == 1, check.output
    assert not dest.exists()
    first = run_ansible_playbook([str(book)], tmp_path)
    assert first.recap()["changed"] == 1, first.output
    assert sorted(p.name for p in dest.iterdir()) == ["junit.xml", "report.html", "report.json", "report.md"]
    again = run_ansible_playbook([str(book)], tmp_path)
    assert again.rc == 0 and again.recap()["changed"] == 0, again.output
