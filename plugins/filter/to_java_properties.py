# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: to_java_properties
short_description: Render a dict as a Java properties file (Kafka client and link configs)
version_added: 1.0.0
author: linkops maintainers
description:
  - Returns properties-file text with one C(key=value) line per entry, sorted by key so the file is stable
    and idempotent, escaped the way Java reads properties (backslashes, line breaks, leading spaces and
    separators in keys), so a C(sasl.jaas.config) line survives unchanged.
  - Booleans become C(true)/C(false), lists are joined with commas, entries whose value is null are left out.
options:
  _input:
    description: The settings.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Client properties for the source cluster
  ansible.builtin.copy:
    dest: /home/ops/link/source.properties
    content: "{{ {'bootstrap.servers': 'src:9092', 'security.protocol': 'SASL_SSL'} | linkops.cluster_linking.to_java_properties }}"
    mode: '0600'
'''

RETURN = r'''
_value:
  description: The properties text, ending with a newline (empty for an empty dict).
  type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.linkops.cluster_linking.plugins.module_utils._properties import (
    PropertiesError, to_java_properties)


def _to_java_properties(settings):
    try:
        return to_java_properties(settings)
    except PropertiesError as exc:
        raise AnsibleFilterError('to_java_properties: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'to_java_properties': _to_java_properties}
