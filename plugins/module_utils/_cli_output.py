# -*- coding: utf-8 -*-
# Copyright: contributors to linkops.cluster_linking
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Output parsing of the CLI backend: what the Confluent Platform tools print, turned into data.

The lines of ``kafka-cluster-links``, ``kafka-mirrors``, ``kafka-configs --cluster-link`` and
``kafka-topics`` become the shapes of Kafka REST v3 (links, link configs, mirrors, per-topic batch
results, topic names; cluster-linking-api.md section 5 for the formats), so the reconcilers do not
know which backend they talk to. A failed command's output gives its error line, the HTTP status a
REST server would have answered, and whether running it again can help (``failure_kind``). Pure
functions over strings; nothing here runs a tool.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import re
import time

DYNAMIC_SOURCE = 'DYNAMIC_CLUSTER_LINK_CONFIG'
DEFAULT_SOURCE = 'DEFAULT_CONFIG'

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


def says_not_found(text):
    """True when a tool's output says the link, topic or mirror does not exist."""
    return bool(_NOT_FOUND.search(text or ''))


def describe_unknown(message):
    """True when the tool rejected ``--describe`` as an unknown option (kafka-cluster-links before CP 7.4)."""
    return bool(_UNKNOWN_OPTION.search(message or ''))
