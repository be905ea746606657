# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kafka client settings as the Java tools read them: JAAS lines (properties files: _properties)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.linkops.cluster_linking.plugins.module_utils._properties import PropertiesError

JAAS_LOGIN_MODULES = {
    'PLAIN': 'org.apache.kafka.common.security.plain.PlainLoginModule',
    'SCRAM-SHA-256': 'org.apache.kafka.common.security.scram.ScramLoginModule',
    'SCRAM-SHA-512': 'org.apache.kafka.common.security.scram.ScramLoginModule',
}


# One error type for client settings: a JAAS line that cannot be built, or settings that are no properties.
ClientPropertiesError = PropertiesError


def jaas_quote(value):
    """A JAAS option value in double quotes, with backslash and quote escaped."""
    return '"%s"' % str(value).replace('\\', '\\\\').replace('"', '\\"')


def sasl_jaas_config(mechanism, username, password):
    """The sasl.jaas.config line for a username and password (PLAIN and SCRAM)."""
    module = JAAS_LOGIN_MODULES.get((mechanism or 'PLAIN').upper())
    if module is None:
        raise ClientPropertiesError(
            'a JAAS line from a username and password exists for %s only, not for %s; give the whole '
            'sasl.jaas.config line instead.' % (', '.join(sorted(JAAS_LOGIN_MODULES)), mechanism))
    if not username or password is None:
        raise ClientPropertiesError('a JAAS line needs both a username and a password.')
    return '%s required username=%s password=%s;' % (module, jaas_quote(username), jaas_quote(password))
