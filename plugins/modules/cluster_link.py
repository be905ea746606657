#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: cluster_link
short_description: Create, change and delete a Confluent cluster link in any link and connection mode
version_added: 1.0.0
description:
  - Manages one cluster link on the cluster that holds it, as C(kafka-cluster-links --create) and
    C(kafka-configs --cluster-link) do by hand.
  - "Every mode Confluent has: O(link_mode=DESTINATION) (created on the destination, the default),
    O(link_mode=SOURCE) (source-initiated, created on the source cluster, together with a
    O(link_mode=DESTINATION) O(connection_mode=INBOUND) half on the destination) and
    O(link_mode=BIDIRECTIONAL) (the same link name on both clusters)."
  - Creates the link when it is absent, changes only the configs that differ (one atomic request), resets
    configs that are no longer wanted when O(purge_configs=true), and deletes it.
  - How the link reaches the remote cluster comes from O(remote) (bootstrap servers, security protocol, SASL,
    TLS trust and client certificates), from a properties file (O(properties_file)), or from O(configs);
    how a SOURCE or BIDIRECTIONAL link reaches its own cluster comes from O(local).
  - Topic, consumer group and ACL filters are given as YAML lists and stored as the JSON documents Confluent
    expects.
  - Secrets (passwords, JAAS lines, PEM keys and certificates, sensitive keys of O(configs) and of the
    properties file) never appear in results, diffs or logs. The server reads them back as null, so they
    cannot be compared; see O(update_password).
  - Settings fixed at creation (O(link_mode), O(connection_mode), the remote cluster ID, O(prefix),
    O(cluster_link_id)) are compared with the existing link; a difference fails the task, naming the
    option, before anything is changed.
author:
  - linkops maintainers (@linkops)
extends_documentation_fragment:
  - linkops.cluster_linking._rest
  - linkops.cluster_linking._rest.ACTIONGROUP
  - linkops.cluster_linking._attributes
  - linkops.cluster_linking._filters.topic_filters
  - linkops.cluster_linking._filters.consumer_group_filters
  - linkops.cluster_linking._filters.acl_filters
attributes:
  check_mode:
    support: full
    details: Predicts exactly whether the link would be created or deleted and which configs would be set or reset.
  diff_mode:
    support: full
    details: Shows the link's mode, remote cluster and non-secret configs before and after; secrets only by name.
  idempotent:
    support: partial
    details: Not idempotent with O(update_password=always) when secrets are given, since they are sent every run.
options:
  name:
    description:
      - Name of the cluster link. The link name is part of its identity and cannot be changed.
      - Both sides of a bidirectional link, and both halves of a source-initiated link, must have the same name.
      - Kafka's name rules, as Confluent applies them - 1 to 249 ASCII letters, digits, C(.), C(_) and C(-),
        not V(.) or V(..), and not starting with C(-) (the CP tools would read it as an option).
    type: str
    required: true
    aliases: [link_name]
  state:
    description:
      - V(present) creates the link or brings its configs in line; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  link_mode:
    description:
      - V(DESTINATION) (the default) - the link is on the destination cluster and reads from the source.
      - V(SOURCE) - the link is on the source cluster and pushes to the destination (source-initiated,
        for a destination that cannot reach the source). Needs the O(connection_mode=INBOUND) half
        on the destination, created first with the same O(name).
      - V(BIDIRECTIONAL) - one side of a bidirectional pair; the other cluster has a link of the same name.
      - When omitted, C(link.mode) from O(properties_file) or O(configs), else V(DESTINATION).
      - Fixed at creation; a different value on an existing link fails the task.
    type: str
    choices: [DESTINATION, SOURCE, BIDIRECTIONAL]
  connection_mode:
    description:
      - V(OUTBOUND) (the default) opens the connection to the remote cluster, so it needs O(remote).
      - V(INBOUND) waits for the other side to connect and takes no remote connection settings (the
        destination half of a source-initiated link, or one side of a bidirectional pair).
      - A V(SOURCE) link is always V(OUTBOUND).
      - When omitted, C(connection.mode) from O(properties_file) or O(configs), else V(OUTBOUND).
      - Fixed at creation.
    type: str
    choices: [OUTBOUND, INBOUND]
  remote_cluster_id:
    description:
      - ID of the cluster at the other end of the link. Required to create the link.
      - Sent as C(source_cluster_id) for a V(DESTINATION) link, C(destination_cluster_id) for a V(SOURCE)
        link and C(remote_cluster_id) for a V(BIDIRECTIONAL) link.
      - The server checks it against the cluster found at O(remote.bootstrap_servers).
      - It cannot be changed on an existing link; a different value fails the task.
    type: str
  source_cluster_id:
    description:
      - The same as O(remote_cluster_id), for V(DESTINATION) links only (the name of the first versions).
    type: str
  cluster_link_id:
    description:
      - For the second side of a bidirectional link, the C(cluster_link_id) of the first side, which the
        new side must match. When omitted the server reads it from the remote cluster.
      - On an existing link a different value fails the task.
    type: str
  prefix:
    description:
      - Prefix of the mirror topic names on this link (link config C(cluster.link.prefix)); with
        C(consumer.group.prefix.enable=true) in O(configs) also of the synced consumer group names.
      - Fixed at creation. When omitted on an existing link it is not checked.
      - Links with a prefix cannot use the reverse mirror operations.
      - Topic name characters only (ASCII letters, digits, C(.), C(_), C(-)).
    type: str
  remote:
    description:
      - How the link connects to the remote cluster (the source of a DESTINATION link, the destination of a
        SOURCE link, the other side of a BIDIRECTIONAL one). Each suboption sets the link config of the same
        name with dots (O(remote.ssl_truststore_location) sets C(ssl.truststore.location)).
      - Not allowed with O(connection_mode=INBOUND).
      - Paths (O(remote.ssl_truststore_location), O(remote.ssl_keystore_location)) are read by the brokers of
        the cluster that holds the link, not by the managed host; to pass the contents instead, use
        O(remote.ssl_truststore_certificates) and O(remote.ssl_keystore_key) with type V(PEM).
    type: dict
    suboptions:
      bootstrap_servers:
        description:
          - Bootstrap servers of the remote cluster (link config C(bootstrap.servers)). Required to create an
            OUTBOUND link, unless given in O(configs) or O(properties_file).
          - C(host:port[,host:port...]); an IPv6 address as C([address]:port). The same rule applies to
            C(bootstrap.servers) in O(configs) and in O(properties_file).
        type: str
      security_protocol:
        description: Link config C(security.protocol).
        type: str
        choices: [PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL]
      sasl_mechanism:
        description: Link config C(sasl.mechanism).
        type: str
        choices: [PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, GSSAPI]
      sasl_username:
        description:
          - User (or API key) for SASL PLAIN or SCRAM; with O(remote.sasl_password) the module writes the
            C(sasl.jaas.config) line, escaped.
        type: str
      sasl_password:
        description: Password (or API secret) of O(remote.sasl_username). Never shown.
        type: str
      sasl_jaas_config:
        description:
          - A complete C(sasl.jaas.config) line, for mechanisms the module does not write itself. Never shown.
          - Mutually exclusive with O(remote.sasl_username).
        type: str
      ssl_truststore_location:
        description: Link config C(ssl.truststore.location), a path on the brokers of the cluster that holds the link.
        type: str
      ssl_truststore_type:
        description: Link config C(ssl.truststore.type).
        type: str
        choices: [JKS, PKCS12, PEM]
      ssl_truststore_password:
        description: Link config C(ssl.truststore.password). Never shown.
        type: str
      ssl_truststore_certificates:
        description: Link config C(ssl.truststore.certificates), the trusted CA certificates in PEM. Never shown.
        type: str
      ssl_keystore_location:
        description: Link config C(ssl.keystore.location), for a client certificate (mutual TLS).
        type: str
      ssl_keystore_type:
        description: Link config C(ssl.keystore.type).
        type: str
        choices: [JKS, PKCS12, PEM]
      ssl_keystore_password:
        description: Link config C(ssl.keystore.password). Never shown.
        type: str
      ssl_key_password:
        description: Link config C(ssl.key.password). Never shown.
        type: str
      ssl_keystore_key:
        description: Link config C(ssl.keystore.key), the client private key in PEM. Never shown.
        type: str
      ssl_keystore_certificate_chain:
        description: Link config C(ssl.keystore.certificate.chain), the client certificate chain in PEM. Never shown.
        type: str
      ssl_endpoint_identification_algorithm:
        description: Link config C(ssl.endpoint.identification.algorithm); an empty string turns host name checks off.
        type: str
  local:
    description:
      - How a V(SOURCE) or V(BIDIRECTIONAL) link connects to its own cluster, with the same suboptions as O(remote)
        (without O(remote.bootstrap_servers)) plus O(local.listener_name), stored as the C(local.*) link configs
        (O(local.sasl_username) and O(local.sasl_password) become C(local.sasl.jaas.config)).
      - Not allowed with O(link_mode=DESTINATION).
    type: dict
    suboptions:
      listener_name:
        description: Link config C(local.listener.name), the listener of the local cluster to use.
        type: str
      security_protocol:
        description: Link config C(local.security.protocol).
        type: str
        choices: [PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL]
      sasl_mechanism:
        description: Link config C(local.sasl.mechanism).
        type: str
        choices: [PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, GSSAPI]
      sasl_username:
        description: User for SASL PLAIN or SCRAM on the local cluster; with O(local.sasl_password) it builds C(local.sasl.jaas.config).
        type: str
      sasl_password:
        description: Password of O(local.sasl_username). Never shown.
        type: str
      sasl_jaas_config:
        description: A complete C(local.sasl.jaas.config) line. Never shown. Mutually exclusive with O(local.sasl_username).
        type: str
      ssl_truststore_location:
        description: Link config C(local.ssl.truststore.location).
        type: str
      ssl_truststore_type:
        description: Link config C(local.ssl.truststore.type).
        type: str
        choices: [JKS, PKCS12, PEM]
      ssl_truststore_password:
        description: Link config C(local.ssl.truststore.password). Never shown.
        type: str
      ssl_truststore_certificates:
        description: Link config C(local.ssl.truststore.certificates) in PEM. Never shown.
        type: str
      ssl_keystore_location:
        description: Link config C(local.ssl.keystore.location).
        type: str
      ssl_keystore_type:
        description: Link config C(local.ssl.keystore.type).
        type: str
        choices: [JKS, PKCS12, PEM]
      ssl_keystore_password:
        description: Link config C(local.ssl.keystore.password). Never shown.
        type: str
      ssl_key_password:
        description: Link config C(local.ssl.key.password). Never shown.
        type: str
      ssl_keystore_key:
        description: Link config C(local.ssl.keystore.key) in PEM. Never shown.
        type: str
      ssl_keystore_certificate_chain:
        description: Link config C(local.ssl.keystore.certificate.chain) in PEM. Never shown.
        type: str
      ssl_endpoint_identification_algorithm:
        description: Link config C(local.ssl.endpoint.identification.algorithm).
        type: str
  source_bootstrap_servers:
    description:
      - The same as O(remote.bootstrap_servers), for V(DESTINATION) links only (the name of the first versions).
      - C(host:port[,host:port...]); an IPv6 address as C([address]:port).
    type: str
  source_security_protocol:
    description:
      - The same as O(remote.security_protocol), for V(DESTINATION) links only.
    type: str
    choices: [PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL]
  source_sasl_mechanism:
    description:
      - The same as O(remote.sasl_mechanism), for V(DESTINATION) links only.
    type: str
    choices: [PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, GSSAPI]
  source_sasl_username:
    description:
      - The same as O(remote.sasl_username), for V(DESTINATION) links only.
    type: str
  source_sasl_password:
    description:
      - The same as O(remote.sasl_password), for V(DESTINATION) links only. Never shown.
    type: str
  source_sasl_jaas_config:
    description:
      - The same as O(remote.sasl_jaas_config), for V(DESTINATION) links only. Never shown.
    type: str
  properties_file:
    description:
      - Path on the managed host of a Java properties file with link configs, the file
        C(kafka-cluster-links --config-file) reads (C(bootstrap.servers), C(security.protocol), C(sasl.jaas.config),
        C(ssl.*), C(link.mode), ...).
      - Read as Java reads it (comments, C(key=value) or C(key:value), backslash escapes, continued lines);
        its keys count as if given in O(configs). A key that another option also sets to a different value fails the task.
      - Values of secret keys (passwords, JAAS lines, PEM keys) are never shown.
      - Only link configs and Kafka client settings may appear in it (C(bootstrap.servers), C(security.protocol),
        C(client.id), C(sasl.*), C(ssl.*), the link configs Confluent documents, and their C(local.*) forms).
        Any other key fails the task before any request, naming the line numbers but never the file's content;
        give other configs in O(configs).
    type: path
    aliases: [source_properties_file]
  configs:
    description:
      - Other link configs, for example C(consumer.offset.sync.ms) or C(topic.config.sync.ms).
      - Values may be strings, numbers or booleans (written as V(true)/V(false)).
      - Only the keys given are managed, unless O(purge_configs=true).
      - A value equal to the server's default on a link that does not set the key is not a change.
      - The server refuses names it does not know, and the task then fails naming them.
    type: dict
    default: {}
  purge_configs:
    description:
      - When V(true), configs set on the link that no option of this task produces are reset to their defaults
        (in the same atomic request that sets the others), so the link has exactly the configs the task describes.
      - Never reset, because the task cannot know them or the link cannot work without them, are secrets,
        C(bootstrap.servers) and the settings fixed at creation (C(link.mode), C(connection.mode),
        C(cluster.link.prefix), C(remote.link.connection.mode)).
      - With V(true), leaving out O(topic_filters), O(consumer_group_filters), O(acl_filters) or O(paused) resets the
        matching configs.
    type: bool
    default: false
  topic_filters:
    description:
      - Which source topics get mirror topics created automatically (link config
        C(auto.create.mirror.topics.filters)).
      - A non-empty list also sets C(auto.create.mirror.topics.enable=true) unless O(configs) says otherwise.
      - An empty list stores an empty filter document. Omit the option to leave the filters as they are.
  consumer_group_filters:
    description:
      - Which consumer groups get their committed offsets synced to the destination (link config
        C(consumer.offset.group.filters)).
      - A non-empty list also sets C(consumer.offset.sync.enable=true) unless O(configs) says otherwise.
  acl_filters:
    description:
      - Which ACLs of the source cluster the link copies to the destination (link config C(acl.filters), the
        document C(kafka-cluster-links --acl-filters-json-file) reads). The sync also deletes destination ACLs
        that match the filters but are absent on the source, so do not match destination-only ACLs.
      - A non-empty list also sets C(acl.sync.enable=true) unless O(configs) says otherwise; an empty list
        stores no filters and sets C(acl.sync.enable=false) (Confluent refuses an empty filter list).
      - Values follow Kafka's rules, in any case (V(topic), V(TOPIC)); underscores are refused
        (V(describeConfigs), not V(describe_configs)). To sync every ACL give V(any) for
        O(acl_filters[].resource_type), O(acl_filters[].pattern_type), O(acl_filters[].operation) and
        O(acl_filters[].permission_type).
  paused:
    description:
      - V(true) pauses the whole link (link config C(cluster.link.paused)), so its mirrors show C(LINK_PAUSED)
        and nothing is copied; V(false) resumes it. Omit to leave it as it is.
    type: bool
  update_password:
    description:
      - V(on_create) sends a secret only when the link does not have it yet (at creation, or when a new secret
        config is added), so a second run is not changed.
      - V(always) sends the secrets on every run (to rotate credentials); the task then always reports changed.
    type: str
    choices: [always, on_create]
    default: on_create
  force:
    description:
      - With O(state=absent), delete the link even though it still has mirror topics.
    type: bool
    default: false
  validate_only:
    description:
      - Send the create, alter or delete request with the server's C(validate_only) flag; the server checks it
        (names and values of configs, the remote cluster, mirrors that block a delete) and changes nothing.
      - The result then has RV(validated=true), and its C(changed) tells whether a real run would change the link.
      - In check mode nothing is sent at all.
    type: bool
    default: false
notes:
  - Reading the link costs two requests (link with its tasks, and configs) however many mirrors it has.
  - Confluent accepts a link whose sync tasks cannot work, for example offset sync enabled without group
    filters. After creating a link the module reads its tasks and fails, naming each task C(IN_ERROR) and its
    error; the link then exists and the task reports changed. On an existing link such a task is a warning.
  - Configs are changed in one atomic C(PUT configs:alter) request, resets included.
  - "A source-initiated link is two tasks: first O(link_mode=DESTINATION) with O(connection_mode=INBOUND) on the
    destination (REST of the destination; O(remote_cluster_id) is the source cluster's ID), then O(link_mode=SOURCE)
    on the source (REST of the source; O(remote_cluster_id) is the destination's ID, O(remote) reaches the destination,
    O(local) the source itself)."
seealso:
  - module: linkops.cluster_linking.cluster_link_info
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
    remote_cluster_id: 4k0R9d1GTS27MxEoOTTJCQ
    remote:
      bootstrap_servers: onprem-1:9093,onprem-2:9093
      security_protocol: SASL_SSL
      sasl_mechanism: PLAIN
      sasl_username: link-user
      sasl_password: "{{ vault_link_password }}"
      ssl_truststore_type: PEM
      ssl_truststore_certificates: "{{ lookup('ansible.builtin.file', 'onprem-ca.pem') }}"
    topic_filters:
      - name: orders.
        pattern_type: PREFIXED
    consumer_group_filters:
      - name: orders-app
    configs:
      consumer.offset.sync.ms: 10000

- name: The same link from the file kafka-cluster-links --config-file would read
  linkops.cluster_linking.cluster_link:
    rest_url: https://dest-broker-1:8090/kafka
    name: onprem-to-cloud
    source_cluster_id: 4k0R9d1GTS27MxEoOTTJCQ
    properties_file: /home/ops/links/onprem-to-cloud/source.config

- name: Source-initiated link, step 1 - the INBOUND half on the destination
  linkops.cluster_linking.cluster_link:
    rest_url: https://dest-broker-1:8090/kafka
    name: dc1-to-cloud
    link_mode: DESTINATION
    connection_mode: INBOUND
    remote_cluster_id: "{{ source_cluster_id }}"

- name: Source-initiated link, step 2 - the SOURCE half on the source cluster
  linkops.cluster_linking.cluster_link:
    rest_url: https://dc1-broker-1:8090/kafka
    name: dc1-to-cloud
    link_mode: SOURCE
    remote_cluster_id: "{{ destination_cluster_id }}"
    remote:
      bootstrap_servers: pkc-xxxxx.confluent.cloud:9092
      security_protocol: SASL_SSL
      sasl_mechanism: PLAIN
      sasl_username: "{{ cloud_api_key }}"
      sasl_password: "{{ cloud_api_secret }}"
    local:
      security_protocol: SASL_SSL
      sasl_mechanism: SCRAM-SHA-512
      sasl_username: link-local
      sasl_password: "{{ vault_local_password }}"

- name: Pause the whole link, and reset every config this task does not name
  linkops.cluster_linking.cluster_link:
    rest_url: https://dest-broker-1:8090/kafka
    name: onprem-to-cloud
    paused: true
    purge_configs: true
    topic_filters:
      - name: orders.
        pattern_type: PREFIXED

- name: Let the server check a new link without creating it
  linkops.cluster_linking.cluster_link:
    rest_url: https://dest-broker-1:8090/kafka
    name: onprem-to-cloud-2
    source_cluster_id: 4k0R9d1GTS27MxEoOTTJCQ
    source_bootstrap_servers: onprem-1:9093
    validate_only: true
  register: check_link

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
  description: The link after the task (predicted in check mode and with O(validate_only)); empty after deletion.
  returned: always
  type: dict
  contains:
    link_name:
      description: Name of the link.
      type: str
      sample: onprem-to-cloud
    link_mode:
      description: C(DESTINATION), C(SOURCE) or C(BIDIRECTIONAL).
      type: str
      sample: DESTINATION
    connection_mode:
      description: C(OUTBOUND) or C(INBOUND).
      type: str
      sample: OUTBOUND
    remote_cluster_id:
      description: ID of the cluster at the other end of the link.
      type: str
      sample: 4k0R9d1GTS27MxEoOTTJCQ
    source_cluster_id:
      description: The source cluster of a DESTINATION link (null for the other modes).
      type: str
      sample: 4k0R9d1GTS27MxEoOTTJCQ
    cluster_link_id:
      description: ID the server gave the link (the same on both sides of a link).
      type: str
      sample: eEBkTffYSESld6EO898x3w
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
  description: Names of the configs the task set (or would set in check mode), secrets included by name.
  returned: success
  type: list
  elements: str
  sample: [consumer.offset.sync.ms]
configs_reset:
  description: Names of the configs the task reset (or would reset) to their defaults, with O(purge_configs=true).
  returned: when the link existed and O(state=present)
  type: list
  elements: str
  sample: [topic.config.sync.ms]
validated:
  description: V(true) when the server validated the request (O(validate_only) outside check mode) and changed nothing.
  returned: when O(validate_only=true)
  type: bool
  sample: true
rest_requests:
  description: Number of HTTP requests the task sent (O(api=rest)).
  returned: when O(api=rest)
  type: int
  sample: 2
cli_commands:
  description: Number of CP tool commands the task ran (O(api=cli)); one command per
    batch of mirror topics.
  returned: when O(api=cli)
  type: int
  sample: 2
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

from ansible_collections.linkops.cluster_linking.plugins.module_utils._filters import ACL_FILTER_ENTRY_SPEC, FILTER_ENTRY_SPEC
from ansible_collections.linkops.cluster_linking.plugins.module_utils._link_configs import is_sensitive
from ansible_collections.linkops.cluster_linking.plugins.module_utils._link_reconcile import (
    LOCAL_SPEC, REMOTE_SPEC, SASL_MECHANISMS, SECURITY_PROTOCOLS, build_spec, reconcile)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._link_modes import CONNECTION_MODES, LINK_MODES
from ansible_collections.linkops.cluster_linking.plugins.module_utils._links import tasks_in_error
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import TaskFailure
from ansible_collections.linkops.cluster_linking.plugins.module_utils._rest_options import call_counts, connect, fail, rest_module
from ansible_collections.linkops.cluster_linking.plugins.module_utils._validate import check_cluster_link, validate_module


def main():
    module = rest_module(dict(
        name=dict(type='str', required=True, aliases=['link_name']),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        link_mode=dict(type='str', choices=list(LINK_MODES)),
        connection_mode=dict(type='str', choices=list(CONNECTION_MODES)),
        remote_cluster_id=dict(type='str'),
        source_cluster_id=dict(type='str'),
        cluster_link_id=dict(type='str'),
        prefix=dict(type='str'),
        remote=dict(type='dict', options=REMOTE_SPEC),
        local=dict(type='dict', options=LOCAL_SPEC),
        source_bootstrap_servers=dict(type='str'),
        source_security_protocol=dict(type='str', choices=SECURITY_PROTOCOLS),
        source_sasl_mechanism=dict(type='str', choices=SASL_MECHANISMS),
        source_sasl_username=dict(type='str'),
        source_sasl_password=dict(type='str', no_log=True),
        source_sasl_jaas_config=dict(type='str', no_log=True),
        properties_file=dict(type='path', aliases=['source_properties_file']),
        configs=dict(type='dict', default={}),
        purge_configs=dict(type='bool', default=False),
        topic_filters=dict(type='list', elements='dict', options=FILTER_ENTRY_SPEC),
        consumer_group_filters=dict(type='list', elements='dict', options=FILTER_ENTRY_SPEC),
        acl_filters=dict(type='list', elements='dict', options=ACL_FILTER_ENTRY_SPEC),
        paused=dict(type='bool'),
        update_password=dict(type='str', default='on_create', choices=['always', 'on_create'], no_log=False),
        force=dict(type='bool', default=False),
        validate_only=dict(type='bool', default=False),
    ), mutually_exclusive=[('source_sasl_jaas_config', 'source_sasl_username'),
                           ('remote_cluster_id', 'source_cluster_id')],
        required_together=[('source_sasl_username', 'source_sasl_password')])
    # Secret-looking keys of the free-form configs dict are masked like no_log options.
    for key, value in module.params['configs'].items():
        if is_sensitive(key) and value:
            module.no_log_values.add(str(value))

    validate_module(module, check_cluster_link)
    spec = None
    if module.params['state'] == 'present':
        # Everything the options describe is checked before any call.
        try:
            spec = build_spec(module.params)
        except TaskFailure as exc:
            module.fail_json(msg=exc.message, **exc.to_result())
        # Secrets from the properties file and the JAAS lines built here are masked in all output too.
        module.no_log_values.update(spec.secret_values())

    backend = connect(module)
    try:
        result = reconcile(backend, module.params, module.check_mode, spec=spec)
    except TaskFailure as exc:
        fail(module, backend, exc)
    for task in tasks_in_error(result['link']):
        module.warn('Task %s of link %s is IN_ERROR.' % (task, module.params['name']))
    before, after = result.pop('before'), result.pop('after')
    if module._diff:
        result['diff'] = {'before': before, 'after': after}
    result.update(call_counts(backend))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
