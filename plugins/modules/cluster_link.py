#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: cluster_link
short_description: Create, change and delete a Confluent cluster link
version_added: 0.1.0
description:
  - Manages one cluster link on the cluster that holds it (the destination of a destination-initiated
    link) through Kafka REST v3, as C(kafka-cluster-links --create) and C(kafka-configs --cluster-link) do by hand.
  - Creates the link when it is absent, changes only the configs that differ, and deletes it.
  - Topic filters and consumer group filters are given as YAML lists and stored as the JSON documents
    Confluent expects in C(auto.create.mirror.topics.filters) and C(consumer.offset.group.filters).
  - Secrets (O(source_sasl_password), O(source_sasl_jaas_config), sensitive keys in O(configs)) never
    appear in results, diffs or logs. The server reads them back as null, so they cannot be compared;
    see O(update_password).
author:
  - linkops maintainers (@linkops)
extends_documentation_fragment:
  - linkops.cluster_linking._rest
  - linkops.cluster_linking._rest.ACTIONGROUP
  - linkops.cluster_linking._attributes
attributes:
  check_mode:
    support: full
    details: Predicts exactly which configs would be set, and whether the link would be created or deleted.
  diff_mode:
    support: full
    details: Shows the link's source cluster and non-secret configs before and after; secrets only by name.
  idempotent:
    support: partial
    details: Not idempotent with O(update_password=always) when secrets are given, since they are sent every run.
options:
  name:
    description:
      - Name of the cluster link. The link name is part of its identity and cannot be changed.
    type: str
    required: true
    aliases: [link_name]
  state:
    description:
      - V(present) creates the link or brings its configs in line; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  source_cluster_id:
    description:
      - ID of the source cluster the link reads from. Required to create the link.
      - The server checks it against the cluster found at O(source_bootstrap_servers).
      - It cannot be changed on an existing link; a different value fails the task.
    type: str
  source_bootstrap_servers:
    description:
      - Bootstrap servers of the source cluster, stored as link config C(bootstrap.servers).
      - Required to create the link, unless given as C(bootstrap.servers) in O(configs).
    type: str
  source_security_protocol:
    description:
      - How the link connects to the source cluster (link config C(security.protocol)).
    type: str
    choices: [PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL]
  source_sasl_mechanism:
    description:
      - SASL mechanism of the link's connection to the source (link config C(sasl.mechanism)).
    type: str
    choices: [PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, GSSAPI]
  source_sasl_username:
    description:
      - User (or API key) for SASL PLAIN or SCRAM; with O(source_sasl_password) the module writes the
        C(sasl.jaas.config) line, escaped.
    type: str
  source_sasl_password:
    description:
      - Password (or API secret) of O(source_sasl_username). Never shown.
    type: str
  source_sasl_jaas_config:
    description:
      - A complete C(sasl.jaas.config) line, for mechanisms the module does not write itself. Never shown.
    type: str
  configs:
    description:
      - Other link configs, for example C(consumer.offset.sync.ms) or C(topic.config.sync.ms).
      - Values may be strings, numbers or booleans (written as V(true)/V(false)).
      - Only the keys given are managed; configs set on the link but not listed here are left as they are.
      - The server refuses names it does not know, and the task then fails naming them.
    type: dict
    default: {}
  topic_filters:
    description:
      - Which source topics get mirror topics created automatically (link config
        C(auto.create.mirror.topics.filters)).
      - A non-empty list also sets C(auto.create.mirror.topics.enable=true) unless O(configs) says otherwise.
      - An empty list stores an empty filter document. Omit the option to leave the filters as they are.
    type: list
    elements: dict
    suboptions:
      name:
        description: Topic name, name prefix, or V(*) with O(topic_filters[].pattern_type=LITERAL) for all topics.
        type: str
        required: true
      pattern_type:
        description: V(LITERAL) matches the name exactly, V(PREFIXED) matches names that start with it. Any case.
        type: str
        default: LITERAL
        aliases: [patternType]
      filter_type:
        description: V(INCLUDE) or V(EXCLUDE). A topic is mirrored when an include matches and no exclude does.
        type: str
        default: INCLUDE
        aliases: [filterType]
  consumer_group_filters:
    description:
      - Which consumer groups get their committed offsets synced to the destination (link config
        C(consumer.offset.group.filters)).
      - A non-empty list also sets C(consumer.offset.sync.enable=true) unless O(configs) says otherwise.
    type: list
    elements: dict
    suboptions:
      name:
        description: Group name, name prefix, or V(*) with O(consumer_group_filters[].pattern_type=LITERAL) for all groups.
        type: str
        required: true
      pattern_type:
        description: V(LITERAL) or V(PREFIXED). Any case.
        type: str
        default: LITERAL
        aliases: [patternType]
      filter_type:
        description: V(INCLUDE) or V(EXCLUDE).
        type: str
        default: INCLUDE
        aliases: [filterType]
  update_password:
    description:
      - V(on_create) sends secrets only when the link is created, so a second run is not changed.
      - V(always) sends them on every run (to rotate credentials); the task then always reports changed.
    type: str
    choices: [always, on_create]
    default: on_create
  force:
    description:
      - With O(state=absent), delete the link even though it still has mirror topics.
    type: bool
    default: false
notes:
  - Reading the link costs two requests (link with its tasks, and configs) however many mirrors it has.
  - Confluent accepts a link whose sync tasks cannot work, for example offset sync enabled without group
    filters. After creating a link the module reads its tasks and fails, naming each task C(IN_ERROR) and its
    error; the link then exists and the task reports changed.
  - Configs are changed in one atomic C(PUT configs:alter) request.
seealso:
  - module: linkops.cluster_linking.mirror_topic
  - name: Cluster Linking commands (Confluent Platform)
    description: The CLI tools this module replaces.
    link: https://docs.confluent.io/platform/current/multi-dc-deployments/cluster-linking/commands.html
'''

EXAMPLES = r'''
- name: Link the on-prem cluster to the new one, mirroring orders.* and syncing the app's offsets
  linkops.cluster_linking.cluster_link:
    rest_url: https://dest-broker-1:8090/kafka
    rest_username: "{{ dest_rest_user }}"
    rest_password: "{{ dest_rest_password }}"
    name: onprem-to-cloud
    source_cluster_id: 4k0R9d1GTS27MxEoOTTJCQ
    source_bootstrap_servers: onprem-1:9093,onprem-2:9093
    source_security_protocol: SASL_SSL
    source_sasl_mechanism: PLAIN
    source_sasl_username: link-user
    source_sasl_password: "{{ vault_link_password }}"
    topic_filters:
      - name: orders.
        pattern_type: PREFIXED
    consumer_group_filters:
      - name: orders-app
    configs:
      consumer.offset.sync.ms: 10000

- name: Set the connection options once for every module of the collection
  module_defaults:
    group/linkops.cluster_linking.cluster_linking:
      rest_url: https://dest-broker-1:8090/kafka
      rest_username: "{{ dest_rest_user }}"
      rest_password: "{{ dest_rest_password }}"
  block:
    - name: Delete the link after the migration, even if stopped mirrors still reference it
      linkops.cluster_linking.cluster_link:
        name: onprem-to-cloud
        state: absent
        force: true
'''

RETURN = r'''
link:
  description: The link after the task (predicted in check mode); empty after deletion.
  returned: always
  type: dict
  contains:
    link_name:
      description: Name of the link.
      type: str
      sample: onprem-to-cloud
    cluster_link_id:
      description: ID the server gave the link.
      type: str
      sample: eEBkTffYSESld6EO898x3w
    source_cluster_id:
      description: Cluster the link reads from.
      type: str
      sample: 4k0R9d1GTS27MxEoOTTJCQ
    link_state:
      description: C(ACTIVE), C(UNAVAILABLE), C(FAILED), C(PAUSED) or another state the server reports.
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
      description: Mirror topics of the link.
      type: list
      elements: str
      sample: [orders.created]
    configs:
      description: Configs set on the link (not defaults), without secrets; filter documents as data.
      type: dict
      sample: {"bootstrap.servers": "onprem-1:9093", "consumer.offset.sync.enable": "true"}
    tasks:
      description:
        - The link's background tasks (C(AclSync), C(AutoCreateMirror), C(ConsumerOffsetSync), C(TopicConfigsSync))
          with C(task_name), C(state) and C(errors), where the server reports them.
        - A task C(IN_ERROR) right after the link is created fails the task; on an existing link it is a warning.
      type: list
      elements: dict
      sample: [{"task_name": "ConsumerOffsetSync", "state": "ACTIVE", "errors": []}]
    secrets_set:
      description: Names of the secret configs set on the link; their values are never returned.
      type: list
      elements: str
      sample: [sasl.jaas.config]
configs_set:
  description: Names of the configs the task set (or would set in check mode).
  returned: success
  type: list
  elements: str
  sample: [consumer.offset.sync.ms]
rest_requests:
  description: Number of HTTP requests the task sent.
  returned: always
  type: int
  sample: 2
'''

from ansible_collections.linkops.cluster_linking.plugins.module_utils._filters import FILTER_ENTRY_SPEC
from ansible_collections.linkops.cluster_linking.plugins.module_utils._link_configs import is_sensitive
from ansible_collections.linkops.cluster_linking.plugins.module_utils._link_reconcile import reconcile
from ansible_collections.linkops.cluster_linking.plugins.module_utils._links import tasks_in_error
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import TaskFailure
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_options import connect, fail, rest_module


def main():
    module = rest_module(dict(
        name=dict(type='str', required=True, aliases=['link_name']),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        source_cluster_id=dict(type='str'),
        source_bootstrap_servers=dict(type='str'),
        source_security_protocol=dict(type='str', choices=['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']),
        source_sasl_mechanism=dict(type='str', choices=['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER', 'GSSAPI']),
        source_sasl_username=dict(type='str'),
        source_sasl_password=dict(type='str', no_log=True),
        source_sasl_jaas_config=dict(type='str', no_log=True),
        configs=dict(type='dict', default={}),
        topic_filters=dict(type='list', elements='dict', options=FILTER_ENTRY_SPEC),
        consumer_group_filters=dict(type='list', elements='dict', options=FILTER_ENTRY_SPEC),
        update_password=dict(type='str', default='on_create', choices=['always', 'on_create'], no_log=False),
        force=dict(type='bool', default=False),
    ), mutually_exclusive=[('source_sasl_jaas_config', 'source_sasl_username')],
        required_together=[('source_sasl_username', 'source_sasl_password')])
    # Secret-looking keys of the free-form configs dict are masked like no_log options.
    for key, value in module.params['configs'].items():
        if is_sensitive(key) and value:
            module.no_log_values.add(str(value))

    backend = connect(module)
    try:
        result = reconcile(backend, module.params, module.check_mode)
    except TaskFailure as exc:
        fail(module, backend, exc)
    for task in tasks_in_error(result['link']):
        module.warn('Task %s of link %s is IN_ERROR.' % (task, module.params['name']))
    before, after = result.pop('before'), result.pop('after')
    if module._diff:
        result['diff'] = {'before': before, 'after': after}
    result['rest_requests'] = backend.call_count
    module.exit_json(**result)


if __name__ == '__main__':
    main()
