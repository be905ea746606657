#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: mirror_topic_info
short_description: Read the mirror topics of a cluster link, their states and lag
version_added: 1.0.0
description:
  - Returns the mirror topics of one cluster link with status, per-partition lag and the largest lag,
    like C(kafka-mirrors --describe), in one request however many mirrors the link has.
  - Made for C(until:) loops, for example to wait until every mirror has caught up before a cutover, or until
    every promoted mirror is C(STOPPED).
author:
  - linkops maintainers (@linkops)
extends_documentation_fragment:
  - linkops.cluster_linking._rest
  - linkops.cluster_linking._rest.ACTIONGROUP
  - linkops.cluster_linking._attributes.INFO_MODULE
options:
  link_name:
    description:
      - The cluster link whose mirrors are read.
      - A link name by Kafka's name rules (see O(linkops.cluster_linking.cluster_link#module:name)).
    type: str
    required: true
  topics:
    description:
      - Only report these mirror topics. Listed topics that are not mirrors of the link appear in RV(missing).
      - All mirrors of the link when omitted.
      - Each a topic name by Kafka's rules (ASCII letters, digits, C(.), C(_), C(-), at most 249 characters).
    type: list
    elements: str
  status:
    description:
      - Only report mirrors in one of these statuses, for example V(ACTIVE), V(PAUSED), V(LINK_PAUSED),
        V(SOURCE_UNAVAILABLE), V(FAILED), V(LINK_FAILED), V(PENDING_MIRROR), V(PENDING_STOPPED), V(STOPPED),
        V(PENDING_SYNCHRONIZE), V(PENDING_SETUP_FOR_RESTORE), V(PENDING_RESTORE). Case does not matter;
        any other value fails the task.
      - The filter is applied to the one list of the link's mirrors, so it costs no extra request.
        RV(status_counts), RV(states) and RV(missing) still cover every mirror asked for.
    type: list
    elements: str
  wait_for:
    description:
      - Read again every O(wait_interval) seconds until the condition holds, and return every read as a lag sample
        in RV(samples) (for the lag chart of the migration report).
      - V(caught_up) waits until every listed mirror exists, none is missing, every one is C(ACTIVE) or C(STOPPED),
        and the largest partition lag is at most O(max_lag).
      - V(stopped) waits until every listed mirror is C(STOPPED).
      - Fails after O(wait_timeout) seconds, naming at most 20 topics that are not there yet, with the samples.
      - Omitted, the module reads once.
    type: str
    choices: [caught_up, stopped]
  max_lag:
    description: With O(wait_for=caught_up), the largest partition lag that counts as caught up; 0 or more.
    type: int
    default: 0
  wait_timeout:
    description: With O(wait_for), how many seconds to wait at most; 0 or more.
    type: int
    default: 300
  wait_interval:
    description: With O(wait_for), seconds between reads; more than 0.
    type: float
    default: 2
  progress_interval:
    description:
      - With O(wait_for), the controller prints a line about the wait every this many seconds, for each link -
        the mirror topics not there yet, the largest lag and its trend, the time left. Each line costs one more
        module run (one more read); V(0) prints nothing until the wait ends.
    type: int
    default: 10
notes:
  - One request (the list of the link's mirrors) per read, whatever the number of mirrors, topics or statuses asked
    for; with O(wait_for), one per O(wait_interval).
seealso:
  - module: linkops.cluster_linking.mirror_topic
'''

EXAMPLES = r'''
- name: Wait until every mirror of the link has caught up
  linkops.cluster_linking.mirror_topic_info:
    rest_url: https://dest-broker-1:8090/kafka
    rest_username: "{{ dest_rest_user }}"
    rest_password: "{{ dest_rest_password }}"
    link_name: onprem-to-cloud
    topics: [orders.created, orders.paid]
  register: mirrors
  until: mirrors.max_lag == 0 and mirrors.all_active
  retries: 60
  delay: 5

- name: Wait until every listed mirror is STOPPED (after a promote run elsewhere)
  linkops.cluster_linking.mirror_topic_info:
    rest_url: https://dest-broker-1:8090/kafka
    link_name: onprem-to-cloud
    topics: "{{ migrate_topics }}"
  register: mirrors
  until: mirrors.all_stopped
  retries: 30
  delay: 10

- name: Which mirrors of the link need attention
  linkops.cluster_linking.mirror_topic_info:
    rest_url: https://dest-broker-1:8090/kafka
    link_name: onprem-to-cloud
    status: [FAILED, LINK_FAILED, SOURCE_UNAVAILABLE]
  register: broken

- name: Fail naming them
  ansible.builtin.fail:
    msg: "{{ broken.mirrors | map(attribute='mirror_topic_name') | join(', ') }} are not mirroring"
  when: broken.mirrors | length > 0

- name: Wait until every mirror has caught up, keeping the lag samples for the migration report
  linkops.cluster_linking.mirror_topic_info:
    rest_url: https://dest-broker-1:8090/kafka
    link_name: onprem-to-cloud
    topics: "{{ migrate_topics }}"
    wait_for: caught_up
    wait_timeout: 1800
    wait_interval: 5
  register: sync

- name: Keep the samples
  ansible.builtin.copy:
    dest: /srv/reports/onprem-to-cloud/lag-samples.jsonl
    content: "{% for s in sync.samples %}{{ s | to_json }}\n{% endfor %}"
    mode: '0644'
  delegate_to: localhost
'''

RETURN = r'''
mirrors:
  description: The mirror topics asked for (and in O(status), when given), sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    mirror_topic_name:
      description: Name of the mirror topic.
      type: str
      sample: orders.created
    source_topic_name:
      description: Topic on the source cluster it mirrors.
      type: str
    link_name:
      description: The link.
      type: str
    status:
      description: Mirror status, for example C(ACTIVE), C(PAUSED), C(PENDING_STOPPED), C(STOPPED), C(FAILED).
      type: str
      sample: ACTIVE
    num_partitions:
      description: Partition count.
      type: int
    max_lag:
      description: Largest partition lag in records.
      type: int
      sample: 0
    total_lag:
      description: Sum of the partition lags.
      type: int
    mirror_lags:
      description: Per-partition lag (C(partition), C(lag), C(last_source_fetch_offset)).
      type: list
      elements: dict
    state_time_ms:
      description: When the mirror entered its status, in epoch milliseconds.
      type: int
    mirror_topic_error:
      description: Topic-level error, C(NO_ERROR) when healthy.
      type: str
missing:
  description: Topics asked for in O(topics) that are not mirrors of the link.
  returned: always
  type: list
  elements: str
states:
  description: Status of every mirror asked for (all of the link's when O(topics) is omitted), by name, before the
    O(status) filter.
  returned: always
  type: dict
  sample: {"orders.created": "ACTIVE", "orders.paid": "PAUSED"}
status_counts:
  description: Number of mirrors per status, over the same mirrors as RV(states).
  returned: always
  type: dict
  sample: {"ACTIVE": 3}
max_lag:
  description: Largest partition lag over the reported mirrors (0 when there are none).
  returned: always
  type: int
  sample: 0
total_lag:
  description: Sum of the partition lags of the reported mirrors.
  returned: always
  type: int
  sample: 0
all_active:
  description: True when at least one mirror is asked for, none is missing, and all are C(ACTIVE).
  returned: always
  type: bool
all_stopped:
  description: True when at least one mirror is asked for, none is missing, and all are C(STOPPED).
  returned: always
  type: bool
samples:
  description:
    - One lag sample per read, in time order; one without O(wait_for). Lags and counts cover every mirror asked
      for in O(topics), whatever O(status) filters.
  returned: always
  type: list
  elements: dict
  contains:
    time:
      description: When the read finished, in seconds since the epoch.
      type: float
    max_lag:
      description: The largest partition lag.
      type: int
    total_lag:
      description: The sum of all partition lags.
      type: int
    status_counts:
      description: How many mirrors are in each status.
      type: dict
    phase:
      description: Always V(sync_wait), the phase of the migration report the samples belong to.
      type: str
  sample: [{time: 1795320420.5, max_lag: 120, total_lag: 300, status_counts: {ACTIVE: 2}, phase: sync_wait}]
waiting:
  description: With O(wait_for), on a timeout, the topics that were not there yet (the missing ones first).
  returned: failure
  type: list
  elements: str
rest_requests:
  description: Number of HTTP requests the task sent (O(api=rest)).
  returned: when O(api=rest)
  type: int
  sample: 1
cli_commands:
  description: Number of CP tool commands the task ran (O(api=cli)); one command per
    batch of mirror topics.
  returned: when O(api=cli)
  type: int
  sample: 1
rest_retries:
  description:
    - Number of HTTP requests of the task that were sent again (O(api=rest)) - after HTTP 429 or 503 (and, for
      reads, other 5xx answers and connection errors), and writes sent once more after their answer was lost and
      a new read showed they had not landed. See O(retries).
  returned: when O(api=rest)
  type: int
  sample: 0
cli_retries:
  description:
    - Number of CP tool commands of the task that were run again (O(api=cli)), counted like RV(rest_retries).
  returned: when O(api=cli)
  type: int
  sample: 0
rest_retry_log:
  description:
    - One line per retry and per write whose answer was lost - the request, what went wrong, the wait, and what
      a new read found. Only at C(-vvv) (O(api=rest)).
  returned: at C(-vvv), when a request was retried or an answer was lost
  type: list
  elements: str
  sample: ["POST /kafka/v3/clusters/lkc-1/links/orders/mirrors:promote: HTTP 429; retry 1 of 6 in 2 s (Retry-After: 2 s)"]
cli_retry_log:
  description:
    - Like RV(rest_retry_log), for the commands of the CP tools (O(api=cli)).
  returned: at C(-vvv), when a command was run again or an answer was lost
  type: list
  elements: str
  sample: ["kafka-mirrors --promote: ThrottlingQuotaExceededException; retry 1 of 6 in 1 s"]
'''

import time

from ansible_collections.linkops.cluster_linking.plugins.module_utils._mirror_reconcile import MirrorReconciler
from ansible_collections.linkops.cluster_linking.plugins.module_utils._mirrors import info_report
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import TaskFailure
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_options import (
    call_counts, connect, fail, rest_module)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._validate import check_mirror_topic_info, validate_module


def _waiting(result, wait_for, max_lag):
    """Names of the topics that keep the condition from holding (the missing ones first)."""
    if wait_for == 'stopped':
        return result['missing'] + [n for n, st in result['states'].items() if st != 'STOPPED']
    lags = dict((r['mirror_topic_name'], r['max_lag']) for r in result['mirrors'])
    return result['missing'] + [n for n, st in result['states'].items()
                                if st not in ('ACTIVE', 'STOPPED') or lags.get(n, 0) > max_lag]


def _sample(result):
    return dict(time=round(time.time(), 3), max_lag=result['max_lag'], total_lag=result['total_lag'],
                status_counts=result['status_counts'], phase='sync_wait')


def main():
    module = rest_module(dict(
        link_name=dict(type='str', required=True),
        topics=dict(type='list', elements='str'),
        status=dict(type='list', elements='str'),
        wait_for=dict(type='str', choices=['caught_up', 'stopped']),
        max_lag=dict(type='int', default=0),
        wait_timeout=dict(type='int', default=300),
        wait_interval=dict(type='float', default=2),
        progress_interval=dict(type='int', default=10),  # read by the action plugin (plugins/action)
    ))
    p = module.params
    validate_module(module, check_mirror_topic_info)
    backend = connect(module)
    reader = MirrorReconciler(backend, p['link_name'])
    samples = []
    deadline = time.monotonic() + p['wait_timeout']
    while True:
        try:
            mirrors = reader.refresh()
        except TaskFailure as exc:
            fail(module, backend, exc)
        result = info_report(mirrors, p['topics'], p['status'])
        samples.append(_sample(info_report(mirrors, p['topics'])))
        waiting = _waiting(result, p['wait_for'], p['max_lag']) if p['wait_for'] else []
        if not waiting:
            break
        if time.monotonic() >= deadline:
            result.update(call_counts(backend))
            named = ', '.join('%s (%s)' % (n, result['states'].get(n, 'missing')) for n in waiting[:20])
            more = ' and %d more' % (len(waiting) - 20) if len(waiting) > 20 else ''
            module.fail_json(msg='Timed out after %ss waiting for the mirrors of link %s to be %s: %s%s.' % (
                p['wait_timeout'], p['link_name'], p['wait_for'].replace('_', ' '), named, more),
                samples=samples, waiting=waiting, **result)
        time.sleep(p['wait_interval'])
    result.update(call_counts(backend))
    module.exit_json(changed=False, samples=samples, **result)


if __name__ == '__main__':
    main()
