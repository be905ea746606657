# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: connection_options
short_description: The link modules' connection options for a cluster described in inventory
version_added: 1.0.0
author: linkops maintainers
description:
  - Turns a cluster dict (an entry of C(linkops_clusters), see docs/fleet.md) into the connection options of
    M(linkops.cluster_linking.cluster_link), M(linkops.cluster_linking.mirror_topic) and the info modules, for
    C(module_defaults) of the action group C(group/linkops.cluster_linking.cluster_linking).
  - With O(api=rest) it maps C(rest_url), C(rest_username), C(rest_password), C(rest_token) and C(cluster_id);
    with O(api=cli) C(bootstrap_servers) becomes C(bootstrap_server), plus O(command_config) and O(cli_path).
  - Fails naming the missing or unknown key.
options:
  _input:
    description: The cluster dict of the cluster that holds the link.
    type: dict
    required: true
  api:
    description: Which backend the modules use.
    type: str
    default: rest
    choices: [rest, cli]
  command_config:
    description: With O(api=cli), the admin client properties file on the jump host.
    type: str
  cli_path:
    description: With O(api=cli), the directory of the Confluent Platform tools.
    type: str
'''

EXAMPLES = r'''
- name: Promote every mirror of the link
  module_defaults:
    group/linkops.cluster_linking.cluster_linking: "{{ linkops_clusters.cloud | linkops.cluster_linking.connection_options }}"
  linkops.cluster_linking.mirror_topic:
    link_name: orders-link
    topics: [orders]
    state: promoted
'''

RETURN = r'''
_value:
  description: >-
    The module options, for example C(api), C(rest_url), C(rest_username), C(rest_password) and C(cluster_id).
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.linkops.cluster_linking.plugins.module_utils._cluster_spec import (
    ClusterSpecError, connection_options)


def _connection_options(cluster, api='rest', command_config=None, cli_path=None):
    try:
        return connection_options(cluster, api, command_config, cli_path)
    except ClusterSpecError as exc:
        raise AnsibleFilterError('connection_options: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'connection_options': _connection_options}
