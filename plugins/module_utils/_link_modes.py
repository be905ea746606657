# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Link modes and connection modes: which remote cluster id a link takes, which settings each mode
accepts, and the identity of an existing link (what cannot change after creation).

link.mode          where the link is created             remote cluster id field
DESTINATION        on the destination (default)          source_cluster_id
SOURCE             on the source (source-initiated)      destination_cluster_id
BIDIRECTIONAL      on both clusters, same link name      remote_cluster_id

connection.mode OUTBOUND (default) opens the connection to the remote cluster and needs its bootstrap
servers and credentials; INBOUND waits for the other side: the destination half of a source-initiated
link (DESTINATION + INBOUND), or one side of a bidirectional pair. A SOURCE link is always OUTBOUND.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DESTINATION = 'DESTINATION'
SOURCE = 'SOURCE'
BIDIRECTIONAL = 'BIDIRECTIONAL'
LINK_MODES = (DESTINATION, SOURCE, BIDIRECTIONAL)

OUTBOUND = 'OUTBOUND'
INBOUND = 'INBOUND'
CONNECTION_MODES = (OUTBOUND, INBOUND)

# link mode -> the CreateLinkRequestData field that names the remote cluster
CLUSTER_ID_FIELDS = {
    DESTINATION: 'source_cluster_id',
    SOURCE: 'destination_cluster_id',
    BIDIRECTIONAL: 'remote_cluster_id',
}
ALL_CLUSTER_ID_FIELDS = ('source_cluster_id', 'destination_cluster_id', 'remote_cluster_id')

# What the remote cluster is, in words, per link mode (for messages).
REMOTE_ROLE = {
    DESTINATION: 'the source cluster',
    SOURCE: 'the destination cluster',
    BIDIRECTIONAL: 'the other cluster of the pair',
}

# Configs set when the link is created and never altered afterwards. They are compared with the
# options (a difference fails the task), never sent in configs:alter and never purged.
CREATE_ONLY_CONFIGS = frozenset(['link.mode', 'connection.mode', 'cluster.link.prefix',
                                 'remote.link.connection.mode'])

# Configs that tell the link how to reach the remote cluster (and not its own: local.*).
_REMOTE_CONNECTION_PREFIXES = ('sasl.', 'ssl.')
_REMOTE_CONNECTION_NAMES = frozenset(['bootstrap.servers', 'security.protocol', 'client.dns.lookup'])


class ModeError(ValueError):
    """Options that do not fit the link mode; the message names the options and the fix."""


def is_remote_connection_config(name):
    return name in _REMOTE_CONNECTION_NAMES or name.startswith(_REMOTE_CONNECTION_PREFIXES)


def is_local_config(name):
    return name.startswith('local.')


def _upper(value):
    return value.strip().upper() if isinstance(value, str) and value.strip() else None


def resolve_modes(link_mode, connection_mode, configs):
    """(link mode, connection mode) from the options, else from link.mode / connection.mode in configs
    (a properties file or the configs option), else DESTINATION / OUTBOUND. ModeError on a conflict."""
    resolved = []
    for option, key, value, allowed, default in (
            ('link_mode', 'link.mode', link_mode, LINK_MODES, DESTINATION),
            ('connection_mode', 'connection.mode', connection_mode, CONNECTION_MODES, OUTBOUND)):
        from_configs = _upper(configs.get(key))
        if from_configs is not None and from_configs not in allowed:
            raise ModeError("%s '%s' is not a %s; use one of %s."
                            % (key, configs.get(key), option.replace('_', ' '), ', '.join(allowed)))
        wanted = _upper(value)
        if wanted is not None and from_configs is not None and wanted != from_configs:
            raise ModeError('%s %s conflicts with %s=%s in configs or the properties file; set it in one place only.'
                            % (option, wanted, key, from_configs))
        resolved.append(wanted or from_configs or default)
    return tuple(resolved)


def check_options(mode, connection_mode, configs, origins, creating, remote_cluster_id):
    """Refuse settings that do not fit the mode, before any call, as the server would.

    configs: the link configs the options produce (identity configs included); origins: config name ->
    the option that produced it (for messages); creating: the link does not exist yet.
    """
    def named(names):
        return ', '.join(sorted(set('%s (%s)' % (origins.get(n, 'configs.' + n), n) for n in names)))

    if mode == SOURCE and connection_mode == INBOUND:
        raise ModeError('link_mode SOURCE needs connection_mode OUTBOUND: a source-initiated link is opened by the '
                        'source cluster. Its destination half is link_mode DESTINATION with connection_mode INBOUND.')
    if connection_mode == INBOUND:
        remote = [n for n in configs if is_remote_connection_config(n)]
        if remote:
            raise ModeError('A %s link with connection_mode INBOUND takes no remote connection settings: %s opens '
                            'the connection. Remove %s, or set them on the link of %s.'
                            % (mode, REMOTE_ROLE[mode], named(remote),
                               'the source cluster (link_mode SOURCE)' if mode == DESTINATION
                               else 'the OUTBOUND side'))
    if mode == DESTINATION:
        local = [n for n in configs if is_local_config(n)]
        if local:
            raise ModeError('local settings (local.*) are for SOURCE and BIDIRECTIONAL links, which connect to '
                            'their own cluster; a DESTINATION link does not use them. Remove %s.' % named(local))
    if creating:
        if not remote_cluster_id:
            raise ModeError('%s is required to create a %s link: the ID of %s (sent as %s).'
                            % ('source_cluster_id (or remote_cluster_id)' if mode == DESTINATION else 'remote_cluster_id',
                               mode, REMOTE_ROLE[mode], CLUSTER_ID_FIELDS[mode]))
        if connection_mode == OUTBOUND and not configs.get('bootstrap.servers'):
            raise ModeError('%sremote.bootstrap_servers (or bootstrap.servers in configs or the properties file) is '
                            'required to create a %s link with connection_mode OUTBOUND: the bootstrap servers '
                            'of %s.' % ('source_bootstrap_servers or ' if mode == DESTINATION else '',
                                        mode, REMOTE_ROLE[mode]))


def identity_of(link, config_entries):
    """What cannot change on an existing link: link_mode, connection_mode, remote_cluster_id, prefix,
    cluster_link_id. Modes come from the link's configs (defaults included), else from which cluster
    id field the link has."""
    values = dict((e.get('name'), e.get('value')) for e in config_entries or [])
    link = link or {}
    field = next((f for f in ALL_CLUSTER_ID_FIELDS if link.get(f)), None)
    mode = _upper(values.get('link.mode'))
    if mode is None and field is not None:
        mode = dict((v, k) for k, v in CLUSTER_ID_FIELDS.items())[field]
    return {
        'link_mode': mode or DESTINATION,
        'connection_mode': _upper(values.get('connection.mode')) or OUTBOUND,
        'remote_cluster_id': link.get(field) if field else None,
        'prefix': values.get('cluster.link.prefix') or None,
        'cluster_link_id': link.get('cluster_link_id'),
    }


def identity_conflicts(current, wanted):
    """Messages for each identity setting the options ask to change (empty when none).

    wanted: the same keys as identity_of(); a None value is not compared.
    """
    problems = []
    for key, option in (('link_mode', 'link_mode'), ('connection_mode', 'connection_mode'),
                        ('remote_cluster_id', 'remote_cluster_id'), ('prefix', 'prefix'),
                        ('cluster_link_id', 'cluster_link_id')):
        want = wanted.get(key)
        have = current.get(key)
        if want is None or (key == 'remote_cluster_id' and not have):
            continue
        if (want or None) != (have or None):
            problems.append('%s is %s, not %s' % (option, _show(have), _show(want)))
    return problems


def _show(value):
    return "'%s'" % value if value else 'not set'
