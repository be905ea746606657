# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Link configs: value normalisation, secrets, and the difference between wanted and current.

The server returns every config (defaults included) and reads secrets back as null, so only
dynamic, non-sensitive values can be compared; secrets follow update_password.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

DYNAMIC_SOURCE = 'DYNAMIC_CLUSTER_LINK_CONFIG'

# Configs whose value is a JSON document: compared as data, not as text.
JSON_CONFIGS = frozenset([
    'auto.create.mirror.topics.filters',
    'consumer.offset.group.filters',
    'acl.filters',
])

# Kafka's PASSWORD-type configs: the server reads them back as null. PEM keys and certificates
# (ssl.keystore.key, ssl.keystore.certificate.chain, ssl.truststore.certificates) are of that type too.
_SENSITIVE_SUFFIXES = ('password', 'jaas.config', 'secret', 'user.info', 'keystore.key',
                       'keystore.certificate.chain', 'truststore.certificates')


def is_sensitive(name, entry=None):
    """True for configs that hold secrets (the server says so, or the name does)."""
    if entry is not None and (entry.get('is_sensitive') or entry.get('sensitive')):
        return True
    return name.lower().endswith(_SENSITIVE_SUFFIXES)


def normalize_value(value):
    """The string a Kafka config value is stored as (true/false, numbers, JSON for documents)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(',', ':'), sort_keys=True)
    return str(value)


def values_equal(name, wanted, current):
    """Compare two stored values; JSON documents by content."""
    if wanted == current:
        return True
    if name in JSON_CONFIGS or (wanted or '').lstrip().startswith('{'):
        try:
            return json.loads(wanted or 'null') == json.loads(current or 'null')
        except ValueError:
            return False
    return False


def dynamic_configs(config_entries):
    """Map name -> value of the configs set on the link (not defaults); secrets map to None."""
    result = {}
    for entry in config_entries:
        source = entry.get('source')
        dynamic = source == DYNAMIC_SOURCE if source else not entry.get('is_default', False)
        if not dynamic:
            continue
        name = entry['name']
        result[name] = None if is_sensitive(name, entry) else entry.get('value')
    return result


def effective_configs(config_entries):
    """Map name -> value of every non-secret config, defaults included (what the link runs with)."""
    result = {}
    for entry in config_entries:
        name = entry['name']
        if not is_sensitive(name, entry):
            result[name] = entry.get('value')
    return result


def config_changes(wanted, current, update_password='on_create', effective=None):
    """Return {name: value} of the configs to SET so that the link matches wanted.

    wanted: name -> normalized value (None values are skipped); current: dynamic_configs();
    effective: effective_configs(), to skip a key whose default already has the wanted value.
    Secrets cannot be read back: one already set on the link is sent again only when
    update_password is 'always'; one the link does not have yet is always sent.
    Keys present on the link but not in wanted are left alone (see purge_names).
    """
    changes = {}
    for name, value in sorted(wanted.items()):
        if value is None:
            continue
        # A dynamic config the server reads back as null is a secret, whatever its name.
        if is_sensitive(name) or (name in current and current[name] is None):
            if update_password == 'always' or name not in current:
                changes[name] = value
            continue
        if name in current:
            if not values_equal(name, value, current[name]):
                changes[name] = value
        elif effective is None or name not in effective or not values_equal(name, value, effective[name]):
            changes[name] = value
    return changes


def purge_names(wanted, current, keep=()):
    """Names of the link's dynamic configs to reset to their defaults (purge_configs=true).

    Those set on the link that no option asks for, except secrets (they cannot be compared, and a
    link without its credentials stops working) and the names in keep (settings fixed at creation,
    bootstrap.servers).
    """
    return sorted(name for name, value in current.items()
                  if name not in wanted and name not in keep and value is not None and not is_sensitive(name))


def displayable_configs(configs):
    """Configs as shown in results and diffs: no secrets, JSON documents as data."""
    shown = {}
    for name, value in sorted(configs.items()):
        if is_sensitive(name):
            continue
        if name in JSON_CONFIGS and value:
            try:
                value = json.loads(value)
            except ValueError:
                pass
        shown[name] = value
    return shown


def secret_names(configs):
    return sorted(name for name in configs if is_sensitive(name))
