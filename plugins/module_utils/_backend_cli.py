# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CLI backend: the Confluent Platform tools on the managed host, answering in REST v3 shapes.

Every call is one command (``kafka-cluster-links``, ``kafka-mirrors``, ``kafka-configs
--cluster-link``, ``kafka-topics``) run with an argv list, never a shell, with
``--bootstrap-server`` and ``--command-config``. Link configs and filter documents, which can hold
secrets, go to the tools in private temporary files (mode 0600) that are removed when the command
ends; no secret is ever put on a command line. The printed lines are parsed into the shapes of
Kafka REST v3 (cluster-linking-api.md section 5 for the formats), so the reconcilers do not know
which backend they talk to.

What the tools do not print cannot be returned: link tasks (``include_tasks``) come back as an
empty list and the backend warns that they could not be checked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import os
import re
import tempfile
import time

from ansible_collections.linkops.cluster_linking.plugins.module_utils import _mirrors
from ansible_collections.linkops.cluster_linking.plugins.module_utils._backend import Backend
from ansible_collections.linkops.cluster_linking.plugins.module_utils._properties import to_java_properties
from ansible_collections.linkops.cluster_linking.plugins.module_utils._errors import ApiError
from ansible_collections.linkops.cluster_linking.plugins.module_utils._link_configs import is_sensitive
from ansible_collections.linkops.cluster_linking.plugins.module_utils._retry import RetryPolicy

CLUSTER_LINKS = 'kafka-cluster-links'
MIRRORS = 'kafka-mirrors'
CONFIGS = 'kafka-configs'
TOPICS = 'kafka-topics'

DYNAMIC_SOURCE = 'DYNAMIC_CLUSTER_LINK_CONFIG'
DEFAULT_SOURCE = 'DEFAULT_CONFIG'

# Link configs that hold a filter document: the tools take them as JSON files.
FILTER_FLAGS = (
    ('auto.create.mirror.topics.filters', '--topic-filters-json-file'),
    ('consumer.offset.group.filters', '--consumer-group-filters-json-file'),
    ('acl.filters', '--acl-filters-json-file'),
)

# kafka-mirrors flag for each batch action, keyed by the REST action path (_mirrors.ACTIONS values),
# so the backend follows whatever action names the reconcilers use.
ACTION_FLAGS = {
    'mirrors:promote': '--promote',
    'mirrors:failover': '--failover',
    'mirrors:pause': '--pause',
    'mirrors:resume': '--unpause',
    'mirrors:reverse-and-start-mirror': '--reverse-and-start',
    'mirrors:reverse-and-pause-mirror': '--reverse-and-pause',
    'mirrors:truncate-and-restore': '--truncate-and-restore',
}
# Actions whose documented form names the link as well as the topics.
ACTIONS_WITH_LINK = frozenset(['mirrors:truncate-and-restore'])

# REST MirrorTopicStatus values; the tools may print them CamelCase (PendingRestoreMirror).
MIRROR_STATUSES = frozenset([
    'ACTIVE', 'FAILED', 'LINK_FAILED', 'LINK_PAUSED', 'PAUSED', 'PENDING_STOPPED', 'SOURCE_UNAVAILABLE',
    'STOPPED', 'PENDING_MIRROR', 'PENDING_SYNCHRONIZE', 'PENDING_SETUP_FOR_RESTORE', 'PENDING_RESTORE',
    'UNKNOWN'])

# "Error while executing cluster link command: <message>" and its siblings.
_ERROR_LINE = re.compile(r'^\s*(?:\[\d{4}-[^\]]*\]\s*)?(?:ERROR\s+)?(Error\b.*|Exception\b.*|\S+Exception: .*)$', re.I)
_TOOL_ERROR_PREFIX = re.compile(r'^Error while executing [\w -]*?command(?: with args \'.*?\')?\s*:?\s*', re.I)
# "does not exist" of a link, topic or mirror (not of a file given to an option, say)
_NOT_FOUND = re.compile(r"\b(?:cluster link|link name|link|topics?|mirror)\b.{0,300}?(?:does not exist|doesn't exist|"
                        r"not found|is not a mirror)|UnknownTopicOrPartition|ClusterLinkNotFound|UnknownClusterLink",
                        re.I)
_FILE_PROBLEM = re.compile(r"NoSuchFile|AccessDenied|No such file|file given to", re.I)
_EXISTS = re.compile(r'already exists|TopicExists|ClusterLinkExists', re.I)
_AUTHN = re.compile(r'Authentication failed|SaslAuthenticationException|AuthenticationException', re.I)
_AUTHZ = re.compile(r'not authorized|AuthorizationException|Authorization failed', re.I)

_QUOTED_FIELD = re.compile(r"(?:^|,\s*)([A-Za-z][A-Za-z ]*?):\s*'([^']*)'")
_TOPICS_FIELD = re.compile(r"(?:^|,\s*)topics:\s*\[([^\]]*)\]")
_CONFIG_LINE = re.compile(r'^\s+(?P<name>[^=\s]+)=(?P<value>.*?) sensitive=(?P<sensitive>true|false)'
                          r'(?: synonyms=\{(?P<synonyms>.*)\})?\s*$')
_TOPIC_IN_LINE = re.compile(r"\b[Tt]opics?:?\s+'?([A-Za-z0-9._-]+)")
_TRUNCATED = re.compile(r'(-?\d+) messages? will be truncated')
# Failures after which a command is run again: the server did not act (throttled, unavailable, not reached).
_NOT_ACTED = re.compile(r'ThrottlingQuotaExceeded|Too Many Requests|\bHTTP 429\b|\bHTTP 503\b|Service Unavailable|'
                        r'Connection refused', re.I)
# Failures where the command's request may have reached the server: a read is run again, a write is
# described first (AnswerLost).
_DROPPED = re.compile(r'Remote end closed|Connection reset|RemoteDisconnected|DisconnectException|NetworkException|'
                      r'Broken pipe', re.I)
# A timeout: a read is not run again (an unreachable cluster times out every time); a write is described first.
_TIMED_OUT = re.compile(r'TimeoutException|timed out', re.I)
# Commands that only read.
_READS = ('--describe', '--list')
_UNKNOWN_OPTION = re.compile(r"describe\W* is not a recognized option", re.I)
_LEGAL_TOPIC = re.compile(r'^[A-Za-z0-9._-]+$')


def failure_kind(message):
    """'not_acted', 'dropped', 'timed_out' or None (any other failure) for a tool's error line."""
    if _NOT_ACTED.search(message or ''):
        return 'not_acted'
    if _DROPPED.search(message or ''):
        return 'dropped'
    if _TIMED_OUT.search(message or ''):
        return 'timed_out'
    return None


class CliError(ApiError):
    """A CP tool command that failed: its error line, the HTTP-like status inferred from it, the exit code.

    ``command`` names the tool and action only (e.g. ``kafka-mirrors --promote``), never argument values.
    """

    def __init__(self, message, status=None, error_code=None, command=None, rc=None):
        super(CliError, self).__init__(message, status=status, error_code=error_code, command=command, rc=rc)
        self.command = command
        self.rc = rc


class CliAnswerLost(CliError):
    """A write command that timed out or lost its connection: whether the server acted is not known."""

    outcome_unknown = True


def infer_status(message):
    """The HTTP status a REST server would have answered for this tool error."""
    if _FILE_PROBLEM.search(message or ''):
        return 400
    if _NOT_FOUND.search(message or ''):
        return 404
    if _EXISTS.search(message or ''):
        return 409
    if _AUTHN.search(message or ''):
        return 401
    if _AUTHZ.search(message or ''):
        return 403
    return 400


def error_line(stdout, stderr):
    """The line a tool printed to say what went wrong, without the tool's fixed prefix."""
    lines = [line.strip() for line in (stderr or '').splitlines() + (stdout or '').splitlines() if line.strip()]
    for index, line in enumerate(lines):
        match = _ERROR_LINE.match(line)
        if not match:
            continue
        message = _TOOL_ERROR_PREFIX.sub('', match.group(1)).strip()
        if not message and index + 1 < len(lines):
            message = lines[index + 1]  # kafka-configs prints the reason on the next line
        return (message or match.group(1))[:1000]
    # no "Error..." line: the last thing printed (a usage text ends with the offending option)
    return (lines[-1] if lines else 'the tool printed nothing')[:1000]


def normalize_status(text):
    """A REST MirrorTopicStatus from what a tool printed (ACTIVE, or PendingRestoreMirror)."""
    text = (text or '').strip()
    if not text:
        return None
    if '_' in text or text.isupper():
        return text.upper()
    snake = re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', text).upper()
    if snake in MIRROR_STATUSES:
        return snake
    if snake.endswith('_MIRROR') and snake[:-len('_MIRROR')] in MIRROR_STATUSES:
        return snake[:-len('_MIRROR')]
    return snake


def parse_state_time(text):
    """Epoch ms of a StateTime field: epoch ms, or 'yyyy-MM-dd HH:mm:ss[.SSS]' in the host's local time
    (Java's default time zone on the same host), or ISO 8601 with a Z/offset."""
    text = (text or '').strip()
    if not text:
        return None
    if re.match(r'^-?\d+$', text):
        return int(text)
    match = re.match(r'^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:[.,](\d{1,3})\d*)?\s*(Z|UTC|[+-]\d\d:?\d\d)?$', text)
    if not match:
        return None
    date, clock, millis, zone = match.groups()
    parsed = time.strptime('%s %s' % (date, clock), '%Y-%m-%d %H:%M:%S')
    if zone:
        seconds = calendar.timegm(parsed)
        if zone not in ('Z', 'UTC'):
            sign = -1 if zone[0] == '+' else 1
            digits = zone[1:].replace(':', '')
            seconds += sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    else:
        seconds = time.mktime(parsed)
    return int(seconds) * 1000 + int((millis or '0').ljust(3, '0'))


def _int(text, default=None):
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return default


def parse_link_line(line):
    """A link from one ``Link name: '...', link ID: '...', ...`` line (--list or --describe), or None.

    Returns (link dict in KafkaLinkData shape, local cluster id or None).
    """
    line = line.strip()
    if not line.startswith('Link name:'):
        return None, None
    fields = dict((key.strip().lower(), value) for key, value in _QUOTED_FIELD.findall(line))
    if 'link name' not in fields:
        return None, None
    topics = _TOPICS_FIELD.search(line)
    mode = (fields.get('link mode') or 'DESTINATION').upper()
    remote = fields.get('remote cluster id') or fields.get('cluster id')
    link = {
        'kind': 'KafkaLinkData',
        'link_name': fields['link name'],
        'cluster_link_id': fields.get('link id'),
        'link_id': fields.get('link id'),
        'source_cluster_id': remote if mode == 'DESTINATION' else None,
        'destination_cluster_id': remote if mode == 'SOURCE' else None,
        'remote_cluster_id': remote if mode == 'BIDIRECTIONAL' else None,
        'link_mode': mode,
        'connection_mode': (fields.get('connection mode') or 'OUTBOUND').upper(),
        'topic_names': [t.strip() for t in topics.group(1).split(',') if t.strip()] if topics else [],
    }
    state = fields.get('link state')
    available = fields.get('remote cluster available')
    if state:
        link['link_state'] = state.upper()
    elif available is not None:
        link['link_state'] = 'ACTIVE' if available.lower() == 'true' else 'UNAVAILABLE'
    else:
        link['link_state'] = None
    if available is not None:
        link['remote_cluster_available'] = available.lower() == 'true'
    link['link_error'] = fields.get('link error') or ('NO_ERROR' if link['link_state'] == 'ACTIVE' else None)
    link['link_error_message'] = fields.get('link error message') or None
    return link, fields.get('local cluster id')


def parse_links(output):
    """Every link of ``kafka-cluster-links --list`` / ``--describe`` output: (links, local cluster id)."""
    links, local = [], None
    for line in (output or '').splitlines():
        link, cluster = parse_link_line(line)
        if link is not None:
            links.append(link)
            local = local or cluster
    return links, local


def parse_tasks(output):
    """Link tasks, when the tool prints them: lines ``Task: NAME State: STATE [Errors: CODE: message; ...]``.

    The CP tools documented in cluster-linking-api.md print none; returns None then.
    """
    tasks = []
    for line in (output or '').splitlines():
        match = re.match(r'^\s*Task(?: name)?:\s*\'?([A-Za-z]+)\'?[,\s]+State:\s*\'?([A-Z_]+)\'?(?:[,\s]+Errors?:\s*(.*))?$',
                         line.strip(), re.I)
        if not match:
            continue
        errors = []
        for item in (match.group(3) or '').split(';'):
            item = item.strip().strip("'")
            if not item or item in ('[]', 'none', 'None'):
                continue
            code, sep, text = item.partition(':')
            errors.append({'error_code': code.strip() if sep else None, 'error_message': (text if sep else code).strip()})
        tasks.append({'task_name': match.group(1), 'state': match.group(2).upper(), 'errors': errors})
    return tasks if tasks else None


def parse_config_entries(output, link_name=None, cluster_id=None):
    """Config entries (KafkaLinkConfigData shape) of ``kafka-configs --describe --cluster-link`` output.

    A header ``Dynamic configs for ...`` marks dynamic values; ``All configs for ...`` (``--all``)
    takes each entry's source from its first synonym. Sensitive values are printed as null: None.
    """
    entries = []
    dynamic_listing = True
    for line in (output or '').splitlines():
        header = re.match(r'^(Dynamic|All|Default) configs for ', line.strip())
        if header:
            dynamic_listing = header.group(1) == 'Dynamic'
            continue
        match = _CONFIG_LINE.match(line)
        if not match:
            continue
        synonyms = [s.strip() for s in (match.group('synonyms') or '').split(', ') if s.strip()]
        source = synonyms[0].split(':', 1)[0] if synonyms and ':' in synonyms[0] else None
        if source is None:
            source = DYNAMIC_SOURCE if dynamic_listing else DEFAULT_SOURCE
        elif source.startswith('DYNAMIC'):
            source = DYNAMIC_SOURCE
        sensitive = match.group('sensitive') == 'true'
        value = match.group('value')
        entries.append({
            'kind': 'KafkaLinkConfigData',
            'cluster_id': cluster_id,
            'link_name': link_name,
            'name': match.group('name'),
            'value': None if sensitive or value == 'null' else value,
            'is_default': source != DYNAMIC_SOURCE,
            'is_read_only': False,
            'is_sensitive': sensitive,
            'source': source,
            'synonyms': synonyms,
        })
    return entries


def _tab_fields(line):
    fields = {}
    for part in line.split('\t'):
        key, sep, value = part.partition(':')
        if sep and key.strip():
            fields[key.strip()] = value.strip()
    return fields


def parse_mirrors(output):
    """Mirrors of ``kafka-mirrors --describe`` output as {mirror_topic_name: KafkaMirrorData-shaped dict}.

    A topic line (``Topic: T<TAB>LinkName: L<TAB>...<TAB>State: ACTIVE<TAB>StateTime: ...``) is followed
    by one line per partition (``<TAB>Partition: 0<TAB>State: ...<TAB>LastFetchSourceHighWatermark: n<TAB>Lag: 0``).
    """
    mirrors = {}
    current = None
    for line in (output or '').splitlines():
        stripped = line.strip()
        if stripped.startswith('Topic:'):
            fields = _tab_fields(stripped)
            name = fields.get('Topic') or fields.get('MirrorTopic')
            if not name:
                current = None
                continue
            source = fields.get('SourceTopic') or (fields.get('MirrorTopic') if 'Topic' in fields else None) or name
            error = fields.get('MirrorTopicError') or fields.get('Error')
            current = {
                'kind': 'KafkaMirrorData',
                'link_name': fields.get('LinkName'),
                'mirror_topic_name': name,
                'source_topic_name': source,
                'num_partitions': 0,
                'mirror_lags': [],
                'mirror_status': normalize_status(fields.get('State')),
                'mirror_topic_error': error or 'NO_ERROR',
                'state_time_ms': parse_state_time(fields.get('StateTime')),
            }
            if fields.get('LinkId'):
                current['cluster_link_id'] = fields['LinkId']
            if fields.get('NumPartitions'):
                current['num_partitions'] = _int(fields['NumPartitions'], 0)
            mirrors[name] = current
        elif stripped.startswith('Partition:') and current is not None:
            fields = _tab_fields(stripped)
            partition = _int(fields.get('Partition'))
            if partition is None:
                continue
            fetch = fields.get('LastFetchSourceHighWatermark', fields.get('LastSourceFetchOffset'))
            current['mirror_lags'].append({
                'partition': partition,
                'lag': _int(fields.get('Lag'), 0),
                'last_source_fetch_offset': _int(fetch, -1),
            })
            current['num_partitions'] = max(current['num_partitions'], len(current['mirror_lags']))
    for mirror in mirrors.values():
        mirror['mirror_lags'].sort(key=lambda entry: entry['partition'])
    return mirrors


def parse_batch(output, topic_names):
    """Per-topic outcome of a kafka-mirrors batch action: ({name: detail dict}, {name: error text}).

    Each line that names a topic of the batch says it was scheduled (success) or failed (a line with
    an error). The lines that only list the topics (``Calculating max offset ...: [a, b]``) are skipped.
    A topic that no line names has no result.
    """
    wanted = set(topic_names)
    done, failed = {}, {}
    for line in (output or '').splitlines():
        text = line.strip()
        if not text or text.lower().startswith(('calculating', 'finished calculating')):
            continue
        named = [n for n in _TOPIC_IN_LINE.findall(text) if n in wanted]
        if not named:
            continue
        name = named[0]
        lowered = text.lower()
        # judged by the tool's wording, never by words that may be part of a topic name
        if lowered.startswith('error') or 'exception:' in lowered:
            failed.setdefault(name, short_error(text))
            done.pop(name, None)
        elif ('successfully' in lowered or 'scheduled' in lowered) and name not in failed:
            detail = {}
            truncated = _TRUNCATED.search(text)
            if truncated:
                detail['messages_truncated'] = int(truncated.group(1))
            done[name] = detail
    return done, failed


def short_error(text):
    """A per-topic error line without the tool's wording around the server's message:
    'Error encountered while stopping topic T's mirror: java.util.concurrent.ExecutionException:
    org.apache.kafka.common.errors.InvalidRequestException: Topic 'T' ...' -> 'InvalidRequestException: Topic 'T' ...'."""
    text = _TOOL_ERROR_PREFIX.sub('', text.strip())
    text = re.sub(r"^Error encountered while [^:]*?mirror:\s*", '', text)
    text = re.sub(r'^(?:java\.util\.concurrent\.ExecutionException:\s*)+', '', text)
    return re.sub(r'\b(?:[a-z_][a-z0-9_]*\.)+([A-Z]\w*(?:Exception|Error))\b', r'\1', text)


def topic_list(output):
    return set(line.strip() for line in (output or '').splitlines() if _LEGAL_TOPIC.match(line.strip()))


class CliBackend(Backend):
    """The CP tools, run on the managed host.

    run(argv) -> (rc, stdout, stderr) runs one command (AnsibleModule.run_command in a module);
    which(tool) -> path or None finds a tool; tmpdir is where the private files go; warn(text) reports
    what could not be checked. Use from_module() in a module.
    """

    name = 'cli'

    def __init__(self, bootstrap_server, run, which, command_config=None, cli_path=None, timeout=None,
                 cluster_id=None, tmpdir=None, warn=None):
        self.bootstrap_server = bootstrap_server
        self.command_config = command_config
        self.cli_path = cli_path
        self.timeout = timeout
        self._run = run
        self._which = which
        self._tmpdir = tmpdir
        self._warn = warn or (lambda text: None)
        self._cluster_id = cluster_id
        self._tools = {}
        self._count = 0
        self._warned = set()
        self._secrets = set()
        self._no_describe = False
        self.retry_policy = RetryPolicy()

    @classmethod
    def from_module(cls, module, bootstrap_server, command_config=None, cli_path=None, timeout=None,
                    cluster_id=None):
        def run(argv):
            return module.run_command(argv, expand_user_and_vars=False)

        def which(tool):
            return module.get_bin_path(tool, required=False, opt_dirs=[cli_path] if cli_path else None)

        return cls(bootstrap_server, run, which, command_config=command_config, cli_path=cli_path,
                   timeout=timeout, cluster_id=cluster_id, tmpdir=module.tmpdir, warn=module.warn)

    # -- Backend ------------------------------------------------------------------------------

    @property
    def cluster_id(self):
        """The cluster_id option, or the local cluster ID a link listing printed."""
        if self._cluster_id is None:
            links, local = parse_links(self._command(CLUSTER_LINKS, ['--list'], 'kafka-cluster-links --list'))
            if local is None:
                raise CliError('The ID of the cluster at %s cannot be read: kafka-cluster-links --list prints it '
                               'only for an existing link, and it printed %s. Set cluster_id.'
                               % (self.bootstrap_server, 'no link' if not links else 'no local cluster ID'))
            self._cluster_id = local
        return self._cluster_id

    @property
    def call_count(self):
        return self._count

    def get_link(self, name, include_tasks=False):
        try:
            output = self._describe_link(name)
        except CliError as exc:
            if exc.status == 404:
                return None
            raise
        links, local = parse_links(output)
        self._cluster_id = self._cluster_id or local
        link = next((item for item in links if item['link_name'] == name), None)
        if link is None:
            if _NOT_FOUND.search(output) or not output.strip():
                return None
            raise CliError('kafka-cluster-links --describe printed no line for link %s: %s'
                           % (name, output.strip()[:300]), command='kafka-cluster-links --describe')
        if include_tasks:
            tasks = parse_tasks(output)
            if tasks is None:
                tasks = []
                self._warn_once('tasks', 'kafka-cluster-links does not print link tasks, so the tasks of link %s '
                                '(AclSync, AutoCreateMirror, ConsumerOffsetSync, TopicConfigsSync) could not be '
                                'checked; use api=rest to check them.' % name)
            link['tasks'] = tasks
        return link

    def _describe_link(self, name):
        """``--describe --link`` (CP 7.4+); older tools have no --describe: ``--list --link`` then."""
        if not self._no_describe:
            try:
                return self._command(CLUSTER_LINKS, ['--describe', '--link', name], 'kafka-cluster-links --describe')
            except CliError as exc:
                if not _UNKNOWN_OPTION.search(exc.message):
                    raise
                self._no_describe = True
        return self._command(CLUSTER_LINKS, ['--list', '--link', name, '--include-topics'], 'kafka-cluster-links --list')

    def get_link_configs(self, name):
        output = self._command(CONFIGS, ['--describe', '--cluster-link', name], 'kafka-configs --describe')
        return parse_config_entries(output, link_name=name, cluster_id=self._cluster_id)

    def create_link(self, name, cluster_ids, configs, validate_only=False):
        configs = dict(configs)
        files = []
        args = ['--create', '--link', name]
        remote = [v for k, v in sorted((cluster_ids or {}).items()) if v]
        if remote:
            args += ['--cluster-id', remote[0]]
        for config, flag in FILTER_FLAGS:
            if configs.get(config):
                files.append((flag, configs.pop(config) + '\n'))
        self._remember_secrets(configs)
        files.insert(0, ('--config-file', to_java_properties(configs)))
        if validate_only:
            args.append('--validate-only')
        self._command(CLUSTER_LINKS, args, 'kafka-cluster-links --create', files=files)

    def alter_link_configs(self, name, set_configs, delete_names=(), validate_only=False):
        if validate_only:
            raise CliError('kafka-configs cannot check a change of link configs without making it, so validate_only '
                           'is not available with api=cli for an existing link; use api=rest, or check mode.',
                           status=501, command='kafka-configs --alter')
        args = ['--alter', '--cluster-link', name]
        files = []
        if set_configs:
            self._remember_secrets(set_configs)
            files.append(('--add-config-file', to_java_properties(dict(set_configs))))
        if delete_names:
            args += ['--delete-config', ','.join(sorted(delete_names))]
        if not files and not delete_names:
            return
        self._command(CONFIGS, args, 'kafka-configs --alter', files=files)

    def delete_link(self, name, force=False, validate_only=False):
        args = ['--delete', '--link', name]
        if force:
            args.append('--force')
        if validate_only:
            args.append('--validate-only')
        self._command(CLUSTER_LINKS, args, 'kafka-cluster-links --delete')

    def list_links(self):
        output = self._command(CLUSTER_LINKS, ['--list', '--include-topics'], 'kafka-cluster-links --list')
        links, local = parse_links(output)
        self._cluster_id = self._cluster_id or local
        return links

    def list_all_mirrors(self):
        output = self._command(MIRRORS, ['--describe'], 'kafka-mirrors --describe')
        return [mirror for dummy, mirror in sorted(parse_mirrors(output).items())]

    def list_mirrors(self, link_name):
        output = self._command(MIRRORS, ['--describe', '--links', link_name], 'kafka-mirrors --describe')
        mirrors = parse_mirrors(output)
        mirrors = dict((n, m) for n, m in mirrors.items() if m.get('link_name') in (None, link_name))
        for mirror in mirrors.values():
            mirror['link_name'] = link_name
        if not mirrors and self.get_link(link_name) is None:
            # "No mirror topics found." for a link that does not exist: the second command says which.
            raise CliError('Cluster link %s does not exist.' % link_name, status=404,
                           command='kafka-mirrors --describe')
        return mirrors

    def list_topic_names(self):
        return topic_list(self._command(TOPICS, ['--list'], 'kafka-topics --list'))

    def create_mirror(self, link_name, mirror_topic_name, source_topic_name=None, configs=None):
        args = ['--create', '--mirror-topic', mirror_topic_name, '--link', link_name]
        if source_topic_name and source_topic_name != mirror_topic_name:
            args += ['--source-topic', source_topic_name]
        files = []
        if configs:
            files.append(('--config-file', to_java_properties(dict(configs))))
        self._command(MIRRORS, args, 'kafka-mirrors --create', files=files)

    def get_mirror(self, link_name, mirror_topic_name, include_state_transition_errors=False):
        try:
            output = self._command(MIRRORS, ['--describe', '--topics', mirror_topic_name], 'kafka-mirrors --describe')
        except CliError as exc:
            if exc.status == 404:
                return None
            raise
        mirror = parse_mirrors(output).get(mirror_topic_name)
        if mirror is None or mirror.get('link_name') not in (None, link_name):
            return None
        mirror['link_name'] = link_name
        if include_state_transition_errors:
            mirror['mirror_state_transition_errors'] = []
            self._warn_once('transition-errors', 'kafka-mirrors does not print the state transition errors of a '
                            'mirror topic, so they could not be read; use api=rest to see them.')
        return mirror

    def delete_topic(self, topic_name):
        # kafka-topics --topic takes a regular expression: '.' (the only special character a topic name
        # can hold) is escaped so that only this topic matches.
        self._command(TOPICS, ['--delete', '--topic', topic_name.replace('.', '\\.')], 'kafka-topics --delete')

    def alter_mirrors(self, link_name, action, topic_names):
        names = list(topic_names)
        rest_action = _mirrors.ACTIONS.get(action, action)
        flag = ACTION_FLAGS.get(rest_action)
        if flag is None:
            raise CliError('The CLI backend has no kafka-mirrors command for the mirror action %s.' % action)
        if not names:
            return {}, {}
        args = [flag, '--topics', ','.join(names)]
        if rest_action in ACTIONS_WITH_LINK:
            args += ['--link', link_name]
        what = 'kafka-mirrors %s' % flag
        rc, out, err = self._attempts(MIRRORS, args, what,
                                      answered=lambda o, e: any(parse_batch(o + '\n' + e, names)))
        done, failed = parse_batch(out + '\n' + err, names)
        if rc != 0 and not done and not failed:
            raise self._error(what, rc, out, err)
        succeeded = {}
        for name in names:
            if name in done:
                # the tools print no per-partition lags or truncation data with the action
                succeeded[name] = {'mirror_lags': [], 'messages_truncated': done[name].get('messages_truncated'),
                                   'partition_level_truncation_data': []}
            elif name not in failed:
                failed[name] = 'kafka-mirrors printed no result for this topic'
        return succeeded, failed

    # -- running the tools --------------------------------------------------------------------

    def tool(self, tool):
        """Full path of a tool; CliError naming cli_path when it cannot be found."""
        if tool not in self._tools:
            path = self._which(tool)
            if not path and not tool.endswith('.sh'):
                path = self._which(tool + '.sh')
            if not path:
                where = 'cli_path %s or PATH' % self.cli_path if self.cli_path else 'PATH (cli_path is not set)'
                raise CliError('%s not found in %s; install the Confluent Platform tools on this host or set cli_path '
                               'to the directory that holds them.' % (tool, where), command=tool)
            self._tools[tool] = path
        return self._tools[tool]

    def argv(self, tool, args, files=()):
        """The argv of one command; files: [(flag, path)] already written."""
        argv = [self.tool(tool), '--bootstrap-server', self.bootstrap_server]
        if self.command_config:
            argv += ['--command-config', self.command_config]
        argv += list(args)
        for flag, path in files:
            argv += [flag, path]
        if self.timeout:
            limiter = self._tools.get('timeout') if 'timeout' in self._tools else self._which('timeout')
            self._tools['timeout'] = limiter
            if limiter:
                argv = [limiter, '--kill-after=10', '%ss' % _seconds(self.timeout)] + argv
        return argv

    def _command(self, tool, args, what, files=()):
        rc, out, err = self._attempts(tool, args, what, files)
        if rc != 0:
            raise self._error(what, rc, out, err)
        return out

    def _attempts(self, tool, args, what, files=(), answered=None):
        """Run a command, and again while it fails in a way a retry can fix; the last (rc, out, err).

        answered(out, err): the output holds an answer although the exit code is not 0 (per-topic results).
        A write that timed out or lost its connection raises CliAnswerLost: the caller describes the object.
        """
        write = not any(flag in what for flag in _READS)
        attempt = 0
        while True:
            try:
                rc, out, err = self._execute(tool, args, what, files)
            except CliError as exc:
                if exc.status != 504:  # 504: stopped at cli_timeout
                    raise
                if write:
                    raise CliAnswerLost('%s The server may have acted.' % exc.message, status=504, command=what,
                                        rc=exc.rc)
                raise
            if rc == 0 or (answered is not None and answered(out, err)):
                return rc, out, err
            message = self._redact(error_line(out, err))
            kind = failure_kind(message)
            if write and kind in ('dropped', 'timed_out'):
                raise CliAnswerLost('%s failed (exit code %s): %s; the server may have acted.' % (what, rc, message),
                                    status=infer_status(message), command=what, rc=rc)
            if kind == 'not_acted' or (kind == 'dropped' and not write):
                if self.retry_policy.wait(attempt, what, message[:200]) is None:
                    attempt += 1
                    continue
            return rc, out, err

    def _execute(self, tool, args, what, files=()):
        written = []
        try:
            for flag, content in files:
                written.append((flag, self._private_file(content)))
            argv = self.argv(tool, args, written)
            self._count += 1
            rc, out, err = self._run(argv)
        finally:
            for dummy, path in written:
                try:
                    os.remove(path)
                except OSError:
                    pass
        if self.timeout and rc in (124, 137) and argv[0] == self._tools.get('timeout'):
            raise CliError('%s did not finish within cli_timeout (%s seconds).' % (what, self.timeout),
                           status=504, command=what, rc=rc)
        return rc, out or '', err or ''

    def _private_file(self, content):
        """A temporary file only the user can read (0600), holding content; the caller removes it."""
        fd, path = tempfile.mkstemp(prefix='linkops-', suffix='.properties', dir=self._tmpdir)
        try:
            os.chmod(path, 0o600)
            with os.fdopen(fd, 'w') as handle:
                handle.write(content)
        except Exception:
            os.remove(path)
            raise
        return path

    def _error(self, what, rc, out, err):
        message = self._redact(error_line(out, err))
        return CliError('%s failed (exit code %s): %s' % (what, rc, message), status=infer_status(message),
                        command=what, rc=rc)

    def _remember_secrets(self, configs):
        for name, value in configs.items():
            if value and is_sensitive(name):
                self._secrets.add(str(value))

    def _redact(self, text):
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, '********')
        return text

    def _warn_once(self, key, text):
        if key not in self._warned:
            self._warned.add(key)
            self._warn(text)


def _seconds(value):
    value = float(value)
    return ('%d' % value) if value == int(value) else ('%.3f' % value)
