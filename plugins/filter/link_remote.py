# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: link_remote
short_description: The cluster_link module's remote connection settings for a cluster described in inventory
version_added: 1.0.0
author: linkops maintainers
description:
  - Picks from a cluster dict (an entry of C(linkops_clusters), see docs/fleet.md) the settings with which a link
    reaches that cluster; C(bootstrap_servers), C(security_protocol), C(sasl_*) and C(ssl_*). The result is the
    O(linkops.cluster_linking.cluster_link#module:remote) option of M(linkops.cluster_linking.cluster_link).
  - REST settings, C(cluster_id) and client settings are left out. Fails when C(bootstrap_servers) is missing.
options:
  _input:
    description: The cluster dict of the remote (source) cluster.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: A link on the cloud cluster that reads from onprem
  linkops.cluster_linking.cluster_link:
    name: orders-link
    source_cluster_id: "{{ linkops_clusters.onprem.cluster_id }}"
    remote: "{{ linkops_clusters.onprem | linkops.cluster_linking.link_remote }}"
'''

RETURN = r'''
_value:
  description: The remote connection settings.
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.linkops.cluster_linking.plugins.module_utils._cluster_spec import (
    ClusterSpecError, link_remote)


def _link_remote(cluster):
    try:
        return link_remote(cluster)
    except ClusterSpecError as exc:
        raise AnsibleFilterError('link_remote: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'link_remote': _link_remote}
