#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: link_filters
short_description: Build, validate and write the topic, consumer group and ACL filter files of a cluster link
version_added: 1.0.0
description:
  - Builds the three filter documents of a Confluent cluster link from plain YAML lists and validates them with the
    rules Confluent Server applies, so a mistake fails here, naming the option, the entry and the fix, instead of
    in C(kafka-cluster-links --create) or in a link task that is silently C(IN_ERROR).
  - Topic filters become C({"topicFilters":[...]}) (link config C(auto.create.mirror.topics.filters)), consumer
    group filters C({"groupFilters":[...]}) (C(consumer.offset.group.filters)) and ACL filters
    C({"aclFilters":[...]}) (C(acl.filters)), with the field names and values of the Confluent documentation.
  - Writes each document as the JSON file the Confluent Platform tools read (C(kafka-cluster-links --create
    --topic-filters-json-file ... --consumer-group-filters-json-file ... --acl-filters-json-file ...)), and returns
    the documents and the exact JSON strings for the link configs, for example to pass to
    M(linkops.cluster_linking.cluster_link) O(linkops.cluster_linking.cluster_link#module:configs).
  - A file is rewritten only when its content differs from the document (compared as JSON, so formatting and key
    order do not matter) and its attributes only when O(mode), O(owner) or O(group) differ. Files are replaced
    atomically.
  - With O(source_bootstrap_servers), previews on the source cluster which topics, consumer groups and ACLs the
    filters select, with one AdminClient call for each (confluent-kafka). The preview only reads and also runs in
    check mode.
  - This module does not talk to Kafka REST, so it takes none of the REST connection options and is not in the
    C(linkops.cluster_linking.cluster_linking) action group.
author:
  - linkops maintainers (@linkops)
requirements:
  - confluent-kafka >= 2.3.0 (Python), only for the preview (O(source_bootstrap_servers))
extends_documentation_fragment:
  - ansible.builtin.files
  - linkops.cluster_linking._attributes
  - linkops.cluster_linking._filters.topic_filters
  - linkops.cluster_linking._filters.consumer_group_filters
  - linkops.cluster_linking._filters.acl_filters
attributes:
  check_mode:
    support: full
    details:
      - Predicts exactly which files would be created or changed, writes nothing. The preview runs.
  diff_mode:
    support: full
    details:
      - Shows each file's text before and after, and its mode, owner and group when they change.
  idempotent:
    support: full
options:
  topic_filters:
    description:
      - Which source topics the link mirrors automatically (link config C(auto.create.mirror.topics.filters), tool
        option C(--topic-filters-json-file)).
      - The same entries as O(linkops.cluster_linking.cluster_link#module:topic_filters).
      - A topic is selected when an V(INCLUDE) entry matches it and no V(EXCLUDE) entry does.
      - Omit the option to leave the topic filter file alone.
  consumer_group_filters:
    description:
      - Which consumer groups get their committed offsets synced (link config C(consumer.offset.group.filters),
        tool option C(--consumer-group-filters-json-file)).
      - The same entries as O(linkops.cluster_linking.cluster_link#module:consumer_group_filters).
      - Omit the option to leave the consumer group filter file alone.
  acl_filters:
    description:
      - Which source ACLs the link syncs (link config C(acl.filters), tool option C(--acl-filters-json-file)).
      - Each entry is a Kafka ACL binding filter. O(acl_filters[].resource_type), O(acl_filters[].pattern_type),
        O(acl_filters[].operation) and O(acl_filters[].permission_type) are required; O(acl_filters[].resource_name),
        O(acl_filters[].principal) and O(acl_filters[].host) are optional and, when left out, match anything.
      - Values are checked as Kafka's C(SecurityUtils) reads them, in any case, but underscores are not removed, so
        V(describeConfigs), V(DescribeConfigs) and V(DESCRIBECONFIGS) are accepted and V(describe_configs) is refused
        with a message naming the right spelling. The documents are written in the documentation's spelling
        (V(describeConfigs), V(transactionalId), V(prefixed)).
      - To sync every ACL, use one entry with V(any) for the four required fields.
      - Confluent refuses an empty list. Omit the option to leave the ACL filter file alone.
      - Do not let a filter select ACLs that exist only on the destination; the sync deletes ACLs that match the
        filters but are absent on the source.
  dest:
    description:
      - Directory to write the filter files to, with the standard names C(topic-filters.json),
        C(consumer-group-filters.json) and C(acl-filters.json). Only the documents whose option is given are written.
      - The directory must exist.
      - Without O(dest) and without the C(*_path) options nothing is written; the module then only validates,
        returns the documents and previews.
    type: path
  topic_filters_path:
    description:
      - File for the topic filters, instead of C(topic-filters.json) in O(dest). Needs O(topic_filters).
    type: path
  consumer_group_filters_path:
    description:
      - File for the consumer group filters, instead of C(consumer-group-filters.json) in O(dest).
        Needs O(consumer_group_filters).
    type: path
  acl_filters_path:
    description:
      - File for the ACL filters, instead of C(acl-filters.json) in O(dest). Needs O(acl_filters).
    type: path
  source_bootstrap_servers:
    description:
      - Bootstrap servers of the source cluster, as C(host:port[,host:port...]) (an IPv6 address as
        C([address]:port)). When given, the module previews what the filters select there; see RV(preview).
    type: str
  source_client_config:
    description:
      - Extra librdkafka settings for the preview client, for example C(security.protocol), C(sasl.mechanism),
        C(sasl.username), C(sasl.password), C(ssl.ca.location); the same as
        O(linkops.cluster_linking.migration_verify#module:source_client_config).
      - Values of secret-like keys (names containing C(password), C(secret), C(jaas), C(ssl.key.pem) or
        C(sasl.oauthbearer.config)) are masked in all module output.
      - Needs O(source_bootstrap_servers).
    type: dict
    default: {}
  timeout:
    description:
      - Timeout in seconds for each preview request to the source cluster; more than 0.
    type: int
    default: 30
notes:
  - The preview treats topics whose names start with C(_) as internal (Kafka's C(__consumer_offsets) and
    C(__transaction_state), Confluent's C(_confluent-*), Schema Registry's C(_schemas)) and never counts them in
    RV(preview.topics.matched); the internal topics the filters would select are listed separately in
    RV(preview.topics.internal_matched), so that the reach of a V(*) filter is visible. Kafka's own internal topics
    are never mirrored (the lab's auto-create skips names starting with C(__)); to keep the other C(_) topics out
    for sure, add an entry with name V(_), pattern type V(PREFIXED) and filter type V(EXCLUDE).
  - The ACL preview needs an authorizer on the source cluster and permission to describe ACLs (C(DESCRIBE) on the
    cluster). A cluster without one (the lab brokers) answers C(SECURITY_DISABLED), but librdkafka drops that error
    and returns an empty list, as it does for a client that may not describe ACLs. So when no ACL is listed the
    module reads the broker config C(authorizer.class.name) (two more requests); when it is empty or not reported,
    RV(preview.acls.available) is V(false) and RV(preview.acls.message) says
    C(ACL preview unavailable) and C(the cluster has no authorizer). The task does not fail for that.
  - Relative paths are relative to the working directory of the module on the target host; give absolute paths.
seealso:
  - module: linkops.cluster_linking.cluster_link
  - name: Confluent Cluster Linking configuration
    description: The link configs that hold the filter documents.
    link: https://docs.confluent.io/platform/current/multi-dc-deployments/cluster-linking/configs.html
'''

EXAMPLES = r'''
- name: Write the three filter files for kafka-cluster-links --create
  linkops.cluster_linking.link_filters:
    dest: /etc/kafka/links/onprem-to-cloud
    mode: '0600'
    topic_filters:
      - {name: orders., pattern_type: prefixed}
      - {name: orders.tmp, pattern_type: prefixed, filter_type: exclude}
    consumer_group_filters:
      - {name: "*"}
    acl_filters:
      - resource_type: topic
        resource_name: orders.
        pattern_type: prefixed
        principal: User:orders-app
        host: "*"
        operation: read
        permission_type: allow
  register: filters

- name: Create the link with the files
  ansible.builtin.command:
    argv:
      - kafka-cluster-links
      - --bootstrap-server
      - dest-broker-1:9092
      - --command-config
      - /etc/kafka/links/onprem-to-cloud/admin.properties
      - --create
      - --link
      - onprem-to-cloud
      - --config-file
      - /etc/kafka/links/onprem-to-cloud/source.config
      - --topic-filters-json-file
      - "{{ filters.files.topic_filters.path }}"
      - --consumer-group-filters-json-file
      - "{{ filters.files.consumer_group_filters.path }}"
      - --acl-filters-json-file
      - "{{ filters.files.acl_filters.path }}"
  changed_when: true

- name: Validate ACL filters and put them into a link's configs with the cluster_link module
  linkops.cluster_linking.link_filters:
    acl_filters:
      - {resource_type: any, pattern_type: any, operation: any, permission_type: any}
  register: acl

- name: Use the JSON string as the acl.filters link config
  linkops.cluster_linking.cluster_link:
    rest_url: https://dest-broker-1:8090/kafka
    name: onprem-to-cloud
    configs:
      acl.sync.enable: true
      acl.filters: "{{ acl.link_configs['acl.filters'] }}"

- name: Preview what the filters select on the source, without writing anything
  linkops.cluster_linking.link_filters:
    topic_filters:
      - {name: "*"}
      - {name: orders.tmp, pattern_type: PREFIXED, filter_type: EXCLUDE}
    consumer_group_filters:
      - {name: orders-, pattern_type: PREFIXED}
    source_bootstrap_servers: onprem-kafka-1.example.com:9093
    source_client_config:
      security.protocol: SASL_SSL
      sasl.mechanism: SCRAM-SHA-512
      sasl.username: migrator
      sasl.password: "{{ vault_source_password }}"
  register: selected
  check_mode: true

- name: Show the topics that would be mirrored
  ansible.builtin.debug:
    var: selected.preview.topics.matched
'''

RETURN = r'''
documents:
  description:
    - The filter documents, by option name, for the filter options that were given.
  returned: always
  type: dict
  contains:
    topic_filters:
      description: The topic filter document.
      type: dict
      returned: when O(topic_filters) is given
      sample: {"topicFilters": [{"name": "orders.", "patternType": "PREFIXED", "filterType": "INCLUDE"}]}
    consumer_group_filters:
      description: The consumer group filter document.
      type: dict
      returned: when O(consumer_group_filters) is given
      sample: {"groupFilters": [{"name": "*", "patternType": "LITERAL", "filterType": "INCLUDE"}]}
    acl_filters:
      description: The ACL filter document.
      type: dict
      returned: when O(acl_filters) is given
      sample:
        aclFilters:
          - resourceFilter: {resourceType: topic, name: orders., patternType: prefixed}
            accessFilter: {principal: "User:orders-app", host: "*", operation: read, permissionType: allow}
link_configs:
  description:
    - The compact JSON strings to store in the link configs, by link config name, for the filter options that were
      given.
  returned: always
  type: dict
  sample:
    auto.create.mirror.topics.filters: '{"topicFilters":[{"name":"orders.","patternType":"PREFIXED","filterType":"INCLUDE"}]}'
    consumer.offset.group.filters: '{"groupFilters":[{"name":"*","patternType":"LITERAL","filterType":"INCLUDE"}]}'
    acl.filters: '{"aclFilters":[{"resourceFilter":{"resourceType":"any","patternType":"any"},"accessFilter":{"operation":"any","permissionType":"any"}}]}'
files:
  description:
    - The files written (or that would be written in check mode), by option name.
  returned: always
  type: dict
  contains:
    path:
      description: Absolute path of the file.
      type: str
      sample: /etc/kafka/links/onprem-to-cloud/topic-filters.json
    changed:
      description: Whether the file's content or attributes were (or would be) changed.
      type: bool
      sample: true
    content_changed:
      description: Whether the file's content was (or would be) written.
      type: bool
      sample: true
  sample:
    topic_filters: {path: /etc/kafka/links/onprem-to-cloud/topic-filters.json, changed: true, content_changed: true}
preview:
  description:
    - What the filters select on the source cluster. Lists are sorted.
  returned: when O(source_bootstrap_servers) is given
  type: dict
  contains:
    source_bootstrap_servers:
      description: The cluster that was read.
      type: str
      sample: onprem-kafka-1.example.com:9093
    topics:
      description: Topics, when O(topic_filters) is given.
      type: dict
      contains:
        matched:
          description: Topics that pass the filters, that is the topics the link would mirror.
          type: list
          elements: str
          sample: [orders.created, orders.paid]
        not_matched:
          description: Topics the filters leave out (internal topics are not listed).
          type: list
          elements: str
          sample: [payments]
        internal_matched:
          description: Internal topics (names starting with C(_)) that the filters would select; not in RV(preview.topics.matched).
          type: list
          elements: str
          sample: [_schemas]
        total:
          description: Number of topics on the source, internal ones included.
          type: int
          sample: 5
    consumer_groups:
      description: Consumer groups, when O(consumer_group_filters) is given.
      type: dict
      contains:
        matched:
          description: Groups whose offsets the link would sync.
          type: list
          elements: str
          sample: [orders-app]
        not_matched:
          description: Groups the filters leave out.
          type: list
          elements: str
          sample: [payments-app]
        total:
          description: Number of consumer groups on the source.
          type: int
          sample: 2
    acls:
      description: ACLs, when O(acl_filters) is given.
      type: dict
      contains:
        available:
          description: Whether the source's ACLs could be read.
          type: bool
          sample: false
        message:
          description:
            - Why the ACL preview is unavailable, or a note when an authorizer is configured but no ACL was listed;
              V(null) otherwise.
          type: str
          sample: "ACL preview unavailable: the cluster has no authorizer"
        matched:
          description: The ACL bindings the filters select, in the filter spelling.
          type: list
          elements: dict
          sample:
            - {resourceType: topic, name: orders., patternType: prefixed, principal: "User:orders-app", host: "*",
               operation: read, permissionType: allow}
        not_matched_count:
          description: Number of ACL bindings the filters leave out.
          type: int
          sample: 12
        total:
          description: Number of ACL bindings on the source.
          type: int
          sample: 13
'''

import json
import os
import tempfile
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.linkops.cluster_linking.plugins.module_utils._filters import (
    ACL_FILTER_ENTRY_SPEC,
    FILTER_ENTRY_SPEC,
    FILTER_KINDS,
    FilterError,
    acl_filter_document,
    canonical_json,
    documents_equal,
    group_filter_document,
    topic_filter_document,
)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._kafka_clients import (
    CONFLUENT_KAFKA_IMPORT_ERROR,
    HAS_CONFLUENT_KAFKA,
    secret_values,
)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._kafka_reads import ClusterError
from ansible_collections.linkops.cluster_linking.plugins.module_utils._filter_preview import SourcePreview, preview
from ansible_collections.linkops.cluster_linking.plugins.module_utils._validate import check_link_filters, validate_module

# option -> (filter kind, document builder, standard file name in dest)
DOCUMENTS = (
    ('topic_filters', 'topic', topic_filter_document, 'topic-filters.json'),
    ('consumer_group_filters', 'group', group_filter_document, 'consumer-group-filters.json'),
    ('acl_filters', 'acl', acl_filter_document, 'acl-filters.json'),
)


def file_text(document):
    """What a filter file holds: the document as indented JSON, one trailing newline."""
    return json.dumps(document, indent=2) + '\n'


def read_existing(module, path):
    """The current text of path, or None when it does not exist."""
    if os.path.isdir(path):
        module.fail_json(msg='%s is a directory; give a file path (or use dest for a directory).' % path)
    if not os.path.exists(path):
        return None
    try:
        with open(path, 'r') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot read %s: %s' % (path, to_native(exc)))


def write_atomically(module, path, text):
    directory = os.path.dirname(path)
    handle, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=directory)
    try:
        with os.fdopen(handle, 'w') as out:
            out.write(text)
        module.atomic_move(tmp, path, unsafe_writes=module.params['unsafe_writes'])
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def ensure_file(module, option, path, document):
    """Bring one file in line; returns (file result, list of diff dicts)."""
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    text = file_text(document)
    if not os.path.isdir(directory):
        if not module.check_mode:
            module.fail_json(msg='%s: directory %s does not exist; create it first.' % (option, directory))
        module.warn('%s: directory %s does not exist yet; the real run fails unless an earlier task creates it.'
                    % (option, directory))
    current = read_existing(module, path)
    content_changed = current is None or not documents_equal(current, document)
    diffs = []
    if content_changed:
        diffs.append({'before_header': path, 'after_header': path,
                      'before': current if current is not None else '', 'after': text})
        if not module.check_mode:
            try:
                write_atomically(module, path, text)
            except (IOError, OSError) as exc:
                module.fail_json(msg='%s: cannot write %s: %s' % (option, path, to_native(exc)))
    attributes = {'before_header': '%s (attributes)' % path, 'after_header': '%s (attributes)' % path}
    file_args = module.load_file_common_arguments(module.params, path=path)
    attributes_changed = module.set_fs_attributes_if_different(file_args, False, diff=attributes)
    # a new file's attributes are not shown: check mode cannot read them, and the text diff says it is new
    if current is not None and ('before' in attributes or 'after' in attributes):
        diffs.append(attributes)
    return {'path': path, 'changed': bool(content_changed or attributes_changed),
            'content_changed': content_changed}, diffs


def main():
    module = AnsibleModule(
        argument_spec=dict(
            topic_filters=dict(type='list', elements='dict', options=FILTER_ENTRY_SPEC),
            consumer_group_filters=dict(type='list', elements='dict', options=FILTER_ENTRY_SPEC),
            acl_filters=dict(type='list', elements='dict', options=ACL_FILTER_ENTRY_SPEC),
            dest=dict(type='path'),
            topic_filters_path=dict(type='path'),
            consumer_group_filters_path=dict(type='path'),
            acl_filters_path=dict(type='path'),
            source_bootstrap_servers=dict(type='str'),
            source_client_config=dict(type='dict', default={}),
            timeout=dict(type='int', default=30),
        ),
        required_one_of=[('topic_filters', 'consumer_group_filters', 'acl_filters')],
        required_by=dict(
            topic_filters_path='topic_filters',
            consumer_group_filters_path='consumer_group_filters',
            acl_filters_path='acl_filters',
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    module.no_log_values.update(secret_values(params['source_client_config']))

    # 1. validate every document before touching anything
    documents, entries, link_configs = {}, {}, {}
    for option, kind, build, dummy in DOCUMENTS:
        if params[option] is None:
            continue
        try:
            documents[option] = build(params[option], option)
        except FilterError as exc:
            module.fail_json(msg=str(exc))
        key, config = FILTER_KINDS[kind]
        entries[option] = documents[option][key]
        link_configs[config] = canonical_json(documents[option])

    if params['source_client_config'] and not params['source_bootstrap_servers']:
        module.fail_json(msg='source_client_config needs source_bootstrap_servers.')
    validate_module(module, check_link_filters)

    result = dict(changed=False, documents=documents, link_configs=link_configs, files={})

    # 2. preview (read-only, also in check mode), before writing, so an unusable cluster writes nothing
    if params['source_bootstrap_servers']:
        if not HAS_CONFLUENT_KAFKA:
            module.fail_json(msg=missing_required_lib('confluent-kafka'), exception=CONFLUENT_KAFKA_IMPORT_ERROR)
        source = SourcePreview(params['source_bootstrap_servers'], params['source_client_config'],
                               params['timeout'])
        try:
            result['preview'], warnings = preview(source, entries.get('topic_filters'),
                                                  entries.get('consumer_group_filters'),
                                                  entries.get('acl_filters'))
        except ClusterError as exc:
            module.fail_json(msg=str(exc))
        except Exception as exc:  # pylint: disable=broad-except
            module.fail_json(msg='filter preview error: %s' % to_native(exc), exception=traceback.format_exc())
        for warning in warnings:
            module.warn(warning)

    # 3. files
    diffs = []
    for option, kind, build, name in DOCUMENTS:
        path = params['%s_path' % option] or (os.path.join(params['dest'], name) if params['dest'] else None)
        if option not in documents or path is None:
            continue
        result['files'][option], file_diffs = ensure_file(module, option, path, documents[option])
        diffs.extend(file_diffs)
        result['changed'] = result['changed'] or result['files'][option]['changed']
    if module._diff:
        result['diff'] = diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
