# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: sasl_jaas_config
short_description: Build a Kafka C(sasl.jaas.config) line from a username and password
version_added: 1.0.0
author: linkops maintainers
description:
  - Returns the C(sasl.jaas.config) value a Kafka client (and the Confluent Platform tools) needs for
    SASL PLAIN or SCRAM, with the username and password quoted and their backslashes and double quotes
    escaped, so a password such as C(p"a\\ss) still works.
  - Use it in templates of client properties files; keep the task that writes the file C(no_log).
options:
  _input:
    description: The SASL username.
    type: str
    required: true
  password:
    description: The SASL password.
    type: str
    required: true
  mechanism:
    description: The SASL mechanism.
    type: str
    default: PLAIN
    choices: [PLAIN, SCRAM-SHA-256, SCRAM-SHA-512]
'''

EXAMPLES = r'''
- name: A JAAS line for SCRAM
  ansible.builtin.debug:
    msg: "{{ 'app' | linkops.cluster_linking.sasl_jaas_config(vault_password, mechanism='SCRAM-SHA-512') }}"
  no_log: true
'''

RETURN = r'''
_value:
  description: The JAAS line, for example C(org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";).
  type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.linkops.cluster_linking.plugins.module_utils._client_properties import (
    ClientPropertiesError, sasl_jaas_config)


def _sasl_jaas_config(username, password, mechanism='PLAIN'):
    try:
        return sasl_jaas_config(mechanism, username, password)
    except ClientPropertiesError as exc:
        raise AnsibleFilterError('sasl_jaas_config: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'sasl_jaas_config': _sasl_jaas_config}
