# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kafka client settings as the Java tools read them: JAAS lines and properties-file text."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

JAAS_LOGIN_MODULES = {
    'PLAIN': 'org.apache.kafka.common.security.plain.PlainLoginModule',
    'SCRAM-SHA-256': 'org.apache.kafka.common.security.scram.ScramLoginModule',
    'SCRAM-SHA-512': 'org.apache.kafka.common.security.scram.ScramLoginModule',
}


class ClientPropertiesError(ValueError):
    pass


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


def _escape(text, is_key):
    out = []
    for i, ch in enumerate(text):
        if ch == '\\':
            out.append('\\\\')
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\r':
            out.append('\\r')
        elif ch == '\t':
            out.append('\\t')
        elif ch == '\f':
            out.append('\\f')
        elif ch in '=:#!' and (is_key or i == 0):
            out.append('\\' + ch)
        elif ch == ' ' and (is_key or i == 0):
            out.append('\\ ')
        elif ord(ch) > 126 or ord(ch) < 32:
            out.append('\\u%04x' % ord(ch))
        else:
            out.append(ch)
    return ''.join(out)


def property_value(value):
    """A Python value as the string a Java properties file holds (booleans lower case, lists comma-joined)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return ','.join(property_value(v) for v in value)
    if value is None:
        return ''
    return str(value)


def to_java_properties(settings):
    """Properties-file text for a dict: one key=value line per entry, sorted, escaped as Java reads it.

    Entries whose value is None are left out, so optional settings can be passed as None.
    """
    if not isinstance(settings, dict):
        raise ClientPropertiesError('expected a dict of settings, got %s.' % type(settings).__name__)
    lines = []
    for key in sorted(settings, key=str):
        value = settings[key]
        if value is None:
            continue
        if not isinstance(key, str) or not key.strip():
            raise ClientPropertiesError('%r is not a property name.' % (key,))
        lines.append('%s=%s' % (_escape(key, True), _escape(property_value(value), False)))
    return '\n'.join(lines) + ('\n' if lines else '')
