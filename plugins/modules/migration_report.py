#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: migration_report
short_description: Write a migration report as JSON, Markdown, an HTML page with a lag chart, and JUnit XML
version_added: 1.0.0
description:
  - Writes the result of a migration into O(dest) in up to four files; C(report.json) (everything, plus a
    summary and the evidence tables), C(report.md), C(report.html) (a self-contained page, no external assets,
    no scripts, with an SVG chart of the mirror lag over the sync and the cutover, and a print stylesheet for a
    clean PDF) and C(junit.xml) (one test case per check, the evidence as properties and in C(system-out)).
  - Every rendering carries the same evidence; the O(header) (link, clusters, REST endpoint, inventory host, who
    ran it, the phases' start and end, the collection version), per topic the partitions and per partition the
    source and destination end offsets and the lag at cutover, the records copied, per consumer group the
    committed offsets on both sides, the ACLs compared, the cutover rows with their recovery point (RPO), and
    every lag sample.
  - The lag chart plots every sample of O(lag_samples) and the lag at cutover; with fewer than two points it is a
    sentence instead.
  - Secrets never get in; values of keys that look secret (password, secret, token, JAAS, key) are masked and
    user information in URLs is removed, whatever the input.
  - The checks usually come from M(linkops.cluster_linking.migration_verify) (RV(linkops.cluster_linking.migration_verify#module:checks)),
    the cutover rows and lag samples from the cutover and sync-wait phases of the migrate playbook.
  - The same input always renders the same bytes, and a file is only written when its content changes,
    so a re-run with the same data reports no change.
  - The module does not fail when a check failed; it returns RV(failed_checks) so the play can fail naming them.
author:
  - linkops maintainers (@linkops)
extends_documentation_fragment:
  - ansible.builtin.files
  - linkops.cluster_linking._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  dest:
    description:
      - Directory to write the files into; created when missing.
      - When it is a file, or cannot be created or written, the task fails naming it and writes nothing.
    type: path
    required: true
  title:
    description: What the report is about, for example the link name.
    type: str
    required: true
  checks:
    description:
      - Check rows with keys C(name), C(ok), C(detail) and C(skipped), as
        RV(linkops.cluster_linking.migration_verify#module:checks) returns them.
      - C(name) is a non-empty string, C(ok) is required and C(ok) and C(skipped) are booleans, C(detail) is a
        text; another key fails the task.
    type: list
    elements: dict
    default: []
  cutover:
    description:
      - One row per topic cut over, with keys C(topic), C(action) (promoted or failed_over), C(max_lag) (lag at
        cutover), C(time) (readable time) and C(epoch) (seconds since the epoch, marks the cutover in the chart).
      - C(topic) is a topic name, C(action) one of V(promoted), V(failed_over), V(reversed), V(reversed_paused),
        V(restored); C(max_lag) a whole number, 0 or more, or null; C(epoch) a number, 0 or more.
      - C(partition_lags), a list of C(partition) and C(lag) (the cutover role records them), gives the lag at
        cutover of each partition and, for V(failed_over), the recovery point (records not mirrored).
      - Other keys are kept in C(report.json).
    type: list
    elements: dict
    default: []
  lag_samples:
    description:
      - Lag samples in time order, with keys C(time) (seconds since the epoch), C(max_lag), C(total_lag) and
        C(phase) (for example V(sync_wait) or V(cutover)).
      - C(time) is required; C(max_lag) and C(total_lag), when given, are whole numbers, 0 or more.
    type: list
    elements: dict
    default: []
  header:
    description:
      - Who, what and when, printed at the top of every rendering; any of the keys C(link_name), C(link_id),
        C(mode), C(source) and C(destination) (each with C(cluster_id) and C(bootstrap_servers)), C(rest_endpoint),
        C(inventory_host), C(run_by), C(collection_version), and C(phases), a list of C(name), C(start) and C(end)
        (seconds since the epoch or ISO 8601 texts).
      - The M(linkops.cluster_linking.migration_verify) result's C(clusters) and C(phases) fit here.
    type: dict
    default: {}
  details:
    description:
      - The verification's data, rendered as the report's evidence; C(topics) (per topic the partition counts, and per
        partition the end offsets on both clusters, as RV(linkops.cluster_linking.migration_verify#module:topics)
        returns them), C(consumer_groups) (committed offsets on both sides), C(acls) (the ACLs compared) and C(probe).
      - Anything else is kept in C(report.json).
    type: dict
    default: {}
  generated_at:
    description:
      - A time to print in the report. Left out when not given, so the same data gives the same files.
      - An ISO 8601 date or time, for example V(2026-12-07T03:00:00Z).
    type: str
  formats:
    description: Which files to write.
    type: list
    elements: str
    choices: [json, markdown, html, junit]
    default: [json, markdown, html, junit]
'''

EXAMPLES = r'''
- name: Verify the migration
  linkops.cluster_linking.migration_verify:
    source_bootstrap_servers: onprem-kafka:9092
    destination_bootstrap_servers: cloud-kafka:9092
    topics: [orders]
  register: verify
  ignore_errors: true

- name: Write the report next to the playbook
  linkops.cluster_linking.migration_report:
    dest: "{{ playbook_dir }}/reports/orders-link"
    title: orders-link
    checks: "{{ verify.checks }}"
    header:
      link_name: orders-link
      source: "{{ verify.clusters.source }}"
      destination: "{{ verify.clusters.destination }}"
      phases: "{{ verify.phases }}"
    details:
      topics: "{{ verify.topics }}"
      consumer_groups: "{{ verify.consumer_groups }}"
      acls: "{{ verify.acls }}"
  delegate_to: localhost
  register: report

- name: Fail naming the failed checks
  ansible.builtin.assert:
    that: report.failed_checks | length == 0
    fail_msg: "Failed checks: {{ report.failed_checks | join(', ') }}; see {{ report.paths.html }}"
'''

RETURN = r'''
paths:
  description: Path of each written format.
  returned: always
  type: dict
  sample: {json: /srv/reports/l1/report.json, markdown: /srv/reports/l1/report.md,
           html: /srv/reports/l1/report.html, junit: /srv/reports/l1/junit.xml}
written:
  description: Formats whose file was (or in check mode would be) written because its content changed.
  returned: always
  type: list
  elements: str
  sample: [json, html]
summary:
  description: Counts of checks by result, and lag figures.
  returned: always
  type: dict
  sample: {result: PASSED, checks: 4, passed: 4, failed: 0, skipped: 0, failed_checks: [],
           topics_cut_over: 1, max_lag_seen: 120, lag_samples: 7}
failed_checks:
  description: Names of the checks that failed.
  returned: always
  type: list
  elements: str
  sample: ["end_offsets:orders"]
'''

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.linkops.cluster_linking.plugins.module_utils._report import (
    FILE_NAMES, RENDERERS, summarize)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._validate import (
    check_migration_report, validate_module)


def _current(path):
    try:
        with open(path, 'rb') as fh:
            return fh.read()
    except (IOError, OSError):
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type='path', required=True),
            title=dict(type='str', required=True),
            checks=dict(type='list', elements='dict', default=[]),
            cutover=dict(type='list', elements='dict', default=[]),
            lag_samples=dict(type='list', elements='dict', default=[]),
            header=dict(type='dict', default={}),
            details=dict(type='dict', default={}),
            generated_at=dict(type='str'),
            formats=dict(type='list', elements='str', default=list(FILE_NAMES),
                         choices=list(FILE_NAMES)),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    p = module.params
    validate_module(module, check_migration_report)
    data = dict(title=p['title'], checks=p['checks'], cutover=p['cutover'], lag_samples=p['lag_samples'],
                header=p['header'], details=p['details'], generated_at=p['generated_at'])
    dest = p['dest']
    try:
        changed, paths, written = _write(module, dest, data)
    except (IOError, OSError) as exc:
        module.fail_json(msg='dest: cannot write the report into %s: %s; give a directory the module can write.'
                             % (dest, exc.strerror or exc))
    summary = summarize(data)
    module.exit_json(changed=changed, paths=paths, written=written, summary=summary,
                     failed_checks=summary['failed_checks'])


def _write(module, dest, data):
    """Write the formats that changed: (changed, paths, written)."""
    p = module.params
    changed = False
    if not os.path.isdir(dest):
        changed = True
        if not module.check_mode:
            os.makedirs(dest)
    paths, written = {}, []
    for fmt in p['formats']:
        path = os.path.join(dest, FILE_NAMES[fmt])
        paths[fmt] = path
        content = to_bytes(RENDERERS[fmt](data))
        if _current(path) != content:
            written.append(fmt)
            changed = True
            if not module.check_mode:
                fd, tmp = tempfile.mkstemp(dir=dest, prefix='.%s.' % FILE_NAMES[fmt])
                with os.fdopen(fd, 'wb') as fh:
                    fh.write(content)
                module.atomic_move(tmp, path)
        if not module.check_mode and os.path.exists(path):
            file_args = module.load_file_common_arguments(p, path=path)
            changed = module.set_fs_attributes_if_different(file_args, changed)
    return changed, paths, written


if __name__ == '__main__':
    main()
