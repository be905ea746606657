# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: kafka_client_config
short_description: confluent-kafka client settings for a cluster described in inventory
version_added: 1.0.0
author: linkops maintainers
description:
  - Turns a cluster dict (an entry of C(linkops_clusters), see docs/fleet.md) into the librdkafka settings that
    M(linkops.cluster_linking.migration_verify) and M(linkops.cluster_linking.link_filters) take as
    C(*_client_config); C(security.protocol), C(sasl.mechanism), C(sasl.username), C(sasl.password),
    C(ssl.ca.location) (from a PEM truststore), then the cluster's own C(client_config) entries.
options:
  _input:
    description: The cluster dict.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Verify with the inventory's cluster settings
  linkops.cluster_linking.migration_verify:
    source_bootstrap_servers: "{{ linkops_clusters.onprem.bootstrap_servers }}"
    source_client_config: "{{ linkops_clusters.onprem | linkops.cluster_linking.kafka_client_config }}"
    destination_bootstrap_servers: "{{ linkops_clusters.cloud.bootstrap_servers }}"
    destination_client_config: "{{ linkops_clusters.cloud | linkops.cluster_linking.kafka_client_config }}"
    topics: [orders]
'''

RETURN = r'''
_value:
  description: The librdkafka settings.
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.linkops.cluster_linking.plugins.module_utils._cluster_spec import (
    ClusterSpecError, kafka_client_config)


def _kafka_client_config(cluster):
    try:
        return kafka_client_config(cluster)
    except ClusterSpecError as exc:
        raise AnsibleFilterError('kafka_client_config: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'kafka_client_config': _kafka_client_config}
