# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the cluster_link module does: turn its options into link configs, compare, apply.

build_spec() turns the options into a LinkSpec (mode, remote cluster id, configs, where each config
came from) and refuses what the link mode does not allow, before any call; reconcile() reads the
link (two calls: the link with its tasks, its configs), then creates, alters or deletes it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _filters
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_configs as lc
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _link_modes as lm
from ansible_collections.linkops.cluster_linking.plugins.module_utils import _links
from ansible_collections.linkops.cluster_linking.plugins.module_utils._auth_hints import link_auth_failure, link_config_hint
from ansible_collections.linkops.cluster_linking.plugins.module_utils._client_properties import (
    ClientPropertiesError, sasl_jaas_config)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError, TaskFailure
from ansible_collections.linkops.cluster_linking.plugins.module_utils._properties import (
    PropertiesError, load_properties_file)
from ansible_collections.linkops.cluster_linking.plugins.module_utils._retry import outcome_unknown

# The flat options kept from the first version: the remote (source) cluster of a DESTINATION link.
# option -> the link config it sets
OPTION_CONFIGS = (
    ('source_bootstrap_servers', 'bootstrap.servers'),
    ('source_security_protocol', 'security.protocol'),
    ('source_sasl_mechanism', 'sasl.mechanism'),
)
FLAT_SOURCE_OPTIONS = ('source_bootstrap_servers', 'source_security_protocol', 'source_sasl_mechanism',
                       'source_sasl_username', 'source_sasl_password', 'source_sasl_jaas_config')

SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']
SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER', 'GSSAPI']
STORE_TYPES = ['JKS', 'PKCS12', 'PEM']

# Suboptions of remote and local that map one to one to a link config (name with '_' -> '.').
_CONNECTION_SPEC = dict(
    security_protocol=dict(type='str', choices=SECURITY_PROTOCOLS),
    sasl_mechanism=dict(type='str', choices=SASL_MECHANISMS),
    sasl_username=dict(type='str'),
    sasl_password=dict(type='str', no_log=True),
    sasl_jaas_config=dict(type='str', no_log=True),
    ssl_truststore_location=dict(type='str', no_log=False),
    ssl_truststore_type=dict(type='str', choices=STORE_TYPES),
    ssl_truststore_password=dict(type='str', no_log=True),
    ssl_truststore_certificates=dict(type='str', no_log=True),
    ssl_keystore_location=dict(type='str', no_log=False),
    ssl_keystore_type=dict(type='str', choices=STORE_TYPES),
    ssl_keystore_password=dict(type='str', no_log=True),
    ssl_key_password=dict(type='str', no_log=True),
    ssl_keystore_key=dict(type='str', no_log=True),
    ssl_keystore_certificate_chain=dict(type='str', no_log=True),
    ssl_endpoint_identification_algorithm=dict(type='str'),
)
REMOTE_SPEC = dict(_CONNECTION_SPEC, bootstrap_servers=dict(type='str'))
LOCAL_SPEC = dict(_CONNECTION_SPEC, listener_name=dict(type='str'))
_CONNECTION_NOT_CONFIGS = ('sasl_username', 'sasl_password')

# Never reset by purge_configs: fixed at creation, or the link cannot work without it.
PURGE_KEEP = lm.CREATE_ONLY_CONFIGS | frozenset(['bootstrap.servers'])

# filter option -> (filter kind, the config that turns the feature on)
FILTER_OPTIONS = (
    ('topic_filters', 'topic', 'auto.create.mirror.topics.enable'),
    ('consumer_group_filters', 'group', 'consumer.offset.sync.enable'),
)


class LinkFailure(TaskFailure):
    """A failure of cluster_link; changed when the link was changed before it."""

    def __init__(self, message, changed=False):
        super(LinkFailure, self).__init__(message, changed=changed)
        self.changed = changed


def jaas_config(mechanism, username, password, option='source_sasl_jaas_config'):
    """The JAAS line for a username and password; option names the alternative for other mechanisms."""
    try:
        return sasl_jaas_config(mechanism, username, password)
    except ClientPropertiesError:
        raise LinkFailure('A username and password build a JAAS line for PLAIN and SCRAM only; for %s give %s.'
                          % (mechanism, option))


class LinkSpec:
    """The link the options describe.

    configs: the configs compared with an existing link (identity configs left out);
    create_configs: what a create sends (configs plus link.mode, connection.mode, the prefix, ...);
    origins: config name -> the option that set it.
    """

    def __init__(self):
        self.mode = lm.DESTINATION
        self.connection_mode = lm.OUTBOUND
        self.remote_cluster_id = None
        self.cluster_link_id = None
        self.prefix = None
        self.configs = {}
        self.create_configs = {}
        self.origins = {}
        self.explicit_link_mode = False

    @property
    def id_field(self):
        return lm.CLUSTER_ID_FIELDS[self.mode]

    def cluster_ids(self):
        """The cluster id fields of the create request."""
        ids = {self.id_field: self.remote_cluster_id}
        if self.cluster_link_id:
            ids['cluster_link_id'] = self.cluster_link_id
        return ids

    def identity(self):
        return {'link_mode': self.mode, 'connection_mode': self.connection_mode,
                'remote_cluster_id': self.remote_cluster_id, 'prefix': self.prefix,
                'cluster_link_id': self.cluster_link_id}

    def secret_values(self):
        """Values of every secret config: the module masks them in all output."""
        return [v for k, v in self.create_configs.items() if v and lc.is_sensitive(k)]


def _config_name_error(name):
    return not isinstance(name, str) or not name.strip() or name != name.strip() or ' ' in name


def build_spec(params, read_properties=load_properties_file):
    """The LinkSpec of the options; LinkFailure naming the option when they do not fit together."""
    spec = LinkSpec()
    configs, origins = {}, {}

    def put(option, name, value):
        if value is None:
            return
        if name in configs and configs[name] != value:
            raise LinkFailure('%s conflicts with %s; set it in one place only.' % (option, origins[name]))
        configs[name] = value
        origins.setdefault(name, option)

    path = params.get('properties_file')
    if path:
        try:
            properties = read_properties(path)
        except PropertiesError as exc:
            raise LinkFailure('properties_file: %s' % exc)
        for name, value in sorted(properties.items()):
            put('%s (key %s)' % ('properties_file', name), name, value)

    for name, value in sorted((params.get('configs') or {}).items()):
        if _config_name_error(name):
            raise LinkFailure("configs: '%s' is not a config name." % name)
        put('configs.%s' % name, name, lc.normalize_value(value))

    for option, name in OPTION_CONFIGS:
        put(option, name, params.get(option))
    if params.get('source_sasl_jaas_config'):
        put('source_sasl_jaas_config', 'sasl.jaas.config', params['source_sasl_jaas_config'])
    elif params.get('source_sasl_username'):
        put('source_sasl_username', 'sasl.jaas.config',
            jaas_config(params.get('source_sasl_mechanism'), params['source_sasl_username'],
                        params.get('source_sasl_password') or '', 'source_sasl_jaas_config'))

    for option, prefix, sub_spec in (('remote', '', REMOTE_SPEC), ('local', 'local.', LOCAL_SPEC)):
        given = params.get(option) or {}
        for key in sorted(sub_spec):
            if key not in _CONNECTION_NOT_CONFIGS:
                put('%s.%s' % (option, key), prefix + key.replace('_', '.'), given.get(key))
        if given.get('sasl_username') or given.get('sasl_password'):
            if given.get('sasl_jaas_config'):
                raise LinkFailure('%s.sasl_jaas_config and %s.sasl_username are mutually exclusive; give one of '
                                  'them.' % (option, option))
            if not given.get('sasl_username') or given.get('sasl_password') is None:
                raise LinkFailure('%s.sasl_username and %s.sasl_password go together; give both.' % (option, option))
            put('%s.sasl_username' % option, prefix + 'sasl.jaas.config',
                jaas_config(given.get('sasl_mechanism'), given['sasl_username'], given['sasl_password'],
                            '%s.sasl_jaas_config' % option))

    for option, kind, enable in FILTER_OPTIONS:
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
            origins[enable] = option

    acl_entries = params.get('acl_filters')
    if acl_entries is not None:
        if acl_entries:
            try:
                valid = _filters.build_acl_filter_entries(acl_entries, 'acl_filters')
            except _filters.FilterError as exc:
                raise LinkFailure(str(exc))
            put('acl_filters', 'acl.filters', _filters.filter_document('acl', valid))
            enable = 'true'
        else:
            # Confluent refuses an empty aclFilters list: no filters means no ACL sync.
            put('acl_filters', 'acl.filters', '')
            enable = 'false'
        if 'acl.sync.enable' not in configs:
            configs['acl.sync.enable'] = enable
            origins['acl.sync.enable'] = 'acl_filters'

    if params.get('paused') is not None:
        put('paused', 'cluster.link.paused', lc.normalize_value(params['paused']))
    if params.get('prefix') is not None:
        put('prefix', 'cluster.link.prefix', params['prefix'])

    try:
        spec.mode, spec.connection_mode = lm.resolve_modes(params.get('link_mode'), params.get('connection_mode'),
                                                           configs)
    except lm.ModeError as exc:
        raise LinkFailure(str(exc))
    spec.explicit_link_mode = bool(params.get('link_mode') or configs.get('link.mode'))

    if spec.mode != lm.DESTINATION:
        flat = [o for o in FLAT_SOURCE_OPTIONS if params.get(o)]
        if flat:
            raise LinkFailure('%s %s for DESTINATION links; a %s link reaches %s through the remote options '
                              '(remote.bootstrap_servers, remote.security_protocol, remote.sasl_*).'
                              % (', '.join(flat), 'is' if len(flat) == 1 else 'are', spec.mode,
                                 lm.REMOTE_ROLE[spec.mode]))
        if params.get('source_cluster_id'):
            raise LinkFailure('source_cluster_id names the source cluster of a DESTINATION link; a %s link takes '
                              'remote_cluster_id (the ID of %s).' % (spec.mode, lm.REMOTE_ROLE[spec.mode]))
    if params.get('remote_cluster_id') and params.get('source_cluster_id'):
        raise LinkFailure('remote_cluster_id and source_cluster_id are mutually exclusive; give one of them.')
    spec.remote_cluster_id = params.get('remote_cluster_id') or params.get('source_cluster_id') or None
    spec.cluster_link_id = params.get('cluster_link_id') or None
    spec.prefix = configs.get('cluster.link.prefix')

    try:
        lm.check_options(spec.mode, spec.connection_mode, configs, origins, False, spec.remote_cluster_id)
    except lm.ModeError as exc:
        raise LinkFailure(str(exc))

    # link.mode and connection.mode are sent only when they are not the defaults or were asked for.
    create = dict(configs)
    create.pop('link.mode', None)
    create.pop('connection.mode', None)
    if spec.explicit_link_mode or spec.mode != lm.DESTINATION:
        create['link.mode'] = spec.mode
    if params.get('connection_mode') or configs.get('connection.mode') or spec.connection_mode != lm.OUTBOUND:
        create['connection.mode'] = spec.connection_mode
    spec.create_configs = create
    spec.configs = dict((k, v) for k, v in create.items() if k not in lm.CREATE_ONLY_CONFIGS)
    spec.origins = origins
    return spec


def wanted_configs(params):
    """The link configs the options ask for, as {name: string value} (identity configs included)."""
    return build_spec(params).create_configs


def _identity_view(link, identity):
    return {
        'link_name': link.get('link_name'),
        'link_mode': identity['link_mode'],
        'connection_mode': identity['connection_mode'],
        'remote_cluster_id': identity['remote_cluster_id'],
        'source_cluster_id': link.get('source_cluster_id'),
    }


def link_view(link, configs, identity=None):
    """What results and diffs show of a link: identity and non-secret configs, secrets by name."""
    if link is None:
        return {}
    view = _identity_view(link, identity or lm.identity_of(link, []))
    view.update({
        'configs': lc.displayable_configs(configs),
        'secrets_set': lc.secret_names(configs),
    })
    return view


def _describe(link, configs, identity):
    view = link_view(link, configs, identity)
    view.update({
        'cluster_link_id': link.get('cluster_link_id'),
        'link_state': link.get('link_state'),
        'link_error': link.get('link_error'),
        'link_error_message': link.get('link_error_message'),
        'topic_names': link.get('topic_names') or [],
        'tasks': link.get('tasks') or [],
    })
    return view


def already_exists(exc):
    """True when a create was refused because the object exists (HTTP 409, or 400 '... already exists')."""
    return exc.status == 409 or 'already exists' in (exc.message or '').lower()


def create_after_lost_answer(backend, name, cluster_ids, configs, lost):
    """A create whose answer was lost (lost: the AnswerLost): the link is read again; when it is there
    the create landed, when not it is sent once more. Returns 'landed' or 'sent again'; raises ApiError."""
    if backend.get_link(name) is not None:
        backend.note('create link %s: %s; the link exists, so the create landed' % (name, lost.message))
        return 'landed'
    backend.note_resend('create link %s' % name)
    try:
        backend.create_link(name, cluster_ids, configs)
    except ApiError as exc:
        if already_exists(exc):  # it landed after all (a read can lag behind a create)
            backend.note('create link %s sent again: %s; the first create landed' % (name, exc.message))
            return 'landed'
        if outcome_unknown(exc) and backend.get_link(name) is not None:
            return 'sent again'
        raise
    return 'sent again'


def delete_after_lost_answer(backend, name, force, lost):
    """A delete whose answer was lost: done when the link is gone, else sent once more (404 then: done)."""
    if backend.get_link(name) is None:
        backend.note('delete link %s: %s; the link is gone, so the delete landed' % (name, lost.message))
        return 'landed'
    backend.note_resend('delete link %s' % name)
    try:
        backend.delete_link(name, force=force)
    except ApiError as exc:
        if exc.status == 404 or (outcome_unknown(exc) and backend.get_link(name) is None):
            return 'landed'
        raise
    return 'sent again'


def _validate_kwargs(validate_only):
    # Backends take validate_only; it is passed only when asked for.
    return {'validate_only': True} if validate_only else {}


def _delete(backend, params, link, current, identity, check_mode, validate_only):
    name = params['name']
    result = {'changed': link is not None, 'link': {}, 'before': link_view(link, current, identity), 'after': {}}
    if link is not None and not check_mode:
        try:
            try:
                backend.delete_link(name, force=params.get('force', False), **_validate_kwargs(validate_only))
            except ApiError as exc:
                if validate_only or not outcome_unknown(exc):
                    raise
                delete_after_lost_answer(backend, name, params.get('force', False), exc)
        except ApiError as exc:
            hint = '' if params.get('force') else ' If the link still has mirrors, promote them first or set force=true.'
            raise LinkFailure('Deleting link %s failed: %s.%s' % (name, exc.message.rstrip('.'), hint))
    if validate_only and link is not None:
        result['link'] = _describe(link, current, identity)
    return result


def _create(backend, spec, params, check_mode, validate_only):
    name = params['name']
    try:
        lm.check_options(spec.mode, spec.connection_mode, spec.create_configs, spec.origins, True,
                         spec.remote_cluster_id)
    except lm.ModeError as exc:
        raise LinkFailure('Cannot create link %s: %s' % (name, exc))
    identity = spec.identity()
    after_link = {'link_name': name, spec.id_field: spec.remote_cluster_id}
    wanted = spec.create_configs
    result = {'changed': True, 'before': {}, 'after': link_view(after_link, wanted, identity),
              'configs_set': sorted(wanted)}
    if check_mode:
        result['link'] = _describe(after_link, wanted, identity)
        return result
    try:
        try:
            backend.create_link(name, spec.cluster_ids(), wanted, validate_only=validate_only)
        except ApiError as exc:
            if validate_only or not outcome_unknown(exc):
                raise
            create_after_lost_answer(backend, name, spec.cluster_ids(), wanted, exc)
    except ApiError as exc:
        hint = link_config_hint(params, exc.message) if 'validate' in exc.message.lower() else ''
        raise LinkFailure('%s link %s failed: %s%s' % ('Validating' if validate_only else 'Creating', name,
                                                       exc.message, '; ' + hint if hint else ''))
    if validate_only:
        result['link'] = _describe(after_link, wanted, identity)
        return result
    created = _links.wait_for_link(backend, name, present=True, include_tasks=True)
    auth = link_auth_failure(created, params)
    if auth:
        # Confluent refuses such a create (validate_link); a server that accepts it keeps an unusable link
        raise LinkFailure('Link %s was created, but it %s.' % (name, auth), changed=True)
    broken = _links.tasks_in_error(created)
    if broken:
        # Confluent accepts a link whose sync tasks cannot work (e.g. a sync enabled without filters).
        raise LinkFailure('Link %s was created, but its %s %s IN_ERROR: %s. Fix the configs it names and run '
                          'the task again.' % (name, 'task' if len(broken) == 1 else 'tasks',
                                               'is' if len(broken) == 1 else 'are', '; '.join(broken)),
                          changed=True)
    entries = backend.get_link_configs(name)
    result['link'] = _describe(created, lc.dynamic_configs(entries), lm.identity_of(created, entries))
    return result


def _alter_after_lost_answer(backend, spec, params, lost):
    """An alter whose answer was lost: the configs are read again and what still differs is sent once more.

    Secrets cannot be read back, so an alter that sets one is sent again in any case (setting the
    same value twice is harmless: configs:alter sets values, it does not add to them).
    """
    name = params['name']
    entries = backend.get_link_configs(name)
    current = lc.dynamic_configs(entries)
    changes = lc.config_changes(spec.configs, current, params.get('update_password', 'on_create'),
                                lc.effective_configs(entries))
    resets = lc.purge_names(spec.configs, current, PURGE_KEEP) if params.get('purge_configs') else []
    if not changes and not resets:
        backend.note('alter configs of link %s: %s; the configs are as wanted, so the alter landed'
                     % (name, lost.message))
        return 'landed'
    backend.note_resend('alter configs %s of link %s' % (', '.join(sorted(changes) + sorted(resets)), name))
    backend.alter_link_configs(name, changes, resets)
    return 'sent again'


def reconcile(backend, params, check_mode, spec=None):
    """Bring the link to the wanted state; return the module result (without diff keys).

    validate_only (outside check mode) sends the same create, alter or delete request with the
    server's validate_only flag: the server checks it and changes nothing; the result then says
    validated=true and changed tells what a real run would do.
    """
    name = params['name']
    validate_only = bool(params.get('validate_only')) and not check_mode
    if params['state'] == 'present' and spec is None:
        spec = build_spec(params)
    link = backend.get_link(name, include_tasks=True)
    entries = backend.get_link_configs(name) if link else []
    current = lc.dynamic_configs(entries)
    identity = lm.identity_of(link, entries) if link else None

    if params['state'] == 'absent':
        result = _delete(backend, params, link, current, identity, check_mode, validate_only)
    elif link is None:
        result = _create(backend, spec, params, check_mode, validate_only)
    else:
        result = _alter(backend, spec, params, link, entries, current, identity, check_mode, validate_only)
    if params.get('validate_only'):
        result['validated'] = validate_only
    return result


def _alter(backend, spec, params, link, entries, current, identity, check_mode, validate_only):
    name = params['name']
    conflicts = lm.identity_conflicts(identity, spec.identity())
    if conflicts:
        raise LinkFailure('Link %s cannot be changed in place: %s. Nothing was changed; to change %s, delete the '
                          'link (state=absent) and create it again.'
                          % (name, '; '.join(conflicts), 'it' if len(conflicts) == 1 else 'them'))
    changes = lc.config_changes(spec.configs, current, params.get('update_password', 'on_create'),
                                lc.effective_configs(entries))
    resets = lc.purge_names(spec.configs, current, PURGE_KEEP) if params.get('purge_configs') else []
    predicted = dict(current)
    predicted.update(changes)
    for key in resets:
        predicted.pop(key, None)
    after = link_view(link, predicted, identity)
    secrets = [k for k in changes if lc.is_sensitive(k) or current.get(k, '') is None]
    if secrets:
        after['secrets_updated'] = sorted(secrets)
    result = {'changed': bool(changes or resets), 'before': link_view(link, current, identity), 'after': after,
              'configs_set': sorted(changes), 'configs_reset': resets}
    if (changes or resets) and not check_mode:
        try:
            try:
                backend.alter_link_configs(name, changes, resets, **_validate_kwargs(validate_only))
            except ApiError as exc:
                if validate_only or not outcome_unknown(exc):
                    raise
                _alter_after_lost_answer(backend, spec, params, exc)
        except ApiError as exc:
            raise LinkFailure('%s configs %s of link %s failed: %s'
                              % ('Validating' if validate_only else 'Changing',
                                 ', '.join(sorted(changes) + sorted(resets)), name, exc.message))
        if not validate_only:
            link = backend.get_link(name, include_tasks=True) or link
            entries = backend.get_link_configs(name)
            predicted = lc.dynamic_configs(entries)
            identity = lm.identity_of(link, entries)
    result['link'] = _describe(link, predicted, identity)
    return result
