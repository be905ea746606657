#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: cluster_link_info
short_description: Read the cluster links of a cluster, their mode, state, configs, tasks and mirrors
version_added: 1.0.0
description:
  - Returns the cluster links on the cluster (all of them, or those named in O(names)) with their mode, remote
    cluster, state and error, the configs set on them, their background tasks, and their mirror topics with
    status and per-partition lag, like C(kafka-cluster-links --describe) and C(kafka-mirrors --describe) together.
  - The number of requests does not depend on the number of mirror topics, see the notes.
  - Made for C(until:) loops, for example to wait until a new link is C(ACTIVE) and none of its tasks is
    C(IN_ERROR), or until every mirror has caught up.
  - Secret configs are never returned, only their names (RV(links[].secrets_set)).
author:
  - linkops maintainers (@linkops)
extends_documentation_fragment:
  - linkops.cluster_linking._rest
  - linkops.cluster_linking._rest.ACTIONGROUP
  - linkops.cluster_linking._attributes.INFO_MODULE
options:
  names:
    description:
      - Only report these links. Names that are not links of the cluster appear in RV(missing).
      - All links of the cluster when omitted.
      - Each a link name by Kafka's name rules (see O(linkops.cluster_linking.cluster_link#module:name)); a mapping
        or a list given as a name fails the task.
    type: list
    elements: str
    aliases: [link_names]
  include_tasks:
    description:
      - Read each link's background tasks (C(AclSync), C(AutoCreateMirror), C(ConsumerOffsetSync),
        C(TopicConfigsSync)) and report those C(IN_ERROR) in RV(tasks_in_error). Costs one request per link.
    type: bool
    default: true
  include_mirrors:
    description:
      - Read the mirror topics of the links, with per-partition lag. Costs one request for all links together.
    type: bool
    default: true
  include_configs:
    description:
      - Read each link's configs (RV(links[].configs), RV(links[].secrets_set)). Costs one request per link.
      - V(false) leaves both out of the result; a health gate does not need them.
    type: bool
    default: true
  health_topics:
    description:
      - Mirror topics each reported link must have; a missing one makes RV(health) not ok.
      - Needs O(include_mirrors=true).
    type: list
    elements: str
    default: []
  health_max_lag:
    description:
      - Largest partition lag, in records, that a mirror not C(STOPPED) may have for RV(health) to be ok.
      - Omitted, lag does not count for RV(health) (RV(health.max_lag) still reports it).
    type: int
  wait_healthy:
    description:
      - Read again every O(wait_interval) seconds until RV(health.ok) is true, printing one progress line per try on
        the controller (the link, the mirrors not ready yet, the largest lag, the time left).
      - The task fails at once when a link is C(FAILED) or C(PAUSED) or a mirror C(FAILED) or C(LINK_FAILED) (none
        recovers by itself), when a link stays C(UNAVAILABLE) or a mirror C(SOURCE_UNAVAILABLE) for
        O(unavailable_grace) seconds, and after O(wait_timeout) seconds. The result of the last read is returned
        with the failure.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds O(wait_healthy) waits at most.
    type: int
    default: 600
  wait_interval:
    description:
      - Seconds between two reads of O(wait_healthy).
    type: float
    default: 5
  unavailable_grace:
    description:
      - Seconds O(wait_healthy) waits for a link that is C(UNAVAILABLE) or a mirror that is C(SOURCE_UNAVAILABLE)
        (the remote cluster cannot be reached) before it fails, rather than the whole O(wait_timeout).
    type: int
    default: 60
  reuse_link_result:
    description:
      - The registered result of a M(linkops.cluster_linking.cluster_link) task of this run for the one link in
        O(names). With O(reuse_mirror_result), the first health check uses them and sends no request when
        they show the link healthy (RV(reused) is then true and RV(links) empty).
      - Not used when either task was skipped or failed, or when the link has mirror topics the
        M(linkops.cluster_linking.mirror_topic) task was not given (RV(linkops.cluster_linking.mirror_topic#module:unlisted_mirror_count)).
      - Pass results of a real run only, not of check mode (they predict, the link may not exist).
    type: dict
  reuse_mirror_result:
    description:
      - The registered result of a M(linkops.cluster_linking.mirror_topic) task of this run for the same link; see
        O(reuse_link_result).
    type: dict
  include_default_configs:
    description:
      - V(false) returns in RV(links[].configs) only the configs set on the link; V(true) returns every config,
        defaults included.
      - With O(api=cli) only the configs set on the link can be read (C(kafka-configs --describe) prints no
        defaults); the module then warns.
    type: bool
    default: false
notes:
  - "Requests sent (O(api=rest)) for links named in O(names): per link 1 (the link, with its tasks when
    O(include_tasks=true)), 1 for its configs with O(include_configs=true), and 1 for its mirrors with their lag with
    O(include_mirrors=true), however many mirror topics it or the other links of the cluster have. So a health check
    with O(include_configs=false) is 2 requests per try."
  - "Without O(names): 1 (the list of links), N (their configs, with N the number of links), N more with
    O(include_tasks=true), and 1 with O(include_mirrors=true) (every mirror of every link)."
  - RV(health) is computed once in the module; assert on RV(health.ok) rather than templating over RV(links[].mirrors),
    which Ansible would render again at every reference.
seealso:
  - module: linkops.cluster_linking.cluster_link
  - module: linkops.cluster_linking.mirror_topic_info
'''

EXAMPLES = r'''
- name: Every link of the destination cluster with its mirrors
  linkops.cluster_linking.cluster_link_info:
    rest_url: https://dest-broker-1:8090/kafka
    rest_username: "{{ dest_rest_user }}"
    rest_password: "{{ dest_rest_password }}"
  register: links

- name: Wait until the new link is up and none of its tasks is in error
  linkops.cluster_linking.cluster_link_info:
    rest_url: https://dest-broker-1:8090/kafka
    rest_username: "{{ dest_rest_user }}"
    rest_password: "{{ dest_rest_password }}"
    names: [onprem-to-cloud]
    include_mirrors: false
  register: link
  until: link.all_active and link.tasks_in_error | length == 0
  retries: 30
  delay: 2

- name: Wait until every mirror of the link has caught up
  linkops.cluster_linking.cluster_link_info:
    rest_url: https://dest-broker-1:8090/kafka
    names: [onprem-to-cloud]
    include_tasks: false
  register: link
  until: link.all_mirrors_active and link.max_lag == 0
  retries: 60
  delay: 5

- name: Health gate of one link, its mirrors caught up within 1000 records (one progress line per try)
  linkops.cluster_linking.cluster_link_info:
    rest_url: https://dest-broker-1:8090/kafka
    names: [onprem-to-cloud]
    include_configs: false
    health_topics: [orders.created, orders.paid]
    health_max_lag: 1000
    wait_healthy: true
    wait_timeout: 600
    unavailable_grace: 60
  register: gate

- name: Show the mode and remote cluster of each link
  ansible.builtin.debug:
    msg: "{{ item.link_name }}: {{ item.link_mode }}/{{ item.connection_mode }} with {{ item.remote_cluster_id }}"
  loop: "{{ links.links }}"
  loop_control:
    label: "{{ item.link_name }}"
'''

RETURN = r'''
links:
  description: The links, sorted by name (in the order of O(names) when given).
  returned: always
  type: list
  elements: dict
  contains:
    link_name:
      description: Name of the link.
      type: str
      sample: onprem-to-cloud
    cluster_link_id:
      description: ID the server gave the link (the same on both sides of a link).
      type: str
      sample: eEBkTffYSESld6EO898x3w
    link_mode:
      description: C(DESTINATION), C(SOURCE) or C(BIDIRECTIONAL).
      type: str
      sample: DESTINATION
    connection_mode:
      description: C(OUTBOUND) or C(INBOUND).
      type: str
      sample: OUTBOUND
    remote_cluster_id:
      description: ID of the cluster at the other end, whichever field the server reports it in.
      type: str
      sample: 4k0R9d1GTS27MxEoOTTJCQ
    source_cluster_id:
      description: The field as the server reports it (set for DESTINATION links).
      type: str
    destination_cluster_id:
      description: The field as the server reports it (set for SOURCE links).
      type: str
    prefix:
      description: The link's C(cluster.link.prefix), or null.
      type: str
    link_state:
      description: C(ACTIVE), C(PAUSED), C(UNAVAILABLE), C(FAILED) or another state the server reports.
      type: str
      sample: ACTIVE
    link_error:
      description: Error of the link, C(NO_ERROR) when healthy.
      type: str
      sample: NO_ERROR
    link_error_message:
      description: Text of the link error, if any.
      type: str
    topic_names:
      description: Mirror topics of the link, as the link reports them.
      type: list
      elements: str
    configs:
      description: Configs set on the link (all configs with O(include_default_configs=true)), without secrets;
        filter documents as data.
      type: dict
      sample: {"bootstrap.servers": "onprem-1:9093", "consumer.offset.sync.enable": "true"}
    secrets_set:
      description: Names of the secret configs set on the link; their values are never returned.
      type: list
      elements: str
      sample: [sasl.jaas.config]
    tasks:
      description: The link's tasks with C(task_name), C(state) and C(errors) (empty with O(include_tasks=false)).
      type: list
      elements: dict
    tasks_in_error:
      description: "C(Task (CODE: message)) texts of the tasks C(IN_ERROR)."
      type: list
      elements: str
    mirrors:
      description: The link's mirror topics, sorted by name, as RV(linkops.cluster_linking.mirror_topic_info#module:mirrors)
        returns them (status, C(max_lag), C(total_lag), per-partition C(mirror_lags)); empty with O(include_mirrors=false).
      type: list
      elements: dict
    mirror_count:
      description: Number of mirror topics reported.
      type: int
    max_lag:
      description: Largest partition lag over the link's mirrors (0 when there are none).
      type: int
    total_lag:
      description: Sum of the partition lags of the link's mirrors.
      type: int
    status_counts:
      description: Number of the link's mirrors per status.
      type: dict
      sample: {"ACTIVE": 3}
    all_mirrors_active:
      description: True when the link has at least one mirror and all are C(ACTIVE).
      type: bool
    health:
      description: The health of this link, as RV(health) describes it.
      type: dict
missing:
  description: Names in O(names) that are not links of the cluster.
  returned: always
  type: list
  elements: str
exists:
  description: True when at least one link is reported and none of O(names) is missing.
  returned: always
  type: bool
all_active:
  description: True when at least one link is reported, none is missing, and every reported link is C(ACTIVE).
  returned: always
  type: bool
all_mirrors_active:
  description: True when the reported links have at least one mirror and all are C(ACTIVE).
  returned: always
  type: bool
tasks_in_error:
  description: "C(link: Task (CODE: message)) for each task C(IN_ERROR) of the reported links."
  returned: always
  type: list
  elements: str
max_lag:
  description: Largest partition lag over every reported mirror (0 when there are none).
  returned: always
  type: int
  sample: 0
status_counts:
  description: Number of reported mirrors per status, over all reported links.
  returned: always
  type: dict
  sample: {"ACTIVE": 12, "STOPPED": 3}
health:
  description:
    - Health of the reported links (and the names in RV(missing)), computed once in the module.
    - A link is healthy when it is C(ACTIVE), none of its tasks is C(IN_ERROR), every mirror is C(ACTIVE) or C(STOPPED),
      every name in O(health_topics) is a mirror of it, and (with O(health_max_lag)) no mirror that is not C(STOPPED) lags
      by more.
  returned: always
  type: dict
  contains:
    ok:
      description: True when at least one link is reported and every one is healthy.
      type: bool
    reasons:
      description: Why not, one text per problem (at most ten topic names each, the rest counted); prefixed with the
        link name when more than one link is reported.
      type: list
      elements: str
      sample: ["2 mirrors are PAUSED: orders, payments", "lag above 1000: clicks max lag 5120"]
    max_lag:
      description: Largest partition lag over the mirrors that are not C(STOPPED).
      type: int
    status_counts:
      description: Number of mirrors per status.
      type: dict
      sample: {"ACTIVE": 498, "PAUSED": 2}
    mirror_count:
      description: Number of mirrors.
      type: int
    not_ready:
      description: Up to ten mirror topics not ready yet (missing, not C(ACTIVE) or C(STOPPED), or lagging).
      type: list
      elements: str
    not_ready_count:
      description: Number of mirror topics not ready yet.
      type: int
    failed:
      description: Links C(FAILED) or C(PAUSED) and mirrors C(FAILED) or C(LINK_FAILED); they do not recover by waiting.
      type: list
      elements: str
    unavailable:
      description: Links C(UNAVAILABLE) and mirrors C(SOURCE_UNAVAILABLE) (the remote cannot be reached).
      type: list
      elements: str
    summary:
      description: 'One line, for example C(link ACTIVE, 500 mirrors {"ACTIVE": 500}, max lag 0).'
      type: str
reused:
  description: True when RV(health) was taken from O(reuse_link_result) and O(reuse_mirror_result) without a request.
  returned: always
  type: bool
rest_requests:
  description: Number of HTTP requests the task sent (O(api=rest)).
  returned: when O(api=rest)
  type: int
  sample: 4
cli_commands:
  description: Number of CP tool commands the task ran (O(api=cli)).
  returned: when O(api=cli)
  type: int
  sample: 4
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

from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import TaskFailure
from ansible_collections.linkops.cluster_linking.plugins.module_utils._link_health import (
    reused_health, reused_result, verdict_message, wait_for_health)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._link_info import read_links
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_options import call_counts, connect, fail, rest_module
from ansible_collections.linkops.cluster_linking.plugins.module_utils._validate import check_cluster_link_info, validate_module


def main():
    module = rest_module(dict(
        names=dict(type='list', elements='str', aliases=['link_names']),
        include_tasks=dict(type='bool', default=True),
        include_mirrors=dict(type='bool', default=True),
        include_configs=dict(type='bool', default=True),
        include_default_configs=dict(type='bool', default=False),
        health_topics=dict(type='list', elements='str', default=[]),
        health_max_lag=dict(type='int'),
        wait_healthy=dict(type='bool', default=False),
        wait_timeout=dict(type='int', default=600),
        wait_interval=dict(type='float', default=5),
        unavailable_grace=dict(type='int', default=60),
        reuse_link_result=dict(type='dict'),
        reuse_mirror_result=dict(type='dict'),
    ))
    validate_module(module, check_cluster_link_info)
    backend = connect(module)
    p = module.params
    if p['include_default_configs'] and backend.name == 'cli':
        module.warn('include_default_configs: the CP tools print only the configs set on a link, so with api=cli '
                    'the defaults are not returned.')
    reused = reused_health(p)
    if reused is not None:
        module.exit_json(changed=False, **reused_result(reused, call_counts(backend)))

    def read():
        try:
            result = read_links(backend, names=p['names'], include_tasks=p['include_tasks'],
                                include_mirrors=p['include_mirrors'], include_configs=p['include_configs'],
                                include_default_configs=p['include_default_configs'],
                                health_topics=p['health_topics'], health_max_lag=p['health_max_lag'])
        except TaskFailure as exc:
            fail(module, backend, exc)
        result.update(call_counts(backend), reused=False)
        return result

    if not p['wait_healthy']:
        module.exit_json(changed=False, **read())
    result, verdict = wait_for_health(read, p['wait_timeout'], p['wait_interval'], p['unavailable_grace'])
    if verdict != 'ok':
        result['msg'] = verdict_message(', '.join(p['names'] or ['(all)']), result['health'], verdict,
                                        p['wait_timeout'], p['unavailable_grace'])
        module.fail_json(changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
