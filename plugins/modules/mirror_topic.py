#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: mirror_topic
short_description: Bring many mirror topics of one cluster link to a state (create, pause, promote, fail over, reverse, restore, delete)
version_added: 1.0.0
description:
  - Brings a list of mirror topics of one cluster link to one O(state), in one task, as C(kafka-mirrors --create),
    C(--pause), C(--unpause), C(--promote), C(--failover), C(--reverse-and-start), C(--reverse-and-pause) and
    C(--truncate-and-restore) do by hand.
  - Reads the link's mirrors in one request and plans every listed topic from a table of the transitions the
    server allows before it changes anything. A topic that cannot reach the wanted state from its status fails
    the task at once, naming each such topic, its status and the states it can reach; nothing is changed then.
  - Topics already in the wanted state are left alone (C(ok)); batch actions are one request per O(batch_size)
    topics; then the module waits until every topic it acted on reached its final status.
  - Confluent answers a batch with HTTP 200 even when some topics failed; the module reads every per-topic
    result and fails the task naming each failed topic and the Confluent error. Later batches are then not sent.
  - "States and transitions (a topic's status on the left, the action the module takes for each O(state)):"
  - "V(present): absent -> create; any existing status -> ok."
  - "V(active): absent -> create; C(ACTIVE) -> ok; C(PAUSED) -> resume; C(PENDING_MIRROR), C(PENDING_SETUP_FOR_RESTORE),
    C(PENDING_RESTORE) -> wait for C(ACTIVE); any other status is refused."
  - "V(paused): C(ACTIVE), C(LINK_PAUSED) -> pause; C(PAUSED) -> ok; any other status is refused."
  - "V(promoted): C(ACTIVE), C(PAUSED), C(LINK_PAUSED) -> lag gate, then promote; C(PENDING_STOPPED) -> wait;
    C(STOPPED) -> ok; any other status is refused (C(FAILED), C(SOURCE_UNAVAILABLE), C(LINK_FAILED): use
    V(failed_over))."
  - "V(failed_over): C(ACTIVE), C(PAUSED), C(LINK_PAUSED), C(SOURCE_UNAVAILABLE), C(LINK_FAILED), C(FAILED),
    C(PENDING_MIRROR) -> failover; C(PENDING_STOPPED) -> wait; C(STOPPED) -> ok."
  - "V(reversed) and V(reversed_paused): C(ACTIVE) -> reverse-and-start-mirror or reverse-and-pause-mirror (a
    C(BIDIRECTIONAL) link without C(cluster.link.prefix) only); C(PENDING_SYNCHRONIZE), C(PENDING_STOPPED) -> wait;
    C(STOPPED) -> ok."
  - "V(restored): C(STOPPED), or a topic of the cluster that is not a mirror of the link -> truncate-and-restore (a
    C(BIDIRECTIONAL) link without prefix only; run it on the old primary after a failover);
    C(PENDING_SETUP_FOR_RESTORE), C(PENDING_RESTORE), C(PENDING_MIRROR) -> wait for C(ACTIVE); C(ACTIVE), C(PAUSED),
    C(LINK_PAUSED), C(SOURCE_UNAVAILABLE) -> ok (it mirrors already)."
  - "V(absent): any existing status -> delete the topic (needs O(allow_delete=true)); absent -> ok."
  - The server reports C(STOPPED) after a promote, a failover and a reverse alike, so a C(STOPPED) topic counts as
    V(promoted), V(failed_over), V(reversed) and V(reversed_paused).
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
      - Predicts exactly which topics would be created, resumed, paused, promoted, failed over, reversed, restored
        or deleted, and refuses what the real run would refuse, without waiting or calling any write.
      - With O(state=present) or O(state=active), a link that does not exist yet (one an earlier check-mode
        task would create) predicts that every listed mirror is created, with a warning.
  diff_mode:
    support: full
    details: Shows the status of each listed topic before and after (C(absent) for a topic that is not a mirror).
  idempotent:
    support: full
options:
  link_name:
    description:
      - The cluster link the mirror topics belong to.
      - A link name by Kafka's name rules (see O(linkops.cluster_linking.cluster_link#module:name)).
    type: str
    required: true
  topics:
    description:
      - The mirror topics. Each is a topic name, or a mapping with C(name), C(source_topic_name) and C(configs).
      - C(name) is the mirror topic's name. On a link with C(cluster.link.prefix) it is the prefix followed by the
        source topic name; give either the full name or only C(source_topic_name) and the module finds the mirror
        among the link's mirrors or builds the name from the prefix.
      - C(source_topic_name) is the topic on the source cluster. Without it the source name is the mirror name
        (minus the link's prefix).
      - C(configs) is a mapping of topic configs set when the mirror is created (for example C(retention.ms));
        it is not compared on existing mirrors, whose configs the link syncs from the source topic.
      - Names are checked as Kafka checks topic names before any request is sent.
    type: list
    elements: raw
    required: true
  state:
    description:
      - The state every listed topic is brought to; see the table in the description.
      - V(present) creates the mirrors that do not exist yet and accepts every existing mirror, whatever its
        status, stopped ones included; a re-run of a migration after its cutover uses it.
      - V(active) creates missing mirrors and resumes paused ones.
      - V(paused) pauses mirroring of each topic (C(mirrors:pause)); V(active) resumes it.
      - V(promoted) waits until every listed mirror has caught up (see O(max_lag)), promotes them in batches and
        waits until they are C(STOPPED). This is the planned migration path, with no data loss.
      - V(failed_over) stops the mirrors at once without a lag check (disaster recovery; records not yet
        mirrored are lost; RV(topics[].lag_at_cutover) says how many per topic) and waits until they are
        C(STOPPED).
      - V(reversed) runs reverse-and-start-mirror, on the cluster that holds the mirror of a C(BIDIRECTIONAL)
        link; the local topic becomes writable and the remote one an active mirror of it, after a final sync.
        V(reversed_paused) does the same but leaves the remote mirror paused.
      - V(restored) runs truncate-and-restore on the old primary after a failover (its topic is not a mirror of the
        link there, or a C(STOPPED) one). Its topic is truncated back to where the remote's stopped mirror ends
        (records written after the failover point are deleted; reported in RV(topics[].messages_truncated)) and
        becomes a mirror of the remote again.
      - V(absent) deletes the topic of each listed mirror (the REST API has no mirror delete) and waits until the
        mirrors are gone. It deletes data, so it needs O(allow_delete=true).
    type: str
    choices: [present, active, paused, promoted, failed_over, reversed, reversed_paused, restored, absent]
    default: active
  allow_delete:
    description:
      - Must be V(true) for O(state=absent) to delete topics. Without it the task fails, naming the topics it
        would delete, before deleting any.
      - A C(STOPPED) topic (promoted or failed over) is an ordinary writable topic that may hold records written
        since; it is deleted too.
    type: bool
    default: false
  batch_size:
    description:
      - Most topics per batch request (pause, resume, promote, failover, reverse, restore). Topics beyond it go
        in further requests; after a batch with a failed topic no further batch is sent.
    type: int
    default: 200
  parallel:
    description:
      - Most mirror creates in flight at once. The server has no batch create, so each new mirror is one request
        (one C(kafka-mirrors --create) with O(api=cli)); they are sent on up to this many threads. V(1) sends them one
        after the other.
      - After a create fails, no further create is started (those in flight finish); the task fails naming each
        failed topic with its error and the topics not sent.
      - For thousands of topics, C(auto.create.mirror.topics.enable) with topic filters on the link
        (M(linkops.cluster_linking.cluster_link)) is cheaper still - the link creates the mirrors itself.
    type: int
    default: 8
  max_lag:
    description:
      - Lag gate of O(state=promoted) in records. The module waits until every partition of every topic to
        promote lags by at most this much, then sends the promote. Confluent itself may refuse to promote a
        mirror that has not caught up; 0 (the default) is the no-data-loss cutover.
    type: int
    default: 0
  wait:
    description:
      - Wait until every topic the task acted on, and every topic already on its way, reached its final status
        (C(ACTIVE), C(PAUSED), C(STOPPED), or gone for O(state=absent)).
      - The lag gate of O(state=promoted) is always waited for.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the lag gate and for the final status before the task fails, naming the topics still
        waiting with their status and lag and the state transition errors the server reports for up to five of them.
    type: int
    default: 300
  wait_interval:
    description:
      - Seconds between two reads of the link's mirrors while waiting.
    type: float
    default: 2
notes:
  - "Cost in requests: reading the link's mirrors is one request however many topics are listed, so a run with
    nothing to do is one request; each poll while waiting is one more. The link's configs (C(link.mode),
    C(cluster.link.prefix)) are read once, only when a topic is created, when a topic is given by its source name
    only and is not a mirror yet, or for V(reversed), V(reversed_paused) and V(restored) when there is something
    to do. Creating is one request per new topic plus one list of the cluster's topics (V(restored) lists them too
    for a topic that is not a mirror yet); deleting is one request per topic; each batch action is one request per
    O(batch_size) topics. A wait that fails reads the state transition errors of at most five topics, one request
    each; a refused request reads the link's configs once to say which states are possible."
  - Before creating mirrors the module lists the cluster's topics once (C(GET /topics)); when a listed topic
    already exists there as a topic that is not a mirror of the link, the task fails before creating any.
  - A mirror is named like its source topic, or the link's prefix followed by the source topic name; the server
    does not rename topics, so the module refuses other names before creating anything.
  - A paused link (C(cluster.link.paused)) shows its mirrors as C(LINK_PAUSED); resume the link with
    M(linkops.cluster_linking.cluster_link), not with this module.
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
    topics:
      - orders.created
      - orders.paid
      - name: payments
        configs:
          retention.ms: 604800000

- name: Mirrors of a link with cluster.link.prefix "dc1." (named dc1.orders, dc1.payments)
  linkops.cluster_linking.mirror_topic:
    rest_url: https://dr-broker-1:8090/kafka
    link_name: dc1-to-dc2
    topics:
      - source_topic_name: orders
      - source_topic_name: payments

- name: Stop copying for a while
  linkops.cluster_linking.mirror_topic:
    rest_url: https://dest-broker-1:8090/kafka
    link_name: onprem-to-cloud
    topics: [orders.created, orders.paid]
    state: paused

- name: Cut over once every partition has caught up, 200 topics per request
  linkops.cluster_linking.mirror_topic:
    rest_url: https://dest-broker-1:8090/kafka
    rest_username: "{{ dest_rest_user }}"
    rest_password: "{{ dest_rest_password }}"
    link_name: onprem-to-cloud
    topics: "{{ migrate_topics }}"
    state: promoted
    max_lag: 0
    batch_size: 200
    wait_timeout: 900
  register: cutover

- name: Record what the cutover left behind (0 for a promote)
  ansible.builtin.debug:
    msg: "largest lag at cutover: {{ cutover.max_lag_at_cutover }}"

- name: The source is gone, stop mirroring now
  linkops.cluster_linking.mirror_topic:
    rest_url: https://dr-broker-1:8090/kafka
    rest_username: "{{ dr_rest_user }}"
    rest_password: "{{ dr_rest_password }}"
    link_name: dc1-to-dc2
    topics: "{{ dr_topics }}"
    state: failed_over

- name: Failback, step 1 on the old primary (bidirectional link), drop what was written after the failover
  linkops.cluster_linking.mirror_topic:
    rest_url: https://dc1-broker-1:8090/kafka
    link_name: dc1-dc2
    topics: "{{ dr_topics }}"
    state: restored
  register: restore

- name: Failback, step 2 on the old primary once caught up, writable here again and mirrored to the DR cluster
  linkops.cluster_linking.mirror_topic:
    rest_url: https://dc1-broker-1:8090/kafka
    link_name: dc1-dc2
    topics: "{{ dr_topics }}"
    state: reversed

- name: Remove mirrors and their topics
  linkops.cluster_linking.mirror_topic:
    rest_url: https://dest-broker-1:8090/kafka
    link_name: onprem-to-cloud
    topics: [orders.tmp]
    state: absent
    allow_delete: true
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
    link_name:
      description: The link.
      type: str
      sample: onprem-to-cloud
    status_before:
      description: Mirror status before the task; null when the topic was not a mirror of the link.
      type: str
      sample: ACTIVE
    status:
      description: Mirror status after the task (as before, in check mode); null when it is not a mirror (any more).
      type: str
      sample: STOPPED
    action:
      description:
        - What the task did to the topic (or would do, in check mode).
        - One of C(created), C(resumed), C(paused), C(promoted), C(failed_over), C(reversed), C(reversed_paused),
          C(restored), C(deleted), C(failed) or C(none).
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
    lag_at_cutover:
      description:
        - For a topic this task promoted or failed over, the largest partition lag when the server took the action
          (records the destination did not have, which a failover loses); null otherwise.
      type: int
      sample: 0
    messages_truncated:
      description: For a topic this task restored, how many records truncate-and-restore deleted; null otherwise.
      type: int
      sample: 12
    partition_level_truncation_data:
      description:
        - For a topic this task restored, per partition C(partition_id), C(offset_truncated_to) and
          C(messages_truncated); empty otherwise.
      type: list
      elements: dict
    state_transition_errors:
      description:
        - Only for a topic that did not reach its final status (at most five per task), the state transition
          errors the server reports for it, as C(CODE) colon message texts.
      returned: when a wait failed
      type: list
      elements: str
    num_partitions:
      description: Partition count of the mirror topic.
      type: int
      sample: 6
    mirror_topic_error:
      description: Topic-level error the server reports, C(NO_ERROR) when healthy.
      type: str
      sample: NO_ERROR
changed_topics:
  description: Names of the topics the task changed (or would change in check mode).
  returned: always
  type: list
  elements: str
  sample: [orders.created]
unlisted_mirror_count:
  description:
    - Number of the link's mirror topics, at the task's last read of them, that are not in O(topics) (mirrors created
      by C(auto.create.mirror.topics) or by hand). With 0, RV(topics) shows every mirror of the link, so a health gate
      can judge the link from this result (O(linkops.cluster_linking.cluster_link_info#module:reuse_mirror_result)).
  returned: always
  type: int
  sample: 0
max_lag_at_cutover:
  description: Largest RV(topics[].lag_at_cutover) of the task; null when it promoted or failed over nothing.
  returned: always
  type: int
  sample: 0
messages_truncated:
  description: Sum of RV(topics[].messages_truncated); null when the task restored nothing.
  returned: always
  type: int
  sample: 12
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

from ansible_collections.linkops.cluster_linking.plugins.module_utils._mirror_reconcile import (
    MirrorReconciler, parse_topics)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._mirror_states import WANTED_STATES
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import TaskFailure
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_options import (
    call_counts, connect, fail, rest_module)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._validate import check_mirror_topic, validate_module


def main():
    module = rest_module(dict(
        link_name=dict(type='str', required=True),
        topics=dict(type='list', elements='raw', required=True),
        state=dict(type='str', default='active', choices=list(WANTED_STATES)),
        allow_delete=dict(type='bool', default=False),
        batch_size=dict(type='int', default=200),
        parallel=dict(type='int', default=8),
        max_lag=dict(type='int', default=0),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=300),
        wait_interval=dict(type='float', default=2),
    ))
    p = module.params
    validate_module(module, check_mirror_topic)
    backend = connect(module)
    reconciler = MirrorReconciler(backend, p['link_name'], wait=p['wait'], wait_timeout=p['wait_timeout'],
                                  wait_interval=p['wait_interval'], max_lag=p['max_lag'],
                                  batch_size=p['batch_size'], allow_delete=p['allow_delete'],
                                  parallel=p['parallel'])
    try:
        outcome = reconciler.ensure(parse_topics(p['topics']), p['state'], module.check_mode)
    except TaskFailure as exc:
        fail(module, backend, exc)

    if reconciler.link_missing:
        if p['state'] == 'absent':
            module.warn('Link %s does not exist, so none of the listed topics is a mirror of it.' % p['link_name'])
        else:
            module.warn('Link %s does not exist yet; check mode predicts that every listed mirror is created.'
                        % p['link_name'])
    rows = outcome['topics']
    cutover = [r['lag_at_cutover'] for r in rows if r.get('lag_at_cutover') is not None]
    truncated = [r['messages_truncated'] for r in rows if r.get('messages_truncated') is not None]
    result = dict(changed=outcome['changed'], topics=rows,
                  changed_topics=[r['mirror_topic_name'] for r in rows if r['action'] != 'none'],
                  unlisted_mirror_count=len(set(reconciler.mirrors) - set(r['mirror_topic_name'] for r in rows)),
                  max_lag_at_cutover=max(cutover) if cutover else None,
                  messages_truncated=sum(truncated) if truncated else None)
    if module._diff:
        result['diff'] = outcome['diff']
    result.update(call_counts(backend))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
