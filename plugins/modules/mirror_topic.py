#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: mirror_topic
short_description: Create, promote or fail over many mirror topics of one cluster link
version_added: 0.1.0
description:
  - Brings a list of mirror topics of one cluster link to a state, in one task, as C(kafka-mirrors --create),
    C(--promote) and C(--failover) do by hand.
  - Reads the link's mirrors in one request, acts on all topics in one batch request, and reports the
    result per topic. Topics already in the wanted state are left alone.
  - Confluent answers a batch with HTTP 200 even when some topics failed; the module reads every per-topic
    result and fails the task naming each failed topic and the Confluent error.
author:
  - linkops maintainers (@linkops)
extends_documentation_fragment:
  - linkops.cluster_linking._rest
  - linkops.cluster_linking._rest.ACTIONGROUP
  - linkops.cluster_linking._attributes
attributes:
  check_mode:
    support: full
    details:
      - Predicts which topics would be created, promoted or failed over, without waiting or calling any write.
      - With O(state=present) or O(state=active), a link that does not exist yet (one an earlier check-mode
        task would create) predicts that every listed mirror is created, with a warning.
  diff_mode:
    support: full
    details: Shows the status of each listed topic before and after.
  idempotent:
    support: full
options:
  link_name:
    description:
      - The cluster link the mirror topics belong to.
    type: str
    required: true
  topics:
    description:
      - The mirror topics, each a topic name, or a mapping with C(name) and C(source_topic_name) when the
        mirror is named differently from its source topic (links with C(cluster.link.prefix)).
      - Names are checked as Kafka checks topic names before any request is sent.
    type: list
    elements: raw
    required: true
  state:
    description:
      - V(present) creates the mirrors that do not exist yet and accepts every existing mirror of the link,
        whatever its status, stopped ones included; a re-run of a migration after its cutover uses it.
      - V(active) does the same but fails the task for a topic that already stopped mirroring.
      - V(promoted) waits until every listed mirror has caught up (lag 0 on every partition), promotes them
        all in one request, and waits until they are C(STOPPED). This is the planned migration path, with no data loss.
      - V(failed_over) stops the mirrors at once without a lag check (disaster recovery; records not yet
        mirrored are lost) and waits until they are C(STOPPED).
      - Topics already C(STOPPED) count as promoted or failed over and are reported unchanged.
    type: str
    choices: [present, active, promoted, failed_over]
    default: active
  wait:
    description:
      - With O(state=present) or O(state=active), wait until new mirrors have left C(PENDING_MIRROR).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the lag gate and for the final state before the task fails, naming the topics
        still waiting with their state and lag.
    type: int
    default: 300
  wait_interval:
    description:
      - Seconds between two reads of the link's mirrors while waiting.
    type: float
    default: 2
notes:
  - Each poll reads all mirrors of the link in one request, however many topics are listed.
  - Creating a mirror is one request per new topic (the REST API has no batch create); promote and failover
    are one request for all listed topics.
  - Before creating mirrors the module lists the cluster's topics once (C(GET /topics)); when a listed topic
    already exists there as a topic that is not a mirror of the link, the task fails before creating any.
seealso:
  - module: linkops.cluster_linking.cluster_link
  - module: linkops.cluster_linking.mirror_topic_info
'''

EXAMPLES = r'''
- name: Mirror three topics over the link
  linkops.cluster_linking.mirror_topic:
    rest_url: https://dest-broker-1:8090/kafka
    rest_username: "{{ dest_rest_user }}"
    rest_password: "{{ dest_rest_password }}"
    link_name: onprem-to-cloud
    topics: [orders.created, orders.paid, payments]

- name: Cut over once every partition has caught up
  linkops.cluster_linking.mirror_topic:
    rest_url: https://dest-broker-1:8090/kafka
    rest_username: "{{ dest_rest_user }}"
    rest_password: "{{ dest_rest_password }}"
    link_name: onprem-to-cloud
    topics: [orders.created, orders.paid, payments]
    state: promoted
    wait_timeout: 900
  register: cutover

- name: The source is gone, stop mirroring now
  linkops.cluster_linking.mirror_topic:
    rest_url: https://dr-broker-1:8090/kafka
    rest_username: "{{ dr_rest_user }}"
    rest_password: "{{ dr_rest_password }}"
    link_name: dc1-to-dc2
    topics: "{{ dr_topics }}"
    state: failed_over
'''

RETURN = r'''
topics:
  description: One entry per listed topic, in the order given.
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
      sample: orders.created
    status_before:
      description: Mirror status before the task; null when the mirror did not exist.
      type: str
      sample: ACTIVE
    status:
      description: Mirror status after the task (before, in check mode).
      type: str
      sample: STOPPED
    action:
      description: What the task did to the topic, C(created), C(promoted), C(failed_over), C(failed) or C(none).
      type: str
      sample: promoted
    max_lag:
      description: Largest partition lag, in records, at the last read.
      type: int
      sample: 0
    total_lag:
      description: Sum of the partition lags at the last read.
      type: int
      sample: 0
    mirror_lags:
      description: Per-partition lag as the server reports it (C(partition), C(lag), C(last_source_fetch_offset)).
      type: list
      elements: dict
    num_partitions:
      description: Partition count of the mirror topic.
      type: int
      sample: 6
changed_topics:
  description: Names of the topics the task changed (or would change in check mode).
  returned: always
  type: list
  elements: str
  sample: [orders.created]
rest_requests:
  description: Number of HTTP requests the task sent (O(api=rest)).
  returned: when O(api=rest)
  type: int
  sample: 3
cli_commands:
  description: Number of CP tool commands the task ran (O(api=cli)); one command per
    batch of mirror topics.
  returned: when O(api=cli)
  type: int
  sample: 3
'''

from ansible_collections.linkops.cluster_linking.plugins.module_utils._mirror_reconcile import (
    STATE_ACTIONS, MirrorReconciler, parse_topics)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import TaskFailure
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_options import call_counts, connect, fail, rest_module


def main():
    module = rest_module(dict(
        link_name=dict(type='str', required=True),
        topics=dict(type='list', elements='raw', required=True),
        state=dict(type='str', default='active', choices=['present', 'active', 'promoted', 'failed_over']),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=300),
        wait_interval=dict(type='float', default=2),
    ))
    p = module.params
    backend = connect(module)
    reconciler = MirrorReconciler(backend, p['link_name'], wait_timeout=p['wait_timeout'],
                                  wait_interval=p['wait_interval'])
    try:
        topics = parse_topics(p['topics'])
        if p['state'] in ('present', 'active'):
            changed, rows = reconciler.ensure_exists(topics, module.check_mode, p['wait'],
                                                     allow_stopped=p['state'] == 'present')
        else:
            changed, rows = reconciler.ensure_stopped(topics, STATE_ACTIONS[p['state']], module.check_mode)
    except TaskFailure as exc:
        fail(module, backend, exc)

    if reconciler.link_missing:
        module.warn('Link %s does not exist yet; check mode predicts that every listed mirror is created.'
                    % p['link_name'])
    result = dict(changed=changed, topics=rows,
                  changed_topics=[r['mirror_topic_name'] for r in rows if r['action'] != 'none'])
    if module._diff:
        predicted = {'created': 'ACTIVE', 'promoted': 'STOPPED', 'failed_over': 'STOPPED'}
        result['diff'] = {
            'before': dict((r['mirror_topic_name'], r['status_before'] or 'absent') for r in rows),
            'after': dict((r['mirror_topic_name'], predicted.get(r['action'], r['status']) if module.check_mode
                           else r['status']) for r in rows),
        }
    result.update(call_counts(backend))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
