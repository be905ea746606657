# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input rules: what an option may hold, checked before any request or command.

Every check returns nothing when the value is fine and raises InputError otherwise, with a
one-line message that starts with the option (``topic_filters[1].name: ...``) and says how to fix
it. Nothing here talks to a cluster, so a module can run every check before it connects.

Names follow Kafka's resource name rules (org.apache.kafka.common.internals.Topic.validate, which
Confluent applies to topic and cluster link names): 1 to 249 characters out of ASCII letters,
digits, '.', '_' and '-', and never '.' or '..'. Link names also may not start with '-' (the CP
tools would read such a name as an option). Values read from a file (properties_file) are never
put in a message: only line numbers and the rule are.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import TaskFailure

MAX_NAME_LENGTH = 249
_NAME_CHARS = re.compile(r'^[A-Za-z0-9._-]+$')
# Consumer group IDs: Kafka itself takes any string; these are the characters real group IDs use that
# are safe in a JSON document, a properties file and a shell line.
_GROUP_CHARS = re.compile(r'^[A-Za-z0-9._:@/+=-]+$')
# A Confluent cluster ID (22 base64url characters on Confluent Server, lkc-xxxxx on Cloud).
_CLUSTER_ID_CHARS = re.compile(r'^[A-Za-z0-9_-]+$')
_HOST_LABEL = re.compile(r'^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$')
_IPV6 = re.compile(r'^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$')

MIRROR_STATUSES = ('ACTIVE', 'PAUSED', 'LINK_PAUSED', 'SOURCE_UNAVAILABLE', 'LINK_FAILED', 'FAILED',
                   'PENDING_MIRROR', 'PENDING_SYNCHRONIZE', 'PENDING_SETUP_FOR_RESTORE', 'PENDING_RESTORE',
                   'PENDING_STOPPED', 'STOPPED')

# Link configs Confluent documents, and the Kafka client settings a link (or the CP tools' --config-file)
# takes. A properties file may hold these, their local.* twins (SOURCE and BIDIRECTIONAL links) and
# any sasl.* or ssl.* client setting.
LINK_CONFIG_NAMES = frozenset([
    'acl.filters', 'acl.sync.enable', 'acl.sync.ms', 'auto.create.mirror.topics.enable',
    'auto.create.mirror.topics.filters', 'availability.check.consecutive.failure.threshold',
    'availability.check.ms', 'cluster.link.paused', 'cluster.link.prefix', 'cluster.link.retry.timeout.ms',
    'connection.mode', 'consumer.group.prefix.enable', 'consumer.offset.group.filters',
    'consumer.offset.sync.enable', 'consumer.offset.sync.ms', 'link.mode', 'local.listener.name',
    'mirror.start.offset.spec', 'num.cluster.link.fetchers', 'remote.link.connection.mode',
    'replica.fetch.backoff.ms', 'replica.fetch.max.bytes', 'replica.fetch.min.bytes',
    'replica.fetch.response.max.bytes', 'replica.fetch.wait.max.ms', 'replica.socket.receive.buffer.bytes',
    'replica.socket.timeout.ms', 'topic.config.sync.ms', 'topic.config.sync.include',
    'cluster.link.metadata.topic.enable', 'link.fetcher.request.timeout.ms',
])
CLIENT_CONFIG_NAMES = frozenset([
    'bootstrap.servers', 'security.protocol', 'client.id', 'client.dns.lookup', 'connections.max.idle.ms',
    'default.api.timeout.ms', 'metadata.max.age.ms', 'receive.buffer.bytes', 'send.buffer.bytes',
    'reconnect.backoff.ms', 'reconnect.backoff.max.ms', 'request.timeout.ms', 'retries', 'retry.backoff.ms',
    'retry.backoff.max.ms', 'socket.connection.setup.timeout.ms', 'socket.connection.setup.timeout.max.ms',
])
_CLIENT_PREFIXES = ('sasl.', 'ssl.')
_PROPERTY_NAME = re.compile(r'^[a-z][a-z0-9]*([.-][a-z0-9]+)*$')


class InputError(TaskFailure):
    """An option value that cannot work; the message names the option and the fix. Nothing was sent."""

    def __init__(self, message):
        super(InputError, self).__init__(message, changed=False)


def _shown(value, limit=60):
    """A value as a message shows it: repr-quoted, control characters escaped, cut at limit."""
    text = value if isinstance(value, str) else str(value)
    shown = repr(text[:limit])
    if shown[:1] == 'u':  # pragma: no cover (Python 2)
        shown = shown[1:]
    return shown + ('...' if len(text) > limit else '')


def _mapping_hint(value):
    """Ansible turns a mapping or list given where a string belongs into its Python text: say so."""
    text = value if isinstance(value, str) else ''
    if isinstance(value, (dict, list)) or (text[:1] in '{[' and text[-1:] in '}]'):
        return '; it looks like a mapping or a list, give the name as a plain string'
    return ''


def name_problem(value, what):
    """Why Kafka refuses value as the name of a `what`, or None."""
    if not isinstance(value, str) or not value:
        return 'give %s as a non-empty string' % what
    if value in ('.', '..'):
        return "%s is not allowed as %s" % (_shown(value), what)
    if len(value) > MAX_NAME_LENGTH:
        return '%s is %d characters long; Kafka allows at most %d' % (_shown(value, 20), len(value), MAX_NAME_LENGTH)
    if not _NAME_CHARS.match(value):
        return ("%s is not %s (it has characters Kafka refuses): use only ASCII letters, digits, '.', '_' and '-'%s"
                % (_shown(value), what, _mapping_hint(value)))
    return None


def check_link_name(value, option='name'):
    """A cluster link name as Confluent takes it (Kafka resource name rules), not starting with '-'."""
    problem = name_problem(value, 'a link name')
    if problem is None and value.startswith('-'):
        problem = ("%s starts with '-', which the CP tools would read as an option; start the link name with a "
                   "letter, a digit, '.' or '_'" % _shown(value))
    if problem:
        raise InputError('%s: %s.' % (option, problem))


def check_link_names(values, option='names'):
    for index, value in enumerate(values or []):
        check_link_name(value, '%s[%d]' % (option, index))


def check_topic_name(value, option='topic'):
    problem = name_problem(value, 'a topic name')
    if problem:
        raise InputError('%s: %s.' % (option, problem))


def check_topic_names(values, option='topics'):
    for index, value in enumerate(values or []):
        check_topic_name(value, '%s[%d]' % (option, index))


def check_cluster_id(value, option='cluster_id'):
    """A Kafka cluster ID: it is a path segment of every REST request."""
    if value is None:
        return
    if not isinstance(value, str) or not _CLUSTER_ID_CHARS.match(value) or len(value) > MAX_NAME_LENGTH:
        raise InputError("%s: %s is not a Kafka cluster ID; give the ID as GET /v3/clusters or "
                         "kafka-cluster --cluster-id show it (letters, digits, '-' and '_')." % (option, _shown(value)))


def check_filter_name(name, pattern_type, kind, option):
    """The name of a topic (kind 'topic') or consumer group ('group') filter entry.

    '*' alone with pattern_type LITERAL selects everything, as Confluent allows; anywhere else '*' is
    refused (filters have no wildcards inside a name: a prefix is pattern_type PREFIXED).
    """
    what = 'topic' if kind == 'topic' else 'consumer group'
    if not isinstance(name, str) or not name:
        raise InputError('%s: give a %s name, a prefix, or * for all.' % (option, what))
    if '*' in name:
        if name == '*' and pattern_type == 'LITERAL':
            return
        if name == '*':
            raise InputError("%s: name '*' (all) needs pattern_type LITERAL." % option)
        raise InputError("%s: %s has a '*'; '*' is allowed only as the whole name with pattern_type LITERAL "
                         "(every %s). For names that start with something, give that prefix with pattern_type "
                         "PREFIXED." % (option, _shown(name), what))
    if kind == 'topic':
        if pattern_type == 'PREFIXED' and name in ('.', '..'):
            problem = None
        else:
            problem = name_problem(name, 'a topic name')
        if problem:
            raise InputError('%s: %s.' % (option, problem))
        return
    if len(name) > MAX_NAME_LENGTH or not _GROUP_CHARS.match(name):
        raise InputError("%s: %s is not a consumer group name this module takes: use ASCII letters, digits and "
                         "'.', '_', '-', ':', '@', '/', '+', '=' (at most %d characters)%s."
                         % (option, _shown(name), MAX_NAME_LENGTH, _mapping_hint(name)))


def bootstrap_problem(value):
    """Why value is not a bootstrap server list host:port[,host:port...], or None."""
    if not isinstance(value, str) or not value.strip():
        return 'give host:port[,host:port...], for example broker-1:9092,broker-2:9092'
    for raw in value.split(','):
        entry = raw.strip()
        if not entry:
            return 'an empty entry between commas; give host:port[,host:port...]'
        if entry.startswith('['):
            host, sep, port = entry[1:].partition(']:')
            if not sep or not _IPV6.match(host):
                return '%s is not [IPv6 address]:port' % _shown(entry)
        else:
            if '://' in entry:
                return '%s has a scheme; give host:port without it' % _shown(entry)
            host, sep, port = entry.rpartition(':')
            if not sep:
                host = entry
            if not host or not all(_HOST_LABEL.match(label) for label in host.split('.')):
                return '%s is not a host name or IPv4 address followed by :port' % _shown(entry)
            if not sep:
                return '%s has no port; give host:port, for example %s:9092' % (_shown(entry), entry)
        if not port.isdigit() or not 0 < int(port) < 65536:
            return '%s: the port must be a number from 1 to 65535' % _shown(entry)
    return None


def check_bootstrap(value, option):
    """host:port[,host:port...] (IPv6 as [addr]:port); None is fine (the option was not given)."""
    if value is None:
        return
    problem = bootstrap_problem(value)
    if problem:
        raise InputError('%s: %s.' % (option, problem))


def _shown_url(value):
    """A URL as a message shows it: user and password (user:pass@host) replaced by ***."""
    if isinstance(value, str):
        value = re.sub(r'^([^/]*//)[^/@]*@', r'\1***@', value)
    return _shown(value)


def check_rest_url(value, option='rest_url'):
    """http(s)://host[:port][/path], as the URL in front of /v3 (credentials never shown)."""
    if value is None:
        return
    hint = 'give the URL in front of /v3, for example https://broker:8090/kafka or http://rest-proxy:8082'
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        raise InputError('%s: %s is not a URL; %s.' % (option, _shown_url(value), hint))
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise InputError('%s: %s has no valid port; %s.' % (option, _shown_url(value), hint))
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        raise InputError('%s: %s is not an http:// or https:// URL with a host; %s.' % (option, _shown_url(value), hint))
    if parts.query or parts.fragment:
        raise InputError('%s: %s has a query or fragment; %s.' % (option, _shown_url(value), hint))
    if port is not None and not 0 < port < 65536:
        raise InputError('%s: the port must be from 1 to 65535; %s.' % (option, hint))


def check_number(value, option, minimum=0, exclusive=False, unit='seconds'):
    """value >= minimum (or > minimum when exclusive); None is fine (not given)."""
    if value is None:
        return
    if (value <= minimum) if exclusive else (value < minimum):
        bound = 'more than %s' % minimum if exclusive else '%s or more' % minimum
        raise InputError('%s must be %s %s, got %s.' % (option, bound, unit, value))


def check_readable_file(path, option, what):
    """A file on the managed host the module reads (a CA bundle, a client certificate or key)."""
    if path is None:
        return
    if not os.path.exists(path):
        raise InputError('%s: %s does not exist on the managed host; give the path of %s.' % (option, path, what))
    if not os.path.isfile(path):
        raise InputError('%s: %s is not a file; give the path of %s.' % (option, path, what))
    if not os.access(path, os.R_OK):
        raise InputError('%s: %s cannot be read by the user the module runs as; fix its permissions or become a '
                         'user that can read it.' % (option, path))


def check_rest_connection(params, prefix=''):
    """The REST options of a module (prefix 'source_' for migration_verify's source_rest_* ...)."""
    check_rest_url(params.get(prefix + 'rest_url'), prefix + 'rest_url')
    check_cluster_id(params.get(prefix + 'cluster_id'), prefix + 'cluster_id')
    for key, what in (('ca_path', 'a PEM file of trusted CA certificates'),
                      ('client_cert', 'a PEM client certificate'),
                      ('client_key', 'the PEM private key of the client certificate')):
        name = prefix + ('rest_' + key if prefix else key)
        check_readable_file(params.get(name), name, what)


def check_backend_options(params):
    """The connection options every backend module shares (_rest_options.rest_argument_spec)."""
    check_number(params.get('request_timeout'), 'request_timeout', 0, exclusive=True)
    check_number(params.get('cli_timeout'), 'cli_timeout', 0, unit='seconds (0: no limit)')
    check_cluster_id(params.get('cluster_id'))
    if params.get('api', 'rest') == 'cli':
        check_bootstrap(params.get('bootstrap_server'), 'bootstrap_server')
    else:
        check_rest_connection(params)


def check_mirror_statuses(values, option='status'):
    for index, value in enumerate(values or []):
        if not isinstance(value, str) or value.upper() not in MIRROR_STATUSES:
            raise InputError('%s[%d]: %s is not a mirror status; use one of %s.'
                             % (option, index, _shown(value), ', '.join(MIRROR_STATUSES)))


def property_name_known(name):
    """True for a link config or Kafka client setting a link's properties file may hold."""
    if not isinstance(name, str) or not _PROPERTY_NAME.match(name):
        return False
    if name.startswith('local.'):
        name = name[len('local.'):]
    return name in LINK_CONFIG_NAMES or name in CLIENT_CONFIG_NAMES or name.startswith(_CLIENT_PREFIXES)


def check_properties(lines, option='properties_file'):
    """[(line number, key, value)] of a properties file: known keys only, a valid bootstrap.servers.

    The message names line numbers only: the file may be anything (a wrong path, a secret), so none of
    its content is repeated.
    """
    unknown = [number for number, key, dummy in lines if not property_name_known(key)]
    if unknown:
        shown = ', '.join(str(n) for n in unknown[:10]) + (' and %d more' % (len(unknown) - 10)
                                                           if len(unknown) > 10 else '')
        raise InputError('%s: line%s %s %s not a link config or Kafka client setting (content not shown); give the '
                         'file kafka-cluster-links --config-file reads (bootstrap.servers, security.protocol, sasl.*, '
                         'ssl.*, link configs), or set other configs with the configs option.'
                         % (option, 's' if len(unknown) > 1 else '', shown, 'are' if len(unknown) > 1 else 'is'))
    for number, key, value in lines:
        if key in ('bootstrap.servers', 'local.bootstrap.servers') and bootstrap_problem(value):
            raise InputError('%s: line %d: %s is not host:port[,host:port...] (value not shown).'
                             % (option, number, key))


# -- migration_report ---------------------------------------------------------------------------

CHECK_KEYS = ('name', 'ok', 'detail', 'skipped')
CUTOVER_ACTIONS = ('promoted', 'failed_over', 'reversed', 'reversed_paused', 'restored')
_ISO_TIME = re.compile(r'^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$')


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _lag_ok(value):
    return value is None or (_is_number(value) and value >= 0 and int(value) == value)


def check_report_checks(rows, option='checks'):
    for index, row in enumerate(rows or []):
        where = '%s[%d]' % (option, index)
        unknown = sorted(str(k) for k in row if k not in CHECK_KEYS)
        if unknown:
            raise InputError('%s: unknown key(s) %s; a check row has %s (as migration_verify returns them).'
                             % (where, ', '.join(_shown(k, 30) for k in unknown), ', '.join(CHECK_KEYS)))
        if not isinstance(row.get('name'), str) or not row['name'].strip():
            raise InputError('%s.name: give the check name as a non-empty string, for example end_offsets:orders.'
                             % where)
        for key in ('ok', 'skipped'):
            if key in row and row[key] is not None and not isinstance(row[key], bool):
                raise InputError('%s.%s: must be true or false, got %s.' % (where, key, _shown(row[key], 30)))
        if 'ok' not in row or row['ok'] is None:
            raise InputError('%s.ok: required, true when the check passed and false when it failed.' % where)
        if isinstance(row.get('detail'), (dict, list)):
            raise InputError('%s.detail: give a text, not a mapping or a list.' % where)


def check_report_cutover(rows, option='cutover'):
    for index, row in enumerate(rows or []):
        where = '%s[%d]' % (option, index)
        check_topic_name(row.get('topic'), where + '.topic')
        if row.get('action') not in CUTOVER_ACTIONS:
            raise InputError('%s.action: %s is not a cutover action; use one of %s (RV topics[].action of '
                             'mirror_topic).' % (where, _shown(row.get('action'), 30), ', '.join(CUTOVER_ACTIONS)))
        if not _lag_ok(row.get('max_lag')):
            raise InputError('%s.max_lag: give the lag at cutover as a whole number of records, 0 or more, or null; '
                             'got %s.' % (where, _shown(row.get('max_lag'), 30)))
        epoch = row.get('epoch')
        if epoch is not None and (not _is_number(epoch) or epoch < 0):
            raise InputError('%s.epoch: give seconds since the epoch (a number, 0 or more), got %s.'
                             % (where, _shown(epoch, 30)))
        if row.get('time') is not None and not isinstance(row['time'], str):
            raise InputError('%s.time: give a readable time as a string, got %s.' % (where, _shown(row['time'], 30)))


def check_report_lag_samples(rows, option='lag_samples'):
    for index, row in enumerate(rows or []):
        where = '%s[%d]' % (option, index)
        value = row.get('time')
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                value = None
        if not _is_number(value) or value < 0:
            raise InputError('%s.time: must be seconds since the epoch, got %s.' % (where, _shown(row.get('time'), 30)))
        for key in ('max_lag', 'total_lag'):
            if not _lag_ok(row.get(key)):
                raise InputError('%s.%s: give a whole number of records, 0 or more, got %s.'
                                 % (where, key, _shown(row.get(key), 30)))


def check_generated_at(value, option='generated_at'):
    if value is None:
        return
    if not _ISO_TIME.match(value):
        raise InputError("%s: %s is not an ISO 8601 time; give for example 2026-12-07T03:00:00Z "
                         "(now(utc=true).strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ') in a template)."
                         % (option, _shown(value, 40)))


def check_writable_dir(path, option='dest'):
    """A directory the module can create files in, or can create (its nearest existing parent is writable)."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise InputError('%s: %s exists and is not a directory; give a directory for the report files.' % (option, path))
    existing = path
    while not os.path.exists(existing):
        parent = os.path.dirname(existing)
        if parent == existing:
            break
        existing = parent
    if not os.path.isdir(existing):
        raise InputError('%s: %s cannot be created: %s is not a directory.' % (option, path, existing))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError('%s: %s is not writable by the user the module runs as (%s); give a directory it can '
                         'write, or fix the permissions.' % (option, path, existing))


# -- what each module checks before it connects -------------------------------------------------

def check_prefix(value, option='prefix'):
    """A mirror topic name prefix (cluster.link.prefix): topic name characters."""
    if value is None:
        return
    if not isinstance(value, str) or not value or len(value) >= MAX_NAME_LENGTH or not _NAME_CHARS.match(value):
        raise InputError("%s: %s is not a topic name prefix: use ASCII letters, digits, '.', '_' and '-', "
                         "shorter than %d characters." % (option, _shown(value), MAX_NAME_LENGTH))


def check_properties_file(path, read_lines, option='properties_file'):
    """Read the file with read_lines(path) -> [(line, key, value)] and check it (see check_properties)."""
    if path is None:
        return
    try:
        lines = read_lines(path)
    except ValueError as exc:  # PropertiesError: cannot read it, or Java would refuse it
        raise InputError('%s: %s' % (option, exc))
    check_properties(lines, option)


def check_cluster_link(params, read_lines=None):
    """cluster_link's own options (filters are checked where they are built, in _filters)."""
    check_link_name(params.get('name'), 'name')
    for option in ('remote_cluster_id', 'source_cluster_id', 'cluster_link_id'):
        check_cluster_id(params.get(option), option)
    check_prefix(params.get('prefix'))
    check_bootstrap(params.get('source_bootstrap_servers'), 'source_bootstrap_servers')
    check_bootstrap((params.get('remote') or {}).get('bootstrap_servers'), 'remote.bootstrap_servers')
    configs = params.get('configs') or {}
    for key in ('bootstrap.servers', 'local.bootstrap.servers'):
        if key in configs:
            check_bootstrap(configs[key] if isinstance(configs[key], str) else str(configs[key]),
                            'configs.%s' % key)
    if params.get('properties_file') is not None:
        if read_lines is None:
            from ansible_collections.linkops.cluster_linking.plugins.module_utils._properties import (
                load_properties_lines as read_lines)
        check_properties_file(params['properties_file'], read_lines)


def check_all(*checks):
    """Run every check (callables); one InputError naming every problem, joined with '; '."""
    problems = []
    for check in checks:
        try:
            check()
        except InputError as exc:
            problems.append(exc.message.rstrip('.'))
    if problems:
        raise InputError('; '.join(problems) + '.')


def _wait_numbers(params):
    return (lambda: check_number(params.get('max_lag'), 'max_lag', 0, unit='records'),
            lambda: check_number(params.get('wait_timeout'), 'wait_timeout', 0),
            lambda: check_number(params.get('wait_interval'), 'wait_interval', 0, exclusive=True))


def check_mirror_topic(params):
    """mirror_topic's link name and numbers (topic entries are checked by parse_topics)."""
    check_link_name(params.get('link_name'), 'link_name')
    check_all(lambda: check_number(params.get('batch_size'), 'batch_size', 1, unit='(topics per batch request)'),
              lambda: check_number(params.get('parallel'), 'parallel', 1, unit='(creates in flight)'),
              *_wait_numbers(params))


def check_mirror_topic_info(params):
    check_link_name(params.get('link_name'), 'link_name')
    check_topic_names(params.get('topics'), 'topics')
    check_mirror_statuses(params.get('status'), 'status')
    check_all(*_wait_numbers(params))


def check_cluster_link_info(params):
    check_link_names(params.get('names'), 'names')
    check_topic_names(params.get('health_topics'), 'health_topics')
    check_all(lambda: check_number(params.get('health_max_lag'), 'health_max_lag', 0, unit='records'),
              lambda: check_number(params.get('wait_timeout'), 'wait_timeout', 0),
              lambda: check_number(params.get('wait_interval'), 'wait_interval', 0, exclusive=True),
              lambda: check_number(params.get('unavailable_grace'), 'unavailable_grace', 0))


def check_link_filters(params):
    check_bootstrap(params.get('source_bootstrap_servers'), 'source_bootstrap_servers')
    check_number(params.get('timeout'), 'timeout', 0, exclusive=True)


def check_migration_verify(params, sides=('source', 'destination')):
    for side in sides:
        check_bootstrap(params.get('%s_bootstrap_servers' % side), '%s_bootstrap_servers' % side)
        check_rest_connection(params, side + '_')
    check_number(params.get('timeout'), 'timeout', 0, exclusive=True)
    check_number(params.get('max_in_flight'), 'max_in_flight', 1, unit='(requests)')
    check_probe_options(params)


def check_probe_options(params):
    """The probe writes: only where it is told to, into its own topic or the topics named."""
    topic, topics = params.get('probe_topic'), params.get('probe_topics') or []
    if topic is not None:
        problem = name_problem(topic, 'a topic name')
        if problem:
            raise InputError('probe_topic: %s.' % problem)
    for index, name in enumerate(topics):
        problem = name_problem(name, 'a topic name')
        if problem:
            raise InputError('probe_topics[%d]: %s.' % (index, problem))
    if params.get('probe') and not topic and not topics:
        raise InputError('probe=true writes a record into each topic it probes: name its own topic with probe_topic '
                         '(created when missing, for example linkops-probe), or the topics that may take a probe '
                         'record with probe_topics; or leave probe false (the read-only checks still prove that '
                         'the topics are writable).')
    if topic and topics:
        raise InputError('probe_topic and probe_topics are mutually exclusive: give the probe its own topic, or a list '
                         'of topics.')
    principal = params.get('producer_principal')
    if principal is not None and (':' not in principal or principal.startswith(':') or principal.endswith(':')):
        raise InputError('producer_principal: give a principal as Type:name, for example User:orders-app, got %r.'
                         % principal)


def check_migration_report(params):
    check_writable_dir(params['dest'])
    check_report_checks(params.get('checks'))
    check_report_cutover(params.get('cutover'))
    check_report_lag_samples(params.get('lag_samples'))
    check_generated_at(params.get('generated_at'))


def validate_module(module, check):
    """Run check(module.params); on InputError end the module with its message, changing nothing."""
    try:
        check(module.params)
    except InputError as exc:
        module.fail_json(msg=exc.message, changed=False)
