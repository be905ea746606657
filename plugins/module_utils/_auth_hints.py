# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Kafka client setting a failed connection points at, named as the user gave it.

A wrong SASL password, an unsupported SASL mechanism or a trust store without the brokers' CA all
end in an authentication failure; its text tells them apart. suspect_setting() picks the setting
from that text; client_config_hint() names it in a module's <side>_client_config (migration_verify,
link_filters); link_config_hint() names the cluster_link option that set the link config (a create
that validate_link refused), and link_auth_failure() explains a link that cannot authenticate to its
remote cluster. No secret value is ever shown.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# (words in the error text, librdkafka setting, Java / link config, what it must hold)
_SUSPECTS = (
    (('unsupported sasl mechanism', 'mechanism handshake', 'not enabled in the server', 'supported mechanisms',
      'unsupported_sasl_mechanism', 'unsupportedsaslmechanism'),
     'sasl.mechanism', 'sasl.mechanism', 'a SASL mechanism the brokers enable'),
    (('certificate', 'ssl handshake', 'ssl_handshake', 'pkix', 'truststore'), 'ssl.ca.location',
     'ssl.truststore.location', "the CA that signed the brokers' certificates"),
    (('authentication failed', 'username or password', 'sasl authentication', 'invalid credentials',
      'saslauthentication'), 'sasl.password', 'sasl.jaas.config', 'the right SASL username and password'),
)
# a bare AUTHENTICATION_ERROR (the link_error code) names no cause: the credentials, unless the text names another
_GENERIC = ('authentication_error', _SUSPECTS[-1][1:])

# cluster_link options that set each link config, in the order they are looked for
_LINK_OPTIONS = {
    'sasl.mechanism': (('source_sasl_mechanism',), ('remote', 'sasl_mechanism')),
    'sasl.jaas.config': (('source_sasl_password',), ('source_sasl_jaas_config',), ('remote', 'sasl_password'),
                         ('remote', 'sasl_jaas_config')),
    'ssl.truststore.location': (('remote', 'ssl_truststore_location'),),
}


def suspect_setting(text):
    """(librdkafka setting, link config, what it must hold) that ``text`` points at, or None: the
    cause named first (a server's advice after the reason may name other settings too)."""
    lowered = (text or '').lower()
    found = []
    for rank, (words, client_key, link_key, needs) in enumerate(_SUSPECTS):
        places = [lowered.find(word) for word in words if word in lowered]
        if places:
            found.append((min(places), rank, (client_key, link_key, needs)))
    if found:
        return min(found)[2]
    return _GENERIC[1] if _GENERIC[0] in lowered else None


def client_config_hint(side, text):
    """'; check sasl.password in source_client_config (...)' for a connection failure, or ''."""
    suspect = suspect_setting(text)
    if suspect is None:
        return ''
    key = 'sasl.username and sasl.password' if suspect[0] == 'sasl.password' else suspect[0]
    return '; check %s in %s_client_config (it must give %s)' % (key, side, suspect[2])


def _link_option(params, link_key):
    """The cluster_link option the user set ``link_key`` with."""
    configs = params.get('configs') or {}
    if link_key in configs:
        return 'configs.%s' % link_key
    for path in _LINK_OPTIONS.get(link_key, ()):
        value = params
        for part in path:
            value = (value or {}).get(part) if isinstance(value, dict) else None
        if value not in (None, ''):
            return '.'.join(path)
    if params.get('properties_file'):
        return 'properties_file (%s)' % link_key
    return None


def link_config_hint(params, text, default=None):
    """'check the link config sasl.jaas.config (option source_sasl_password): it must give ...' for the
    failure ``text`` of a link, or '' when it points at no setting (``default``: the link config to
    name then, e.g. sasl.jaas.config for an AUTHENTICATION_ERROR)."""
    suspect = suspect_setting(text)
    if suspect is None:
        suspect = next((s[1:] for s in _SUSPECTS if s[2] == default), None)
        if suspect is None:
            return ''
    else:
        suspect = suspect[1:]
    link_key, needs = suspect
    option = _link_option(params, link_key)
    if option and option.startswith('configs.'):
        where = 'option %s' % option
    else:
        where = 'the link config %s%s' % (link_key, ' (option %s)' % option if option else '')
    return 'check %s: it must give %s' % (where, needs)


def link_auth_failure(link, params):
    """The reason a link cannot authenticate to its remote cluster, naming the option to fix; None
    when its link_error is no authentication failure."""
    if (link or {}).get('link_error') != 'AUTHENTICATION_ERROR':
        return None
    message = link.get('link_error_message') or 'no message given'
    return ('cannot authenticate to its remote cluster (link_state %s, link_error AUTHENTICATION_ERROR: %s); %s'
            % (link.get('link_state'), message.rstrip('.'), link_config_hint(params, message, 'sasl.jaas.config')))
