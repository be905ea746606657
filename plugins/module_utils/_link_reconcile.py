# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the cluster_link module does: turn its options into link configs, compare, apply."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _filters
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_configs as lc
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _links
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError, TaskFailure

JAAS_MODULES = {
    'PLAIN': 'org.apache.kafka.common.security.plain.PlainLoginModule',
    'SCRAM-SHA-256': 'org.apache.kafka.common.security.scram.ScramLoginModule',
    'SCRAM-SHA-512': 'org.apache.kafka.common.security.scram.ScramLoginModule',
}

# option -> the link config it sets
OPTION_CONFIGS = (
    ('source_bootstrap_servers', 'bootstrap.servers'),
    ('source_security_protocol', 'security.protocol'),
    ('source_sasl_mechanism', 'sasl.mechanism'),
)


class LinkFailure(TaskFailure):
    """A failure of cluster_link; changed when the link was changed before it."""

    def __init__(self, message, changed=False):
        super(LinkFailure, self).__init__(message, changed=changed)
        self.changed = changed


def jaas_quote(value):
    """A JAAS option value in double quotes, with backslash and quote escaped."""
    return '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"')


def jaas_config(mechanism, username, password):
    module = JAAS_MODULES.get(mechanism or 'PLAIN')
    if module is None:
        raise LinkFailure('source_sasl_username and source_sasl_password build a JAAS line for PLAIN and '
                          'SCRAM only; for %s give source_sasl_jaas_config.' % mechanism)
    return '%s required username=%s password=%s;' % (module, jaas_quote(username), jaas_quote(password))


def wanted_configs(params):
    """The link configs the options ask for, as {name: string value}."""
    configs = {}
    for name, value in (params.get('configs') or {}).items():
        if not isinstance(name, str) or not name.strip() or name != name.strip() or ' ' in name:
            raise LinkFailure("configs: '%s' is not a config name." % name)
        configs[name] = lc.normalize_value(value)

    def put(option, name, value):
        if value is None:
            return
        if name in configs and configs[name] != value:
            raise LinkFailure('configs.%s conflicts with %s; set it in one place only.' % (name, option))
        configs[name] = value

    for option, name in OPTION_CONFIGS:
        put(option, name, params.get(option))
    if params.get('source_sasl_jaas_config'):
        put('source_sasl_jaas_config', 'sasl.jaas.config', params['source_sasl_jaas_config'])
    elif params.get('source_sasl_username'):
        put('source_sasl_username', 'sasl.jaas.config',
            jaas_config(params.get('source_sasl_mechanism'), params['source_sasl_username'],
                        params['source_sasl_password']))

    for kind, option, enable in (('topic', 'topic_filters', 'auto.create.mirror.topics.enable'),
                                 ('group', 'consumer_group_filters', 'consumer.offset.sync.enable')):
        entries = params.get(option)
        if entries is None:
            continue
        try:
            valid = _filters.build_filter_entries(entries, option)
        except _filters.FilterError as exc:
            raise LinkFailure(str(exc))
        put(option, _filters.FILTER_KINDS[kind][1], _filters.filter_document(kind, valid))
        if valid and enable not in configs:
            configs[enable] = 'true'
    return configs


def link_view(link, configs):
    """What results and diffs show of a link: identity and non-secret configs."""
    if link is None:
        return {}
    return {
        'link_name': link.get('link_name'),
        'source_cluster_id': link.get('source_cluster_id'),
        'configs': lc.displayable_configs(configs),
        'secrets_set': lc.secret_names(configs),
    }


def _describe(link, configs):
    view = link_view(link, configs)
    view.update({
        'cluster_link_id': link.get('cluster_link_id'),
        'link_state': link.get('link_state'),
        'link_error': link.get('link_error'),
        'link_error_message': link.get('link_error_message'),
        'topic_names': link.get('topic_names') or [],
        'tasks': link.get('tasks') or [],
    })
    return view


def reconcile(backend, params, check_mode):
    """Bring the link to the wanted state; return the module result (without diff keys)."""
    name = params['name']
    link = backend.get_link(name, include_tasks=True)
    current = lc.dynamic_configs(backend.get_link_configs(name)) if link else {}

    if params['state'] == 'absent':
        result = {'changed': link is not None, 'link': {}, 'before': link_view(link, current), 'after': {}}
        if link is not None and not check_mode:
            try:
                backend.delete_link(name, force=params['force'])
            except ApiError as exc:
                hint = '' if params['force'] else ' If the link still has mirrors, promote them first or set force=true.'
                raise LinkFailure('Deleting link %s failed: %s.%s' % (name, exc.message, hint))
        return result

    wanted = wanted_configs(params)
    if link is None:
        if not params.get('source_cluster_id'):
            raise LinkFailure('source_cluster_id is required to create link %s (the ID of the cluster at '
                              'source_bootstrap_servers).' % name)
        if 'bootstrap.servers' not in wanted:
            raise LinkFailure('source_bootstrap_servers (or configs.bootstrap.servers) is required to create '
                              'link %s.' % name)
        after_link = {'link_name': name, 'source_cluster_id': params['source_cluster_id']}
        result = {'changed': True, 'before': {}, 'after': link_view(after_link, wanted), 'configs_set': sorted(wanted)}
        if check_mode:
            result['link'] = _describe(after_link, wanted)
            return result
        try:
            backend.create_link(name, {'source_cluster_id': params['source_cluster_id']}, wanted)
        except ApiError as exc:
            raise LinkFailure('Creating link %s failed: %s' % (name, exc.message))
        created = _links.wait_for_link(backend, name, present=True, include_tasks=True)
        broken = _links.tasks_in_error(created)
        if broken:
            # Confluent accepts a link whose sync tasks cannot work (e.g. a sync enabled without filters).
            raise LinkFailure('Link %s was created, but its %s %s IN_ERROR: %s. Fix the configs it names and run '
                              'the task again.' % (name, 'task' if len(broken) == 1 else 'tasks',
                                                   'is' if len(broken) == 1 else 'are', '; '.join(broken)),
                              changed=True)
        result['link'] = _describe(created, lc.dynamic_configs(backend.get_link_configs(name)))
        return result

    wanted_source = params.get('source_cluster_id')
    if wanted_source and link.get('source_cluster_id') and wanted_source != link.get('source_cluster_id'):
        raise LinkFailure('Link %s reads from cluster %s; source_cluster_id %s cannot be changed in place. '
                          'Delete the link and create it again.' % (name, link.get('source_cluster_id'), wanted_source))
    changes = lc.config_changes(wanted, current, params['update_password'])
    predicted = dict(current)
    predicted.update(changes)
    result = {'changed': bool(changes), 'before': link_view(link, current), 'after': link_view(link, predicted),
              'configs_set': sorted(changes)}
    if changes and not check_mode:
        try:
            backend.alter_link_configs(name, changes)
        except ApiError as exc:
            raise LinkFailure('Changing configs %s of link %s failed: %s'
                              % (', '.join(sorted(changes)), name, exc.message))
        link = backend.get_link(name, include_tasks=True) or link
        predicted = lc.dynamic_configs(backend.get_link_configs(name))
    result['link'] = _describe(link, predicted)
    return result
