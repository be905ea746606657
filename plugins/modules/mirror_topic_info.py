#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: mirror_topic_info
short_description: Read the mirror topics of a cluster link, their states and lag
version_added: 0.1.0
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
    type: str
    required: true
  topics:
    description:
      - Only report these mirror topics. Listed topics that are not mirrors of the link appear in RV(missing).
      - All mirrors of the link when omitted.
    type: list
    elements: str
  status:
    description:
      - Only report mirrors in one of these statuses, for example V(ACTIVE), V(PAUSED), V(LINK_PAUSED),
        V(SOURCE_UNAVAILABLE), V(FAILED), V(LINK_FAILED), V(PENDING_MIRROR), V(PENDING_STOPPED), V(STOPPED),
        V(PENDING_SYNCHRONIZE), V(PENDING_SETUP_FOR_RESTORE), V(PENDING_RESTORE). Case does not matter.
      - The filter is applied to the one list of the link's mirrors, so it costs no extra request.
        RV(status_counts), RV(states) and RV(missing) still cover every mirror asked for.
    type: list
    elements: str
notes:
  - One request (the list of the link's mirrors) whatever the number of mirrors, topics or statuses asked for.
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
'''

from ansible_collections.linkops.cluster_linking.plugins.module_utils._mirror_reconcile import MirrorReconciler
from ansible_collections.linkops.cluster_linking.plugins.module_utils._mirrors import info_report
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import TaskFailure
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_options import (
    call_counts, connect, fail, rest_module)


def main():
    module = rest_module(dict(
        link_name=dict(type='str', required=True),
        topics=dict(type='list', elements='str'),
        status=dict(type='list', elements='str'),
    ))
    backend = connect(module)
    try:
        mirrors = MirrorReconciler(backend, module.params['link_name']).refresh()
    except TaskFailure as exc:
        fail(module, backend, exc)
    result = info_report(mirrors, module.params['topics'], module.params['status'])
    result.update(call_counts(backend))
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
